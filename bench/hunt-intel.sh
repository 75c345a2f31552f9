#!/usr/bin/env bash
# Issue 10 point 5: hunting ../shared/evtx with the scale lists (2 M IPv4 addresses,
# 100 k IPv4 networks, 1 M domains, 1 M SHA-256: bench/gen_intel_lists.py) costs at
# most 1.2x the same hunt without intel.
#
# One run alternates the two hunts REPEAT times (plain, intel, plain, intel, ...), each
# `vigie hunt --rules RULES --threads THREADS` over every file of ../shared/evtx, output
# to a file. Per hunt: wall time, CPU time (user + sys, /usr/bin/time), and from
# --summary-json the scan time (reading + matching, after loading) and the intel load
# time. Each is also run on one small event (the same command's loading alone). Ratios
# are of the medians:
#   - whole command, wall and CPU: the lists' load time included;
#   - scan, CPU: whole command minus loading alone, i.e. the per-event cost of the
#     lookups (and of writing the extra detections), load excluded; and the scan's wall
#     time from the summary. CPU times are what to read on a shared machine (with
#     --threads 1 the CPU time is the hunt's time on an idle core).
#
# Env: REPEAT (5), THREADS (1; 0 = all cores), RULES (../shared/sigma/rules),
#      VIGIE_SHARED, CARGO_TARGET_DIR, LISTS (a directory holding the lists; default:
#      generated into a temporary directory), NO_BUILD=1 (use the binary as it is).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${VIGIE_SHARED:-$ROOT/../shared}
SHARED=$(cd "$SHARED" && pwd)
RULES=${RULES:-$SHARED/sigma/rules}
REPEAT=${REPEAT:-5}
THREADS=${THREADS:-1}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
EVTX=$SHARED/evtx
WORK=$(mktemp -d /tmp/hunt-intel-XXXXXX)
trap 'rm -rf "$WORK"' EXIT

[ -d "$EVTX" ] || { echo "no $EVTX (set VIGIE_SHARED)" >&2; exit 2; }
[ -d "$RULES" ] || { echo "rules not found at $RULES (set RULES)" >&2; exit 2; }
if [ -z "${NO_BUILD:-}" ]; then
  echo "building vigie (release)..." >&2
  (cd "$ROOT" && cargo build --release -p vigie --quiet)
fi
VIGIE=$TARGET/release/vigie

LISTS=${LISTS:-}
if [ -z "$LISTS" ]; then
  LISTS=$WORK/lists
  mkdir -p "$LISTS"
  echo "generating the lists..." >&2
  python3 "$ROOT/bench/gen_intel_lists.py" "$LISTS"
fi
INTEL=()
for f in ipv4 cidr domains sha256; do INTEL+=(--intel "$LISTS/$f.txt"); done

# One hunt: appends "wall cpu scan_s intel_load_s detections intel_hits" to $WORK/$1.
# Kinds: plain, intel (over the evtx), plain0, intel0 (over one small event: the same
# command's loading alone, to subtract from the CPU time).
hunt() {
  local kind=$1 extra=() input=$EVTX s e
  case $kind in intel*) extra=("${INTEL[@]}") ;; esac
  case $kind in *0) input=$WORK/one.jsonl ;; esac
  s=$(date +%s.%N)
  /usr/bin/time -f "%U %S %M" -o "$WORK/t" "$VIGIE" --log error hunt --rules "$RULES" \
    --threads "$THREADS" "${extra[@]}" --format jsonl -q --output "$WORK/hits-$kind.jsonl" \
    --summary-json "$WORK/summary.json" "$input"
  e=$(date +%s.%N)
  read -r u sy m < <(tail -n 1 "$WORK/t")
  echo "$m" > "$WORK/peak-$kind"
  printf '%s %s %s %s %s %s\n' "$(echo "$e - $s" | bc -l)" "$(echo "$u + $sy" | bc -l)" \
    "$(jq .scan_s "$WORK/summary.json")" "$(jq '.intel.load_s // 0' "$WORK/summary.json")" \
    "$(jq .detections_total "$WORK/summary.json")" "$(jq '.intel.hits // 0' "$WORK/summary.json")" \
    >> "$WORK/$kind"
}
echo '{"EventID": 1, "Channel": "Microsoft-Windows-Sysmon/Operational", "DestinationIp": "192.0.2.1"}' > "$WORK/one.jsonl"

echo "commit $(cd "$ROOT" && git rev-parse --short HEAD), $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "evtx: $(find "$EVTX" -type f | wc -l) files, $(du -sh "$EVTX" | cut -f1); rules $RULES; --threads $THREADS; $REPEAT alternating repetitions"
for i in $(seq "$REPEAT"); do
  echo "repetition $i/$REPEAT..." >&2
  hunt plain
  hunt intel
  hunt plain0
  hunt intel0
done

# median of column $2 of file $1
med() { awk -v c="$2" '{print $c}' "$1" | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
ratio() { echo "$1 / $2" | bc -l | xargs printf '%.3f'; }

printf '\n%-7s %s\n' "" "per repetition: wall_s cpu_s scan_s intel_load_s detections intel_hits"
for k in plain intel plain0 intel0; do
  sed "s/^/$k  /" "$WORK/$k"
done
pw=$(med "$WORK/plain" 1); iw=$(med "$WORK/intel" 1)
pc=$(med "$WORK/plain" 2); ic=$(med "$WORK/intel" 2)
p0=$(med "$WORK/plain0" 2); i0=$(med "$WORK/intel0" 2)
ps=$(med "$WORK/plain" 3); is=$(med "$WORK/intel" 3)
il=$(med "$WORK/intel" 4)
psc=$(echo "$pc - $p0" | bc -l); isc=$(echo "$ic - $i0" | bc -l)
echo
printf '%-44s %10s %10s %8s\n' "median" plain intel ratio
printf '%-44s %10.3f %10.3f %8s\n' "whole hunt, wall s (load incl.)" "$pw" "$iw" "$(ratio "$iw" "$pw")"
printf '%-44s %10.3f %10.3f %8s\n' "whole hunt, CPU s (load incl.)" "$pc" "$ic" "$(ratio "$ic" "$pc")"
printf '%-44s %10.3f %10.3f %8s\n' "loading alone (1-event hunt), CPU s" "$p0" "$i0" "$(ratio "$i0" "$p0")"
printf '%-44s %10.3f %10.3f %8s\n' "scan, CPU s (whole - loading alone)" "$psc" "$isc" "$(ratio "$isc" "$psc")"
printf '%-44s %10.3f %10.3f %8s\n' "scan, wall s (summary scan_s)" "$ps" "$is" "$(ratio "$is" "$ps")"
printf '%-44s %10s %10.3f\n' "intel load, wall s (summary intel.load_s)" "-" "$il"
printf '%-44s %10s %10s\n' "peak RSS, MiB (last run)" "$(( $(cat "$WORK/peak-plain") / 1024 ))" "$(( $(cat "$WORK/peak-intel") / 1024 ))"
printf '%-44s %10s %10s\n' "detections (last run)" "$(tail -n1 "$WORK/plain" | cut -d' ' -f5)" "$(tail -n1 "$WORK/intel" | cut -d' ' -f5)"
r=$(ratio "$ic" "$pc"); rs=$(ratio "$isc" "$psc")
verdict() { awk -v r="$1" 'BEGIN {print (r <= 1.2) ? "PASS" : "FAIL"}'; }
echo
echo "whole hunt, CPU, lists' load included: ${r}x (limit 1.2x): $(verdict "$r")"
echo "scan, CPU, lists' load excluded:       ${rs}x (limit 1.2x): $(verdict "$rs")"
