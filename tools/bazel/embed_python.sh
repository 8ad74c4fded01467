#!/bin/sh
# Turns a Python source file into a C++ header holding it as a string
# constant: embed_python.sh INPUT OUTPUT SYMBOL
set -e
{
  echo "// Generated from $1 by tools/bazel/embed_python.sh. Do not edit."
  echo "#pragma once"
  echo "static const char $3[] = R\"INTERPSAN_PY("
  cat "$1"
  echo ")INTERPSAN_PY\";"
} > "$2"
