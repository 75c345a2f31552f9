#!/usr/bin/env bash
# vigie vs rsigma, one core, SigmaHQ rules, flat JSON lines, two lanes:
#
# - generated: structured Sysmon-like events from bench/gen_sysmon.py (EVENTS of them),
#   rules $RULES (all of SigmaHQ `rules`);
# - real: every record of ../shared/evtx (EVTX files, all channels), flattened to Sigma
#   field names by vigie's own reader (crates/vigie-hunt/examples/flatten.rs: short field
#   names, the shipped mapping's field aliases, and the Sigma `product` / `service` /
#   `category` of each record's Channel and EventID, so rsigma's --logsource-routing can
#   route them as vigie routes on Channel + EventID), its `_source` / `_record` join keys
#   dropped, then the whole set repeated until there are at least REAL_EVENTS events;
#   rules $REAL_RULES (SigmaHQ `rules/windows`).
#
# Both engines read the same file with the same rules folder, pinned to one CPU (taskset
# -c 0) and vigie told --threads 1. rsigma runs twice: as shipped (every rule on every
# event) and with --logsource-routing (its opt-in rule pruning by the event's
# product/service/category fields), which is the configuration that means the same as
# vigie's routing by Channel + EventID. The tools run interleaved (vigie, rsigma, rsigma
# --logsource-routing, then again), so a load change on the machine hits all of them.
#
# Events/s are given two ways: over the whole run, and over the scan alone (whole run
# minus the same command on a one-event file, i.e. minus rule loading). Times are CPU
# seconds (user + sys) of the pinned process, best of $REPEAT. Matches are counted for
# each tool as a sanity check (same events, same rules: the counts should be close; see
# bench/differential.md for why they differ on real events).
#
# Env: CACHE (cold | warm: vigie with its compiled-rule cache filled), LANES ("generated real"), EVENTS (300000), REAL_EVENTS (100000), REPEAT (3),
#      RULES (../shared/sigma/rules), REAL_RULES (../shared/sigma/rules/windows),
#      RSIGMA (rsigma binary; default: `rsigma` on PATH, else
#      /work/tools/rsigma/bin/rsigma, else cargo install), VIGIE_SHARED, CARGO_TARGET_DIR,
#      WORK (scratch dir, default a mktemp, removed at the end unless given), VIGIE (a vigie
#      binary to time instead of building one).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${VIGIE_SHARED:-$ROOT/../shared}
RULES=${RULES:-$SHARED/sigma/rules}
REAL_RULES=${REAL_RULES:-$SHARED/sigma/rules/windows}
EVENTS=${EVENTS:-300000}
REAL_EVENTS=${REAL_EVENTS:-100000}
LANES=${LANES:-generated real}
REPEAT=${REPEAT:-3}
if [ -z "${WORK:-}" ]; then WORK=$(mktemp -d); trap 'rm -rf "$WORK"' EXIT; fi
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}

[ -d "$RULES" ] || { echo "rules not found at $RULES (set VIGIE_SHARED or RULES)" >&2; exit 2; }

if [ -z "${RSIGMA:-}" ]; then
  if command -v rsigma >/dev/null; then RSIGMA=$(command -v rsigma)
  elif [ -x /work/tools/rsigma/bin/rsigma ]; then RSIGMA=/work/tools/rsigma/bin/rsigma
  else
    echo "installing rsigma 0.23.0 into $WORK/rsigma (takes ~8 min)..." >&2
    cargo install rsigma --version 0.23.0 --locked --root "$WORK/rsigma" >&2
    RSIGMA=$WORK/rsigma/bin/rsigma
  fi
fi

if [ -z "${VIGIE:-}" ]; then
  echo "building vigie (release)..." >&2
  (cd "$ROOT" && cargo build --release -p vigie --quiet)
  VIGIE=$TARGET/release/vigie
fi

# vigie's compiled-rule cache: off by default (CACHE=cold), so vigie compiles its rules
# on every run as rsigma does; CACHE=warm times it with a cache filled beforehand.
CACHE=${CACHE:-cold}
VCACHE=()
if "$VIGIE" hunt --help | grep -q -- '--no-cache'; then
  if [ "$CACHE" = warm ]; then
    export VIGIE_CACHE_DIR=$WORK/vigie-cache
  else
    VCACHE=(--no-cache)
  fi
fi

# The command line of a tool on an input file with rules $3, in the array CMD.
cmd() {
  case $1 in
    vigie)   CMD=(taskset -c 0 "$VIGIE" --log error hunt "${VCACHE[@]}" --rules "$3" --threads 1 --format jsonl -q "$2") ;;
    rs)      CMD=(taskset -c 0 "$RSIGMA" engine eval -r "$3" -e "@$2" --no-stats -q) ;;
    rs_rout) CMD=(taskset -c 0 "$RSIGMA" engine eval -r "$3" -e "@$2" --no-stats -q --logsource-routing) ;;
  esac
}

# CPU seconds (user + sys) of one run of a tool on a file (output discarded). CPU time,
# not wall time: on a shared machine the pinned core may also run other work, and with
# one core CPU time is the time the engine needed.
once() {
  cmd "$1" "$2" "$3"
  /usr/bin/time -f "%U %S" -o "$WORK/t" "${CMD[@]}" > /dev/null 2>&1
  tail -n 1 "$WORK/t" | awk '{print $1 + $2}'
}
lt() { [ "$(echo "$1 < $2" | bc -l)" = 1 ]; }

