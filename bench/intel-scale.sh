#!/usr/bin/env bash
# Issue 10 point 5: 2 M IPv4 addresses, 100 k CIDRs, 1 M domains and 1 M SHA-256
# hashes, as plain lists, loaded and indexed by `vigie intel check` in under 10 s and
# 1.5 GB (peak RSS, /usr/bin/time -v).
#
#   cargo build --release -p vigie && bench/intel-scale.sh [OUTDIR]
#
# The lists are generated (seeded, python3) into OUTDIR (default /tmp/intel-scale-$$)
# and removed afterwards unless OUTDIR was given.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${VIGIE_BIN:-target/release/vigie}
[ -x "$BIN" ] || { echo "build first: cargo build --release -p vigie" >&2; exit 2; }
OUT=${1:-/tmp/intel-scale-$$}
KEEP=${1:+yes}
mkdir -p "$OUT"
python3 - "$OUT" <<'PY'
import random, sys, ipaddress
out = sys.argv[1]
r = random.Random(20261202)
with open(f"{out}/ipv4.txt", "w") as f:
    f.write("# type: ipv4\n")
    f.writelines(f"{ipaddress.IPv4Address(r.getrandbits(32))}\n" for _ in range(2_000_000))
with open(f"{out}/cidr.txt", "w") as f:
    f.write("# type: ipv4\n")
    for _ in range(100_000):
        l = r.randint(12, 28)
        n = ipaddress.IPv4Network((r.getrandbits(32) >> (32 - l) << (32 - l), l))
        f.write(f"{n}\n")
alpha = "abcdefghijklmnopqrstuvwxyz0123456789"
with open(f"{out}/domains.txt", "w") as f:
    f.write("# type: domain\n")
    f.writelines("".join(r.choice(alpha) for _ in range(r.randint(5, 14))) + "." + r.choice(["com", "net", "org", "example", "fr", "ru"]) + "\n" for _ in range(1_000_000))
with open(f"{out}/sha256.txt", "w") as f:
    f.write("# type: sha256\n")
    f.writelines("%064x\n" % r.getrandbits(256) for _ in range(1_000_000))
PY
wc -l "$OUT"/*.txt
echo "load: $(cat /proc/loadavg) on $(nproc) cores"
/usr/bin/time -v "$BIN" intel check "$OUT/ipv4.txt" "$OUT/cidr.txt" "$OUT/domains.txt" "$OUT/sha256.txt" \
    2> "$OUT/time.txt" | head -8
grep -E "Elapsed|Maximum resident|User time|System time" "$OUT/time.txt"
secs=$(awk -F': ' '/Elapsed/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$OUT/time.txt")
kb=$(awk -F': ' '/Maximum resident/ {print $2}' "$OUT/time.txt")
echo "wall ${secs} s (limit 10), peak RSS $((kb / 1024)) MiB (limit 1536)"
ok=$(awk -v s="$secs" -v k="$kb" 'BEGIN {print (s < 10 && k < 1536*1024) ? "PASS" : "FAIL"}')
echo "$ok"
[ -z "$KEEP" ] && rm -rf "$OUT"
[ "$ok" = PASS ]
