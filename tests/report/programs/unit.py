"""unittest: 4 tests, one each passing, failing, erroring and skipped."""
import unittest


class Sample(unittest.TestCase):
    def test_passes(self):
        self.assertTrue(True)

    def test_fails(self):
        self.assertEqual("left", "right")

    def test_errors(self):
        raise RuntimeError("boom")

    @unittest.skip("on purpose")
    def test_skipped(self):
        pass


if __name__ == "__main__":
    unittest.main()
