"""A violation of report.json in words: the one place that names its
interpreters, object, extension, holder and the rest. The text summary and
the HTML page (report_render.py), the supervisor's closing lines on stderr
and JUnit (report_junit.py) all print these labels, so they read the same
everywhere (tests/report/test_labels.py). Pure functions of the report dict;
stdlib only.

    interpreter_label(id, index, ended) -> "interpreter 2 (index 1, ended)"
    violation_labels(report, v) -> [(name, value)]
    violation_headline(v) -> "cross-interpreter-free in fastcache: cached() at fastcache.c:36"
"""

# What --keep-going did instead of the violating operation (report.json
# `resolution`; README, "What --keep-going does").
RESOLUTIONS = {
    "refused": "refused: not performed; the caller got interpsan.CrossInterpreterError",
    "refused-answer-no": 'refused: not performed; the caller got "not found"',
    "made-immortal": "the object was made immortal (kept, never freed)",
    "leaked": "the block was left with its owner (leaked)",
    "copied": "the caller got a fresh copy; the block stayed with its owner",
    "released-correctly": "the block was released through its own allocator",
    "ignored": "the free was ignored",
}


def interpreter_label(interp_id, index=None, ended=False):
    """How a person reads an interpreter: "the main interpreter (id 0)"
    (CPython's first interpreter has id 0), "interpreter 2 (index 1)" (its
    index in the run), "interpreter 2 (index 1, ended)". The checked
    process's stderr line uses the same words (debug/report.cc)."""
    if interp_id is None and index is None:
        return "interpreter ?"
    if isinstance(interp_id, int) and interp_id < 0:
        return "no interpreter"
    details = []
    if interp_id == 0:
        text = "the main interpreter"
        details.append("id 0")
    else:
        text = "interpreter %s" % ("?" if interp_id is None else interp_id)
        if isinstance(index, int) and index >= 0:
            details.append("index %d" % index)
    if ended:
        details.append("ended")
    if details:
        text += " (%s)" % ", ".join(details)
    return text


def _index_of(report, interp_id):
    for interp in report.get("interpreters") or []:
        if interp.get("id") == interp_id:
            return interp.get("index")
    return None


def violation_sides(report, v):
    """(acting label, owner label) of a violation."""
    acting_index = v.get("interpreter_index", _index_of(report, v.get("interpreter")))
    owner_index = v.get("owner_index", _index_of(report, v.get("owner_interpreter")))
    owner = v.get("owner_interpreter")
    if isinstance(owner, int) and owner < 0:
        # A block no interpreter's allocator handed out (debug/report.cc
        # says the same).
        owner_label = "no owning interpreter (unknown block)"
    else:
        owner_label = interpreter_label(owner, owner_index, bool(v.get("owner_ended")))
    return interpreter_label(v.get("interpreter"), acting_index), owner_label


def seen_in(v):
    """ "interpreters at index 0, 2, 3" when a de-duplicated violation
    (--keep-going) happened in more than one interpreter, else ""."""
    indexes = [i for i in v.get("interpreter_indexes") or [] if isinstance(i, int)]
    if len(set(indexes)) < 2:
        return ""
    return "interpreters at index %s" % ", ".join(str(i) for i in sorted(set(indexes)))


def joined_present(separator, parts):
    """`parts` are (format, value) pairs: each present (truthy) value in its
    format ("--keep-going" takes none), joined; absent ones left out."""
    return separator.join(fmt % value if "%" in fmt else fmt for fmt, value in parts if value)


def extension_site(v):
    """ "fastcache, in cached(), at tools/example/fastcache.c:36": the
    extension to blame, its function and line as the supervisor derived them
    (tools/report/symbolize.py); "" when none is known."""
    return joined_present(
        ", ",
        [
            ("%s", v.get("extension")),
            ("in %s()", v.get("extension_function")),
            ("at %s", v.get("extension_location")),
        ],
    )


def holder_text(v):
    """What held the object (report.json `holder`, debug/holder_lookup.h),
    e.g. "`_datetime`'s static type `datetime.timezone` (`tp_mro`)"; ""
    when no module's structures did."""
    h = v.get("holder")
    if not isinstance(h, dict) or not h.get("module"):
        return ""
    owner = "`%s`'s" % h["module"]
    kind = h.get("kind")
    if kind == "static-type":
        return "%s static type `%s` (`%s`)" % (owner, h.get("type") or "?", h.get("slot") or "?")
    if kind == "static-variable":
        slot = " (`%s`)" % h["slot"] if h.get("slot") else ""
        if h.get("variable"):
            return "%s static variable `%s`%s" % (owner, h["variable"], slot)
        return "%s static memory (offset %s)%s" % (owner, h.get("static_offset") or "?", slot)
    if kind == "module-state":
        return "%s module state" % owner
    if kind == "module-dict":
        return "%s module dict" % owner + (" (`%s`)" % h["slot"] if h.get("slot") else "")
    return "%s %s" % (owner, kind or "structures")


def _object_text(v):
    text = v.get("object_type") or "?"
    if v.get("object_address"):
        text += " at %s" % v["object_address"]
    return text


def _capi_text(v):
    if not v.get("capi_function"):
        return ""
    text = "%s()" % v["capi_function"]
    if v.get("capi_argument"):
        text += ", argument %s" % v["capi_argument"]
    return text


def _static_text(v):
    """The static variable of a static-memory finding (named by nm), else
    its object file and offset; "" for other findings."""
    if v.get("variable"):
        return "`%s`" % v["variable"]
    if v.get("static_module"):
        return "%s+%s" % (v["static_module"], v.get("static_offset") or "?")
    return ""


def violation_labels(report, v):
    """[(name, value)] that say what a violation is, in order, empty ones
    left out: acting, seen in, owner, object, extension, static variable,
    C-API call, held by, keep-going, test, check."""
    acting, owner = violation_sides(report, v)
    labels = [
        ("acting", acting),
        ("seen in", seen_in(v)),
        ("owner", owner),
        ("object", _object_text(v)),
        ("extension", extension_site(v)),
        ("static variable", _static_text(v)),
        ("C-API call", _capi_text(v)),
        ("held by", holder_text(v)),
        ("keep-going", RESOLUTIONS.get(v.get("resolution"), v.get("resolution") or "")),
        ("test", v.get("test") or ""),
        ("check", v.get("check") or ""),
    ]
    return [(name, str(value)) for name, value in labels if value]


def violation_headline(v):
    """ "cross-interpreter-free in fastcache: cached() at fastcache.c:36 (x3)":
    the kind, where (the extension, else the holder's module; its function
    and line when known), and the count when it repeated."""
    text = v.get("kind") or "violation"
    holder = v.get("holder")
    where = v.get("extension") or (holder.get("module") if isinstance(holder, dict) else None)
    if where:
        if v.get("extension_function"):
            where += ": %s()" % v["extension_function"]
        if v.get("extension_location"):
            where += " at %s" % v["extension_location"]
        text += " in %s" % where
    count = int(v.get("count", 1) or 1)
    if count > 1:
        text += " (x%d)" % count
    return text
