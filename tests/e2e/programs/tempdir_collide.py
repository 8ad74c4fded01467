"""Every interpreter creates the same pid-derived file name in
tempfile.gettempdir(): it collides unless each interpreter has its own
temporary directory."""
import tempfile, os, interpsan
d = tempfile.gettempdir()
name = os.path.join(d, "suite-%d.lock" % os.getpid())
fd = os.open(name, os.O_CREAT | os.O_EXCL | os.O_WRONLY)   # collides without private dirs
os.close(fd)
print(interpsan.index, d)
