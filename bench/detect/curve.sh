#!/usr/bin/env bash
# The detection curve of a diffusion training run beside its FD-FMNIST curve (docs/methods/detection.md
# §1): trains a short EDM run with snapshots, then `gen fid-curve` and `gen detect-curve` on it, and
# copies the combined plot to docs/images/detect-curve.png. Run alone on a quiet machine.
# Usage: [CURVE_STEPS=450 CURVE_EVERY=150] bench/detect/curve.sh. Results: $BENCH_OUT/run/{fid,detect}_curve.json.
out="${BENCH_OUT:-runs/bench-detect-curve}"
steps="${CURVE_STEPS:-450}"
every="${CURVE_EVERY:-150}"
source "$(dirname "$0")/common.sh"   # strict mode, cd to the root, mkdir $out, build, gen(), timed, log_machine
log_machine

if [ ! -f "$out/run/last.safetensors" ]; then
  if [ -f "$out/run/state.safetensors" ]; then resume=--resume; else resume=; fi
  timed train gen train diffusion --data fashion-mnist --out "$out/run" --steps "$steps" --threads 2 \
      --checkpoint-every "$every" --sample-every 0 --log-every 10 $resume --json > "$out/train.json"
fi
timed fid-curve gen fid-curve "$out/run" --ref fashion-mnist:test --extractor fmnist --n 1000 --json > "$out/fid-curve.json"
timed detect-curve gen detect-curve "$out/run" --real fashion-mnist:test --n 1000 --n-test 500 --json > "$out/detect-curve.json"
cp "$out/run/detect_curve.png" docs/images/detect-curve.png
