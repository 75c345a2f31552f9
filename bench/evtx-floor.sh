#!/usr/bin/env bash
# EVTX: vigie hunt over all of ../shared/evtx with all cores and all SigmaHQ rules,
# against the parse floor (the `evtx` crate alone parsing the same files in one process:
# crates/vigie-event/examples/evtx_floor.rs), plus the rule load time alone.
#
# ratio = vigie scan time (its summary's scan_s: reading + matching, after rule load)
#         / evtx_floor parse time (its own `seconds=`). Best of $REPEAT for each.
#
# The floor renders each record as a serde_json::Value (what matching needs); the JSON-text
# rendering alone is printed for scale.
#
# Env: REPEAT (3), RULES (space-separated dirs; default SigmaHQ rules, rules-emerging-threats,
#      rules-threat-hunting), THREADS (0 = all cores), VIGIE_SHARED, CARGO_TARGET_DIR.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${VIGIE_SHARED:-$ROOT/../shared}
SHARED=$(cd "$SHARED" && pwd)
RULES=${RULES:-"$SHARED/sigma/rules $SHARED/sigma/rules-emerging-threats $SHARED/sigma/rules-threat-hunting"}
REPEAT=${REPEAT:-3}
THREADS=${THREADS:-0}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
EVTX=$SHARED/evtx
WORK=$(mktemp -d)

# Two builds: with --example, cargo builds only that example, not the vigie binary.
(cd "$ROOT" && cargo build --release -p vigie --quiet && cargo build --release -p vigie-event --example evtx_floor --quiet)
VIGIE=$TARGET/release/vigie
FLOOR=$TARGET/release/examples/evtx_floor

RULE_ARGS=()
for r in $RULES; do RULE_ARGS+=(--rules "$r"); done

min() { printf '%s\n' "$@" | sort -g | head -n 1; }

cpu() { tail -n 1 "$1" | awk '{print $1 + $2}'; }

floor_runs=(); scan_runs=(); load_runs=(); wall_runs=(); check_runs=()
floor_cpu_runs=(); hunt_cpu_runs=(); check_cpu_runs=()
for _ in $(seq "$REPEAT"); do
  /usr/bin/time -f "%U %S" -o "$WORK/t" "$FLOOR" "$EVTX" > "$WORK/floor.out" 2>&1
  floor_runs+=("$(grep -o 'seconds=[0-9.]*' "$WORK/floor.out" | cut -d= -f2)")
  floor_cpu_runs+=("$(cpu "$WORK/t")")
  s=$(date +%s.%N)
  /usr/bin/time -f "%U %S %M" -o "$WORK/t" "$VIGIE" --log error hunt "${RULE_ARGS[@]}" --threads "$THREADS" \
    --format jsonl -q --output "$WORK/hits.jsonl" --summary-json "$WORK/summary.json" "$EVTX"
  e=$(date +%s.%N)
  hunt_cpu_runs+=("$(cpu "$WORK/t")"); tail -n 1 "$WORK/t" | awk '{print $3}' > "$WORK/peak"
  wall_runs+=("$(echo "$e - $s" | bc -l)")
  scan_runs+=("$(jq .scan_s "$WORK/summary.json")")
  load_runs+=("$(jq .rules_load_s "$WORK/summary.json")")
  /usr/bin/time -f "%U %S" -o "$WORK/t" "$VIGIE" rules check "${RULE_ARGS[@]}" --format json > "$WORK/check.json" || true
  check_runs+=("$(jq .load_s "$WORK/check.json")")
  check_cpu_runs+=("$(cpu "$WORK/t")")
done

# For scale: the crate rendering records as JSON text only (what the reader parses).
text_cpu_runs=()
for _ in $(seq "$REPEAT"); do
  /usr/bin/time -f "%U %S" -o "$WORK/t" "$FLOOR" --render json "$EVTX" > /dev/null 2>&1
  text_cpu_runs+=("$(cpu "$WORK/t")")
done
text_cpu=$(min "${text_cpu_runs[@]}")

floor=$(min "${floor_runs[@]}"); scan=$(min "${scan_runs[@]}"); load=$(min "${load_runs[@]}")
wall=$(min "${wall_runs[@]}"); check=$(min "${check_runs[@]}")
floor_cpu=$(min "${floor_cpu_runs[@]}"); hunt_cpu=$(min "${hunt_cpu_runs[@]}"); check_cpu=$(min "${check_cpu_runs[@]}")
events=$(jq .events "$WORK/summary.json")
echo "evtx_floor output:"; sed 's/^/  /' "$WORK/floor.out"
printf '\ninputs %s: %s events, %s files read, %s detections\n' "$EVTX" "$events" \
  "$(jq .files.read "$WORK/summary.json")" "$(wc -l < "$WORK/hits.jsonl")"
printf 'rules: %s loaded, %s refused; load (rules check) %.3f s, load (in hunt) %.3f s\n' \
  "$(jq .loaded "$WORK/check.json")" "$(jq .refused_count "$WORK/check.json")" "$check" "$load"
printf 'evtx parse floor:  %.3f s  (%.0f records/s)\n' "$floor" "$(echo "$events / $floor" | bc -l)"
printf 'vigie hunt scan:   %.3f s  (%.0f events/s), wall %.3f s, peak RSS %s MB, %s threads\n' \
  "$scan" "$(echo "$events / $scan" | bc -l)" "$wall" "$(( $(cat "$WORK/peak") / 1024 ))" "$(jq .threads "$WORK/summary.json")"
printf 'ratio scan / floor (wall): %.2fx\n' "$(echo "$scan / $floor" | bc -l)"
# CPU seconds do not depend on what else the machine runs: hunt CPU minus the CPU of
# loading the same rules (rules check), over the floor's CPU.
printf 'CPU s: floor %.2f, hunt %.2f, rule load %.2f -> ratio (hunt - load) / floor: %.2fx\n' \
  "$floor_cpu" "$hunt_cpu" "$check_cpu" "$(echo "($hunt_cpu - $check_cpu) / $floor_cpu" | bc -l)"
printf 'for scale: the crate rendering JSON text only (no Value): %.2f CPU s\n' "$text_cpu"
echo "commit $(cd "$ROOT" && git rev-parse --short HEAD), $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores"
rm -rf "$WORK"
