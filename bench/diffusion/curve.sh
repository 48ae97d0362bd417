#!/usr/bin/env bash
# A diffusion run's training curve with any sampler options (bench/RESULTS.md "The LowDiff gate, third round"):
# FD-FMNIST of N samples (seeds SEED…, default 100000–100999, the main job's) for the snapshots of RUN at
# STEPS, against training images seen (steps × BATCH). `gen fid-curve` does this with the checkpoint's default
# sampler; this script passes OPTS to `gen sample`, e.g. a LowDiff recipe.
#   RUN=runs/diff/lowdiff2fl STEPS="600 1200 2400 2727 3600 5454" \
#     OPTS="--stage-steps 10,8 --sampler dpmpp-2m --sigma-start 8" TAG=curve-lowdiff2f bench/diffusion/curve.sh
# Rows: $RESULTS/fid.jsonl (series TAG, one per snapshot); table $RESULTS/TAG.txt; plot $RESULTS/TAG.png.
source "$(dirname "$0")/common.sh"
build
RUN="${RUN:?set RUN to a training run folder}"; TAG="${TAG:-curve}"; N="${N:-1000}"; SEED="${SEED:-100000}"
BATCH="${BATCH:-128}"; OPTS="${OPTS:-}"; THREADS="${CURVE_THREADS:-2}"
for s in ${STEPS:?set STEPS to snapshot steps, e.g. \"500 1000 1500\"}; do
  f="$RUN/checkpoints/step-$(printf '%08d' "$s").safetensors"
  [[ -f "$f" ]] || { echo "error: $f is missing; pick STEPS among the run's snapshots" >&2; exit 2; }
  # shellcheck disable=SC2086
  sample_fid "$TAG" "$TAG-$s" "$f" "$N" "$SEED" $OPTS
done
/usr/bin/python3 - "$RESULTS/fid.jsonl" "$TAG" "$BATCH" "$RESULTS/$TAG" <<'PY'
import json, sys
path, tag, batch, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
rows = {}
for line in open(path):
    if line.strip() and (r := json.loads(line))["series"] == tag: rows[r["step"]] = r   # the latest row per step
with open(out + ".txt", "w") as t, open(out + ".plot.jsonl", "w") as p:
    print(f"{tag}: step, training images seen, FD-FMNIST ({rows[min(rows)]['options']!r}, N = {rows[min(rows)]['n']})", file=t)
    for step in sorted(rows):
        print(f"{step}\t{step * batch}\t{rows[step]['fid']:.3f}", file=t)
        print(json.dumps({"series": tag, "images_seen": step * batch, "fid": rows[step]["fid"]}), file=p)
print(open(out + ".txt").read(), end="")
PY
"$BIN/diff-bench" plot --in "$RESULTS/$TAG.plot.jsonl" --out "$RESULTS/$TAG.png" --x images_seen \
    --xlabel "training images seen" --title "FD-FMNIST against training ($TAG)" | grep -v NNPACK || true
rm -f "$RESULTS/$TAG.plot.jsonl"
