"""Compiler flags shared by every interpsan package."""

INTERPSAN_COPTS = [
    "-Wall",
    "-Wextra",
    "-Wno-unused-parameter",
    "-Wno-missing-field-initializers",
    "-fno-omit-frame-pointer",
]

# The internal CPython headers are C11 and need GNU extensions.
INTERPSAN_C_COPTS = INTERPSAN_COPTS + ["-std=gnu11", "-Wno-sign-compare"]
