#!/usr/bin/env bash
# Speed benchmarks (interleaved in one process each, since the machine is shared):
#   train-speed: fp32 matmul peak beside EDM and LowDiff (per stage) training steps → achieved GFLOP/s;
#   sample-speed: EDM (N=18) vs LowDiff (18,8,6) sampling, fp32 and bf16 → images/s, bf16 deviation.
# EDM/LOWDIFF name the checkpoints (default: the runs of train.sh).
source "$(dirname "$0")/common.sh"
build
EDM="${EDM:-$RUNS/edm}"; LOWDIFF="${LOWDIFF:-$RUNS/lowdiff}"
"$BIN/diff-bench" train-speed --threads "$THREADS" --rounds "${ROUNDS:-3}" --steps "${TRAIN_STEPS:-3}" 2>&1 | grep -v NNPACK | tee "$RESULTS/train_speed.txt"
"$BIN/diff-bench" sample-speed --threads "$THREADS" --rounds "${ROUNDS:-3}" --n "${N:-256}" --batch "${BATCH:-128}" \
    --edm "$EDM" --lowdiff "$LOWDIFF" 2>&1 | grep -v NNPACK | tee "$RESULTS/sample_speed.txt"
