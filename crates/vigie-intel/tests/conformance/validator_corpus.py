#!/usr/bin/env python3
"""Build the validator corpus: STIX patterns labelled valid/invalid by stix2-validator's
pattern validator (stix2-validator 3.3.2 uses stix2-patterns 2.1.2; run with that venv).

    target/stix-validator-venv/bin/python \
        crates/vigie-intel/tests/conformance/validator_corpus.py [--check]

Sources, each pattern kept once (first source wins):

- ``spec-v21`` / ``spec-v20``: the spec examples shipped in stix2-patterns
  (``stix2patterns/test/v2x/spec_examples.txt``);
- ``validator-tests``: the pass/fail pattern lists of stix2-patterns' own v21
  validator tests (module data of ``stix2patterns.test.v21.test_validator``);
- ``matcher-cases`` / ``differential``: every pattern of the committed
  ``matcher_cases.json`` and ``differential_cases.json``;
- ``mutation``: seeded random edits of the valid patterns above (a char deleted,
  inserted, or two swapped; an operator or keyword replaced or lower-cased; a
  qualifier appended; a literal's kind or body changed), so both sides of the line
  are exercised near valid patterns.

Each pattern gets ``valid`` (``stix2patterns.validator.validate(p,
stix_version="2.1")``) and, when invalid, the validator's ``errors``.
"""

import argparse
import importlib
import json
import os
import random
import sys
import types

import stix2patterns
from stix2patterns.validator import validate

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, "validator_corpus.json")
PKG = os.path.dirname(stix2patterns.__file__)

OPERATORS = ["=", "!=", "<", ">", "<=", ">=", "==", "<>", "IN", "LIKE", "MATCHES",
             "ISSUBSET", "ISSUPERSET", "EXISTS", "NOT", "AND", "OR", "FOLLOWEDBY"]
KEYWORDS = ["AND", "OR", "NOT", "FOLLOWEDBY", "LIKE", "MATCHES", "ISSUBSET",
            "ISSUPERSET", "EXISTS", "IN", "WITHIN", "SECONDS", "REPEATS", "TIMES",
            "START", "STOP", "true", "false"]
QUALIFIERS = [" WITHIN 5 SECONDS", " WITHIN 0 SECONDS", " WITHIN 2.5 SECONDS",
              " WITHIN -1 SECONDS", " WITHIN 5", " REPEATS 3 TIMES", " REPEATS 0 TIMES",
              " REPEATS 1.5 TIMES", " REPEATS 2 TIMES REPEATS 3 TIMES",
              " WITHIN 1 SECONDS WITHIN 2 SECONDS",
              " START t'2016-06-01T00:00:00Z' STOP t'2016-07-01T00:00:00Z'",
              " START '2016-06-01T00:00:00Z' STOP '2016-07-01T00:00:00Z'",
              " START t'2016-06-01T00:00:00Z'", " STOP t'2016-06-01T00:00:00Z'",
              " START t'2016-13-01T00:00:00Z' STOP t'2017-01-01T00:00:00Z'",
              " REPEATS 2 TIMES WITHIN 10 SECONDS",
              " FOLLOWEDBY [x:y = 1]", " AND [x:y = 1]", " OR", " AND"]
LITERALS = ["1", "-1", "+1", "1.5", ".5", "1.", "1e3", "true", "TRUE", "false", "'a'",
            "'a''b'", "'a\\'b'", "'\\\\'", "'\\x'", "h'ff'", "h'f'", "h'zz'", "b'AQID'",
            "b'AQI='", "b'===='", "b'A'", "t'2016-06-01T00:00:00Z'",
            "t'2016-06-01T00:00:00.123Z'", "t'2016-06-01 00:00:00Z'",
            "t'2016-06-31T00:00:00Z'", "t'2016-06-01T25:00:00Z'", "t'2016-06-01T00:00:00'",
            "('a', 'b')", "('a')", "()", "(1, 'a')", "null", "NULL"]
INSERT_CHARS = "[]():'=<>!,.*-_ \\aZ09tbhx\"\t\n"


def _spec(version):
    path = os.path.join(PKG, "test", version, "spec_examples.txt")
    with open(path, encoding="utf-8") as f:
        return [line.strip() for line in f if line.strip()]


def _validator_tests():
    # The module imports pytest for its decorators only; the validator venv has no
    # pytest, so a stand-in with an identity `mark.parametrize` is enough to load it.
    if "pytest" not in sys.modules:
        try:
            import pytest  # noqa: F401
        except ImportError:
            stub = types.ModuleType("pytest")
            stub.mark = types.SimpleNamespace(parametrize=lambda *a, **k: (lambda f: f))
            sys.modules["pytest"] = stub
    mod = importlib.import_module("stix2patterns.test.v21.test_validator")
    out = []
    for name in ("SPEC_CASES", "PASS_CASES", "TIMESTAMP_PASS_CASES", "FAIL_CASES",
                 "TIMESTAMP_FAIL_CASES"):
        for item in getattr(mod, name, []):
            out.append(item[0] if isinstance(item, tuple) else item)
    return out


