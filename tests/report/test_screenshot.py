"""The HTML report in a real browser: render the report of a run with a
violation, open it in headless Chromium (Debian's `chromium` package),
take a screenshot and check that the page rendered: the PNG has the window's
size, is not blank, and shows the violation's two tracebacks side by side
(the acting interpreter's header on the left, the owner's on the right).

Chromium is installed with apt-get if it is missing and this runs as root
(INTERPSAN_NO_APT=1 prevents that); when it cannot be had the test is
skipped, saying why.

INTERPSAN_UPDATE_SCREENSHOT=FILE also copies the screenshot to FILE (the
documentation screenshot is tests/report/screenshot_violation.png):

    INTERPSAN_UPDATE_SCREENSHOT=$PWD/tests/report/screenshot_violation.png \\
        python3.12 tests/report/test_screenshot.py
"""

import os
import shutil
import struct
import subprocess
import tempfile
import unittest
import zlib

import report_lib

import report_render

WIDTH, HEIGHT = 1280, 2000
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

# Colours of report_render's CSS (--bad-bg and the owner header).
ACTING_HEADER = (0xFD, 0xEC, 0xEC)
OWNER_HEADER = (0xE8, 0xF0, 0xFE)
VIOLATION_BORDER = (0xC0, 0x26, 0x2D)


def find_chromium():
    for name in CANDIDATES:
        path = shutil.which(
            name, path=os.environ.get("PATH", "") + ":/usr/bin:/usr/local/bin:/snap/bin"
        )
        if path:
            return path, None
    if os.environ.get("INTERPSAN_NO_APT"):
        return None, "INTERPSAN_NO_APT is set"
    if not shutil.which("apt-get", path="/usr/bin:/bin:/usr/sbin:/sbin"):
        return None, "there is no apt-get"
    if os.geteuid() != 0:
        return None, "installing it needs root"
    try:
        out = subprocess.run(
            ["apt-get", "install", "-y", "--no-install-recommends", "chromium"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=1200,
            env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"),
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return None, "apt-get install chromium failed: %s" % exc
    if out.returncode != 0:
        tail = (out.stderr or out.stdout).strip().splitlines()[-1:] or ["?"]
        return None, "apt-get install chromium failed: %s" % tail[0]
    for name in CANDIDATES:
        path = shutil.which(name, path="/usr/bin:/usr/local/bin")
        if path:
            return path, None
    return None, "apt-get installed chromium but no chromium binary was found"


def screenshot(chromium, html_path, png_path, width=WIDTH, height=HEIGHT):
    profile = tempfile.mkdtemp(
        prefix="chromium-profile-", dir=os.environ.get("TEST_TMPDIR") or None
    )
    args = [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--hide-scrollbars",
        "--user-data-dir=" + profile,
        "--screenshot=" + png_path,
        "--window-size=%d,%d" % (width, height),
        "file://" + os.path.abspath(html_path),
    ]
    env = dict(os.environ, HOME=profile)
    return subprocess.run(
        args, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=180, env=env
    )


def read_png(path, max_rows=None):
    """(width, height, rows): rows are lists of (r, g, b) tuples. Handles
    what Chromium writes: 8-bit RGB or RGBA, not interlaced."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, header = 8, [], None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
        pos += 12 + length
    width, height, depth, color, _, _, interlace = header
    if depth != 8 or color not in (2, 6) or interlace:
        raise ValueError("unsupported PNG format (depth %d, colour type %d)" % (depth, color))
    bpp = 3 if color == 2 else 4
    raw = zlib.decompress(b"".join(idat))
    stride = width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height if max_rows is None else min(height, max_rows)):
        start = y * (stride + 1)
        kind = raw[start]
        line = bytearray(raw[start + 1 : start + 1 + stride])
        if kind == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 0xFF
        elif kind == 2:
            line = bytearray((a + b) & 0xFF for a, b in zip(line, prev))
        elif kind == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 0xFF
        elif kind == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b = prev[i]
                c = prev[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pred) & 0xFF
        rows.append([tuple(line[x * bpp : x * bpp + 3]) for x in range(width)])
        prev = line
    return width, height, rows


def side_by_side_rows(rows, left, right):
    """Rows where colour `left` appears in the left half and `right` in the
    right half of the page."""
    found = []
    for y, row in enumerate(rows):
        half = len(row) // 2
        if left in row[:half] and right in row[half:]:
            found.append(y)
    return found


class ScreenshotTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.chromium, cls.why_not = find_chromium()

    def setUp(self):
        if not self.chromium:
            self.skipTest(
                "headless Chromium is not available (%s): the HTML report was not "
                "checked in a browser" % self.why_not
            )

    def test_violation_page_renders_with_both_tracebacks(self):
        result = report_lib.violation_run()
        out_dir = report_lib.scratch_dir("screenshot-")
        html_path = os.path.join(out_dir, "report.html")
        with open(html_path, "w", encoding="utf-8") as f:
            f.write(report_render.render_html(result.report))
        png_path = os.path.join(out_dir, "screenshot.png")
        run = screenshot(self.chromium, html_path, png_path)
        self.assertTrue(
            os.path.exists(png_path),
            "chromium wrote no screenshot (status %s):\n%s" % (run.returncode, run.stderr[-3000:]),
        )
        size = os.path.getsize(png_path)
        self.assertGreater(size, 20000, "screenshot suspiciously small (%d bytes)" % size)

        width, height, rows = read_png(png_path, max_rows=1100)
        self.assertEqual((width, height), (WIDTH, HEIGHT))
        colours = set()
        for row in rows[::7]:
            colours.update(row[::3])
        self.assertGreater(len(colours), 100, "the page looks blank")
        self.assertTrue(any(VIOLATION_BORDER in row for row in rows), "no violation card rendered")
        both = side_by_side_rows(rows, ACTING_HEADER, OWNER_HEADER)
        self.assertTrue(both, "the two traceback headers are not side by side")

        target = os.environ.get("INTERPSAN_UPDATE_SCREENSHOT")
        if target:
            shutil.copyfile(png_path, target)


class CommittedScreenshotTest(unittest.TestCase):
    def test_committed_screenshot_is_a_real_png(self):
        path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "screenshot_violation.png")
        if not os.path.exists(path):
            self.skipTest("no committed screenshot here")
        width, height, rows = read_png(path, max_rows=40)
        self.assertEqual((width, height), (WIDTH, HEIGHT))


if __name__ == "__main__":
    unittest.main(verbosity=2)
