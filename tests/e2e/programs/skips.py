"""Every way unittest skips: a skipped class, a skipped setUpClass, a
skipped method, plus a passing and a failing test. unittest itself counts
them differently on 3.12.1 (a skipped test is never started: not run) and
3.13 (started, then skipped: run)."""
import unittest


@unittest.skip("the whole class")
class SkippedClass(unittest.TestCase):
    def test_a(self):
        pass

    def test_b(self):
        pass


class SkippedSetUpClass(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        raise unittest.SkipTest("setUpClass skips")

    def test_c(self):
        pass


class Plain(unittest.TestCase):
    def test_passes(self):
        pass

    def test_fails(self):
        self.assertEqual(1, 2)

    @unittest.skip("one method")
    def test_skipped(self):
        pass


if __name__ == "__main__":
    unittest.main()
