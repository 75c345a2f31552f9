#!/usr/bin/env bash
# What `vigie respond` adds to a hunt, and how fast an incident's decisions are on a
# 1,000,000-asset model (issue 8, point 9). Not a CI test: heavy, run by hand.
#
#   bench/respond.sh            # release build, ../shared corpus
#   SHARED=/data/shared RUNS=3 bench/respond.sh
#   VIGIE=target/debug/vigie LOGS=some/dir RULES=rules ASSETS=20000 bench/respond.sh  # a dry run
#
# 1. respond over all of $SHARED/evtx with SigmaHQ rules and the demo model: the hosts it
#    leaves unresolved are the corpus's hosts;
# 2. `vigie model generate --hosts` builds a model whose identifiers cover them;
# 3. hunt and respond over the corpus with that model, best of $RUNS wall-clock each:
#    respond's time over hunt's (target: at most 1.20), and respond's own phase figures
#    (summary.timing);
# 4. the same hosts on a 1,000,000-asset generated model: the decisions (assess + contain
#    + restore) of each incident once the model is loaded (target: under 2 s).
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
shared=${SHARED:-$here/../shared}
runs=${RUNS:-3}
rules=${RULES:-$shared/sigma/rules}
logs=${LOGS:-$shared/evtx}
work=$(mktemp -d "${TMPDIR:-/tmp}/vigie-respond-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

command -v jq >/dev/null || { echo "needs jq" >&2; exit 2; }
[ -d "$rules" ] && [ -d "$logs" ] || { echo "no $rules or $logs" >&2; exit 2; }

if [ -z "${VIGIE:-}" ]; then
    cargo build --release -p vigie --manifest-path "$here/Cargo.toml" >&2
fi
vigie=${VIGIE:-$here/target/release/vigie}

# Best wall-clock seconds of $runs runs of "$@" (output discarded).
best() {
    local best_s=""
    for _ in $(seq "$runs"); do
        local t0 t1 s
        t0=$(date +%s.%N)
        "$@" >/dev/null 2>&1 || true
        t1=$(date +%s.%N)
        s=$(echo "$t1 - $t0" | bc -l)
        if [ -z "$best_s" ] || (( $(echo "$s < $best_s" | bc -l) )); then best_s=$s; fi
    done
    printf '%.3f' "$best_s"
}

echo "== 1. corpus hosts (respond with the demo model)"
"$vigie" respond --rules "$rules" --format json --output "$work/first.json" "$logs" 2>/dev/null || true
jq -r '.unresolved[] | select(.kind == "host") | .value' "$work/first.json" | sort -u > "$work/hosts.txt"
echo "hosts unresolved on the demo model: $(wc -l < "$work/hosts.txt")"
jq -c '.summary | {events, detections, incidents, unresolved_by_kind}' "$work/first.json"

echo "== 2. a model covering them"
"$vigie" model generate --assets 2000 --seed 7 --hosts "$work/hosts.txt" -o "$work/corpus-model.json" >&2

echo "== 3. hunt vs respond over $logs (best of $runs)"
hunt_s=$(best "$vigie" hunt -q --rules "$rules" --format jsonl --output /dev/null "$logs")
respond_s=$(best "$vigie" respond --model "$work/corpus-model.json" --rules "$rules" \
    --format json --output "$work/respond.json" "$logs")
echo "hunt    ${hunt_s} s"
echo "respond ${respond_s} s"
echo "ratio   $(echo "$respond_s / $hunt_s" | bc -l | xargs printf '%.3f') (target <= 1.20)"
jq -c '.summary | {events, detections, incidents, compromised_assets, unresolved_entities, unresolved_by_kind}' "$work/respond.json"
jq -c '.summary.timing | {threads, rules_load_s, hunt_s, observe_ms, group_ms, decide_ms, notify_ms}' "$work/respond.json"
jq -r '.summary.timing
       | ((.observe_ms + .group_ms + .decide_ms + .notify_ms) / 1000) as $added
       | "inside respond: entities + grouping + decisions + notifications \($added) s over the hunt'"'"'s \(.hunt_s) s = +\($added / .hunt_s * 100 | floor) %"' "$work/respond.json"

echo "== 4. decisions on a ${ASSETS:-1000000}-asset model"
"$vigie" model generate --assets "${ASSETS:-1000000}" --seed 7 --hosts "$work/hosts.txt" -o "$work/big.json" >&2
# Text output (the JSON repeats every document in full: on this model, gigabytes); the
# per-incident times come from the log line each decision writes.
"$vigie" --log "warn,vigie_incident=info,vigie=info" respond --model "$work/big.json" \
    --rules "$rules" --format text --output /dev/null "$logs" 2> "$work/big.err" || true
sed 's/\x1b\[[0-9;]*m//g' "$work/big.err" | grep -E 'model loaded|graph built|respond computed' | sed 's/^[^ ]* *//' || true
sed 's/\x1b\[[0-9;]*m//g' "$work/big.err" | grep 'incident decided' | grep 'reused=false' \
    | sed -n 's/.*total_ms=\([0-9.e+-]*\).*/\1/p' | sort -g > "$work/decisions.txt" || true
if [ -s "$work/decisions.txt" ]; then
    echo "distinct compromised sets decided: $(wc -l < "$work/decisions.txt"); slowest decision $(tail -1 "$work/decisions.txt" | xargs -I{} echo "{} / 1000" | bc -l | xargs printf '%.3f') s (target < 2 s); median $(sed -n "$(( ($(wc -l < "$work/decisions.txt") + 1) / 2 ))p" "$work/decisions.txt") ms"
else
    echo "no incident with compromised assets on this model"
fi
# Standalone, the same engines on the assets of the largest incident (compromised, else
# involved), timed by the engines themselves (elapsed_ms: after the model is loaded).
set_=$(jq -r '[.incidents[] | {n: (.detections | length), c: (if (.compromised | length) > 0 then .compromised else .assets end)}]
              | map(select((.c | length) > 0)) | sort_by(-.n) | .[0].c // [] | .[:8] | join(",")' "$work/respond.json")
if [ -n "$set_" ]; then
    a=$("$vigie" assess --model "$work/big.json" --compromised "$set_" --format json | jq '.elapsed_ms')
    c=$("$vigie" contain --model "$work/big.json" --compromised "$set_" --time-limit 0 --format json | jq '.elapsed_ms')
    down=$("$vigie" contain --model "$work/big.json" --compromised "$set_" --time-limit 0 --format json \
        | jq -r --arg s "$set_" '($s | split(",")) + [.plan.actions[]?.target] | unique | join(",")')
    r=$("$vigie" restore --model "$work/big.json" --down "$down" --format json | jq '.order_search.elapsed_ms')
    echo "standalone on {$set_}: assess ${a} ms, contain ${c} ms, restore ${r} ms; total $(echo "($a + $c + $r) / 1000" | bc -l | xargs printf '%.3f') s (target < 2 s)"
fi
