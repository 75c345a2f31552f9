#!/usr/bin/env python3
"""Harvest stix2-matcher's own test vectors into a conformance case file.

Run with the intel venv's Python (stix2-matcher 3.0.0, stix2-patterns 2.0.0, pytest):

    target/intel-venv/bin/python crates/vigie-intel/tests/conformance/harvest.py \
        [-o crates/vigie-intel/tests/conformance/matcher_cases.json] [--check]

It runs the test suite shipped inside the stix2matcher wheel (``stix2matcher.test``,
both the v20 and v21 directories) under pytest with ``harvest_plugin`` loaded, which
records every call the tests make to ``match`` (see that module). Identical cases
(same pattern, STIX version and observations) are kept once, under the first test
that produced them. ``--check`` compares with the committed file instead of writing
it and exits 1 if they differ (CI's "is the harvest current" check).

Only cases that go through ``match`` are harvested: the tests of the matcher's
internal helpers (``_overlap``, ``_timestamp_intervals_within``) are not about
patterns and produce nothing.
"""

import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, "matcher_cases.json")


def harvest():
    sys.path.insert(0, HERE)
    import pytest

    import harvest_plugin
    import stix2matcher
    import stix2patterns

    from importlib.metadata import version

    test_dir = os.path.join(os.path.dirname(stix2matcher.__file__), "test")
    rc = pytest.main(["-q", "-p", "no:cacheprovider", "-p", "no:randomly",
                      "--rootdir", test_dir, test_dir],
                     plugins=[harvest_plugin])
    seen = set()
    cases = []
    sets = []
    set_index = {}
    for case in harvest_plugin.CASES:
        obs_key = json.dumps(case["observations"], sort_keys=True)
        key = json.dumps([case["pattern"], case["stix_version"], obs_key])
        if key in seen:
            continue
        seen.add(key)
        if obs_key not in set_index:
            set_index[obs_key] = len(sets)
            sets.append(case["observations"])
        case["observations"] = set_index[obs_key]
        passed = harvest_plugin.test_passed(case["test"])
        if passed is False:
            case["reference_test_failed"] = True
        cases.append(case)
    counts = {}
    for case in cases:
        counts[case["outcome"]] = counts.get(case["outcome"], 0) + 1
    doc = {
        "about": "stix2-matcher's own test vectors, harvested by harvest.py "
                 "(tests/conformance/harvest_plugin.py); outcome is what the "
                 "reference matcher did: match, nomatch or error; a case's "
                 "observations is an index into observation_sets (the JSON list "
                 "the test passed to match: observed-data, or 2.1 bundles)",
        "reference": {
            "stix2-matcher": version("stix2-matcher"),
            "stix2-patterns": version("stix2-patterns"),
        },
        "pytest_exit": int(rc),
        "counts": dict(sorted(counts.items())),
        "cases": cases,
        "observation_sets": sets,
    }
    del stix2patterns
    return doc


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-o", "--output", default=DEFAULT_OUT)
    ap.add_argument("--check", action="store_true",
                    help="compare with the file instead of writing it; exit 1 if stale")
    args = ap.parse_args()
    doc = harvest()
    text = json.dumps(doc, indent=1, ensure_ascii=False, sort_keys=False) + "\n"
    if args.check:
        with open(args.output, encoding="utf-8") as f:
            old = f.read()
        if old != text:
            print("%s is stale: re-run harvest.py" % args.output, file=sys.stderr)
            return 1
        print("%s is current (%s)" % (args.output, doc["counts"]), file=sys.stderr)
        return 0
    with open(args.output, "w", encoding="utf-8") as f:
        f.write(text)
    print("wrote %d cases to %s: %s" % (len(doc["cases"]), args.output, doc["counts"]),
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
