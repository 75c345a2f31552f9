#!/usr/bin/env python3
"""The indicator lists of issue 10 point 5, as plain lists (seeded, deterministic):
2 M IPv4 addresses, 100 k IPv4 networks (/12 to /28), 1 M domains, 1 M SHA-256.

    python3 bench/gen_intel_lists.py OUTDIR

writes OUTDIR/{ipv4,cidr,domains,sha256}.txt. Used by bench/intel-scale.sh and
bench/hunt-intel.sh."""
import ipaddress
import random
import sys

out = sys.argv[1]
r = random.Random(20261202)
with open(f"{out}/ipv4.txt", "w") as f:
    f.write("# type: ipv4\n")
    f.writelines(f"{ipaddress.IPv4Address(r.getrandbits(32))}\n" for _ in range(2_000_000))
with open(f"{out}/cidr.txt", "w") as f:
    f.write("# type: ipv4\n")
    for _ in range(100_000):
        n = r.randint(12, 28)
        net = ipaddress.IPv4Network((r.getrandbits(32) >> (32 - n) << (32 - n), n))
        f.write(f"{net}\n")
alpha = "abcdefghijklmnopqrstuvwxyz0123456789"
tlds = ["com", "net", "org", "example", "fr", "ru"]
with open(f"{out}/domains.txt", "w") as f:
    f.write("# type: domain\n")
    f.writelines(
        "".join(r.choice(alpha) for _ in range(r.randint(5, 14))) + "." + r.choice(tlds) + "\n"
        for _ in range(1_000_000)
    )
with open(f"{out}/sha256.txt", "w") as f:
    f.write("# type: sha256\n")
    f.writelines("%064x\n" % r.getrandbits(256) for _ in range(1_000_000))
