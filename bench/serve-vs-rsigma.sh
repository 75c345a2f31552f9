#!/usr/bin/env bash
# `vigie serve` vs `rsigma engine daemon`, over HTTP, same events, same rules, same run.
#
# Events: every record of ../shared/evtx (EVTX) and samples/july2025.jsonl, flattened once
# to Sigma field names (bench/serve/loadgen `convert`; flat JSON is what both servers
# evaluate without a mapping), replayed as JSON lines with a unique EventRecordID and a
# monotonic TimeCreated per event (see bench/serve/loadgen/src/corpus.rs), so that a
# sustained run never sends vigie a duplicate. Rules: the embedded pack (`rules/`, which
# both load: 14 detection rules + 1 correlation) unless RULES says otherwise.
#
# Steps (each prints what it measures and its exact command):
#  0. sanity: one repetition of the stream through `vigie hunt` and `rsigma engine eval`
#     (detection counts of each engine on the same events).
#  a. sustained events/s, closed loop, CONNS connections posting BATCH-event bodies for
#     TP_SECONDS:
#     - rsigma daemon with `--input http`, its incidents on (alert-pipeline grouping per
#       host, risk-based incidents per host and account), correlation state in SQLite
#       (`--state-db`), detections to a file. rsigma answers 200 when events are queued,
#       before they are evaluated, so its rate is events / time until its
#       `rsigma_events_processed_total` counter reaches the accepted count.
#     - vigie serve, SQLite store with durability on (WAL, synchronous=FULL), embedded
#       incidents: 202 means committed with its detections, so its rate is acknowledged
#       events / time of the last 202.
#     -> ratio vigie / rsigma (target >= 2).
#  b. a fresh vigie at half its rate from (a), open loop, for MINUTES: latency from the
#     moment each POST is due to the first poll of `GET /api/v1/detections` that returns
#     its detections (p50/p99/max; target p99 < 1 s), and due -> 202.
#  c. during (b): the server's RSS every 5 s (first / last / max, max of each half;
#     target flat).
#
# Usage: bench/serve-vs-rsigma.sh [--minutes N] [--seconds N]
# Env: RULES (rules/), TP_SECONDS (60, also --seconds), MINUTES (10, also --minutes),
#      BATCH (500), CONNS (16: a server that answers only once durable needs requests in
#      flight to group its commits; rsigma gains from them too), LAT_BATCH (100),
#      LAT_CONNS (16: an open loop needs rate x POST latency / LAT_BATCH connections, or it
#      falls behind and measures its own backlog), RSIGMA (binary; default
#      `rsigma` on PATH, else /work/tools/rsigma/bin/rsigma, else cargo install with
#      --features evtx), VIGIE_SHARED, CARGO_TARGET_DIR, WORK (scratch dir, default mktemp),
#      VIGIE_BASE (optional: another vigie binary, e.g. an earlier commit's, run in step a
#      too with the same client: same-run ratio of this build to that one),
#      SKIP_LATENCY=1 (stop after step a), VIGIE_BIN (a vigie binary to use instead of
#      building this tree's).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${VIGIE_SHARED:-$ROOT/../shared}
RULES=${RULES:-$ROOT/rules}
TP_SECONDS=${TP_SECONDS:-60}
MINUTES=${MINUTES:-10}
BATCH=${BATCH:-500}
CONNS=${CONNS:-16}
LAT_BATCH=${LAT_BATCH:-100}
LAT_CONNS=${LAT_CONNS:-16}
WORK=${WORK:-$(mktemp -d)}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
while [ $# -gt 0 ]; do
  case $1 in
    --minutes) MINUTES=$2; shift 2 ;;
    --seconds) TP_SECONDS=$2; shift 2 ;;
    *) echo "unknown argument $1 (--minutes N, --seconds N)" >&2; exit 2 ;;
  esac
done
mkdir -p "$WORK"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

say() { printf '\n== %s\n' "$*"; }
show() { printf '$'; printf ' %q' "$@"; printf '\n'; }
load() { cut -d' ' -f1-3 /proc/loadavg; }

