"""Names the native frames the checked process wrote as facts (module path,
offset, dladdr's symbol: debug/report.cc, faulthandler/thread_dump.cc), once,
after the run, in the supervisor's process: addr2line for static functions,
inlined callers and file:line; nm for static variables. report.json's
`native_stack` lines, `extension_function`/`extension_location` and
`variable` are derived here and nowhere else; the renderers print them as
they are. Stdlib only; runs addr2line and nm (binutils) when present.

    look_up(violations, dumps)
        The slow part (nm, addr2line), in place: frames get "function"
        (and "location", "inlined_into"); static-memory findings and
        static-variable holders get "variable". May be stopped (the
        supervisor's second Ctrl-C) without harm: derive() works on
        whatever it found.
    derive(violations, dumps)
        report.json's words from the frames: each violation's and dump's
        `native_stack`, a violation's extension function and location.
"""

import os
import subprocess

from report_common import short_path


def symbolize_frames(frame_lists):
    """Names native frames with addr2line, outside the checked process:
    static functions that dladdr cannot name, and file:line where debug
    information exists. Adds "function" (and "location") to each frame
    dict ({"module", "offset", ["symbol"]}) in place."""
    wanted = {}
    for frames in frame_lists:
        for f in frames:
            if f.get("module"):
                wanted.setdefault(f["module"], set()).add((f["offset"], bool(f.get("exact"))))
    names = {}
    for module, offsets in wanted.items():
        offsets = sorted(offsets)
        # Return addresses point after the call: look up the call itself;
        # an exact pc (the faulting instruction) is looked up as is.
        queries = ["0x%x" % max(int(o, 16) - (0 if exact else 1), 0) for o, exact in offsets]
        try:
            # -i: a pc inside inlined code also names the functions it was
            # inlined into (innermost first); -a starts each pc's group with
            # the address, so groups of any length can be told apart.
            out = subprocess.run(
                ["addr2line", "-C", "-f", "-i", "-a", "-e", module] + queries,
                capture_output=True,
                text=True,
                timeout=60,
            ).stdout.splitlines()
        except (OSError, subprocess.SubprocessError):
            continue
        groups = []
        for line in out:
            if line.startswith("0x") and (not groups or len(groups[-1][1]) % 2 == 0):
                groups.append((line, []))
            elif groups:
                groups[-1][1].append(line)
        for (offset, exact), (_, lines) in zip(offsets, groups):
            chain = []
            for function, location in zip(lines[0::2], lines[1::2]):
                # Bazel compiles with the sandbox's /proc/self/cwd as the
                # source root, pyenv in /tmp/python-build.X/: the path as
                # the reader knows it (report_common.short_path).
                chain.append(
                    (
                        None if function == "??" else function,
                        None if location.startswith("??") else short_path(location),
                    )
                )
            if chain:
                names[(module, offset, exact)] = chain
    for frames in frame_lists:
        for f in frames:
            chain = names.get((f.get("module"), f.get("offset"), bool(f.get("exact"))))
            function, location = chain[0] if chain else (None, None)
            f["function"] = f.get("symbol") or function or "??"
            if location:
                f["location"] = location
            if chain and len(chain) > 1:
                # The functions this pc's code was inlined into, innermost
                # first: where a header's inline function (Py_DECREF,
                # pybind11's pytypes.h) was called from.
                f["inlined_into"] = [
                    {"function": fn or "??", "location": loc} for fn, loc in chain[1:]
                ]


_HEADER_SUFFIXES = (".h", ".hh", ".hpp", ".hxx", ".inc")


def own_source_frame(frame):
    """(function, location) of the first function in `frame`'s inline chain
    whose code is in a source file rather than a header: the extension's own
    line, not the Py_DECREF or pybind11 helper inlined into it."""
    chain = [(frame.get("function"), frame.get("location"))]
    chain += [(i.get("function"), i.get("location")) for i in frame.get("inlined_into", [])]
    for function, location in chain:
        if location and not location.split(":")[0].endswith(_HEADER_SUFFIXES):
            return function, location
    return chain[0]


def format_native_stack(frames):
    """report.json's native_stack: one line a frame,
    "#0 in insertdict (libpython3.12.so.1.0+0x1b3890) at Objects/dictobject.c:1234"."""
    lines = []
    for i, f in enumerate(frames):
        text = "#%d in %s (%s+%s)" % (
            i,
            f.get("function") or f.get("symbol") or "??",
            os.path.basename(f.get("module") or "?"),
            f.get("offset"),
        )
        if f.get("location"):
            text += " at " + f["location"]
        lines.append(text)
    return lines


def name_static_variables(violations):
    """Names the C variable behind each static-memory finding, from the
    object file's symbol table (static variables are local symbols that
    dladdr cannot see): "variable" of the violation, or of its holder when
    that is a static variable (debug/holder_lookup.h)."""
    tables = {}
    holders = [
        h
        for h in (v.get("holder") for v in violations)
        if isinstance(h, dict) and h.get("kind") == "static-variable"
    ]
    for v in violations + holders:
        module = v.get("static_module") or v.get("module_path")
        offset = v.get("static_offset")
        if not module or not offset:
            continue
        if module not in tables:
            symbols = []
            try:
                out = subprocess.run(
                    ["nm", "-C", "-S", "--defined-only", module],
                    capture_output=True,
                    text=True,
                    timeout=60,
                ).stdout
            except (OSError, subprocess.SubprocessError):
                out = ""
            for line in out.splitlines():
                parts = line.split(None, 3)
                if len(parts) == 4 and parts[2] in "bBdD":
                    symbols.append((int(parts[0], 16), int(parts[1], 16), parts[3]))
            tables[module] = symbols
        address = int(offset, 16)
        for start, size, name in tables[module]:
            if start <= address < start + max(size, 1):
                v["variable"] = name
                break


def _dump_frame_lists(dumps):
    lists = []
    for dump in dumps:
        lists.append(dump.get("native_frames", []))
        lists.extend(t.get("native_frames", []) for t in dump.get("threads", []))
    return lists


def look_up(violations, dumps):
    """nm and addr2line over every violation's and dump's frames (see the
    module comment)."""
    name_static_variables(violations)
    symbolize_frames([v.get("native_frames", []) for v in violations] + _dump_frame_lists(dumps))


def derive(violations, dumps):
    """native_stack, extension_function and extension_location from the
    frames as look_up() left them (named or not)."""
    for v in violations:
        frames = v.get("native_frames", [])
        # Every violation has one (an audit finding's is empty).
        v["native_stack"] = format_native_stack(frames)
        ext_path = v.get("extension_path")
        if v.get("source_file"):  # check mode: the macro's own use
            v["extension_location"] = "%s:%s" % (short_path(v["source_file"]), v.get("source_line"))
            v["extension_function"] = v.get("source_function") or v.get("extension_function")
        if ext_path and not (v.get("extension_function") and v.get("extension_location")):
            for f in frames:
                if f.get("module") == ext_path:
                    function, location = own_source_frame(f)
                    if not v.get("extension_function"):
                        v["extension_function"] = function
                    if location and not v.get("extension_location"):
                        v["extension_location"] = location
                    break
    for dump in dumps:
        dump["native_stack"] = format_native_stack(dump.get("native_frames", []))
        for t in dump.get("threads", []):
            if "native_frames" in t:
                t["native_stack"] = format_native_stack(t["native_frames"])
