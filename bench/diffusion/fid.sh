#!/usr/bin/env bash
# FD-FMNIST (Gen.Metrics' Fashion-MNIST extractor, `gen fid … --extractor fmnist`) of sampled images
# against the Fashion-MNIST test split (10k, bundled statistics). Appends to results/fid.jsonl:
#   main: EDM N=18 vs LowDiff (18,8,6) on SEEDSETS disjoint seed sets of N images each;
#   bf16: both models sampled in bf16 (first seed set);
#   sweep: EDM N ∈ {6,10,13,25}, LowDiff N₂ ∈ {4,8,10} and σ_start ∈ {1,5} on the first seed set with N_SWEEP images;
#   anchors: train 10k vs test (F_floor), test after down/up to 16² and 8² (F_up16, F_up8).
# Then plots FID against 32²-equivalent NFE (bench/diffusion/fid_vs_nfe.png).
source "$(dirname "$0")/common.sh"
build
EDM="${EDM:-$RUNS/edm}"; LOWDIFF="${LOWDIFF:-$RUNS/lowdiff}"
N="${N:-2000}"; N_SWEEP="${N_SWEEP:-1000}"; SEEDSETS="${SEEDSETS:-3}"
PARTS="${PARTS:-anchors main bf16 sweep}"
for part in $PARTS; do
  case $part in
    anchors)
      "$BIN/diff-bench" anchors --threads "$THREADS" --out "$RUNS/anchors" | grep -v NNPACK
      for a in train10k up16 up8; do
        "$BIN/gen" fid "$RUNS/anchors/$a" fashion-mnist:test --extractor fmnist --threads "$THREADS" --json > "$OUT/anchor-$a.fid.json"
        /usr/bin/python3 -c "import json,sys; f=json.load(open(sys.argv[1])); print(json.dumps({'series':'anchor','tag':sys.argv[2],'fid':f['value'],'n':10000}))" "$OUT/anchor-$a.fid.json" "$a" >> "$RESULTS/fid.jsonl"
        tail -n 1 "$RESULTS/fid.jsonl"
      done;;
    main)
      for s in $(seq 0 $((SEEDSETS - 1))); do
        seed=$((s * 100000))
        sample_fid edm "edm-n18-s$s" "$EDM" "$N" "$seed" --steps 18
        sample_fid lowdiff "lowdiff-18-8-6-s$s" "$LOWDIFF" "$N" "$seed" --stage-steps 18,8,6
      done;;
    bf16)
      sample_fid edm-bf16 edm-n18-bf16 "$EDM" "$N" 0 --steps 18 --bf16
      sample_fid lowdiff-bf16 lowdiff-18-8-6-bf16 "$LOWDIFF" "$N" 0 --stage-steps 18,8,6 --bf16;;
    sweep)
      for n in ${EDM_SWEEP-6 10 13 25}; do sample_fid edm-sweep "edm-n$n" "$EDM" "$N_SWEEP" 0 --steps $n; done
      sample_fid edm-sweep edm-n18 "$EDM" "$N_SWEEP" 0 --steps 18
      for n2 in ${LOW_SWEEP-4 6 8 10}; do sample_fid lowdiff-sweep "lowdiff-18-8-$n2" "$LOWDIFF" "$N_SWEEP" 0 --stage-steps 18,8,$n2; done
      for ss in ${SIGMA_SWEEP-1 5}; do sample_fid lowdiff-sigma "lowdiff-sigma$ss" "$LOWDIFF" "$N_SWEEP" 0 --stage-steps 18,8,6 --sigma-start $ss; done;;
  esac
done
/usr/bin/python3 - "$RESULTS/fid.jsonl" "$RESULTS/fid_sweep.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
# The sweep rows plus the main comparison's first seed set (same seeds 0…N−1), fp32 only, one point per
# (model, NFE); σ_start variants are left out (same NFE as the default, listed in RESULTS.md instead).
points = {}
for r in rows:
    series = {"edm-sweep": "edm", "lowdiff-sweep": "lowdiff", "edm": "edm", "lowdiff": "lowdiff"}.get(r["series"])
    if series and r.get("first_seed") == 0 and r.get("dtype") == "fp32":
        points[(series, r["nfe32"])] = {"series": series, "nfe32": r["nfe32"], "ips": r["images_per_s"], "fid": r["fid"], "n": r["n"]}
with open(sys.argv[2], "w") as f:
    for p in sorted(points.values(), key=lambda p: (p["series"], p["nfe32"])):
        f.write(json.dumps(p) + "\n")
PY
"$BIN/diff-bench" plot --in "$RESULTS/fid_sweep.jsonl" --out "$ROOT/bench/diffusion/fid_vs_nfe.png" --x nfe32 --xlabel "32²-equivalent NFE per image" | grep -v NNPACK
# No FID-vs-images/s plot: these runs are sequential on a shared machine whose speed varied 2-3x between
# them (docs/platform.md §9), so their images/s are not comparable; speed ratios come from speed.sh (interleaved).