if [ -z "${RSIGMA:-}" ]; then
  if command -v rsigma >/dev/null; then RSIGMA=$(command -v rsigma)
  elif [ -x /work/tools/rsigma/bin/rsigma ]; then RSIGMA=/work/tools/rsigma/bin/rsigma
  else
    echo "installing rsigma 0.23.0 into $WORK/rsigma (takes ~50 min here)..." >&2
    cargo install rsigma --version 0.23.0 --locked --features evtx --root "$WORK/rsigma" >&2
    RSIGMA=$WORK/rsigma/bin/rsigma
  fi
fi

if [ -n "${VIGIE_BIN:-}" ]; then
  VIGIE=$VIGIE_BIN
else
  echo "building vigie (release)..." >&2
  (cd "$ROOT" && cargo build --release -p vigie --quiet)
  VIGIE=$TARGET/release/vigie
fi
echo "building the load generator (release)..." >&2
(cd "$ROOT/bench/serve/loadgen" && cargo build --release --quiet)
LG=$ROOT/bench/serve/loadgen/target/release/vigie-bench-loadgen

CORPUS=$WORK/corpus.jsonl
[ -s "$CORPUS" ] || "$LG" convert --out "$CORPUS" "$SHARED/evtx" "$ROOT/samples/july2025.jsonl"
N=$(wc -l < "$CORPUS")
# Event times start a week ago: a 10-minute paced run covers under a day of event time.
T0=$(( $(date +%s) - 7 * 86400 ))

say "0. same events, same rules: one repetition ($N events) through each engine's batch mode"
"$LG" emit --corpus "$CORPUS" --t0 "$T0" --batch "$BATCH" > "$WORK/rep1.jsonl"
show "$VIGIE" --log error hunt -q --rules "$RULES" --format jsonl "$WORK/rep1.jsonl"
V_SINGLE=$("$VIGIE" --log error hunt -q --rules "$RULES" --format jsonl "$WORK/rep1.jsonl" | jq -s 'map(select(.correlation|not))|length')
V_CORR=$("$VIGIE" --log error hunt -q --rules "$RULES" --format jsonl "$WORK/rep1.jsonl" | jq -s 'map(select(.correlation))|length')
show "$RSIGMA" engine eval -r "$RULES" -e "@$WORK/rep1.jsonl" --timestamp-field TimeCreated
R_LINE=$("$RSIGMA" engine eval -r "$RULES" -e "@$WORK/rep1.jsonl" --timestamp-field TimeCreated 2>&1 >/dev/null | tail -n 1)
echo "vigie hunt: $V_SINGLE detections + $V_CORR correlation hits; rsigma eval: $R_LINE"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_ready() { # URL
  for _ in $(seq 600); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$1/readyz")" = 200 ] && return 0
    sleep 0.1
  done
  echo "not ready: $1" >&2; return 1
}

start_rsigma() { # DIR -> sets ADDR, SPID
  local port; port=$(free_port)
  ADDR=127.0.0.1:$port
  RS_CMD=("$RSIGMA" engine daemon -r "$RULES" --input http --api-addr "$ADDR"
    --timestamp-field TimeCreated --include-event --state-db "$1/state.db"
    --alert-pipeline "$ROOT/bench/serve/rsigma-alert-pipeline.yml"
    --risk "$ROOT/bench/serve/rsigma-risk.yml" --output "file://$1/detections.ndjson")
  show "${RS_CMD[@]}"
  "${RS_CMD[@]}" > "$1/stdout" 2> "$1/stderr" &
  SPID=$!; PIDS+=("$SPID")
  wait_ready "http://$ADDR"
}

start_vigie() { # DIR [BINARY] -> sets ADDR, SPID
  VG_CMD=("${2:-$VIGIE}" serve --listen 127.0.0.1:0 --data "$1/data" --rules "$RULES")
  show "${VG_CMD[@]}"
  "${VG_CMD[@]}" > "$1/stdout" 2> "$1/stderr" &
  SPID=$!; PIDS+=("$SPID")
  for _ in $(seq 600); do
    ADDR=$(sed -n 's|^vigie serve: listening on http://||p' "$1/stdout")
    [ -n "$ADDR" ] && break
    kill -0 "$SPID" 2>/dev/null || { cat "$1/stderr" >&2; return 1; }
    sleep 0.1
  done
  wait_ready "http://$ADDR"
}

