"""Build step (runs in Bazel, on the configured CPython): compiles a Python
source file and writes a C++ header holding its marshalled code object.

    python3.X -I embed_bytecode.py SOURCE FILENAME SYMBOL HEADER

The runner unmarshals the code in each interpreter instead of compiling
the bootstrap there (about 4 ms of CPU per interpreter at every start-up,
issue 13). The bytes are only valid for the CPython X.Y that wrote them:
the genrule runs the interpreter of the Bazel config whose libpython the
runner links (//:python_interpreter).
"""

import marshal
import sys


def main(argv):
    source_path, filename, symbol, output = argv
    with open(source_path, encoding="utf-8") as f:
        code = compile(f.read(), filename, "exec", dont_inherit=True, optimize=0)
    data = marshal.dumps(code)
    with open(output, "w") as out:
        out.write(
            "// Generated from %s by tools/bazel/embed_bytecode.py (CPython %d.%d).\n"
            % (source_path, *sys.version_info[:2])
        )
        out.write("// Do not edit.\n#pragma once\n")
        out.write("static const unsigned char %s[] = {\n" % symbol)
        for i in range(0, len(data), 16):
            out.write("    %s,\n" % ", ".join("0x%02x" % b for b in data[i : i + 16]))
        out.write("};\n")
        out.write("static const int %sMajorMinor = 0x%02x%02x;\n" % (symbol, *sys.version_info[:2]))


if __name__ == "__main__":
    main(sys.argv[1:])
