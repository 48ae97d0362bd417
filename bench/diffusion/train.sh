#!/usr/bin/env bash
# The two training runs compared in bench/RESULTS.md "## Diffusion": the EDM baseline and the LowDiff
# cascade 8,16,32, same UNet (C=16, ≈1.03 M parameters), same optimizer, EMA, seed and number of steps
# (pixel-equalised LowDiff batches: every step costs ≈ the FLOPs of a baseline step). Checkpoints every
# 100 steps, sample grids every 400. Resumable: rerun with RESUME=1 after an interruption.
# By default the runs go one after the other with 2 threads each (TRAIN_THREADS): on these 2-core
# machines two 1-thread trainings side by side ran 3× slower each than one 2-thread training alone
# (the UNet step is memory-bound; bench/RESULTS.md "Platform"). PARALLEL=1 runs them side by side with 1 thread.
# KINDS picks the runs (default "edm lowdiff"); a kind named lowdiff* is a cascade, whose resolutions
# come from CASCADE_<kind> (default 8,16,32), e.g. KINDS=lowdiff2 CASCADE_lowdiff2=16,32 for the
# two-stage cascade of docs/methods/diffusion.md §3.6. STAGE_PROBS_<kind> sets --stage-probs and
# STAGE_BATCH_<kind> --stage-batch (fixed: B images at every stage, so a low-resolution step costs less
# and equal compute takes more steps: STEPS = 1500 / the run's step_cost_vs_baseline).
# A kind named cond* trains class-conditionally (--conditional, label dropout 0.1 for classifier-free
# guidance), e.g. KINDS=cond STEPS=2000 for the bundled assets/diffusion/fmnist-cond.safetensors.
source "$(dirname "$0")/common.sh"
build
STEPS="${STEPS:-1500}"
resume=""; [[ "${RESUME:-0}" == 1 ]] && resume="--resume"
export RUNS STEPS BIN resume
for v in ${!CASCADE_*} ${!STAGE_PROBS_*} ${!STAGE_BATCH_*}; do export "$v"; done
train_one() {   # kind threads
  local extra="" cv="CASCADE_$1" pv="STAGE_PROBS_$1" bv="STAGE_BATCH_$1"
  [[ $1 == lowdiff* ]] && extra="--cascade ${!cv:-8,16,32}"
  [[ -n "${!pv:-}" ]] && extra="$extra --stage-probs ${!pv}"
  [[ -n "${!bv:-}" ]] && extra="$extra --stage-batch ${!bv}"
  [[ $1 == cond* ]] && extra="$extra --conditional"
  "$BIN/gen" train diffusion --data fashion-mnist --out "$RUNS/$1" $extra --steps "$STEPS" --threads "$2" \
      --checkpoint-every 100 --sample-every 400 --log-every 10 $resume >> "$RUNS/$1.log" 2>&1
}
if [[ "${PARALLEL:-0}" == 1 ]]; then
  for kind in ${KINDS:-edm lowdiff}; do nohup bash -c "$(declare -f train_one); train_one $kind 1" >/dev/null 2>&1 & done
else
  nohup bash -c "$(declare -f train_one); for kind in ${KINDS:-edm lowdiff}; do train_one \$kind ${TRAIN_THREADS:-2}; done" >/dev/null 2>&1 &
fi
echo "training in the background; logs: $(for k in ${KINDS:-edm lowdiff}; do printf '%s ' "$RUNS/$k.log"; done)"
