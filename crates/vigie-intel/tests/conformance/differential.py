#!/usr/bin/env python3
"""Seeded differential cases: stix2-generator patterns, observations built from them,
outcomes from the reference matcher (stix2-matcher 3.0.0, STIX 2.1).

    target/intel-venv/bin/python crates/vigie-intel/tests/conformance/differential.py \
        --seed 1 --count 300 -o crates/vigie-intel/tests/conformance/differential_cases.json

For each case:

1. ``stix2generator``'s ``PatternGenerator`` (2.1) makes a random pattern. It builds
   each comparison by generating a random SCO and walking a random path through it,
   so the comparison's literal is a value of that object. Every object it generates
   (its ``stix2.parse`` of each generated SCO, with optional defaults such as
   ``defanged``) is recorded; when a path continues through a ``*_ref`` property the
   object generated for the continuation takes that reference's id, so the path
   resolves.
   The generator itself only writes ``= != < <= > >=``; so that every comparison
   operator is exercised, with probability 0.35 a comparison the generator makes
   uses instead (same path, a literal derived from the same value) ``IN`` (the
   value and a decoy), ``LIKE`` (a prefix/suffix of the value with ``%`` or ``_``),
   ``MATCHES`` (an anchored prefix), ``ISSUBSET`` / ``ISSUPERSET`` (a CIDR around an
   IPv4 address value: the reference does them on IPv4 only), each negated with probability 0.2.
2. The observations are one STIX 2.1 bundle of ``k`` observed-data (``k`` = the
   number of observation expressions plus 0-2), each referring to a random subset of
   the recorded objects (each kept with probability 0.85), one to three seconds
   apart around a fixed "now", ``number_observed`` 1-3. With probability 0.3 one
   recorded string/number value is perturbed first (a near miss). This is what makes
   a good share of cases match in the reference; the reference decides each outcome.
3. ``stix2matcher.matcher.match(pattern, [bundle], stix_version="2.1")``: ``match``,
   ``nomatch`` or ``error`` (with the message).

Determinism: ``random``, Faker, ``uuid.uuid4`` and the generator's clocks are seeded
/ fixed, and the script re-executes itself with ``PYTHONHASHSEED=0`` (the generator
picks properties out of sets), so one seed gives one file.
"""

import argparse
import copy
import datetime
import json
import os
import random
import signal
import sys
import uuid

if os.environ.get("PYTHONHASHSEED") != "0":
    os.environ["PYTHONHASHSEED"] = "0"
    os.execv(sys.executable, [sys.executable] + sys.argv)

import faker  # noqa: E402
import stix2  # noqa: E402
import stix2generator  # noqa: E402
import stix2generator.generation.pattern_generator as pattern_generator  # noqa: E402
import stix2generator.generation.semantics as semantics  # noqa: E402
from stix2matcher.matcher import match  # noqa: E402

NOW = datetime.datetime(2026, 12, 1, 12, 0, 0)


class _FixedDatetime(datetime.datetime):
    @classmethod
    def utcnow(cls):
        return NOW

    @classmethod
    def now(cls, tz=None):
        return NOW if tz is None else NOW.replace(tzinfo=tz)


class _ClockShim:
    """What the generator sees as its ``datetime`` module: a fixed clock."""


_ClockShim.datetime = _FixedDatetime
_ClockShim.timedelta = datetime.timedelta


_REGEX_META = set(".^$*+?()[]{}|\\/")
EXTENDED_PROBABILITY = 0.35


def _alnum_prefix(s, rng):
    n = 0
    while n < len(s) and s[n].isalnum():
        n += 1
    return s[:rng.randint(1, n)] if n else None


def _ip_cidr(value, rng):
    import ipaddress
    try:
        ip = ipaddress.ip_address(value)
    except ValueError:
        return None
    if ip.version != 4:
        return None  # stix2-matcher 3.0.0 does ISSUBSET/ISSUPERSET on IPv4 only
    prefix = rng.randint(16, 32)
    return str(ipaddress.ip_network("%s/%d" % (ip, prefix), strict=False))


