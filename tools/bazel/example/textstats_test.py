"""Tests of textstats, run by interpsan_test in several own-GIL
interpreters at once (see BUILD). interpsan_shard.main() is unittest.main()
restricted to the current Bazel shard's tests."""

import os
import tempfile
import unittest

import interpsan_shard
import textstats

TEXT = "the cat and the hat; The bat sat on the cat's mat"


class WordsTest(unittest.TestCase):
    def test_words_lowercased(self):
        self.assertEqual(textstats.words("Hello, World"), ["hello", "world"])

    def test_frequencies(self):
        counts = textstats.frequencies(TEXT)
        self.assertEqual(counts["the"], 4)
        self.assertEqual(counts["cat"], 1)
        self.assertEqual(counts["cat's"], 1)

    def test_top_two(self):
        self.assertEqual(textstats.top(TEXT, 2), ["the", "and"])


class JsonTest(unittest.TestCase):
    def test_round_trip(self):
        data = textstats.to_json(TEXT)
        self.assertEqual(textstats.from_json(data), textstats.frequencies(TEXT))

    def test_sorted_keys(self):
        self.assertEqual(textstats.to_json("b a"), '{"a": 1, "b": 1}')

    def test_file_round_trip(self):
        # A temporary file of this interpreter's own (the interpreters of a
        # run share the process, hence the pid).
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "stats.json")
            with open(path, "w", encoding="utf-8") as f:
                f.write(textstats.to_json(TEXT))
            with open(path, encoding="utf-8") as f:
                self.assertEqual(textstats.from_json(f.read())["the"], 4)


if __name__ == "__main__":
    interpsan_shard.main()
