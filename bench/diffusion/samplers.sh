#!/usr/bin/env bash
# The sampler catalogue (docs/methods/diffusion.md §2.5) on one checkpoint: FD-FMNIST of N = 1,000 samples
# (seeds 100000–100999, the main job's) against the bundled Fashion-MNIST test statistics, for each
# sampler at several step counts, with the NFE each costs; then the FD-vs-NFE plot of every model run so far.
#   bench/diffusion/samplers.sh                                        # the bundled EDM checkpoint
#   MODEL=runs/diff/lowdiff2 LABEL=lowdiff2 SPECS="heun,dpmpp-2m:18,6 dpmpp-2m:10,4" bench/diffusion/samplers.sh
# A spec is SAMPLER:STEPS[:SIGMA_START]; for a cascade both may list one value per stage (then STEPS goes
# to --stage-steps). Rows go to $BENCH_OUT/samplers-$LABEL.jsonl (default folder runs/bench-samplers);
# the plot (bench/diffusion/samplers_fd_vs_nfe.png) has one line per model and sampler set.
# Default engine (ONNX Runtime for the denoiser). Images/s are from sequential runs, not interleaved.
set -euo pipefail
cd "$(dirname "$0")/../.."
out="${BENCH_OUT:-runs/bench-samplers}"; mkdir -p "$out"
MODEL="${MODEL:-assets/diffusion/fmnist.safetensors}"; LABEL="${LABEL:-edm}"
SPECS="${SPECS:-heun:6 heun:10 heun:18 euler:10 euler:18 euler:35 dpmpp-2m:6 dpmpp-2m:10 dpmpp-2m:18 euler-a:18 euler-a:35}"
dotnet build -c Release src/Pipeline/Cli/Gen.Cli.csproj -nologo -clp:ErrorsOnly -v:q
gen() { dotnet src/Pipeline/Cli/bin/Release/net10.0/linux-x64/gen.dll "$@"; }
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%FT%TZ), $LABEL = $MODEL" | tee -a "$out/machine.txt"
rows="$out/samplers-$LABEL.jsonl"; : > "$rows"
for spec in $SPECS; do
  IFS=: read -r s n ss <<< "$spec"
  d="$out/$LABEL-${spec//[:,]/-}"; rm -rf "$d"
  opts=(--sampler "$s"); if [[ $n == *,* ]]; then opts+=(--stage-steps "$n"); else opts+=(--steps "$n"); fi
  [[ -n "$ss" ]] && opts+=(--sigma-start "$ss")
  gen sample "$MODEL" "${opts[@]}" --seed 100000 --n 1000 --out "$d" --threads 2 --json > "$d.sample.json"
  gen fid "$d" fashion-mnist:test --extractor fmnist --threads 2 --json > "$d.fid.json"
  /usr/bin/python3 - "$LABEL" "$s" "$n" "${ss:-}" "$d" >> "$rows" <<'PY'
import json, sys
label, s, n, ss, d = sys.argv[1:6]
a = json.load(open(d + ".sample.json")); f = json.load(open(d + ".fid.json"))
print(json.dumps({"model": label, "sampler": s, "steps": n, "sigma_start": float(ss) if ss else None,
                  "nfe": sum(st["nfe"] for st in a["stages"]), "nfe32": a["nfe_full_res_equivalent"],
                  "fd_fmnist": f["value"], "images_per_s": a["images_per_s"], "engine": a["engine"]}))
PY
  tail -n 1 "$rows"
  rm -rf "$d"
done
# One plot line per (model, sampler set) over every model measured so far; σ_start variants stay out of it.
/usr/bin/python3 - "$out" > "$out/plot.jsonl" <<'PY'
import glob, json, sys
for path in sorted(glob.glob(sys.argv[1] + "/samplers-*.jsonl")):
    for line in open(path):
        if not line.strip(): continue
        r = json.loads(line)
        if r.get("sigma_start") is not None: continue
        print(json.dumps({"series": f"{r.get('model', 'edm')} {r['sampler']}", "nfe32": r.get("nfe32", r["nfe"]), "fid": r["fd_fmnist"]}))
PY
source bench/diffusion/common.sh >/dev/null && build
"$BIN/diff-bench" plot --in "$out/plot.jsonl" --out bench/diffusion/samplers_fd_vs_nfe.png --x nfe32 \
    --title "FD-FMNIST vs NFE per sampler" | grep -v NNPACK
