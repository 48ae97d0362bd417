#!/usr/bin/env bash
# The conditional model's training curve (bench/RESULTS.md "The class-conditional model"): FD-FMNIST of 1,000
# samples (seeds 0–999, class = seed mod 10, the default guidance) of the snapshots of RUN at STEPS, against
# training images seen (batch 128). Scores a folder of links to the chosen snapshots with `gen fid-curve`.
#   RUN=runs/diff/cond3k STEPS="500 1000 1500 2000 2500 3000" bench/diffusion/cond_curve.sh
# Result: $RESULTS/cond-curve.json (and its plot beside it). Run alone (2 threads, ONNX Runtime by default).
source "$(dirname "$0")/common.sh"
build
RUN="${RUN:-$RUNS/cond3k}"
CURVE="$RUNS/cond-curve"
rm -rf "$CURVE"; mkdir -p "$CURVE/checkpoints"
for s in ${STEPS:-500 1000 1500 2000 2500 3000}; do
  f="$RUN/checkpoints/step-$(printf '%08d' "$s").safetensors"
  [[ -f "$f" ]] || { echo "error: $f is missing; pick STEPS among the run's snapshots" >&2; exit 2; }
  ln -s "$(cd "$(dirname "$f")" && pwd)/$(basename "$f")" "$CURVE/checkpoints/"
done
"$BIN/gen" fid-curve "$CURVE" --ref fashion-mnist:test --extractor fmnist --n "${N:-1000}" --threads "${CURVE_THREADS:-2}" --json \
  > "$RESULTS/cond-curve.json"
cp "$CURVE/fid_curve.png" "$RESULTS/cond-curve.png" 2>/dev/null || true
cat "$RESULTS/cond-curve.json"
