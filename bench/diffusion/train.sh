#!/usr/bin/env bash
# The two training runs compared in bench/RESULTS.md "## Diffusion": the EDM baseline and the LowDiff
# cascade 8,16,32, same UNet (C=16, ≈1.03 M parameters), same optimizer, EMA, seed and number of steps
# (pixel-equalised LowDiff batches: every step costs ≈ the FLOPs of a baseline step). They run side by
# side with one thread each, so both see the same machine load; checkpoints every 100 steps, sample
# grids every 400. Resumable: rerun with RESUME=1 after an interruption.
source "$(dirname "$0")/common.sh"
build
STEPS="${STEPS:-1200}"
resume=""; [[ "${RESUME:-0}" == 1 ]] && resume="--resume"
for kind in edm lowdiff; do
  extra=""; [[ $kind == lowdiff ]] && extra="--cascade 8,16,32"
  nohup "$BIN/gen" train diffusion --data fashion-mnist --out "$RUNS/$kind" $extra --steps "$STEPS" --threads "$THREADS" \
        --checkpoint-every 100 --sample-every 400 --log-every 10 $resume > "$RUNS/$kind.log" 2>&1 &
  echo "$kind: pid $! log $RUNS/$kind.log"
done
