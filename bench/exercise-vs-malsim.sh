#!/usr/bin/env bash
# `vigie exercise` vs mal-simulator (PyPI mal-simulator 3.3.0, TTCMode.PRE_SAMPLE) on the
# same attack graph, in the same run (issue 11, point 8). Not a timed test.
#
# 1. Speed: the model's attack graph (default: the demo operator) is exported by the
#    vigie-sim example `exercise_bench export-graph` and rebuilt as a MAL model by
#    bench/exercise/malsim_run.py (language: bench/exercise/exercise.mal.tmpl, one Edge
#    type per distinct TTC distribution). Both compute every asset's compromise time per
#    sample: vigie's engine (`Exercise::run` without containment, 1 and 2 threads) and
#    malsim's simulator loop (reset = pre-sample, then attack the whole action surface
#    each iteration of UNIT hours until done or the horizon). samples/s of each, ratio.
#    malsim's loop is checked, on its first CHECK samples, to give exactly the shortest
#    path over its own pre-sampled TTCs (see malsim_run.py for the correspondence).
# 2. Whole program: `vigie exercise --samples $WHOLE --threads 1` vs `--threads 2`
#    (release, detection and containment included), wall time and ratio.
# 3. Agreement on bench/exercise/agreement.yaml: the crown jewel's mean time to
#    compromise and P(reached), vigie (AGREE_VIGIE samples) vs malsim (AGREE_MALSIM
#    samples; the continuous shortest path over malsim's pre-sampled TTCs, plus malsim's
#    own loop at AGREE_UNIT hours per iteration on the first AGREE_LOOP samples), each with
#    its standard error; fails when the means differ by more than 3 combined standard
#    errors.
#
# Env: MODEL (demo; a file or generate:N[:SEED]), SAMPLES_VIGIE (100000), SAMPLES_MALSIM
# (10), UNIT (1.0), CHECK (3), WHOLE (100000), AGREE_VIGIE (100000), AGREE_MALSIM (2000),
# AGREE_UNIT (0.1), AGREE_LOOP (100), WORK (temp dir), VENV (a venv for malsim, created
# and `pip install mal-simulator==3.3.0` when it lacks it; default
# $TARGET/bench-venv-malsim), MALSIM_PYTHON (a python that has malsim 3.3.0: skips VENV),
# VIGIE and BENCH_BIN (built binaries; default: build release).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
MODEL=${MODEL:-demo}
SAMPLES_VIGIE=${SAMPLES_VIGIE:-100000}
SAMPLES_MALSIM=${SAMPLES_MALSIM:-10}
UNIT=${UNIT:-1.0}
CHECK=${CHECK:-3}
WHOLE=${WHOLE:-100000}
AGREE_VIGIE=${AGREE_VIGIE:-100000}
AGREE_MALSIM=${AGREE_MALSIM:-2000}
AGREE_UNIT=${AGREE_UNIT:-0.1}
AGREE_LOOP=${AGREE_LOOP:-100}
WORK=${WORK:-$(mktemp -d)}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
VENV=${VENV:-$TARGET/bench-venv-malsim}
MALSIM_VERSION=3.3.0

if [ -z "${VIGIE:-}" ]; then
  (cd "$ROOT" && cargo build --release -p vigie >&2)
  VIGIE=$TARGET/release/vigie
fi
if [ -z "${BENCH_BIN:-}" ]; then
  (cd "$ROOT" && cargo build --release -p vigie-sim --example exercise_bench >&2)
  BENCH_BIN=$TARGET/release/examples/exercise_bench
fi

has_malsim() {
  # Importing malsim creates logs/ in the working directory: check from $WORK.
  (cd "$WORK" && "$1" -c "import malsim, sys; sys.exit(malsim.__version__ != '$MALSIM_VERSION')") 2>/dev/null
}
if [ -n "${MALSIM_PYTHON:-}" ]; then
  has_malsim "$MALSIM_PYTHON" || { echo "$MALSIM_PYTHON lacks mal-simulator $MALSIM_VERSION" >&2; exit 1; }
  PY=$MALSIM_PYTHON
else
  PY=$VENV/bin/python
  if ! has_malsim "$PY"; then
    echo "installing mal-simulator==$MALSIM_VERSION into $VENV" >&2
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q "mal-simulator==$MALSIM_VERSION" >&2
  fi
fi
MALSIM_RUN=$ROOT/bench/exercise/malsim_run.py
# malsim writes a logs/ directory into its working directory: run it in $WORK.
malsim() { (cd "$WORK" && "$PY" "$MALSIM_RUN" "$@"); }

load() { uptime | sed 's/.*load average: /load /'; }
field() { "$PY" -c "import json,sys; v=json.loads(sys.argv[1])['$2']; print(v)" "$1"; }
fmt() { "$PY" -c "import sys; print(f'{float(sys.argv[1]):,.${2:-1}f}')" "$1"; }

echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); commit $(git -C "$ROOT" rev-parse --short HEAD); $(date -u +%FT%TZ)"

# --- 1. speed on the same graph -----------------------------------------------------
"$BENCH_BIN" export-graph "$MODEL" "$WORK/graph.json"
echo "== speed, model $MODEL: $("$PY" -c "import json,sys; g=json.load(open(sys.argv[1])); print(len(g['nodes'])-1, 'assets,', len(g['edges']), 'attack edges')" "$WORK/graph.json")"
declare -A VSPS
for t in 1 2; do
  out=$("$BENCH_BIN" speed "$MODEL" "$SAMPLES_VIGIE" "$t")
  VSPS[$t]=$(field "$out" samples_per_s)
  echo "vigie engine, no containment, $t thread(s): $(fmt "${VSPS[$t]}" 0) samples/s ($SAMPLES_VIGIE samples in $(fmt "$(field "$out" wall_s)" 3) s; $(load))"
done
out=$(malsim speed "$WORK/graph.json" --samples "$SAMPLES_MALSIM" --unit "$UNIT" --check "$CHECK")
MSPS=$(field "$out" samples_per_s)
MCPU=$(field "$out" samples_per_cpu_s)
echo "malsim $MALSIM_VERSION PRE_SAMPLE, 1 thread, $UNIT h/iteration: $(fmt "$MSPS" 3) samples/s wall, $(fmt "$MCPU" 3) per CPU s ($SAMPLES_MALSIM samples, $(fmt "$(field "$out" attack_steps)" 0) attack steps, $(fmt "$(field "$out" mean_assets_reached)" 1) assets reached per sample; first $(field "$out" checked_samples) samples = shortest path over its pre-sampled TTCs; $(load))"
echo "ratio vigie/malsim: $(fmt "$("$PY" -c "print(${VSPS[1]}/$MSPS)")" 0)x (1 thread each, wall), $(fmt "$("$PY" -c "print(${VSPS[2]}/$MSPS)")" 0)x (vigie on 2 threads)"

# --- 2. whole program, 1 vs 2 threads -----------------------------------------------
declare -A WALL
for t in 1 2; do
  s=$(date +%s.%N)
  "$VIGIE" --log error exercise --samples "$WHOLE" --threads "$t" --format json > "$WORK/whole-$t.json"
  WALL[$t]=$("$PY" -c "import sys; print($(date +%s.%N) - $s)")
  echo "vigie exercise --samples $WHOLE --threads $t: $(fmt "${WALL[$t]}" 2) s wall, $(fmt "$("$PY" -c "print($WHOLE/${WALL[$t]})")" 0) samples/s ($(load))"
done
cmp -s "$WORK/whole-1.json" "$WORK/whole-2.json" && same=identical || same=DIFFERENT
echo "whole-program speed-up 2 threads / 1: $(fmt "$("$PY" -c "print(${WALL[1]}/${WALL[2]})")" 2)x (outputs $same)"

# --- 3. agreement on a small graph --------------------------------------------------
AGREE=$ROOT/bench/exercise/agreement.yaml
"$BENCH_BIN" export-graph "$AGREE" "$WORK/agree.json"
v=$("$BENCH_BIN" ttc "$AGREE" db "$AGREE_VIGIE" 1)
m=$(malsim ttc "$WORK/agree.json" --jewel db --samples "$AGREE_MALSIM" --unit "$AGREE_UNIT" --loop-samples "$AGREE_LOOP" --seed 1)
"$PY" - "$v" "$m" <<'EOF'
import json, math, sys
v, m = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(f"== agreement, crown jewel db of bench/exercise/agreement.yaml")
print(f"vigie:  mean TTC {v['mean_hours']:.3f} h +- {v['se_hours']:.3f} (SE), P(reached) {v['p_reached']:.4f}, {v['samples']} samples")
print(f"malsim: mean TTC {m['mean_hours']:.3f} h +- {m['se_hours']:.3f} (SE), P(reached) {m['p_reached']:.4f}, {m['samples']} samples (shortest path over its pre-sampled TTCs)")
if m.get("loop_mean_hours") is not None:
    print(f"malsim loop: mean TTC {m['loop_mean_hours']:.3f} h +- {m['loop_se_hours']:.3f} at {m['unit_hours']} h/iteration, {m['loop_samples']} samples (discretised: about -unit/2 per hop)")
z = abs(v["mean_hours"] - m["mean_hours"]) / math.hypot(v["se_hours"], m["se_hours"])
print(f"difference {v['mean_hours'] - m['mean_hours']:+.3f} h = {z:.2f} combined standard errors")
sys.exit(0 if z < 3 else 1)
EOF
