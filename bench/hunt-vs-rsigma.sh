#!/usr/bin/env bash
# vigie vs rsigma, one core, all SigmaHQ rules, structured Sysmon-like JSON events.
#
# Both engines read the same generated JSON-lines file with the same rules folder, pinned
# to one CPU (taskset -c 0) and vigie told --threads 1. rsigma runs twice: as shipped
# (every rule on every event) and with --logsource-routing (its opt-in rule pruning by the
# event's product/service/category fields, which the generator writes), which is the
# configuration that means the same as vigie's routing by Channel + EventID.
#
# Events/s are given two ways: over the whole run, and over the scan alone (whole run
# minus the same command on a one-event file, i.e. minus rule loading). Times are CPU
# seconds (user + sys) of the pinned process, best of $REPEAT.
#
# Env: EVENTS (300000), REPEAT (3), RULES (../shared/sigma/rules), RSIGMA (rsigma binary;
#      default: `rsigma` on PATH, else /work/tools/rsigma/bin/rsigma, else cargo install),
#      VIGIE_SHARED, CARGO_TARGET_DIR, WORK (scratch dir, default a mktemp).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${VIGIE_SHARED:-$ROOT/../shared}
RULES=${RULES:-$SHARED/sigma/rules}
EVENTS=${EVENTS:-300000}
REPEAT=${REPEAT:-3}
WORK=${WORK:-$(mktemp -d)}
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

echo "building vigie (release)..." >&2
(cd "$ROOT" && cargo build --release -p vigie --quiet)
VIGIE=$TARGET/release/vigie

EV=$WORK/events.jsonl
if [ ! -s "$EV" ] || [ "$(wc -l < "$EV")" -ne "$EVENTS" ]; then
  echo "generating $EVENTS events..." >&2
  python3 "$ROOT/bench/gen_sysmon.py" --events "$EVENTS" --seed 1 > "$EV"
fi
head -n 1 "$EV" > "$WORK/one.jsonl"

# The command line of a tool on an input file, in the array CMD.
cmd() {
  case $1 in
    vigie)   CMD=(taskset -c 0 "$VIGIE" --log error hunt --rules "$RULES" --threads 1 --format jsonl -q "$2") ;;
    rs)      CMD=(taskset -c 0 "$RSIGMA" engine eval -r "$RULES" -e "@$2" --no-stats -q) ;;
    rs_rout) CMD=(taskset -c 0 "$RSIGMA" engine eval -r "$RULES" -e "@$2" --no-stats -q --logsource-routing) ;;
  esac
}

# best-of-$REPEAT CPU seconds (user + sys) of a tool on a file (output discarded). CPU
# time, not wall time: on a shared machine the pinned core may also run other work, and
# with one core CPU time is the time the engine needed.
best() {
  local b="" d
  cmd "$1" "$2"
  for _ in $(seq "$REPEAT"); do
    /usr/bin/time -f "%U %S" -o "$WORK/t" "${CMD[@]}" > /dev/null 2>&1
    d=$(tail -n 1 "$WORK/t" | awk '{print $1 + $2}')
    if [ -z "$b" ] || [ "$(echo "$d < $b" | bc -l)" = 1 ]; then b=$d; fi
  done
  echo "$b"
}

declare -A FULL LOAD MATCHES PEAK
for tool in vigie rs rs_rout; do
  echo "timing $tool..." >&2
  LOAD[$tool]=$(best $tool "$WORK/one.jsonl")
  FULL[$tool]=$(best $tool "$EV")
  cmd $tool "$EV"
  MATCHES[$tool]=$(/usr/bin/time -f %M -o "$WORK/peak" "${CMD[@]}" 2>/dev/null | wc -l)
  PEAK[$tool]=$(tail -n 1 "$WORK/peak")
done

eps() { echo "$EVENTS / $1" | bc -l | xargs printf '%.0f'; }
scan() { echo "${FULL[$1]} - ${LOAD[$1]}" | bc -l; }

printf '\n%s events (%s MB), rules %s, 1 core\n' "$EVENTS" "$(( $(stat -c %s "$EV") / 1000000 ))" "$RULES"
printf '%-26s %9s %9s %12s %12s %10s %9s\n' tool load_cpu_s cpu_s "ev/s total" "ev/s scan" matches peak_MB
for tool in vigie rs rs_rout; do
  name=$tool; [ $tool = rs ] && name="rsigma"; [ $tool = rs_rout ] && name="rsigma --logsource-routing"
  printf '%-26s %9.3f %9.3f %12s %12s %10s %9s\n' "$name" "${LOAD[$tool]}" "${FULL[$tool]}" \
    "$(eps "${FULL[$tool]}")" "$(eps "$(scan $tool)")" "${MATCHES[$tool]}" "$(( ${PEAK[$tool]} / 1024 ))"
done
ratio() { echo "$(eps "$1") / $(eps "$2")" | bc -l | xargs printf '%.1f'; }
echo
echo "ratio vigie / rsigma --logsource-routing: scan $(ratio "$(scan vigie)" "$(scan rs_rout)")x, total $(ratio "${FULL[vigie]}" "${FULL[rs_rout]}")x"
echo "ratio vigie / rsigma (as shipped):        scan $(ratio "$(scan vigie)" "$(scan rs)")x, total $(ratio "${FULL[vigie]}" "${FULL[rs]}")x"
echo "commit $(cd "$ROOT" && git rev-parse --short HEAD), $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
