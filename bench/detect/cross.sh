#!/usr/bin/env bash
# The cross-generator table (docs/methods/detection.md §1): for each of Gen's bundled generators, a
# CIFAKE-layout set (DETECT_N REAL + FAKE for training, DETECT_N_TEST + DETECT_N_TEST for testing, the same
# seeded REAL draw for every set, so only the fakes differ) and a cifake detector (seed 0) trained on it;
# then every detector is evaluated on every set's test split. Generators:
#   edm      assets/diffusion/fmnist.safetensors        (set "ds" and detector "cifake-s0", shared with run.sh)
#   lowdiff  assets/diffusion/fmnist-lowdiff.safetensors, sampled first into a folder with LOW_OPTS (default:
#            the bundle's recipe of bench/diffusion/gate.sh; train seeds 0…n−1, test seeds from 10⁹, as the
#            builder draws a checkpoint's)
#   cond     assets/diffusion/fmnist-cond.safetensors   (class-conditional, its default guidance)
#   jem      assets/jem/fmnist-jem-at.safetensors       (class-conditional)
#   lzn      assets/lzn/fmnist-lzn.safetensors          (class-conditional)
# The builder gives each fake of a class-conditional generator the class of its REAL partner
# (docs/methods/detection.md §2). GENS picks and orders them (default "lzn jem lowdiff edm cond"); a set or
# detector already in $BENCH_OUT is reused. bench/detect/summarize.py OUT prints the table.
# Run alone on a quiet machine.
out="${BENCH_OUT:-runs/bench-detect}"
n="${DETECT_N:-10000}"
nt="${DETECT_N_TEST:-2000}"
source "$(dirname "$0")/common.sh"   # strict mode, cd to the root, mkdir $out, build, gen(), timed, log_machine
log_machine
read -r -a gens <<< "${GENS:-lzn jem lowdiff edm cond}"

set_of() { [ "$1" = edm ] && echo ds || echo "ds-$1"; }
det_of() { [ "$1" = edm ] && echo cifake-s0 || echo "cifake-$1-s0"; }
fake_of() {
  case "$1" in
    edm) echo assets/diffusion/fmnist.safetensors ;;
    cond) echo assets/diffusion/fmnist-cond.safetensors ;;
    jem) echo assets/jem/fmnist-jem-at.safetensors ;;
    lzn) echo assets/lzn/fmnist-lzn.safetensors ;;
    lowdiff)   # a cascade's sampler options are not the checkpoint's defaults: sample into a folder first
      read -r -a low_opts <<< "${LOW_OPTS:---stage-steps 10,8 --sampler dpmpp-2m --sigma-start 8}"
      local dir="$out/lowdiff-fakes"
      if [ ! -f "$dir/.done" ]; then
        rm -rf "$dir" "$dir-test"
        timed sample-lowdiff gen sample assets/diffusion/fmnist-lowdiff.safetensors "${low_opts[@]}" \
            --seeds "0-$((n - 1))" --out "$dir" --threads 2 > /dev/null
        timed sample-lowdiff-test gen sample assets/diffusion/fmnist-lowdiff.safetensors "${low_opts[@]}" \
            --seeds "1000000000-$((1000000000 + nt - 1))" --out "$dir-test" --threads 2 > /dev/null
        mv "$dir-test"/*.png "$dir/" && rmdir "$dir-test" && touch "$dir/.done"
      fi
      echo "$dir" ;;
    *) echo "cross.sh: unknown generator '$1' in GENS; use edm, lowdiff, cond, jem or lzn" >&2; exit 2 ;;
  esac
}

for g in "${gens[@]}"; do
  ds=$(set_of "$g"); det=$(det_of "$g")
  if [ ! -f "$out/$ds/manifest.json" ]; then
    fake=$(fake_of "$g")
    timed "build-dataset-$g" gen detect build-dataset --fake "$fake" --n "$n" --n-test "$nt" --out "$out/$ds" --json > "$out/build-$g.json"
  fi
  [ -f "$out/$det/last.safetensors" ] || timed "train-$det" \
    gen train detector --data "$out/$ds" --seed 0 --out "$out/$det" --json > "$out/train-$det.json"
done
printf '%s\n' "${gens[@]}" > "$out/cross-gens.txt"
for g in "${gens[@]}"; do
  for h in "${gens[@]}"; do
    gen detect eval "$out/$(det_of "$g")" "$out/$(set_of "$h")" --json > "$out/cross-$(det_of "$g")-on-$(set_of "$h").json"
  done
done
