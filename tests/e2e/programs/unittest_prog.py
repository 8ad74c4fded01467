"""A tiny unittest program: 3 tests, 1 failing, 1 skipped (and 1 passing)."""
import unittest


class Tiny(unittest.TestCase):
    def test_passes(self):
        self.assertEqual(1 + 1, 2)

    def test_fails(self):
        self.assertEqual(1 + 1, 3)

    @unittest.skip("skipped on purpose")
    def test_skipped(self):
        self.fail("never runs")


if __name__ == "__main__":
    unittest.main()
