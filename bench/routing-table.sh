#!/usr/bin/env bash
# Routing table: per SigmaHQ rules folder, how many detection rules the mapping routes
# fully, partly (by part of their logsource, e.g. the product only) or not at all.
# Quick (a few seconds; no events hunted): run it on two binaries for a before/after.
#
#   bench/routing-table.sh                      # the worktree's debug binary (built)
#   VIGIE=/path/to/other/vigie bench/routing-table.sh
#   MAPPING=my.yml DETAIL=1 bench/routing-table.sh
#
# Works with binaries older than `routing[]` in `rules check --format json`: the counts
# then come from `unrouted_logsources` / `partially_routed_logsources` (fully = the
# detection rules less those). DETAIL=1 also lists every partly routed or unrouted
# logsource with its rule count (and, with `routing[]`, the reason).
#
# Env: VIGIE (default: target/debug/vigie, built), RULES (../shared/sigma/rules),
# FOLDERS (default: linux network web cloud identity application), MAPPING, DETAIL.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${VIGIE_SHARED:-$ROOT/../shared}
RULES=${RULES:-$SHARED/sigma/rules}
FOLDERS=${FOLDERS:-linux network web cloud identity application}
if [ -z "${VIGIE:-}" ]; then
  (cd "$ROOT" && cargo build -p vigie --quiet)
  VIGIE=${CARGO_TARGET_DIR:-$ROOT/target}/debug/vigie
fi
command -v jq >/dev/null || { echo "routing-table.sh: needs jq" >&2; exit 2; }
MAP_ARGS=()
[ -n "${MAPPING:-}" ] && MAP_ARGS=(--mapping "$MAPPING")

echo "vigie: $VIGIE ($("$VIGIE" --version 2>/dev/null || echo '?'))"
echo "rules: $RULES"
echo
printf '| %-12s | %5s | %5s | %6s | %8s | %-27s |\n' folder rules fully partly unrouted "logsources (partly/unrouted)"
printf '|%s|%s|%s|%s|%s|%s|\n' -------------- ------- ------- -------- ---------- -----------------------------
TOTAL=(0 0 0 0)
DETAILS=""
for f in $FOLDERS; do
  dir=$RULES/$f
  if [ ! -d "$dir" ]; then
    printf '| %-12s | %5s | %5s | %6s | %8s | %-27s |\n' "$f" - - - - "(no such folder)"
    continue
  fi
  json=$("$VIGIE" --log error rules check --rules "$dir" "${MAP_ARGS[@]}" --format json || true)
  row=$(jq -r '
    (.partially_routed_logsources | map(.[1]) | add // 0) as $p
    | (.unrouted_logsources | map(.[1]) | add // 0) as $u
    | [.detection_rules, (.detection_rules - $p - $u), $p, $u,
       (.partially_routed_logsources | length), (.unrouted_logsources | length)]
    | @tsv' <<<"$json")
  read -r n full part unr lp lu <<<"$row"
  printf '| %-12s | %5d | %5d | %6d | %8d | %-27s |\n' "$f" "$n" "$full" "$part" "$unr" "$lp / $lu"
  TOTAL=($((TOTAL[0] + n)) $((TOTAL[1] + full)) $((TOTAL[2] + part)) $((TOTAL[3] + unr)))
  if [ -n "${DETAIL:-}" ]; then
    DETAILS+=$(jq -r --arg f "$f" '
      if has("routing") then
        .routing[] | select(.partly + .unrouted > 0)
        | "\($f): \(.logsource | [to_entries[] | select(.value != null) | "\(.key):\(.value)"] | join(" ")): \(.rules) rules (\(if .unrouted > 0 then "unrouted" else "partly" end)): \(.reason // "")"
      else
        (.partially_routed_logsources[] | "\($f): \(.[0]): \(.[1]) rules (partly)"),
        (.unrouted_logsources[] | "\($f): \(.[0]): \(.[1]) rules (unrouted)")
      end' <<<"$json")$'\n'
  fi
done
printf '| %-12s | %5d | %5d | %6d | %8d | %-27s |\n' total "${TOTAL[0]}" "${TOTAL[1]}" "${TOTAL[2]}" "${TOTAL[3]}" ""
if [ -n "$DETAILS" ]; then
  echo
  printf '%s' "$DETAILS"
fi
