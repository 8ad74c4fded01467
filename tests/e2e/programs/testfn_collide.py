"""Every interpreter creates CPython's test-suite scratch file
(test.support.os_helper.TESTFN, named after the process id) in the current
directory: it collides unless each interpreter's name is its own."""
import os

import interpsan
from test.support import os_helper

fd = os.open(os_helper.TESTFN, os.O_CREAT | os.O_EXCL | os.O_WRONLY)  # collides without
os.close(fd)
os.unlink(os_helper.TESTFN)
print(interpsan.index, os_helper.TESTFN)
