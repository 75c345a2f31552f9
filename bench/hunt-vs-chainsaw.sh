#!/usr/bin/env bash
# vigie vs Chainsaw, EVTX, all cores, SigmaHQ `rules/windows`, over
# ../shared/evtx/evtx-to-mitre-attack, with the `evtx` parse floor beside.
#
# In one run, interleaved, best of $REPEAT (wall seconds, and CPU seconds user + sys):
# - chainsaw hunt --preprocess (Sigma rules through Chainsaw's own mapping file
#   `mappings/sigma-event-logs-all.yml`, all cores);
# - vigie hunt cold: no compiled-rule cache (`--no-cache` when this build has it);
# - vigie hunt warm: after a run that filled the compiled-rule cache (when this build has
#   one; otherwise the script says so and warm is the same command as cold);
# - the parse floor: crates/vigie-event/examples/evtx_floor.rs (the `evtx` crate alone
#   parsing the same files to serde_json::Value, files in parallel; its own `seconds=`).
# Ratios printed: Chainsaw wall / vigie wall (cold, warm), vigie wall and vigie scan over
# the floor. Detections are counted for each tool (Chainsaw's jsonl gives one line per
# (rule, document)); they differ, Chainsaw's mapping covers fewer fields and rules.
#
# Chainsaw: `chainsaw` on PATH, else $CHAINSAW, else /work/tools/chainsaw/chainsaw. It is
# not part of vigie: build it from its public repository (replace its three
# `[patch.crates-io]` git dependencies by their crates.io versions, print the one
# `PathBuf` the compiler refuses with `.display()`). Its mapping file: $CHAINSAW_MAPPING,
# else `mappings/` next to the binary, else from a git dir of its repository
# ($CHAINSAW_GIT, default /work/.mirror/WithSecureLabs+chainsaw/repo), else fetched from
# GitHub at tag $CHAINSAW_TAG (v2.16.4).
#
# Env: REPEAT (5), RULES (../shared/sigma/rules/windows), INPUT
#      (../shared/evtx/evtx-to-mitre-attack), THREADS (0 = all cores), VIGIE_SHARED,
#      CARGO_TARGET_DIR, VIGIE / FLOOR (binaries to time instead of building them).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${VIGIE_SHARED:-$ROOT/../shared}
SHARED=$(cd "$SHARED" && pwd)
RULES=${RULES:-$SHARED/sigma/rules/windows}
INPUT=${INPUT:-$SHARED/evtx/evtx-to-mitre-attack}
REPEAT=${REPEAT:-5}
THREADS=${THREADS:-0}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

[ -d "$RULES" ] || { echo "rules not found at $RULES" >&2; exit 2; }
[ -d "$INPUT" ] || { echo "input not found at $INPUT" >&2; exit 2; }

if command -v chainsaw >/dev/null; then CHAINSAW=$(command -v chainsaw)
elif [ -n "${CHAINSAW:-}" ]; then :
elif [ -x /work/tools/chainsaw/chainsaw ]; then CHAINSAW=/work/tools/chainsaw/chainsaw
else echo "chainsaw not found (put it on PATH or set CHAINSAW)" >&2; exit 2; fi

MAPPING=${CHAINSAW_MAPPING:-}
if [ -z "$MAPPING" ] && [ -s "$(dirname "$CHAINSAW")/mappings/sigma-event-logs-all.yml" ]; then
  MAPPING=$(dirname "$CHAINSAW")/mappings/sigma-event-logs-all.yml
fi
if [ -z "$MAPPING" ]; then
  MAPPING=$WORK/sigma-event-logs-all.yml
  GITDIR=${CHAINSAW_GIT:-/work/.mirror/WithSecureLabs+chainsaw/repo}
  if [ -d "$GITDIR" ]; then
    git --git-dir="$GITDIR" show HEAD:mappings/sigma-event-logs-all.yml > "$MAPPING"
  else
    curl -fsSL "https://raw.githubusercontent.com/WithSecureLabs/chainsaw/${CHAINSAW_TAG:-v2.16.4}/mappings/sigma-event-logs-all.yml" -o "$MAPPING"
  fi
fi

if [ -z "${VIGIE:-}" ]; then
  (cd "$ROOT" && cargo build --release -p vigie --quiet)
  VIGIE=$TARGET/release/vigie
fi
if [ -z "${FLOOR:-}" ]; then
  (cd "$ROOT" && cargo build --release -p vigie-event --example evtx_floor --quiet)
  FLOOR=$TARGET/release/examples/evtx_floor
fi

# The compiled-rule cache, if this build has one.
COLD=(); WARM=(); HAS_CACHE=0
if "$VIGIE" hunt --help | grep -q -- '--no-cache'; then
  HAS_CACHE=1
  export VIGIE_CACHE_DIR=$WORK/cache XDG_CACHE_HOME=$WORK/xdg-cache
  COLD=(--no-cache)
fi

