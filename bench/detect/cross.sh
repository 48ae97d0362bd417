#!/usr/bin/env bash
# The cross-generator table (docs/methods/detection.md §1): a detector trained on one generator's fakes,
# tested on every generator's test split. Generators: the bundled EDM checkpoint and the bundled JEM-AT
# energy model (class-conditional: the builder samples each FAKE for the class of its REAL partner, so both
# classes share one class histogram; docs/methods/detection.md §2), and with LOWDIFF=CKPT a LowDiff cascade, sampled with LOW_OPTS (default: the settings of
# bench/diffusion/gate.sh) into a folder first (train seeds 0…n−1, test seeds from 10⁹, as the builder draws
# a checkpoint's). All sets draw the same REAL images (same --seed and splits), so only the fakes differ.
# Run after bench/detect/run.sh (it reuses $BENCH_OUT/ds and cifake-s0). Run alone on a quiet machine.
out="${BENCH_OUT:-runs/bench-detect}"
n="${DETECT_N:-10000}"
nt="${DETECT_N_TEST:-2000}"
source "$(dirname "$0")/common.sh"   # strict mode, cd to the root, mkdir $out, build, gen(), timed, log_machine
log_machine

[ -f "$out/ds-jem/manifest.json" ] || timed build-dataset-jem \
  gen detect build-dataset --fake assets/jem/fmnist-jem-at.safetensors --n "$n" --n-test "$nt" --out "$out/ds-jem" --json > "$out/build-jem.json"
[ -f "$out/cifake-jem-s0/last.safetensors" ] || timed train-cifake-jem-s0 \
  gen train detector --data "$out/ds-jem" --seed 0 --out "$out/cifake-jem-s0" --json > "$out/train-cifake-jem-s0.json"
dets=(cifake-s0 cifake-jem-s0); sets=(ds ds-jem)
if [[ -n "${LOWDIFF:-}" ]]; then
  read -r -a low_opts <<< "${LOW_OPTS:---stage-steps 18,6 --sampler heun,dpmpp-2m}"
  if [ ! -f "$out/ds-lowdiff/manifest.json" ]; then
    rm -rf "$out/lowdiff-fakes" "$out/lowdiff-fakes-test"
    timed sample-lowdiff gen sample "$LOWDIFF" "${low_opts[@]}" --seeds "0-$((n - 1))" --out "$out/lowdiff-fakes" --threads 2 > /dev/null
    timed sample-lowdiff-test gen sample "$LOWDIFF" "${low_opts[@]}" --seeds "1000000000-$((1000000000 + nt - 1))" --out "$out/lowdiff-fakes-test" --threads 2 > /dev/null
    mv "$out"/lowdiff-fakes-test/*.png "$out/lowdiff-fakes/" && rmdir "$out/lowdiff-fakes-test"
    timed build-dataset-lowdiff \
      gen detect build-dataset --fake "$out/lowdiff-fakes" --n "$n" --n-test "$nt" --out "$out/ds-lowdiff" --json > "$out/build-lowdiff.json"
  fi
  [ -f "$out/cifake-lowdiff-s0/last.safetensors" ] || timed train-cifake-lowdiff-s0 \
    gen train detector --data "$out/ds-lowdiff" --seed 0 --out "$out/cifake-lowdiff-s0" --json > "$out/train-cifake-lowdiff-s0.json"
  dets+=(cifake-lowdiff-s0); sets+=(ds-lowdiff)
fi
for det in "${dets[@]}"; do
  for ds in "${sets[@]}"; do gen detect eval "$out/$det" "$out/$ds" --json > "$out/cross-$det-on-$ds.json"; done
done
