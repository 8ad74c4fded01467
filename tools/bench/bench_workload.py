"""Allocation-heavy benchmark workload for tools/bench/bench.py.

Runs a fixed amount of work (not a fixed time): json.dumps/json.loads of
nested dicts, lists, strings and floats, plus list/dict/tuple churn, so that
the allocator (obj and mem domains, pymalloc and large blocks alike) and
deallocation (freelists included) are exercised the way the product's
reference json workload does. Each interpreter of an interpsan run does the
same work. It prints exactly one line:

    bench_workload elapsed=<seconds> [index=<interpsan.index>]

Usage: python bench_workload.py [ROUNDS]   (default 90; ~1-2 s on 2 cores)
Environment: BENCH_WORKLOAD_ROUNDS overrides the default too.
"""

import json
import os
import sys
import time

DEFAULT_ROUNDS = 90


def make_record(i):
    # A nested document: dicts, lists, strings (small and > 512 bytes),
    # floats, ints, bools and None.
    return {
        "id": i,
        "name": "record-%d" % i,
        "score": i * 0.731 + 0.5,
        "tags": ["t%d" % (i % 7), "u%d" % (i % 11), "v%d" % (i % 13)],
        "active": i % 2 == 0,
        "parent": None if i % 5 else i // 5,
        "point": {"x": i * 1.5, "y": -i * 2.25, "z": [i, i + 1, i + 2]},
        "text": ("lorem ipsum %d " % i) * (1 + i % 48),
        "history": [{"t": float(j), "v": j * i % 97} for j in range(i % 6)],
    }


def json_round(records):
    text = json.dumps(records)
    back = json.loads(text)
    # Re-serialize a part with different options (sorted keys, indent).
    text2 = json.dumps(back[: len(back) // 4], sort_keys=True, indent=1)
    back2 = json.loads(text2)
    return len(text) + len(text2) + len(back) + len(back2)


def churn(n):
    # Lists, dicts and tuples that live briefly: freelist and pymalloc traffic.
    total = 0
    for i in range(n):
        t = (i, i + 1, str(i), float(i))
        lst = [t, [i] * (i % 9), {"k": t}]
        d = {j: (j, j * 0.5) for j in range(i % 17)}
        lst.append(d)
        lst.extend(list(d.values()))
        total += len(lst) + len(d)
        s = {x for x in range(i % 13)}
        total += len(s)
    return total


def work(rounds):
    checksum = 0
    for r in range(rounds):
        records = [make_record(i + r) for i in range(200)]
        checksum += json_round(records)
        checksum += churn(2000)
        del records
    return checksum


def main():
    rounds = DEFAULT_ROUNDS
    if len(sys.argv) > 1:
        rounds = int(sys.argv[1])
    elif os.environ.get("BENCH_WORKLOAD_ROUNDS"):
        rounds = int(os.environ["BENCH_WORKLOAD_ROUNDS"])
    start = time.perf_counter()
    work(rounds)
    elapsed = time.perf_counter() - start
    line = "bench_workload elapsed=%.6f" % elapsed
    # Inside an interpsan run, `interpsan` is a built-in module (the
    # tools/supervisor/interpsan.py next to this file is not it).
    if "interpsan" in sys.builtin_module_names:
        import interpsan

        line += " index=%d" % interpsan.index
    print(line, flush=True)


if __name__ == "__main__":
    main()