stop() { # PID: SIGTERM, wait (not in a subshell: it must be our child); sets STOP_S
  local t=$SECONDS
  kill -TERM "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
  STOP_S=$(( SECONDS - t ))
}

peak_kb() { grep VmHWM "/proc/$1/status" | awk '{print $2}'; }
# CPU seconds (user + system, all threads) a process has used: on this shared machine the
# CPU cost per event does not depend on how much of the cores the others leave us.
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{sub(/^.*\) /, ""); print ($12 + $13) / hz}' "/proc/$1/stat"; }

say "a. sustained events/s over HTTP, $CONNS connections x $BATCH events per POST, ${TP_SECONDS}s each (load $(load))"
mkdir -p "$WORK/rs" "$WORK/vg"
start_rsigma "$WORK/rs"
LG_RS=("$LG" throughput --addr "$ADDR" --corpus "$CORPUS" --t0 "$T0" --seconds "$TP_SECONDS"
  --batch "$BATCH" --conns "$CONNS" --drain-metric rsigma_events_processed_total)
show "${LG_RS[@]}"
"${LG_RS[@]}" > "$WORK/rs/throughput.json"
RS_PEAK=$(peak_kb "$SPID"); RS_CPU=$(cpu_s "$SPID")
curl -s "http://$ADDR/metrics" | grep -E '^rsigma_(events_processed_total|detection_matches_total|correlation_matches_total|incidents_open|risk_incidents_emitted_total)' > "$WORK/rs/metrics.txt" || true
stop "$SPID"; echo "rsigma stopped in $STOP_S s"
jq -c '{sent, accepted, acked_eps, processed, processed_s, processed_eps, post_ms, loadgen_cpu_s}' "$WORK/rs/throughput.json"
sed 's/^/  /' "$WORK/rs/metrics.txt"

start_vigie "$WORK/vg"
LG_VG=("$LG" throughput --addr "$ADDR" --corpus "$CORPUS" --t0 "$T0" --seconds "$TP_SECONDS"
  --batch "$BATCH" --conns "$CONNS")
show "${LG_VG[@]}"
"${LG_VG[@]}" > "$WORK/vg/throughput.json"
VG_PEAK=$(peak_kb "$SPID"); VG_CPU=$(cpu_s "$SPID")
curl -s "http://$ADDR/metrics" | grep -E '^vigie_' | grep -vE '_bucket|^#' > "$WORK/vg/metrics.txt" || true
curl -s "http://$ADDR/api/v1/incidents?limit=1000" | jq '.incidents|length' > "$WORK/vg/incidents.txt" || true
stop "$SPID"; echo "vigie stopped (SIGTERM: drain, checkpoint) in $STOP_S s"
jq -c '{sent, accepted, duplicates, rejected, http_429, errors, acked_s, acked_eps, post_ms, loadgen_cpu_s}' "$WORK/vg/throughput.json"
grep -E 'events|detections|commit_seconds_(sum|count)|incidents' "$WORK/vg/metrics.txt" | sed 's/^/  /' | head -n 20
echo "  open incidents listed (first page of 1000): $(cat "$WORK/vg/incidents.txt")"

RS_EPS=$(jq '.processed_eps' "$WORK/rs/throughput.json")
VG_EPS=$(jq '.acked_eps' "$WORK/vg/throughput.json")
RATIO=$(echo "$VG_EPS / $RS_EPS" | bc -l)
RS_N=$(jq '.processed' "$WORK/rs/throughput.json"); VG_N=$(jq '.accepted + .duplicates' "$WORK/vg/throughput.json")
RS_US=$(echo "$RS_CPU * 1000000 / $RS_N" | bc -l); VG_US=$(echo "$VG_CPU * 1000000 / $VG_N" | bc -l)
printf 'vigie %.0f events/s durable vs rsigma %.0f events/s processed: ratio %.2fx (target >= 2); peak RSS vigie %d MB, rsigma %d MB\n' \
  "$VG_EPS" "$RS_EPS" "$RATIO" $(( VG_PEAK / 1024 )) $(( RS_PEAK / 1024 ))
