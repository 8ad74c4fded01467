"""What the report tools share: reading report.json, sizes and paths for
people, and the one flame graph (SVG, its CSS and its zoom script) that both
report.html (tools/report/report_render.py) and the tracemalloc export
(tools/report/tracemalloc_export.py) draw. Runs in the supervisor or by hand on a
finished report, never inside the checked process. Stdlib only.
"""

import html
import json
import os
import re


class ReportError(ValueError):
    """report.json is missing or is not an interpsan report."""


def report_file(path):
    """The report.json that `path` names: a report directory or the file."""
    if os.path.isdir(path) or not path.endswith(".json"):
        return os.path.join(path, "report.json")
    return path


def load_report(path):
    """Reads DIR/report.json (or PATH if it is a file); returns the dict.
    Raises ReportError saying what is wrong."""
    file_path = report_file(path)
    try:
        with open(file_path, encoding="utf-8") as f:
            report = json.load(f)
    except FileNotFoundError:
        raise ReportError("no report found: %s does not exist" % file_path)
    except OSError as exc:
        raise ReportError("cannot read %s: %s" % (file_path, exc.strerror or exc))
    except ValueError as exc:
        raise ReportError("%s is not valid JSON: %s" % (file_path, exc))
    if not isinstance(report, dict) or not isinstance(report.get("interpreters"), list):
        raise ReportError("%s is not an interpsan report (no interpreters list)" % file_path)
    return report


def human_bytes(n):
    """1536 -> "1.5 KiB"; "?" if `n` is no number."""
    try:
        n = float(n)
    except (TypeError, ValueError):
        return "?"
    for unit in ("B", "KiB", "MiB"):
        if abs(n) < 1024:
            return ("%d %s" % (n, unit)) if unit == "B" else ("%.1f %s" % (n, unit))
        n /= 1024.0
    return "%.1f GiB" % n


_BUILD_DIR = re.compile(r"^/tmp/python-build\.[^/]+/")


def short_path(path):
    """Drops build-machine noise from a source path for display:
    /proc/self/cwd/ (Bazel's debug prefix) and pyenv's /tmp/python-build.X/."""
    if not path:
        return path or ""
    path = str(path)
    if path.startswith("/proc/self/cwd/"):
        path = path[len("/proc/self/cwd/") :]
    return _BUILD_DIR.sub("", path)


def _e(text):
    return html.escape("" if text is None else str(text), quote=True)


# ---- the flame graph ---------------------------------------------------------------
#
# An SVG per tree, root at the bottom, width in bytes. Each frame is a
# <g class="f"> with data-x / data-w (in viewBox units), data-depth and
# data-label, which flame_js() reads to zoom; a page includes flame_css()
# and flame_js() once and puts each SVG inside an element of class "flame".


def _build_tree(root_label, stacks):
    root = {"label": root_label, "size": 0, "count": 0, "children": {}}
    for labels, size, count in stacks:
        if size <= 0:
            continue
        root["size"] += size
        root["count"] += count
        node = root
        for label in labels:
            child = node["children"].get(label)
            if child is None:
                child = node["children"][label] = {
                    "label": label,
                    "size": 0,
                    "count": 0,
                    "children": {},
                }
            child["size"] += size
            child["count"] += count
            node = child
    return root


def _color(label):
    if label.startswith(("(other", "[other")):
        return "#d0d4da"
    h = 0
    for ch in label:
        h = (h * 131 + ord(ch)) & 0xFFFFFF
    r = 205 + h % 50
    g = 80 + (h >> 8) % 130
    b = 30 + (h >> 16) % 50
    return "#%02x%02x%02x" % (r, g, b)


def flame_svg(root_label, stacks, width=1200, row=18, attrs=None, empty_root=False):
    """An SVG flame graph of `stacks`, [(labels outermost first, size,
    count)], under a root frame `root_label`. If nothing has a size: ""
    or, with `empty_root`, the root frame alone.
    `attrs`: more attributes of the <svg> element (name -> value)."""
    root = _build_tree(root_label, stacks)
    if root["size"] <= 0 and not empty_root:
        return ""

    def depth_of(node):
        return 1 + max([depth_of(c) for c in node["children"].values()] or [0])

    depth = depth_of(root)
    height = depth * row + 4
    total = float(root["size"]) or 1.0
    items = []

    def emit(node, x, d):
        w = width if d == 0 else node["size"] / total * width
        if w < 0.3:
            return
        y = height - (d + 1) * row
        tip = "%s\n%s in %s blocks (%.1f%%)" % (
            node["label"],
            human_bytes(node["size"]),
            node["count"],
            100.0 * node["size"] / total,
        )
        chars = int((w - 6) / 6.6)
        label = node["label"]
        text = (
            "" if chars < 3 else (label if len(label) <= chars else label[: chars - 1] + "\u2026")
        )
        fill = "#8da4c4" if d == 0 else _color(label)
        items.append(
            '<g class="f" data-x="%.3f" data-w="%.3f" data-depth="%d" data-label="%s"><title>%s</title>'
            '<rect x="%.2f" y="%d" width="%.2f" height="%d" rx="2" fill="%s"/>'
            '<text x="%.2f" y="%d">%s</text></g>'
            % (
                x,
                w,
                d,
                _e(label),
                _e(tip),
                x,
                y,
                max(w - 0.5, 0.1),
                row - 2,
                fill,
                x + 3,
                y + row - 6,
                _e(text),
            )
        )
        cx = x
        for child in sorted(node["children"].values(), key=lambda c: -c["size"]):
            emit(child, cx, d + 1)
            cx += child["size"] / total * width

    emit(root, 0.0, 0)
    extra = "".join(' %s="%s"' % (k, _e(v)) for k, v in (attrs or {}).items())
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" data-width="%d" '
        'preserveAspectRatio="none" style="height:%dpx" role="img" aria-label="%s"%s>%s</svg>'
        % (
            width,
            height,
            width,
            height,
            _e("memory flame graph of " + root_label),
            extra,
            "".join(items),
        )
    )


# The flame graph's stylesheet and zoom script are files beside this one
# (tools/report/assets/), read when a page is drawn: the checkout, Bazel's
# runfiles (//tools/report:modules) and the wheel ship them.
ASSETS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "assets")


def read_asset(name):
    """The text of tools/report/assets/NAME."""
    with open(os.path.join(ASSETS_DIR, name), encoding="utf-8") as f:
        return f.read()


def flame_css():
    """The flame graph's stylesheet (assets/flame.css)."""
    return read_asset("flame.css")


def flame_js():
    """The flame graph's zoom script (assets/flame.js): click a frame to
    zoom into it, click the root (or press Escape) to reset."""
    return read_asset("flame.js")
