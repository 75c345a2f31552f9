#!/usr/bin/env bash
# The syslog/auditd lane: vigie hunting at least LINES lines of Linux logs with SigmaHQ
# `rules/linux`, one core, against the Windows JSON lane of bench/hunt-vs-rsigma.sh (all
# of ../shared/evtx flattened to JSON lines by vigie's own reader, repeated to at least
# REAL_EVENTS events) with `rules/windows`, in the same run, interleaved, best of $REPEAT.
#
# The Linux lane is built by bench/gen_linux_lane.py: auditd records of a server's routine
# activity (execve of admin and cron commands, PAM logins, sudo) with the project's
# auditd sample (crates/vigie-event/tests/data/auditd.log: attacks and damaged lines)
# spliced in as SAMPLE_SHARE of the lines, plus RFC 3164 syslog lines of a Linux server
# (2 % attack-like) with varying PIDs and timestamps. Both files are hunted in one
# command (vigie sniffs each). SAMPLE_SHARE=1 rebuilds the first lane (the sample alone,
# repeated: 0.78 detections per event, one damaged line in 50), which is no log a server
# writes.
#
# Printed per lane: events (an auditd event joins the records of one serial, so events <
# lines), CPU seconds of the pinned process (user + sys), rule load CPU alone (same
# command on a one-line input), events/s per core over the scan (total minus load) and
# the whole run, detections. Ratio: Linux events/s per core / Windows JSON events/s.
#
# Env: LINES (1000000), SAMPLE_SHARE (0.05), REAL_EVENTS (100000), REPEAT (3), RULES_LINUX
#      (../shared/sigma/rules/linux), RULES_WINDOWS (../shared/sigma/rules/windows),
#      VIGIE_SHARED, CARGO_TARGET_DIR, WORK (scratch, default a mktemp removed at the end),
#      VIGIE (a vigie binary to time instead of building one).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${VIGIE_SHARED:-$ROOT/../shared}
SHARED=$(cd "$SHARED" && pwd)
LINES=${LINES:-1000000}
SAMPLE_SHARE=${SAMPLE_SHARE:-0.05}
REAL_EVENTS=${REAL_EVENTS:-100000}
REPEAT=${REPEAT:-3}
RULES_LINUX=${RULES_LINUX:-$SHARED/sigma/rules/linux}
RULES_WINDOWS=${RULES_WINDOWS:-$SHARED/sigma/rules/windows}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
if [ -z "${WORK:-}" ]; then WORK=$(mktemp -d); trap 'rm -rf "$WORK"' EXIT; fi

if [ -z "${VIGIE:-}" ]; then
  (cd "$ROOT" && cargo build --release -p vigie --quiet)
  VIGIE=$TARGET/release/vigie
fi

LIN=$WORK/linux
if [ ! -s "$LIN/syslog.log" ]; then
  echo "generating the Linux lane..." >&2
  python3 "$ROOT/bench/gen_linux_lane.py" --lines "$LINES" --sample-share "$SAMPLE_SHARE" --out "$LIN" >&2
fi
mkdir -p "$WORK/linux-one"
head -n 1 "$LIN/auditd.log" > "$WORK/linux-one/auditd.log"
head -n 1 "$LIN/syslog.log" > "$WORK/linux-one/syslog.log"

WIN=$WORK/real.jsonl
if [ ! -s "$WIN" ]; then
  echo "flattening $SHARED/evtx..." >&2
  (cd "$ROOT" && cargo build --release -p vigie-hunt --example flatten --quiet)
  "$TARGET/release/examples/flatten" "$SHARED/evtx" 2> "$WORK/flatten.err" \
    | jq -c 'del(._source, ._record)' > "$WORK/real-once.jsonl"
  [ -s "$WORK/real-once.jsonl" ] || { echo "no records flattened from $SHARED/evtx" >&2; exit 2; }
  : > "$WIN"
  while [ "$(wc -l < "$WIN")" -lt "$REAL_EVENTS" ]; do cat "$WORK/real-once.jsonl" >> "$WIN"; done
fi
head -n 1 "$WIN" > "$WORK/win-one.jsonl"

# cpu RULES INPUT...: CPU seconds of one pinned run; its summary in $WORK/summary.json,
# detections in $WORK/hits.jsonl.
cpu() {
  local rules=$1; shift
  /usr/bin/time -f "%U %S" -o "$WORK/t" taskset -c 0 "$VIGIE" --log error hunt --rules "$rules" \
    --threads 1 --format jsonl -q --output "$WORK/hits.jsonl" --summary-json "$WORK/summary.json" "$@" \
    2> "$WORK/err" || { echo "vigie failed:" >&2; tail -n 5 "$WORK/err" >&2; exit 1; }
  tail -n 1 "$WORK/t" | awk '{print $1 + $2}'
}
lt() { [ "$(echo "$1 < $2" | bc -l)" = 1 ]; }
declare -A FULL LOAD EVENTS HITS
for _ in $(seq "$REPEAT"); do
  for l in linux windows; do
    echo "timing lane $l..." >&2
    if [ $l = linux ]; then r=$RULES_LINUX; in=("$LIN"); one=("$WORK/linux-one"); else r=$RULES_WINDOWS; in=("$WIN"); one=("$WORK/win-one.jsonl"); fi
    d=$(cpu "$r" "${one[@]}"); if [ -z "${LOAD[$l]:-}" ] || lt "$d" "${LOAD[$l]}"; then LOAD[$l]=$d; fi
    d=$(cpu "$r" "${in[@]}"); if [ -z "${FULL[$l]:-}" ] || lt "$d" "${FULL[$l]}"; then FULL[$l]=$d; fi
    EVENTS[$l]=$(jq .events "$WORK/summary.json"); HITS[$l]=$(wc -l < "$WORK/hits.jsonl")
    [ $l = linux ] && jq -c '{events, skipped: .skipped, files: .files}' "$WORK/summary.json" > "$WORK/linux-summary" 2>/dev/null || true
  done
done
eps() { echo "$1 / ($2)" | bc -l | xargs printf '%.0f'; }
lin_lines=$(cat "$LIN"/*.log | wc -l)
printf '\nlane %-8s %9s %10s %9s %9s %12s %12s %10s\n' "" lines events load_cpu cpu_s "ev/s scan" "ev/s total" detections
for l in linux windows; do
  lines=$([ $l = linux ] && echo "$lin_lines" || wc -l < "$WIN")
  printf 'lane %-8s %9s %10s %9.3f %9.3f %12s %12s %10s\n' $l "$lines" "${EVENTS[$l]}" "${LOAD[$l]}" "${FULL[$l]}" \
    "$(eps "${EVENTS[$l]}" "${FULL[$l]} - ${LOAD[$l]}")" "$(eps "${EVENTS[$l]}" "${FULL[$l]}")" "${HITS[$l]}"
done
echo "rules: linux $RULES_LINUX, windows $RULES_WINDOWS; 1 core (taskset -c 0, --threads 1), best of $REPEAT CPU s"
echo "linux lane summary: $(cat "$WORK/linux-summary" 2>/dev/null)"
r=$(echo "$(eps "${EVENTS[linux]}" "${FULL[linux]} - ${LOAD[linux]}") / $(eps "${EVENTS[windows]}" "${FULL[windows]} - ${LOAD[windows]}")" | bc -l)
printf 'ratio linux / windows events/s per core (scan): %.2fx; lines/s linux scan: %s\n' "$r" "$(eps "$lin_lines" "${FULL[linux]} - ${LOAD[linux]}")"
echo "commit $(cd "$ROOT" && git rev-parse --short HEAD), $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