def _extended(rng, original):
    """A stand-in for the generator's operator choice (see the module doc)."""
    P = stix2.patterns

    def choose(type_):
        if type_ not in (str, int, float) or rng.random() >= EXTENDED_PROBABILITY:
            return original(type_)
        negated = rng.random() < 0.2

        def build(path, value):
            kinds = ["in"]
            if isinstance(value, str):
                kinds += ["like", "like_", "matches"]
                if _ip_cidr(value.split("/")[0], rng):
                    kinds += ["subset", "superset"]
            kind = rng.choice(kinds)
            node = None
            if kind == "in":
                decoy = value + "x" if isinstance(value, str) else value + 7
                items = [value, decoy]
                rng.shuffle(items)
                node = P.InComparisonExpression(path, items)
            elif kind == "like":
                pre = _alnum_prefix(value, rng)
                if pre is not None:
                    node = P.LikeComparisonExpression(path, pre + "%")
            elif kind == "like_":
                if value and value.isalnum():
                    i = rng.randrange(len(value))
                    node = P.LikeComparisonExpression(path, value[:i] + "_" + value[i + 1:])
            elif kind == "matches":
                pre = _alnum_prefix(value, rng)
                if pre is not None:
                    node = P.MatchesComparisonExpression(path, "^" + pre)
            elif kind == "subset":
                node = P.IsSubsetComparisonExpression(
                    path, _ip_cidr(value.split("/")[0], rng))
            elif kind == "superset":
                node = P.IsSupersetComparisonExpression(path, value.split("/")[0])
            if node is None:
                node = P.InComparisonExpression(path, [value])
            node.negated = negated
            return node

        return build, negated

    return choose


