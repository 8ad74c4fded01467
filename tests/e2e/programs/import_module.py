"""Imports the module named by argv[1] and calls its hello()."""
import importlib
import sys

module = importlib.import_module(sys.argv[1])  # IMPORT
print(module.hello())
