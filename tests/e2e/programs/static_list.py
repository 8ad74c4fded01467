"""Every interpreter appends to broken_static_list's list in a C static:
the list belongs to the interpreter that created it, and every other one
appends to it through PyList_Append (expect cross-interpreter-argument;
without interpsan, a cross-interpreter resize of its item buffer). With
--keep-going those appends are refused with interpsan.CrossInterpreterError,
counted here."""
import sys
import time

import broken_static_list
import interpsan

# (exec mode's own interpreters may stand in a namespace for interpsan)
Refused = getattr(interpsan, "CrossInterpreterError", RuntimeError)
refused = 0
for i in range(200):
    try:
        broken_static_list.append("item-%d-%d" % (interpsan.index, i))  # VIOLATION
    except Refused:
        refused += 1
    time.sleep(0.0005)
# One write per line: the interpreters print at the same time.
sys.stdout.write("static_list done %d %d\n" % (interpsan.index, refused))