def _ts(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class Recorder:
    """Records the SCOs the pattern generator walks, fixing up reference targets."""

    def __init__(self):
        self.objects = []
        self.pending_refs = []  # ref ids seen in recorded objects, not yet resolved

    def reset(self):
        self.objects = []
        self.pending_refs = []

    def parsed(self, obj):
        d = json.loads(obj.serialize(include_optional_defaults=True))
        # A path continued through a reference generates an object of the target
        # type next: give it the id the reference holds.
        for i, ref in enumerate(self.pending_refs):
            if ref.split("--", 1)[0] == d.get("type"):
                d["id"] = ref
                del self.pending_refs[i]
                break
        self.objects.append(d)
        for key, val in d.items():
            if key.endswith("_ref") and isinstance(val, str):
                self.pending_refs.append(val)
            elif key.endswith("_refs") and isinstance(val, list):
                self.pending_refs.extend(v for v in val if isinstance(v, str))
        return obj


def _perturb(objects, rng):
    """Change one string or number value of one object (a near miss)."""
    spots = []
    for o in objects:
        for k, v in o.items():
            if k in ("id", "type", "spec_version") or k.endswith("_ref"):
                continue
            if isinstance(v, (str, int, float)) and not isinstance(v, bool):
                spots.append((o, k))
    if not spots:
        return
    o, k = rng.choice(spots)
    v = o[k]
    if isinstance(v, str):
        o[k] = v + "x" if rng.random() < 0.5 else v[:-1]
    else:
        o[k] = v + rng.choice((-1, 1))


def _count_observations(pattern):
    return max(1, pattern.count("["))


def make_case(gen, rec, rng, n):
    rec.reset()
    pattern = gen.generate()
    objects = copy.deepcopy(rec.objects)
    # Objects the generator made for nested specs (hashes etc.) are not SCOs: keep
    # the ones with an id, once each.
    seen = set()
    scos = []
    for o in objects:
        if isinstance(o.get("id"), str) and o["id"] not in seen:
            seen.add(o["id"])
            scos.append(o)
    if rng.random() < 0.3:
        _perturb(scos, rng)
    k = _count_observations(pattern) + rng.randint(0, 2)
    t = NOW + datetime.timedelta(seconds=rng.randint(-5, 5))
    bundle_objects = []
    used = set()
    for i in range(k):
        refs = [o["id"] for o in scos if rng.random() < 0.85]
        if not refs and scos:
            refs = [rng.choice(scos)["id"]]
        used.update(refs)
        last = t + datetime.timedelta(seconds=rng.randint(0, 2))
        bundle_objects.append({
            "type": "observed-data",
            "spec_version": "2.1",
            "id": "observed-data--%s" % uuid.UUID(int=rng.getrandbits(128), version=4),
            "created": _ts(NOW),
            "modified": _ts(NOW),
            "first_observed": _ts(t),
            "last_observed": _ts(last),
            "number_observed": rng.randint(1, 3),
            "object_refs": refs,
        })
        t = last + datetime.timedelta(seconds=rng.randint(1, 3))
    bundle_objects.extend(o for o in scos if o["id"] in used)
    bundle = {
        "type": "bundle",
        "id": "bundle--%s" % uuid.UUID(int=rng.getrandbits(128), version=4),
        "objects": bundle_objects,
    }
    case = {"id": "d%05d" % n, "pattern": pattern, "observations": bundle}
    signal.alarm(REFERENCE_TIMEOUT_S)
    try:
        result = match(pattern, [copy.deepcopy(bundle)], stix_version="2.1")
    except ReferenceTimeout:
        case["outcome"] = "timeout"
    except Exception as exc:
        case["outcome"] = "error"
        case["error"] = "%s: %s" % (type(exc).__name__, exc)
    else:
        case["outcome"] = "match" if result else "nomatch"
    finally:
        signal.alarm(0)
    return case


# The reference enumerates bindings exhaustively: a few generated patterns (REPEATS
# over observed-data with number_observed > 1) take it minutes or more. Such a case
# has no reference outcome: it is left out of the cases and listed (with its pattern)
# under "reference_timeouts" in the output, so nothing is dropped silently.
REFERENCE_TIMEOUT_S = 10


class ReferenceTimeout(Exception):
    pass


def _on_alarm(signum, frame):
    raise ReferenceTimeout()


def generate(seed, count, config):
    random.seed(seed)
    faker.Faker.seed(seed)
    rng = random.Random(seed ^ 0x5EED)
    id_rng = random.Random(seed ^ 0x1D)
    uuid.uuid4 = lambda: uuid.UUID(int=id_rng.getrandbits(128), version=4)
    pattern_generator.datetime = _ClockShim
    semantics.datetime = _ClockShim

    rec = Recorder()
    real_parse = stix2.parse

    def recording_parse(*args, **kwargs):
        return rec.parsed(real_parse(*args, **kwargs))

    pattern_generator.stix2.parse = recording_parse
    real_choose = pattern_generator._random_operator_for_type
    pattern_generator._random_operator_for_type = _extended(
        random.Random(seed ^ 0x0E), real_choose)
    obj_gen = stix2generator.create_object_generator()
    gen = pattern_generator.PatternGenerator(
        obj_gen, "2.1", pattern_generator.Config(**config))
    signal.signal(signal.SIGALRM, _on_alarm)
    cases = []
    timeouts = []
    failures = 0
    n = 0
    while len(cases) < count:
        try:
            case = make_case(gen, rec, rng, n)
            n += 1
            if case["outcome"] == "timeout":
                timeouts.append({"id": case["id"], "pattern": case["pattern"],
                                 "observations": case["observations"]})
                print("reference timeout (%d s), case left out: %s %s"
                      % (REFERENCE_TIMEOUT_S, case["id"], case["pattern"]), file=sys.stderr)
                continue
            cases.append(case)
        except Exception as exc:  # the generator's own failures: skipped, counted
            failures += 1
            if failures > count:
                raise
            print("generator failure skipped: %s: %s" % (type(exc).__name__, exc),
                  file=sys.stderr)
    pattern_generator.stix2.parse = real_parse
    pattern_generator._random_operator_for_type = real_choose
    return cases, failures, timeouts


CONFIG = {
    "min_pattern_size": 1,
    "max_pattern_size": 4,
    "min_repeat_count": 1,
    "max_repeat_count": 4,
    "min_within_count": 1,
    "max_within_count": 30,
    "probability_qualifier": 0.25,
    "probability_continue_path_through_ref": 0.8,
    "probability_index_star_step": 0.2,
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--count", type=int, default=300)
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("--check", action="store_true",
                    help="compare with the file instead of writing it; exit 1 if stale")
    args = ap.parse_args()
    cases, failures, timeouts = generate(args.seed, args.count, CONFIG)
    counts = {}
    for c in cases:
        counts[c["outcome"]] = counts.get(c["outcome"], 0) + 1
    doc = {
        "about": "seeded differential cases (differential.py): stix2-generator 0.2.0 "
                 "patterns, observations built from the objects each pattern was "
                 "drawn from, outcome from stix2-matcher 3.0.0 (STIX 2.1)",
        "seed": args.seed,
        "generator_config": CONFIG,
        "extended_operator_probability": EXTENDED_PROBABILITY,
        "generator_failures_skipped": failures,
        "reference_timeout_s": REFERENCE_TIMEOUT_S,
        "reference_timeouts": timeouts,
        "counts": dict(sorted(counts.items())),
        "cases": cases,
    }
    # One case a line: readable diffs, a small file.
    cases_text = ",\n".join(json.dumps(c, ensure_ascii=False, separators=(",", ":"))
                            for c in doc.pop("cases"))
    head = json.dumps(doc, indent=1, ensure_ascii=False)
    text = head[:-2] + ',\n "cases": [\n' + cases_text + "\n ]\n}\n"
    if args.check:
        with open(args.output, encoding="utf-8") as f:
            if f.read() != text:
                print("%s is stale: re-run differential.py" % args.output,
                      file=sys.stderr)
                return 1
        print("%s is current" % args.output, file=sys.stderr)
        return 0
    with open(args.output, "w", encoding="utf-8") as f:
        f.write(text)
    print("wrote %d cases to %s: %s (generator failures skipped: %d)"
          % (len(cases), args.output, doc["counts"], failures), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
