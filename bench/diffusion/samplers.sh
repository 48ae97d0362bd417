#!/usr/bin/env bash
# The sampler catalogue on the bundled EDM checkpoint (docs/methods/diffusion.md §2.5): FD-FMNIST of 1,000
# samples (seeds 100000–100999, the main job's) against the bundled Fashion-MNIST test statistics, for each
# sampler at several step counts, with the NFE each costs. Default engine (ONNX Runtime for the denoiser).
#   bench/diffusion/samplers.sh            # results in $BENCH_OUT (default runs/bench-samplers)
set -euo pipefail
cd "$(dirname "$0")/../.."
out="${BENCH_OUT:-runs/bench-samplers}"; mkdir -p "$out"
dotnet build -c Release src/Pipeline/Cli/Gen.Cli.csproj -nologo -clp:ErrorsOnly -v:q
gen() { dotnet src/Pipeline/Cli/bin/Release/net10.0/linux-x64/gen.dll "$@"; }
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%FT%TZ)" | tee "$out/machine.txt"
: > "$out/samplers.jsonl"
for spec in heun:6 heun:10 heun:18 euler:10 euler:18 euler:35 dpmpp-2m:6 dpmpp-2m:10 dpmpp-2m:18 euler-a:18 euler-a:35; do
  s="${spec%%:*}"; n="${spec##*:}"; d="$out/$s-$n"
  rm -rf "$d"
  gen sample --sampler "$s" --steps "$n" --seed 100000 --n 1000 --out "$d" --threads 2 --json > "$d.sample.json"
  gen fid "$d" fashion-mnist:test --extractor fmnist --threads 2 --json > "$d.fid.json"
  /usr/bin/python3 - "$s" "$n" "$d" >> "$out/samplers.jsonl" <<'PY'
import json, sys
s, n, d = sys.argv[1], int(sys.argv[2]), sys.argv[3]
a = json.load(open(d + ".sample.json")); f = json.load(open(d + ".fid.json"))
print(json.dumps({"sampler": s, "steps": n, "nfe": a["stages"][0]["nfe"], "fd_fmnist": f["value"], "images_per_s": a["images_per_s"], "engine": a["engine"]}))
PY
  tail -n 1 "$out/samplers.jsonl"
  rm -rf "$d"
done
