#!/usr/bin/env bash
# ONNX Runtime (CPU) against TorchSharp (CPU) on Gen's networks (docs/deploy.md §5). Run alone on a quiet machine.
#   1. gen-bench onnx-speed: EDM sampling (batch 64, 256), classifier inference, open + first 16 images,
#      the Fashion-MNIST extractor,
#      the two engines interleaved in one process, 3 rounds (about 6 minutes);
#   2. peak RSS of `gen sample` of 2,000 images at batch 256 with each engine (separate processes, about 10 minutes);
#   3. gen export of the bundled checkpoints and the Fashion-MNIST extractor with their parity figures, and
#      ONNX's own checker on each graph (bench/onnx/check_graphs.py; needs Debian's python3-onnx).
# bench/onnx/run.sh [all|export|speed|rss]: one part, or all three (default).
# Results in $BENCH_OUT (default runs/bench-onnx); bench/onnx/summarize.py prints the RESULTS.md rows.
set -euo pipefail
cd "$(dirname "$0")/../.."
out="${BENCH_OUT:-runs/bench-onnx}"; mkdir -p "$out"
n="${RSS_IMAGES:-2000}"
part="${1:-all}"
dotnet build -c Release src/Pipeline/Cli/Gen.Cli.csproj -nologo -clp:ErrorsOnly -v:q
dotnet build -c Release bench/tools/Gen.Bench/Gen.Bench.csproj -nologo -clp:ErrorsOnly -v:q
gen() { dotnet src/Pipeline/Cli/bin/Release/net10.0/linux-x64/gen.dll "$@"; }
bench() { dotnet bench/tools/Gen.Bench/bin/Release/net10.0/linux-x64/gen-bench.dll "$@"; }
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%FT%TZ)" | tee "$out/machine.txt"

if [[ "$part" == all || "$part" == export ]]; then
gen export assets/diffusion/fmnist.safetensors --out "$out/edm.onnx" --json > "$out/export-edm.json"
gen export assets/jem/fmnist-jem-at.safetensors --out "$out/jem.onnx" --json > "$out/export-jem.json"
gen export fmnist-extractor --out "$out/fmnist.onnx" --json > "$out/export-fmnist.json"
if /usr/bin/python3 -c "import onnx" 2>/dev/null; then
  /usr/bin/python3 bench/onnx/check_graphs.py "$out"/*.onnx | tee "$out/checker.txt"
else
  echo "python3-onnx is not installed (apt-get install python3-onnx): ONNX's checker not run" | tee "$out/checker.txt"
fi
fi
if [[ "$part" == all || "$part" == speed ]]; then
  bench onnx-speed --rounds 3 --threads 2 | tee "$out/speed.jsonl"
fi
if [[ "$part" == all || "$part" == rss ]]; then
for engine in torch onnx; do
  /usr/bin/time -f "%M %e" -o "$out/rss-$engine.txt" \
    dotnet src/Pipeline/Cli/bin/Release/net10.0/linux-x64/gen.dll sample --engine "$engine" --n "$n" --batch 256 --threads 2 --json > "$out/sample-$engine.json"
  echo "$engine: peak RSS KB, wall s: $(cat "$out/rss-$engine.txt")"
done
fi
/usr/bin/python3 bench/onnx/summarize.py "$out"
