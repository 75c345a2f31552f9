#!/usr/bin/env bash
# Differential: vigie vs rsigma on ../shared/evtx, same rules, per (rule id, file, record).
# Not run in CI (needs rsigma; a few minutes).
#
# vigie hunts the EVTX files natively. rsigma keeps EVTX records nested
# (Event.EventData.*), which SigmaHQ field names do not address, so it hunts the same
# records flattened to Sigma field names by `examples/flatten.rs` (vigie's own reader,
# so both see the same records), with --logsource-routing on the product/service/category
# the flattener writes. The per-rule disagreements go to $OUT (default
# bench/differential-raw.md); bench/differential.md explains them.
#
# Env: RULES (../shared/sigma/rules), RSIGMA, VIGIE_SHARED, CARGO_TARGET_DIR, WORK, OUT.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${VIGIE_SHARED:-$ROOT/../shared}
SHARED=$(cd "$SHARED" && pwd)
RULES=${RULES:-$SHARED/sigma/rules}
EVTX=$SHARED/evtx
WORK=${WORK:-$(mktemp -d)}
OUT=${OUT:-$ROOT/bench/differential-raw.md}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}

if [ -z "${RSIGMA:-}" ]; then
  if command -v rsigma >/dev/null; then RSIGMA=$(command -v rsigma)
  elif [ -x /work/tools/rsigma/bin/rsigma ]; then RSIGMA=/work/tools/rsigma/bin/rsigma
  else
    cargo install rsigma --version 0.23.0 --locked --root "$WORK/rsigma" >&2
    RSIGMA=$WORK/rsigma/bin/rsigma
  fi
fi

# Two builds: with --example, cargo builds only that example, not the vigie binary.
(cd "$ROOT" && cargo build --release -p vigie --quiet && cargo build --release -p vigie-hunt --example flatten --quiet)
VIGIE=$TARGET/release/vigie

echo "vigie hunt (EVTX)..." >&2
"$VIGIE" --log error hunt --rules "$RULES" --format jsonl -q --output "$WORK/vigie.jsonl" \
  --summary-json "$WORK/vigie-summary.json" "$EVTX"
echo "flatten..." >&2
"$TARGET/release/examples/flatten" "$EVTX" > "$WORK/flat.jsonl" 2> "$WORK/flatten.err" || true
echo "rsigma engine eval (flattened, --logsource-routing)..." >&2
"$RSIGMA" engine eval -r "$RULES" -e "@$WORK/flat.jsonl" --include-event --logsource-routing \
  --no-stats -q > "$WORK/rsigma.ndjson"

{
  echo "# Differential raw result"
  echo
  echo "commit $(cd "$ROOT" && git rev-parse --short HEAD), $(date -u +%Y-%m-%d), rules $(basename "$RULES"), inputs ../shared/evtx ($(wc -l < "$WORK/flat.jsonl") records)"
  echo
  python3 "$ROOT/bench/compare_matches.py" "$WORK/vigie.jsonl" "$WORK/rsigma.ndjson" "$RULES"
} > "$OUT"
head -n 8 "$OUT"
echo "full table: $OUT (work files in $WORK)" >&2
