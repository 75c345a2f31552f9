#!/usr/bin/env python3
"""Compares two engines' detection sets per (rule id, file, record).

Usage: compare_matches.py VIGIE_JSONL RSIGMA_NDJSON RULES_DIR > report.md

VIGIE_JSONL: `vigie hunt --format jsonl` output (correlation hits ignored).
RSIGMA_NDJSON: `rsigma engine eval --include-event` output over events written by
`examples/flatten.rs` (which carry `_source` and `_record`).
Prints a Markdown report: agreement, then per rule the matches only one side has, with
one example (file, record) each, most disagreeing rules first.
"""

import collections
import json
import os
import sys


def load_vigie(path):
    out = set()
    with open(path) as f:
        for line in f:
            d = json.loads(line)
            if d.get("correlation"):
                continue
            out.add((d.get("rule_id"), d["source"], d["record"]))
    return out


def load_rsigma(path):
    out = set()
    with open(path) as f:
        for line in f:
            try:
                d = json.loads(line)
            except json.JSONDecodeError:
                continue
            ev = d.get("event") or {}
            if "_source" not in ev:
                continue  # correlation output or a line we do not join on
            out.add((d.get("rule_id"), ev["_source"], ev["_record"]))
    return out


def rule_paths(rules_dir):
    idx = {}
    for root, _, files in os.walk(rules_dir):
        for fn in files:
            if fn.endswith(".yml"):
                p = os.path.join(root, fn)
                with open(p, errors="replace") as f:
                    for line in f:
                        if line.startswith("id:"):
                            idx[line[3:].strip().strip("'\"")] = os.path.relpath(p, rules_dir)
                            break
    return idx


def main():
    v, r = load_vigie(sys.argv[1]), load_rsigma(sys.argv[2])
    paths = rule_paths(sys.argv[3])
    both, only_v, only_r = v & r, v - r, r - v
    union = len(v | r)
    print(f"- vigie matches: {len(v)}; rsigma matches: {len(r)}; both: {len(both)}")
    print(f"- agreement (|both| / |union|): {100.0 * len(both) / union if union else 100:.2f}%")
    print(f"- only vigie: {len(only_v)}; only rsigma: {len(only_r)}")
    per = collections.defaultdict(lambda: [0, 0, None, None])
    for (rid, src, rec) in sorted(only_v, key=str):
        p = per[rid]
        p[0] += 1
        p[2] = p[2] or f"{os.path.basename(src)}#{rec}"
    for (rid, src, rec) in sorted(only_r, key=str):
        p = per[rid]
        p[1] += 1
        p[3] = p[3] or f"{os.path.basename(src)}#{rec}"
    print()
    print("| rule | only vigie | only rsigma | example only vigie | example only rsigma |")
    print("|---|---:|---:|---|---|")
    for rid, (a, b, ea, eb) in sorted(per.items(), key=lambda kv: (-(kv[1][0] + kv[1][1]), paths.get(kv[0], str(kv[0])))):
        print(f"| `{paths.get(rid, rid)}` | {a} | {b} | {ea or ''} | {eb or ''} |")


if __name__ == "__main__":
    main()