ch_threads=(); [ "$THREADS" != 0 ] && ch_threads=(--num-threads "$THREADS")
chainsaw_cmd=("$CHAINSAW" "${ch_threads[@]}" hunt "$INPUT" -s "$RULES" --mapping "$MAPPING" --preprocess --jsonl -q --skip-errors -o "$WORK/chainsaw.jsonl")
vigie_cmd() { CMD=("$VIGIE" --log error hunt --rules "$RULES" --threads "$THREADS" --format jsonl -q "$@" --output "$WORK/vigie.jsonl" --summary-json "$WORK/summary.json" "$INPUT"); }

# run NAME CMD...: appends "wall cpu" of one run to $WORK/NAME.
run() {
  local name=$1 s e; shift
  s=$(date +%s.%N)
  /usr/bin/time -f "%U %S %M" -o "$WORK/t" "$@" > /dev/null 2> "$WORK/$name.err" || {
    echo "$name failed (exit $?):" >&2; tail -n 5 "$WORK/$name.err" >&2; exit 1; }
  e=$(date +%s.%N)
  echo "$(echo "$e - $s" | bc -l) $(tail -n 1 "$WORK/t" | awk '{print $1 + $2, $3}')" >> "$WORK/$name"
}

for i in $(seq "$REPEAT"); do
  echo "round $i/$REPEAT..." >&2
  run chainsaw "${chainsaw_cmd[@]}"
  vigie_cmd "${COLD[@]}"; run cold "${CMD[@]}"
  jq .scan_s "$WORK/summary.json" >> "$WORK/cold.scan"
  if [ $HAS_CACHE = 1 ]; then
    vigie_cmd; run prime "${CMD[@]}"   # fills the cache (if absent or stale)
  fi
  vigie_cmd; run warm "${CMD[@]}"
  jq .scan_s "$WORK/summary.json" >> "$WORK/warm.scan"
  run floor "$FLOOR" "$INPUT"
done
# The floor prints to stdout; run it once more to keep its report.
"$FLOOR" "$INPUT" > "$WORK/floor.out" 2>&1
best() { sort -g -k"$2" "$WORK/$1" | head -n 1 | awk -v k="$2" '{print $k}'; }
bmin() { sort -g "$WORK/$1" | head -n 1; }
floor_own=$(grep -o 'seconds=[0-9.]*' "$WORK/floor.out" | cut -d= -f2)

cw=$(best chainsaw 1); cc=$(best chainsaw 2); cm=$(best chainsaw 3)
vw=$(best cold 1); vc=$(best cold 2); vm=$(best cold 3); vs=$(bmin cold.scan)
ww=$(best warm 1); wc_=$(best warm 2); ws=$(bmin warm.scan)
fw=$(best floor 1); fc=$(best floor 2)
r() { echo "$1 / $2" | bc -l | xargs printf '%.2f'; }
events=$(jq .events "$WORK/summary.json")
files=$(jq .files.read "$WORK/summary.json")

printf '\ninput %s: %s files, %s events; rules %s; threads %s (%s cores); best of %s\n' \
  "$INPUT" "$files" "$events" "$RULES" "$(jq .threads "$WORK/summary.json")" "$(nproc)" "$REPEAT"
printf '%-34s %8s %8s %8s %11s\n' run wall_s cpu_s peak_MB detections
printf '%-34s %8.3f %8.2f %8s %11s\n' "chainsaw hunt --preprocess" "$cw" "$cc" "$(( cm / 1024 ))" "$(wc -l < "$WORK/chainsaw.jsonl")"
printf '%-34s %8.3f %8.2f %8s %11s\n' "vigie hunt, cold (scan $vs s)" "$vw" "$vc" "$(( vm / 1024 ))" "$(wc -l < "$WORK/vigie.jsonl")"
printf '%-34s %8.3f %8.2f %8s %11s\n' "vigie hunt, warm (scan $ws s)" "$ww" "$wc_" "" ""
printf '%-34s %8.3f %8.2f %8s %11s\n' "evtx parse floor (own $floor_own s)" "$fw" "$fc" "" ""
[ $HAS_CACHE = 1 ] || echo "note: this vigie has no compiled-rule cache (no --no-cache flag): warm = cold run again, OS file cache warm"
echo "ratio chainsaw / vigie wall: cold $(r "$cw" "$vw")x, warm $(r "$cw" "$ww")x; CPU: cold $(r "$cc" "$vc")x, warm $(r "$cc" "$wc_")x"
echo "ratio vigie / floor wall: cold $(r "$vw" "$fw")x, warm $(r "$ww" "$fw")x; vigie scan / floor's own parse time: $(r "$vs" "$floor_own")x"
echo "floor report:"; sed 's/^/  /' "$WORK/floor.out"
echo "commit $(cd "$ROOT" && git rev-parse --short HEAD), $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, chainsaw $("$CHAINSAW" --version 2>/dev/null | head -n 1), load average $(cut -d' ' -f1-3 /proc/loadavg)"