TOOLS=(vigie rs rs_rout)
# lane NAME FILE RULES: times the three tools interleaved, prints the lane's table.
lane() {
  local name=$1 ev=$2 rules=$3 events d tool
  events=$(wc -l < "$ev")
  head -n 1 "$ev" > "$WORK/one.jsonl"
  declare -A FULL LOAD MATCHES PEAK
  for _ in $(seq "$REPEAT"); do
    for tool in "${TOOLS[@]}"; do
      echo "lane $name: timing $tool..." >&2
      d=$(once $tool "$WORK/one.jsonl" "$rules")
      if [ -z "${LOAD[$tool]:-}" ] || lt "$d" "${LOAD[$tool]}"; then LOAD[$tool]=$d; fi
      d=$(once $tool "$ev" "$rules")
      if [ -z "${FULL[$tool]:-}" ] || lt "$d" "${FULL[$tool]}"; then FULL[$tool]=$d; fi
    done
  done
  for tool in "${TOOLS[@]}"; do
    cmd $tool "$ev" "$rules"
    MATCHES[$tool]=$(/usr/bin/time -f %M -o "$WORK/peak" "${CMD[@]}" 2>/dev/null | wc -l)
    PEAK[$tool]=$(tail -n 1 "$WORK/peak")
  done

  eps() { echo "$events / $1" | bc -l | xargs printf '%.0f'; }
  scan() { echo "${FULL[$1]} - ${LOAD[$1]}" | bc -l; }
  ratio() { echo "$(eps "$1") / $(eps "$2")" | bc -l | xargs printf '%.1f'; }

  printf '\nlane %s: %s events (%s MB), rules %s, 1 core, best of %s\n' "$name" "$events" \
    "$(( $(stat -c %s "$ev") / 1000000 ))" "$rules" "$REPEAT"
  printf '%-26s %9s %9s %12s %12s %10s %9s\n' tool load_cpu_s cpu_s "ev/s total" "ev/s scan" matches peak_MB
  for tool in "${TOOLS[@]}"; do
    local n=$tool; [ $tool = rs ] && n="rsigma"; [ $tool = rs_rout ] && n="rsigma --logsource-routing"
    printf '%-26s %9.3f %9.3f %12s %12s %10s %9s\n' "$n" "${LOAD[$tool]}" "${FULL[$tool]}" \
      "$(eps "${FULL[$tool]}")" "$(eps "$(scan $tool)")" "${MATCHES[$tool]}" "$(( ${PEAK[$tool]} / 1024 ))"
  done
  echo "lane $name: ratio vigie / rsigma --logsource-routing: scan $(ratio "$(scan vigie)" "$(scan rs_rout)")x, total $(ratio "${FULL[vigie]}" "${FULL[rs_rout]}")x"
  echo "lane $name: ratio vigie / rsigma (as shipped):        scan $(ratio "$(scan vigie)" "$(scan rs)")x, total $(ratio "${FULL[vigie]}" "${FULL[rs]}")x"
  echo "lane $name: matches vigie ${MATCHES[vigie]}, rsigma --logsource-routing ${MATCHES[rs_rout]} (difference $(( MATCHES[vigie] - MATCHES[rs_rout] )))"
}

for l in $LANES; do
  case $l in
    generated)
      EV=$WORK/events.jsonl
      if [ ! -s "$EV" ] || [ "$(wc -l < "$EV")" -ne "$EVENTS" ]; then
        echo "generating $EVENTS events..." >&2
        python3 "$ROOT/bench/gen_sysmon.py" --events "$EVENTS" --seed 1 > "$EV"
      fi
      lane generated "$EV" "$RULES" ;;
    real)
      [ -d "$REAL_RULES" ] || { echo "rules not found at $REAL_RULES (set REAL_RULES)" >&2; exit 2; }
      RE=$WORK/real.jsonl
      if [ ! -s "$RE" ]; then
        echo "flattening $SHARED/evtx..." >&2
        (cd "$ROOT" && cargo build --release -p vigie-hunt --example flatten --quiet)
        "$TARGET/release/examples/flatten" "$SHARED/evtx" 2> "$WORK/flatten.err" \
          | jq -c 'del(._source, ._record)' > "$WORK/real-once.jsonl"
        n=$(wc -l < "$WORK/real-once.jsonl")
        echo "flattened $n records ($(grep -c . "$WORK/flatten.err" || true) skipped, see the reader's messages)" >&2
        [ "$n" -gt 0 ] || { echo "no records flattened from $SHARED/evtx" >&2; exit 2; }
        : > "$RE"
        while [ "$(wc -l < "$RE")" -lt "$REAL_EVENTS" ]; do cat "$WORK/real-once.jsonl" >> "$RE"; done
      fi
      lane real "$RE" "$REAL_RULES" ;;
    *) echo "unknown lane $l (generated, real)" >&2; exit 2 ;;
  esac
done
echo
echo "commit $(cd "$ROOT" && git rev-parse --short HEAD), $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load average $(cut -d' ' -f1-3 /proc/loadavg)"
