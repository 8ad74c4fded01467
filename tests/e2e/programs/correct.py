"""Exercises correct_module_state (and some allocation-heavy stdlib work) in
every interpreter: nothing here may be reported."""
import json
import sys

import correct_module_state as m
import interpsan

assert m.shared_none() is None
values = []
for i in range(250):
    m.append(float(i) + 0.5)
    m.append({"i": i, "t": (i, str(i))})
    box = m.Box([i, "x" * (i % 40)])
    values.append(box.get())
    m.resize(16 + i * 7)  # crosses pymalloc's 512-byte limit along the way
    if i % 50 == 0:
        m.release()
    m.bump()
    try:
        m.fail("expected %d" % i)
    except m.Error as exc:
        assert str(exc) == "expected %d" % i
    if i % 100 == 99:
        m.clear()
items = m.items()
assert len(items) == 100, len(items)  # 50 after the last clear(), 2 each
m.clear()
data = json.dumps([{"k": i, "v": [float(i)] * 5} for i in range(500)])
assert len(json.loads(data)) == 500
assert isinstance(m.Box(1), m.Box)
# One write per line: the interpreters print at the same time.
sys.stdout.write("correct done %d %s\n" % (interpsan.index, m.COUNTER_LOCK))
