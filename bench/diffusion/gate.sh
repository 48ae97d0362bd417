#!/usr/bin/env bash
# The LowDiff gate of docs/methods/diffusion.md §4: LowDiff images/s ≥ 1.5× the EDM baseline (Heun, N = 18)
# and FD-FMNIST ≤ baseline + max(2·sd over seed sets, 5 %), both from this one run. For each seed set the
# two samplers run back to back (EDM, then LowDiff, alternating), so the speed ratio of a seed set comes from
# adjacent calls on the same machine state; the summary gives the median ratio and the mean ± sd of FD-FMNIST.
#   bench/diffusion/gate.sh                                   # the bundled EDM and LowDiff checkpoints
#   LOWDIFF=runs/diff/lowdiff2 LOW_OPTS="--stage-steps 18,6 --sampler heun,dpmpp-2m" bench/diffusion/gate.sh
# EDM, LOWDIFF: checkpoints; EDM_OPTS, LOW_OPTS: their sampler options; SEEDSETS (3) disjoint sets of N (1000)
# images, set s starting at seed s·100000; ENGINE (auto, what a user gets); TAG names the rows in gate.jsonl.
source "$(dirname "$0")/common.sh"
build
EDM="${EDM:-$ROOT/assets/diffusion/fmnist.safetensors}"; LOWDIFF="${LOWDIFF:-$ROOT/assets/diffusion/fmnist-lowdiff.safetensors}"
# The LowDiff default is the measured recipe of docs/methods/diffusion.md §3.6.
EDM_OPTS="${EDM_OPTS:---steps 18}"; LOW_OPTS="${LOW_OPTS:---stage-steps 10,8 --sampler dpmpp-2m --sigma-start 8}"
N="${N:-1000}"; SEEDSETS="${SEEDSETS:-3}"; TAG="${TAG:-gate}"; export ENGINE="${ENGINE:-auto}"
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%FT%TZ), engine $ENGINE" | tee -a "$RESULTS/gate.txt"
for s in $(seq 0 $((SEEDSETS - 1))); do
  seed=$((s * 100000))
  # shellcheck disable=SC2086
  sample_fid "$TAG-edm" "$TAG-edm-s$s" "$EDM" "$N" "$seed" $EDM_OPTS
  # shellcheck disable=SC2086
  sample_fid "$TAG-lowdiff" "$TAG-lowdiff-s$s" "$LOWDIFF" "$N" "$seed" $LOW_OPTS
done
/usr/bin/python3 - "$RESULTS/fid.jsonl" "$TAG" "$SEEDSETS" <<'PY' | tee -a "$RESULTS/gate.txt"
import json, statistics as st, sys
path, tag, k = sys.argv[1], sys.argv[2], int(sys.argv[3])
rows = [json.loads(l) for l in open(path) if l.strip()]
edm = [r for r in rows if r["series"] == tag + "-edm"][-k:]
low = [r for r in rows if r["series"] == tag + "-lowdiff"][-k:]
fe, fl = [r["fid"] for r in edm], [r["fid"] for r in low]
ratios = [l["images_per_s"] / e["images_per_s"] for e, l in zip(edm, low)]
sd = st.stdev(fe) if k > 1 else 0.0
limit = st.mean(fe) + max(2 * sd, 0.05 * st.mean(fe))
speed = st.median(ratios)
print(f"{tag}: EDM {edm[0]['options']!r} FD {st.mean(fe):.3f} ± {sd:.3f}, {st.median(r['images_per_s'] for r in edm):.2f} img/s, NFE32 {edm[0]['nfe32']}")
print(f"{tag}: LowDiff {low[0]['options']!r} FD {st.mean(fl):.3f} ± {st.stdev(fl) if k > 1 else 0:.3f}, {st.median(r['images_per_s'] for r in low):.2f} img/s, NFE32 {low[0]['nfe32']}")
print(f"{tag}: speed-up per seed set {', '.join(f'{x:.2f}' for x in ratios)} (median {speed:.2f}x, gate 1.5x: {'pass' if speed >= 1.5 else 'MISS'}); "
      f"FD limit {limit:.3f} (LowDiff mean {st.mean(fl):.3f}: {'pass' if st.mean(fl) <= limit else 'MISS'})")
PY
