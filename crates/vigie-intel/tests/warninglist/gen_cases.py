"""Generate warninglist comparison cases with pymispwarninglists 1.7.0 (the oracle).

Run: target/intel-venv/bin/python crates/vigie-intel/tests/warninglist/gen_cases.py > crates/vigie-intel/tests/warninglist/cases.json

5,000 values (seeded): entries of the shipped lists, sub-domains and URLs of hostname
entries, addresses inside cidr entries, values holding a substring entry, and misses
(random addresses, names, hashes). For each value, the names of the lists that
`WarningLists(slow_search=True).search(value)` returns. Left out of the oracle (their
Python scan is linear per value): `tranco` (1,000,000 hostnames); and the regex lists,
which pymispwarninglists never matches. The Rust test leaves the same lists out.
"""
import ipaddress
import json
import random
import sys

from pymispwarninglists import WarningLists

EXCLUDED = {"Top 1,000,000 most-used sites from Tranco"}

rng = random.Random(20261202)
wl = WarningLists(slow_search=True)
lists = {n: l for n, l in wl.items() if n not in EXCLUDED and l.type != "regex"}
excluded = sorted(n for n, l in wl.items() if n not in lists)


def rand_label():
    return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(rng.randint(3, 10)))


values = []
names = sorted(lists)
while len(values) < 4000:
    l = lists[rng.choice(names)]
    if not l.list:
        continue
    e = rng.choice(l.list)
    if not isinstance(e, str) or "[" in e or "]" in e:
        continue
    if l.type == "cidr":
        try:
            n = ipaddress.ip_network(e)
        except ValueError:
            continue
        off = rng.randrange(0, min(n.num_addresses, 1 << 20))
        choice = rng.random()
        if choice < 0.6:
            values.append(str(n.network_address + off))
        elif choice < 0.8:
            values.append(e)
        else:
            # just outside
            values.append(str(n.broadcast_address + 1) if n.broadcast_address != n.broadcast_address.__class__(2**n.max_prefixlen - 1) else e)
    elif l.type == "hostname":
        h = e.lstrip(".")
        r = rng.random()
        if r < 0.3:
            values.append(e)
        elif r < 0.55:
            values.append(rand_label() + "." + h)
        elif r < 0.75:
            values.append("https://" + rand_label() + "." + h.upper() + "/path?q=1")
        elif r < 0.9:
            values.append("x" + h)  # not a label-wise suffix
        else:
            values.append(h + ".evil.example")
    elif l.type == "substring":
        values.append(rand_label() + e + rand_label())
    else:
        r = rng.random()
        values.append(e if r < 0.8 else e.upper())
while len(values) < 5000:
    r = rng.random()
    if r < 0.3:
        values.append(str(ipaddress.IPv4Address(rng.getrandbits(32))))
    elif r < 0.4:
        values.append(str(ipaddress.IPv6Address(rng.getrandbits(128))))
    elif r < 0.7:
        values.append(rand_label() + "." + rand_label() + rng.choice([".com", ".example", ".fr", ".net"]))
    elif r < 0.85:
        values.append("%032x" % rng.getrandbits(128))
    else:
        values.append("http://" + rand_label() + ".example/" + rand_label())

cases = []
for v in values:
    hits = sorted(n for n, l in lists.items() if v in l)
    cases.append({"value": v, "hits": hits})
json.dump({"oracle": "pymispwarninglists 1.7.0, slow_search=True", "excluded": excluded, "cases": cases}, sys.stdout, indent=0)
