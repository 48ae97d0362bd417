#!/usr/bin/env bash
# Real-vs-fake detection against Gen's bundled EDM checkpoint (docs/methods/detection.md §5): builds
# the CIFAKE-layout set (default 10,000 REAL + 10,000 FAKE for training, 2,000 + 2,000 for testing, REAL
# test images from Fashion-MNIST's test split), trains the cifake detector for each seed and resnet-s
# for the first, evaluates each on the held-out test split, and explains 16 test images with Grad-CAM.
# Run alone on a quiet machine. Usage: [DETECT_N=10000 DETECT_N_TEST=2000] bench/detect/run.sh [SEED ...]
# (default seeds: 0 1 2). Results: $BENCH_OUT/*.json and timings.txt; bench/detect/summarize.py prints
# the RESULTS.md rows.
out="${BENCH_OUT:-runs/bench-detect}"
n="${DETECT_N:-10000}"
nt="${DETECT_N_TEST:-2000}"
if [ $# -gt 0 ]; then seeds=("$@"); else seeds=(0 1 2); fi
source "$(dirname "$0")/common.sh"   # strict mode, cd to the root, mkdir $out, build, gen(), timed, log_machine
log_machine

[ -f "$out/ds/manifest.json" ] || timed build-dataset \
  gen detect build-dataset --fake assets/diffusion/fmnist.safetensors --n "$n" --n-test "$nt" --out "$out/ds" --json > "$out/build.json"

train() {   # arch seed
  local d="$out/$1-s$2"
  [ -f "$d/last.safetensors" ] || timed "train-$1-s$2" gen train detector --data "$out/ds" --arch "$1" --seed "$2" --out "$d" --json > "$out/train-$1-s$2.json"
  gen detect eval "$d" "$out/ds" --json > "$out/eval-$1-s$2.json"
}
for s in "${seeds[@]}"; do train cifake "$s"; done
train resnet-s "${seeds[0]}"

gen explain "$out/cifake-s${seeds[0]}" "$out/ds/test" --n 16 --columns 2 --out "$out/explain" --json > "$out/explain.json"
cp "$out/explain/grid.png" docs/images/detect-gradcam.png
