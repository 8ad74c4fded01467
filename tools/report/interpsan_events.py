"""events.jsonl, as the supervisor's side reads it: the one reader of the
event stream (read_events), the schema it follows (debug/events_schema.json,
the contract with the checked process) and a validator of events against
that schema. Runs in the supervisor and in the report tools (report_render,
tracemalloc_export), never inside the checked process. Stdlib only.

    python3 tools/report/interpsan_events.py EVENTS.jsonl...   # validate; exit 1 on a problem
"""

import json
import os
import sys

# tools/report/ is two levels below the checkout (or the wheel's package).
SCHEMA_PATH = os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__)))),
    "debug",
    "events_schema.json",
)


def load_schema(path=SCHEMA_PATH):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


SCHEMA = load_schema()
# What the checked process writes in its start event (schema_version), and
# what report.json says it was built from.
SCHEMA_VERSION = SCHEMA["schema_version"]


def parse_line(line):
    """The event on one line of events.jsonl, or None: a blank line, or a
    line cut short by a crash (a write interrupted by a fatal signal, or a
    SIGKILL): everything before it counts."""
    line = line.strip()
    if not line:
        return None
    try:
        event = json.loads(line)
    except ValueError:
        return None
    return event if isinstance(event, dict) else None


def read_events(path):
    """Every complete event of the file at `path`, in order ([] if there is
    no such file)."""
    events = []
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                event = parse_line(line)
                if event is not None:
                    events.append(event)
    except FileNotFoundError:
        pass
    return events


# ---- validation ---------------------------------------------------------------

_SCALARS = {
    "string": lambda v: isinstance(v, str),
    # JSON has one kind of number; bool is not a number here.
    "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "bool": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "object": lambda v: isinstance(v, dict),
}


def _check_type(value, spec, where, schema, errors):
    """Appends to `errors` what is wrong with `value` as `spec` (a type
    string of the schema) says; `where` names it in the messages."""
    alternatives = spec.split("|")
    if len(alternatives) > 1:
        for alt in alternatives:
            trial = []
            _check_type(value, alt, where, schema, trial)
            if not trial:
                return
        errors.append("%s: %s is not %s" % (where, _short(value), spec))
        return
    if spec.startswith("[") and spec.endswith("]"):
        if not isinstance(value, list):
            errors.append("%s: %s is not a list (%s)" % (where, _short(value), spec))
            return
        for i, item in enumerate(value):
            _check_type(item, spec[1:-1], "%s[%d]" % (where, i), schema, errors)
        return
    if spec in _SCALARS:
        if not _SCALARS[spec](value):
            errors.append("%s: %s is not %s" % (where, _short(value), spec))
        return
    named = schema["types"].get(spec)
    if named is None:
        raise ValueError("the schema names an unknown type %r (at %s)" % (spec, where))
    if not isinstance(value, dict):
        errors.append("%s: %s is not an object (%s)" % (where, _short(value), spec))
        return
    _check_fields(value, named, where, schema, errors)


def _check_fields(obj, spec, where, schema, errors, skip=()):
    required = spec.get("required", {})
    optional = spec.get("optional", {})
    for key, type_spec in required.items():
        if key not in obj:
            errors.append("%s: field %r is missing" % (where, key))
        else:
            _check_type(obj[key], type_spec, "%s.%s" % (where, key), schema, errors)
    for key, value in obj.items():
        if key in required or key in skip:
            continue
        if key not in optional:
            errors.append(
                "%s: unknown field %r (not in %s)" % (where, key, os.path.basename(SCHEMA_PATH))
            )
        else:
            _check_type(value, optional[key], "%s.%s" % (where, key), schema, errors)


def _short(value):
    text = json.dumps(value)
    return text if len(text) <= 60 else text[:57] + "..."


def validate_event(event, schema=None):
    """The problems of one event against the schema ([] if it follows it):
    an unknown event, a missing or unknown field, a field of the wrong type."""
    schema = schema or SCHEMA
    if not isinstance(event, dict):
        return ["not an object: %s" % _short(event)]
    name = event.get("event")
    if not isinstance(name, str):
        return ['no "event" name: %s' % _short(event)]
    spec = schema["events"].get(name)
    if spec is None:
        return ["unknown event %r (not in %s)" % (name, os.path.basename(SCHEMA_PATH))]
    errors = []
    _check_fields(event, spec, name, schema, errors, skip=("event",))
    if name == "start" and event.get("schema_version") != schema["schema_version"]:
        errors.append(
            "start: schema_version %s, but the schema is version %s"
            % (_short(event.get("schema_version")), schema["schema_version"])
        )
    return errors


def validate_file(path, schema=None):
    """The problems of every complete event in the file at `path`, each
    prefixed with its line number."""
    problems = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for lineno, line in enumerate(f, 1):
            event = parse_line(line)
            if event is None:
                continue
            problems += ["line %d: %s" % (lineno, p) for p in validate_event(event, schema)]
    return problems


def main(argv):
    if not argv:
        sys.stderr.write("usage: interpsan_events.py EVENTS.jsonl...\n")
        return 2
    status = 0
    for path in argv:
        for problem in validate_file(path):
            sys.stdout.write("%s: %s\n" % (path, problem))
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
