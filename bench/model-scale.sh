#!/usr/bin/env bash
# Operator model at scale: `vigie model generate --assets $ASSETS`, then load
# (`vigie model check`), `vigie assess` and `vigie contain` on it, each pinned to one core,
# reporting wall and CPU seconds and peak memory (/usr/bin/time -v), plus vigie's own phase
# timings (VIGIE_LOG=info: model loaded / graph built / computed). Not a timed test.
#
# Env: ASSETS (1000000), SEED (1), COMPROMISED (s0-emp-app: the first site's enterprise
# management platform application server), REPEAT (1), WORK (temp dir), VIGIE (a built
# binary; default: build release into CARGO_TARGET_DIR or target/).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
ASSETS=${ASSETS:-1000000}
SEED=${SEED:-1}
COMPROMISED=${COMPROMISED:-s0-emp-app}
REPEAT=${REPEAT:-1}
WORK=${WORK:-$(mktemp -d)}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}

if [ -z "${VIGIE:-}" ]; then
  (cd "$ROOT" && cargo build --release -p vigie >&2)
  VIGIE=$TARGET/release/vigie
fi
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (GNU time)" >&2; exit 1; }
PIN=()
if command -v taskset >/dev/null; then PIN=(taskset -c 0); fi

MODEL=$WORK/operator-$ASSETS.json
echo "generating $ASSETS assets (seed $SEED) into $MODEL" >&2
"$VIGIE" model generate --assets "$ASSETS" --seed "$SEED" --format json -o "$MODEL" >&2
SIZE=$(du -m "$MODEL" | cut -f1)

fmt() { if [ -n "$1" ]; then printf '%.2f' "$1"; else printf -- '-'; fi; }

# run NAME CMD...: best wall time of $REPEAT runs; prints one table row.
run() {
  local name=$1; shift
  local best="" row=""
  for _ in $(seq "$REPEAT"); do
    VIGIE_LOG=info "${PIN[@]}" /usr/bin/time -v "$@" > "$WORK/$name.out" 2> "$WORK/$name.err" || {
      echo "$name failed:" >&2; tail -5 "$WORK/$name.err" >&2; exit 1; }
    local clean
    clean=$(sed 's/\x1b\[[0-9;]*m//g' "$WORK/$name.err")
    local wall user sys rss load graph comp
    wall=$(grep 'Elapsed (wall clock)' <<<"$clean" | awk -F': ' '{print $2}' \
      | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
    user=$(grep 'User time' <<<"$clean" | awk -F': ' '{print $2}')
    sys=$(grep 'System time' <<<"$clean" | awk -F': ' '{print $2}')
    rss=$(grep 'Maximum resident' <<<"$clean" | awk -F': ' '{print int($2/1024)}')
    load=$(grep -o 'model loaded seconds=[0-9.]*' <<<"$clean" | head -1 | cut -d= -f2 || true)
    graph=$(grep -o 'graph built seconds=[0-9.]*' <<<"$clean" | head -1 | cut -d= -f2 || true)
    comp=$(grep -oE '(assess|contain) computed seconds=[0-9.]*' <<<"$clean" | head -1 | cut -d= -f2 || true)
    if [ -z "$best" ] || awk "BEGIN{exit !($wall < $best)}"; then
      best=$wall
      row=$(printf '| %s | %.2f | %.2f | %s | %s | %s | %s MB |' "$name" "$wall" \
        "$(awk "BEGIN{print $user+$sys}")" "$(fmt "$load")" "$(fmt "$graph")" "$(fmt "$comp")" "$rss")
    fi
  done
  echo "$row"
}

echo
echo "### $(date -u '+%Y-%m-%d %H:%M') UTC, commit $(cd "$ROOT" && git rev-parse --short HEAD), $ASSETS assets (seed $SEED, $SIZE MB JSON)"
echo
echo "| step | wall s | CPU s | parse+validate s | graph build s | algorithm s | peak RSS |"
echo "|---|---:|---:|---:|---:|---:|---:|"
run load "$VIGIE" model check "$MODEL"
run assess "$VIGIE" assess --model "$MODEL" --compromised "$COMPROMISED" --format json
run contain "$VIGIE" contain --model "$MODEL" --compromised "$COMPROMISED" --format json
echo
python3 - "$WORK/assess.out" "$WORK/contain.out" <<'EOF' || true
import json, sys
a = json.load(open(sys.argv[1])); c = json.load(open(sys.argv[2]))
p = c.get("plan") or {}
print(f"assess: {a['reachable_count']} assets reachable, "
      f"{sum(1 for j in a['crown_jewels'] if j['reachable'])} crown jewels reachable")
print(f"contain: optimal={c['optimality']['optimal']}, plan {p.get('customer_hours')} customer-hours "
      f"({len(p.get('actions', []))} actions) vs isolate-everything "
      f"{c['isolate_everything']['customer_hours']} ({len(c['isolate_everything']['actions'])} actions); "
      f"search {c['search']}")
EOF
