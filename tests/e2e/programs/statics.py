"""Exercises one class of broken_statics (argv[1]) in every interpreter. The
interpreters start a little apart, so the first one fills the static and the
others use it."""
import sys
import time

import broken_statics
import interpsan

case = sys.argv[1]
time.sleep(0.05 * interpsan.index)
if case == "exception":
    try:
        broken_statics.raise_shared_error()  # VIOLATION
    except Exception:
        pass
elif case == "heap_type":
    broken_statics.make_from_shared_type()  # VIOLATION
elif case == "static_type":
    keep = broken_statics.make_static_type_instance()  # VIOLATION
elif case == "capsule":
    broken_statics.shared_capsule_value()  # VIOLATION
elif case == "callback":
    def on_event():
        return interpsan.index
    broken_statics.register_callback(on_event)
    broken_statics.fire_callback()  # VIOLATION
elif case == "ended":
    # Interpreter 0 keeps its list in the static and ends; the others use it.
    if interpsan.index > 0:
        time.sleep(0.3)
    broken_statics.keep_first([interpsan.index] * 8)  # VIOLATION
print("statics done", interpsan.index)
