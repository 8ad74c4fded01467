"""Compiler flags shared by every interpsan package."""

INTERPSAN_COPTS = [
    "-Wall",
    "-Wextra",
    "-Wno-unused-parameter",
    "-Wno-missing-field-initializers",
    "-fno-omit-frame-pointer",
    # Our thread_locals sit on every allocation's path. Bazel compiles
    # libraries with -fPIC, which would make each access a call to
    # __tls_get_addr; interpsan is only ever linked into an executable or an
    # LD_PRELOAD library (loaded at start-up), where initial-exec is valid.
    "-ftls-model=initial-exec",
]

# The internal CPython headers are C11 and need GNU extensions.
INTERPSAN_C_COPTS = INTERPSAN_COPTS + ["-std=gnu11", "-Wno-sign-compare"]