printf 'server CPU: vigie %.1f s for %d events = %.1f us/event, rsigma %.1f s for %d events = %.1f us/event (CPU ratio rsigma/vigie %.2fx)\n' \
  "$VG_CPU" "$VG_N" "$VG_US" "$RS_CPU" "$RS_N" "$RS_US" "$(echo "$RS_US / $VG_US" | bc -l)"

if [ -n "${VIGIE_BASE:-}" ]; then
  say "a'. the same client against VIGIE_BASE=$VIGIE_BASE (load $(load))"
  mkdir -p "$WORK/base"
  start_vigie "$WORK/base" "$VIGIE_BASE"
  "$LG" throughput --addr "$ADDR" --corpus "$CORPUS" --t0 "$T0" --seconds "$TP_SECONDS" \
    --batch "$BATCH" --conns "$CONNS" > "$WORK/base/throughput.json"
  B_PEAK=$(peak_kb "$SPID"); B_CPU=$(cpu_s "$SPID")
  stop "$SPID"
  B_EPS=$(jq '.acked_eps' "$WORK/base/throughput.json"); B_N=$(jq '.accepted + .duplicates' "$WORK/base/throughput.json")
  printf 'VIGIE_BASE: %.0f events/s durable, %.1f us/event, peak RSS %d MB; this build / base: %.2fx events/s, %.2fx less CPU per event\n' \
    "$B_EPS" "$(echo "$B_CPU * 1000000 / $B_N" | bc -l)" $(( B_PEAK / 1024 )) "$(echo "$VG_EPS / $B_EPS" | bc -l)" \
    "$(echo "($B_CPU / $B_N) / ($VG_CPU / $VG_N)" | bc -l)"
fi
[ -n "${SKIP_LATENCY:-}" ] && { echo "commit $(cd "$ROOT" && git rev-parse --short HEAD), $(date -u +%Y-%m-%dT%H:%MZ), load $(load)"; exit 0; }

RATE=$(echo "$VG_EPS / 2" | bc)
say "b+c. fresh vigie at half its rate ($RATE events/s, $LAT_CONNS connections x $LAT_BATCH events) for $MINUTES min: POST due -> detection visible in the API; RSS every 5 s (load $(load))"
mkdir -p "$WORK/lat"
start_vigie "$WORK/lat"
LG_LAT=("$LG" paced --addr "$ADDR" --corpus "$CORPUS" --t0 "$T0" --seconds $(( MINUTES * 60 ))
  --rate "$RATE" --batch "$LAT_BATCH" --conns "$LAT_CONNS" --poll "/api/v1/detections?limit=50"
  --rss-pid "$SPID" --rss-every 5)
show "${LG_LAT[@]}"
"${LG_LAT[@]}" > "$WORK/lat/paced.json"
stop "$SPID"; echo "vigie stopped in $STOP_S s"
jq -c '{rate, accepted, duplicates, http_429, errors, achieved_eps, due_to_2xx_ms, loadgen_cpu_s}' "$WORK/lat/paced.json"
jq -c '.visible' "$WORK/lat/paced.json"
jq -c '.rss_kb | del(.series)' "$WORK/lat/paced.json"

P99=$(jq '.visible.single.p99' "$WORK/lat/paced.json")
P99C=$(jq '.visible.correlation.p99 // "n/a"' "$WORK/lat/paced.json")
RSS=$(jq -r '.rss_kb | "\(.first/1024|floor) / \(.last/1024|floor) / \(.max/1024|floor) MB (max first half \(.max_first_half/1024|floor), second half \(.max_second_half/1024|floor))"' "$WORK/lat/paced.json")
say "summary"
printf 'a. sustained: vigie %.0f events/s (202 = durable), rsigma %.0f events/s (processed): %.2fx; CPU per event vigie %.1f us, rsigma %.1f us\n' "$VG_EPS" "$RS_EPS" "$RATIO" "$VG_US" "$RS_US"
printf 'b. at %s events/s: detection visible p99 %s ms (correlation hits p99 %s ms)\n' "$RATE" "$P99" "$P99C"
printf 'c. vigie RSS over %s min, first / last / max: %s\n' "$MINUTES" "$RSS"
echo "commit $(cd "$ROOT" && git rev-parse --short HEAD), $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load $(load), $("$RSIGMA" --version | head -n 1), work dir $WORK"
