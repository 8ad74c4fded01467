"""report.json as JUnit XML (`interpsan run --junit FILE`): one testsuite per
interpreter with one testcase per test it ran, and, when the run found
violations, one more testsuite, "interpsan violations", with one failed
testcase per violation whose text is the violation's labels
(tools/report/report_labels.py: the same words as the text summary and the
HTML page). Pure functions of the report dict; stdlib only.

    render_junit(report) -> str
    write_junit(path, report)
"""

import html

from report_labels import violation_headline, violation_labels


# XML escaping with html.escape (the HTML page's own): xml.sax.saxutils
# would import urllib.request, http.client, email and ssl (about 30 ms) on
# every run of the supervisor.
def escape(text):
    return html.escape(text, quote=False)


def quoteattr(text):
    # Line breaks as character references: an XML parser turns literal ones
    # in an attribute into spaces.
    return '"%s"' % html.escape(text).replace("\n", "&#10;").replace("\r", "&#13;")


VIOLATIONS_SUITE = "interpsan violations"


def _violation_case(report, n, v):
    """One violation as a failed testcase: its labels, message and fix,
    one a line, in the failure's text."""
    lines = ["%s: %s" % (name, value) for name, value in violation_labels(report, v)]
    if v.get("message"):
        lines.append(str(v["message"]))
    if v.get("fix"):
        lines.append("fix: %s" % v["fix"])
    kind = v.get("kind") or "violation"
    return [
        '    <testcase classname=%s name=%s time="0.000">'
        % (quoteattr("interpsan.violations"), quoteattr("#%d %s" % (n, violation_headline(v)))),
        "      <failure type=%s message=%s>%s</failure>"
        % (
            quoteattr(kind),
            quoteattr(("%s: %s" % (kind, v.get("message") or ""))[:2000]),
            escape("\n".join(lines)),
        ),
        "    </testcase>",
    ]


def render_junit(report):
    """The JUnit XML document (a str ending in a newline)."""
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', "<testsuites>"]
    for interp in report.get("interpreters") or []:
        results = interp.get("test_results") or []
        counts = interp.get("tests") or {}
        name = "interpreter-%s" % interp.get("index")
        # JUnit's tests counts every testcase, skipped ones included (unlike
        # unittest's testsRun on 3.12, which is report.json's tests.run).
        lines.append(
            '  <testsuite name=%s tests="%d" failures="%d" errors="%d" skipped="%d">'
            % (
                quoteattr(name),
                len(results) if results else counts.get("run", 0),
                counts.get("failed", 0),
                counts.get("errors", 0),
                counts.get("skipped", 0),
            )
        )
        for t in results:
            test = t.get("test", "?")
            if "::" in test:  # pytest node id: path/to/test_x.py::Class::test
                head, _, method = test.rpartition("::")
                classname = head.replace("/", ".").replace(".py", "").replace("::", ".")
            else:
                classname, _, method = test.rpartition(".")
            lines.append(
                '    <testcase classname=%s name=%s time="%.3f">'
                % (quoteattr(classname or name), quoteattr(method or test), t.get("duration", 0.0))
            )
            outcome = t.get("outcome")
            message = quoteattr((t.get("message") or "")[:2000])
            if outcome == "failure":
                lines.append("      <failure message=%s/>" % message)
            elif outcome == "error":
                lines.append("      <error message=%s/>" % message)
            elif outcome == "skipped":
                lines.append("      <skipped message=%s/>" % message)
            lines.append("    </testcase>")
        lines.append("  </testsuite>")
    violations = report.get("violations") or []
    if violations:
        lines.append(
            '  <testsuite name=%s tests="%d" failures="%d" errors="0" skipped="0">'
            % (quoteattr(VIOLATIONS_SUITE), len(violations), len(violations))
        )
        for n, v in enumerate(violations, 1):
            lines.extend(_violation_case(report, n, v))
        lines.append("  </testsuite>")
    lines.append("</testsuites>")
    return "\n".join(lines) + "\n"


def write_junit(path, report):
    with open(path, "w", encoding="utf-8") as f:
        f.write(render_junit(report))
