#!/usr/bin/env bash
# Issue 10 point 5: 2 M IPv4 addresses, 100 k CIDRs, 1 M domains and 1 M SHA-256
# hashes, as plain lists, loaded and indexed by `vigie intel check` in under 10 s and
# 1.5 GB (peak RSS, /usr/bin/time -v).
#
#   cargo build --release -p vigie && bench/intel-scale.sh [OUTDIR]
#
# The lists are generated (bench/gen_intel_lists.py, seeded) into OUTDIR (default
# /tmp/intel-scale-$$) and removed afterwards unless OUTDIR was given.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${VIGIE_BIN:-target/release/vigie}
[ -x "$BIN" ] || { echo "build first: cargo build --release -p vigie" >&2; exit 2; }
OUT=${1:-/tmp/intel-scale-$$}
KEEP=${1:+yes}
mkdir -p "$OUT"
python3 bench/gen_intel_lists.py "$OUT"
wc -l "$OUT"/*.txt
echo "commit $(git rev-parse --short HEAD), $(date -u +%Y-%m-%dT%H:%MZ), load: $(cat /proc/loadavg) on $(nproc) cores"
# The report goes to a file, printed afterwards: piping it into `head` would stop
# `intel check` with SIGPIPE (and this script, under pipefail) when the report is long.
/usr/bin/time -v "$BIN" intel check "$OUT/ipv4.txt" "$OUT/cidr.txt" "$OUT/domains.txt" "$OUT/sha256.txt" \
    > "$OUT/report.txt" 2> "$OUT/time.txt" || echo "intel check exited $? (see the report)"
echo "intel check report ($(wc -l < "$OUT/report.txt") lines; first 20):"
sed -n 1,20p "$OUT/report.txt"
grep -E "Elapsed|Maximum resident|User time|System time" "$OUT/time.txt"
secs=$(awk -F': ' '/Elapsed/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$OUT/time.txt")
kb=$(awk -F': ' '/Maximum resident/ {print $2}' "$OUT/time.txt")
echo "wall ${secs} s (limit 10), peak RSS $((kb / 1024)) MiB (limit 1536)"
ok=$(awk -v s="$secs" -v k="$kb" 'BEGIN {print (s < 10 && k < 1536*1024) ? "PASS" : "FAIL"}')
echo "$ok"
[ -z "$KEEP" ] && rm -rf "$OUT"
[ "$ok" = PASS ]
