"""pytest plugin: record every call a stix2-matcher test module makes to `match`.

Loaded by `harvest.py` (``pytest -p harvest_plugin --pyargs stix2matcher.test``).
Before each test runs, the module-level name ``match`` of the test's module (the
tests do ``from stix2matcher.matcher import match``) is replaced by a wrapper that
calls the real function and records one case:

- ``test``: the pytest node id, plus ``#N`` when a test calls ``match`` more than once;
- ``pattern``, ``stix_version`` (the keyword the test passed, else the matcher's
  default "2.0"), ``observations`` (a deep copy taken *before* the call, since some
  tests mutate their module's observations between parametrised runs);
- ``outcome``: ``match`` (a non-empty result), ``nomatch`` (empty), or ``error``
  with ``error_kind`` (``parse`` for stix2patterns' ParseException, ``matcher`` for
  MatcherException, else the exception class name) and ``error``: its message;
- ``matched``: for a match, the positions of the observed-data the first binding
  used (see ``_matched_indexes``; -1: not found, should not happen).

The wrapper re-raises what the real function raised, so the tests behave as before;
the test's own result is recorded too (``test_passed``) so a reference bug (a test
the reference fails) is visible. The cases are written as JSON by ``harvest.py``
from ``CASES`` after the session.
"""

import copy
import json

import pytest

CASES = []
_current = {"nodeid": None, "calls": 0}
_RESULTS = {}


def _error_kind(exc):
    name = type(exc).__name__
    if name == "ParseException":
        return "parse"
    if name == "MatcherException":
        return "matcher"
    return name


def _matched_indexes(sdos, given):
    """Positions of the observed-data the first binding used, ascending.

    2.0: the list given to `match` holds the observed-data, and the matcher returns
    some of them. 2.1: the list holds bundles, which the matcher merges into one
    before splitting it into one bundle per observed-data (object_refs resolved
    across all the given bundles); it returns those bundles, so a position is the
    observed-data's rank among all the observed-data of the given bundles, in order.
    """
    ranks = {}
    flat = []
    for g in given:
        if isinstance(g, dict) and g.get("type") == "bundle":
            for o in g.get("objects", []):
                if isinstance(o, dict) and o.get("type") == "observed-data":
                    ranks.setdefault(o.get("id"), len(flat))
                    flat.append(o)
        else:
            flat.append(g)
    out = set()
    for sdo in sdos or []:
        i = next((i for i, g in enumerate(flat) if g is sdo), None)
        if i is None and isinstance(sdo, dict) and sdo.get("type") == "bundle":
            first = (sdo.get("objects") or [{}])[0]
            i = ranks.get(first.get("id") if isinstance(first, dict) else None)
        out.add(-1 if i is None else i)
    return sorted(out)


def _wrap(real):
    def recording_match(pattern, observed_data_sdos, *args, **kwargs):
        stix_version = kwargs.get("stix_version", args[1] if len(args) > 1 else "2.0")
        # JSON round trip: a deep copy that is exactly what the case file will hold.
        observations = json.loads(json.dumps(copy.deepcopy(observed_data_sdos)))
        n = _current["calls"]
        _current["calls"] += 1
        case = {
            "test": _current["nodeid"] + ("" if n == 0 else "#%d" % n),
            "pattern": pattern,
            "stix_version": stix_version,
            "observations": observations,
        }
        try:
            result = real(pattern, observed_data_sdos, *args, **kwargs)
        except Exception as exc:  # recorded, then re-raised unchanged
            case["outcome"] = "error"
            case["error_kind"] = _error_kind(exc)
            case["error"] = str(exc)
            CASES.append(case)
            raise
        if result:
            case["outcome"] = "match"
            case["matched"] = _matched_indexes(result, observed_data_sdos)
        else:
            case["outcome"] = "nomatch"
        CASES.append(case)
        return result

    recording_match.__wrapped_match__ = real
    return recording_match


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    _current["nodeid"] = item.nodeid
    _current["calls"] = 0
    module = getattr(item, "module", None)
    real = getattr(module, "match", None)
    if real is not None and callable(real) and not hasattr(real, "__wrapped_match__"):
        module.match = _wrap(real)


def pytest_runtest_logreport(report):
    if report.when == "call":
        _RESULTS[report.nodeid] = report.passed


def test_passed(nodeid):
    """Whether the reference passed the test that produced a case (None: unknown)."""
    return _RESULTS.get(nodeid.split("#", 1)[0])
