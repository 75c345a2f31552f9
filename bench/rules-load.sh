#!/usr/bin/env bash
# Rule load time and hunt memory (issue 12 point 4: `rules/` loads in at most 0.1 s cold,
# a warm compiled-rule cache reported separately; peak memory at most 100 MiB hunting
# ../shared/evtx with rules, rules-emerging-threats and rules-threat-hunting).
#
# Load time is `vigie rules check`'s own `load_s` (RuleSet::load alone: walk, read, YAML,
# compile, index; not process start), best of $REPEAT:
#   cold  --no-cache: every file read and compiled;
#   warm  --cache-dir on a cache filled by one run before: files read and hashed, the
#         compiled rules decoded from the cache, routing and indexes rebuilt;
# each on one core (`taskset -c 0`, and --threads is then 1 by the pool's size) and on all
# cores (rule files are read as YAML and compiled in parallel batches; field ids,
# routing and indexes on one thread). Peak RSS is /usr/bin/time's maximum resident set of a whole `vigie hunt`.
#
# Env: REPEAT (5), RULES (the `rules check` folder; default SigmaHQ rules), HUNT_RULES
#      (space-separated; default the three folders), VIGIE_SHARED, CARGO_TARGET_DIR,
#      NO_BUILD (set: use the release binary as it is).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${VIGIE_SHARED:-$ROOT/../shared}
SHARED=$(cd "$SHARED" && pwd)
RULES=${RULES:-$SHARED/sigma/rules}
HUNT_RULES=${HUNT_RULES:-"$SHARED/sigma/rules $SHARED/sigma/rules-emerging-threats $SHARED/sigma/rules-threat-hunting"}
REPEAT=${REPEAT:-5}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
EVTX=$SHARED/evtx
WORK=$(mktemp -d /tmp/vigie-rules-load-XXXXXX)
trap 'rm -rf "$WORK"' EXIT

[ -n "${NO_BUILD:-}" ] || (cd "$ROOT" && cargo build --release -p vigie --quiet)
VIGIE=$TARGET/release/vigie

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores; commit $(cd "$ROOT" && git rev-parse --short HEAD)"

# best load_s of $REPEAT runs of `rules check`: $1 = command prefix ("" or taskset),
# $2 = flags of `rules check` (word-split)
load_s() {
    local best=""
    for _ in $(seq "$REPEAT"); do
        local s
        # shellcheck disable=SC2086
        s=$($1 "$VIGIE" rules check -f json $2 -r "$RULES" | jq -r .load_s)
        if [ -z "$best" ] || awk "BEGIN{exit !($s < $best)}"; then best=$s; fi
    done
    echo "$best"
}

CACHE=$WORK/cache
n=$("$VIGIE" rules check -f json --no-cache -r "$RULES" | jq -r .detection_rules)
"$VIGIE" rules check -f json --cache-dir "$CACHE" -r "$RULES" >/dev/null
warm_state=$("$VIGIE" rules check -f json --cache-dir "$CACHE" -r "$RULES" | jq -r .cache)
[ "$warm_state" = hit ] || { echo "warm run is not a cache hit: $warm_state" >&2; exit 1; }

ONE="taskset -c 0"
cold1=$(load_s "$ONE" "--no-cache")
coldN=$(load_s "" "--no-cache")
warm1=$(load_s "$ONE" "--cache-dir $CACHE")
warmN=$(load_s "" "--cache-dir $CACHE")
echo "rules check -r $RULES ($n detection rules), best of $REPEAT, load_s:"
printf '  cold (no cache)  one core %.4f s   all cores %.4f s\n' "$cold1" "$coldN"
printf '  warm (cache hit) one core %.4f s   all cores %.4f s\n' "$warm1" "$warmN"
printf '  cold/warm        one core %.2fx    all cores %.2fx\n' \
    "$(awk "BEGIN{print $cold1/$warm1}")" "$(awk "BEGIN{print $coldN/$warmN}")"

RULE_ARGS=()
for r in $HUNT_RULES; do RULE_ARGS+=(--rules "$r"); done
HCACHE=$WORK/hunt-cache
# peak RSS of one hunt; $@ = extra flags of `hunt`
rss() {
    /usr/bin/time -f '%M' -o "$WORK/rss" "$VIGIE" hunt -q -f jsonl "$@" "${RULE_ARGS[@]}" "$EVTX" \
        >"$WORK/out" 2>/dev/null || true
    echo "$(( $(tail -n 1 "$WORK/rss") / 1024 )) MiB, $(wc -l <"$WORK/out") detections"
}
echo "peak RSS of vigie hunt $EVTX with: $HUNT_RULES"
echo "  cold, all cores:  $(rss --no-cache)"
echo "  cold, -j 1:       $(rss --no-cache -j 1)"
rss --cache-dir "$HCACHE" >/dev/null
echo "  warm, all cores:  $(rss --cache-dir "$HCACHE")"
echo "  warm, -j 1:       $(rss --cache-dir "$HCACHE" -j 1)"
