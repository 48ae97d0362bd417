#!/usr/bin/env bash
# ATen's AVX-512 element-wise kernels against its AVX2 ones for EDM training (docs/platform.md §11).
# ATEN_CPU_CAPABILITY is read once per process, so the arms are separate processes, alternated round by
# round (ROUNDS, default 4); each runs STEPS training steps (default 40) of the default UNet at batch 128
# with a SiLU probe after every step (diff-bench step-trace) and the matmul peak before and after.
# Output: $RESULTS/kernels_ab.txt.
source "$(dirname "$0")/common.sh"
build
T="${TRAIN_THREADS:-2}"
out="$RESULTS/kernels_ab.txt"
echo "# kernels_ab $(date -u +%FT%TZ) threads $T rounds ${ROUNDS:-4} steps ${STEPS:-40}" > "$out"
for r in $(seq 1 "${ROUNDS:-4}"); do
  for cap in avx512 avx2; do
    echo "## round $r $cap" | tee -a "$out"
    ATEN_CPU_CAPABILITY=$cap "$BIN/diff-bench" step-trace --threads "$T" --steps "${STEPS:-40}" 2>&1 | grep -v NNPACK | tee -a "$out"
  done
done