def _committed(name, key):
    with open(os.path.join(HERE, name), encoding="utf-8") as f:
        doc = json.load(f)
    return [c[key] for c in doc["cases"]]


def _replace_word(rng, p, words, choices):
    present = [w for w in words if w in p]
    if not present:
        return None
    w = rng.choice(present)
    i = rng.choice([i for i in range(len(p)) if p.startswith(w, i)])
    return p[:i] + rng.choice(choices) + p[i + len(w):]


def _replace_literal(rng, p):
    for _ in range(4):
        i = p.find("= ", rng.randrange(len(p)))
        if i != -1:
            j = i + 2
            k = j
            while k < len(p) and p[k] not in "]) " or (k < len(p) and p[j] == "'" and
                                                         p.count("'", j, k + 1) % 2):
                k += 1
            return p[:j] + rng.choice(LITERALS) + p[k:]
    return None


def mutate(rng, p):
    op = rng.randrange(8)
    if not p:
        return rng.choice(INSERT_CHARS)
    i = rng.randrange(len(p))
    if op == 0:
        return p[:i] + p[i + 1:]
    if op == 1:
        return p[:i] + rng.choice(INSERT_CHARS) + p[i:]
    if op == 2 and len(p) > 1:
        i = min(i, len(p) - 2)
        return p[:i] + p[i + 1] + p[i] + p[i + 2:]
    if op == 3:
        return _replace_word(rng, p, OPERATORS, OPERATORS)
    if op == 4:
        return _replace_word(rng, p, KEYWORDS, [k.lower() for k in KEYWORDS] + KEYWORDS)
    if op == 5:
        return p + rng.choice(QUALIFIERS)
    if op == 6:
        return _replace_literal(rng, p)
    # op 7: wrap or unwrap parentheses / brackets
    return rng.choice(["(" + p + ")", "(" + p, p + ")", p.replace("[", "", 1),
                       p.replace("]", "", 1), "[" + p + "]"])


def build(n_mutations, seed):
    entries = []
    seen = set()

    def add(pattern, source):
        if not isinstance(pattern, str) or pattern in seen:
            return
        seen.add(pattern)
        ok, errs = validate(pattern, stix_version="2.1", ret_errs=True)
        e = {"pattern": pattern, "source": source, "valid": bool(ok)}
        if not ok:
            e["errors"] = list(errs)
        entries.append(e)

    for p in _spec("v21"):
        add(p, "spec-v21")
    for p in _spec("v20"):
        add(p, "spec-v20")
    for p in _validator_tests():
        add(p, "validator-tests")
    for p in _committed("matcher_cases.json", "pattern"):
        add(p, "matcher-cases")
    for p in _committed("differential_cases.json", "pattern"):
        add(p, "differential")
    bases = [e["pattern"] for e in entries if e["valid"]]
    rng = random.Random(seed)
    made = 0
    tries = 0
    while made < n_mutations and tries < n_mutations * 10:
        tries += 1
        m = mutate(rng, rng.choice(bases))
        if m is None or m in seen:
            continue
        add(m, "mutation")
        made += 1
    return entries


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-o", "--output", default=DEFAULT_OUT)
    ap.add_argument("--mutations", type=int, default=1500)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--check", action="store_true",
                    help="compare with the file instead of writing it; exit 1 if stale")
    args = ap.parse_args()
    from importlib.metadata import version
    entries = build(args.mutations, args.seed)
    counts = {}
    for e in entries:
        key = "%s/%s" % (e["source"], "valid" if e["valid"] else "invalid")
        counts[key] = counts.get(key, 0) + 1
    doc = {
        "about": "STIX patterns labelled by stix2-validator's pattern validator "
                 "(validator_corpus.py): valid = "
                 "stix2patterns.validator.validate(pattern, stix_version='2.1')",
        "reference": {"stix2-validator": version("stix2-validator"),
                      "stix2-patterns": version("stix2-patterns")},
        "seed": args.seed,
        "counts": dict(sorted(counts.items())),
        "valid": sum(1 for e in entries if e["valid"]),
        "invalid": sum(1 for e in entries if not e["valid"]),
    }
    body = ",\n".join(json.dumps(e, ensure_ascii=False) for e in entries)
    head = json.dumps(doc, indent=1, ensure_ascii=False)
    text = head[:-2] + ',\n "patterns": [\n' + body + "\n ]\n}\n"
    if args.check:
        with open(args.output, encoding="utf-8") as f:
            if f.read() != text:
                print("%s is stale: re-run validator_corpus.py" % args.output,
                      file=sys.stderr)
                return 1
        print("%s is current" % args.output, file=sys.stderr)
        return 0
    with open(args.output, "w", encoding="utf-8") as f:
        f.write(text)
    print("wrote %d patterns to %s: %d valid, %d invalid" % (
        len(entries), args.output, doc["valid"], doc["invalid"]), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
