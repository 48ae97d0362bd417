#!/usr/bin/env bash
# Latent Zoning Network on Fashion-MNIST (docs/methods/lzn.md "Benchmarks"). Run alone on a quiet machine.
#   bench/lzn/run.sh short   the spec's short-run gates: 300 steps, batch 64, seed 0 (about 4 minutes)
#   bench/lzn/run.sh long    assets/pipelines/lzn-fmnist.json (lzn, clf and rf at 5,000 steps, probes,
#                            1,000 samples and FD-FMNIST), then the sample accuracy of 1,000 class-balanced
#                            samples, the test accuracy by start-noise std and by classification chunk; the
#                            matmul peak before and after
# Results: $BENCH_OUT/{short,long}/*; bench/lzn/summarize.py prints the RESULTS.md rows.
set -euo pipefail
cd "$(dirname "$0")/../.."
what="${1:-short}"
out="${BENCH_OUT:-runs/bench-lzn}"
dotnet build -c Release src/Pipeline/Cli/Gen.Cli.csproj -nologo -clp:ErrorsOnly -v:q
dotnet build -c Release bench/tools/Gen.Bench/Gen.Bench.csproj -nologo -clp:ErrorsOnly -v:q
gen() { dotnet src/Pipeline/Cli/bin/Release/net10.0/linux-x64/gen.dll "$@"; }
bench() { dotnet bench/tools/Gen.Bench/bin/Release/net10.0/linux-x64/gen-bench.dll "$@"; }
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%FT%TZ)"

if [[ "$what" == short ]]; then
  d="$out/short"; mkdir -p "$d"
  bench matmul --threads 2 > "$d/matmul-before.txt"
  for b in none clf rf; do
    [ -f "$d/$b/last.safetensors" ] || gen train lzn --baseline "$b" --steps 300 --eval-every 300 --seed 0 --threads 2 --out "$d/$b" --json > "$d/train-$b.json"
  done
  bench matmul --threads 2 > "$d/matmul-after.txt"
  bench lzn-acc --model "$d/none" --n 1000 > "$d/acc-lzn.json"
  bench lzn-acc --model "$d/rf" --n 1000 > "$d/acc-rf.json"
fi

if [[ "$what" == long ]]; then
  d="$out/long"; mkdir -p "$d"
  bench matmul --threads 2 > "$d/matmul-before.txt"
  gen run assets/pipelines/lzn-fmnist.json --out "$d/pipeline" --json > "$d/pipeline.json"
  bench matmul --threads 2 > "$d/matmul-after.txt"
  stage() { find "$d/pipeline" -maxdepth 1 -regextype posix-extended -regex ".*/$1-[0-9a-f]{16}" | head -1; }
  bench lzn-acc --model "$(stage lzn)" --n 1000 > "$d/acc-lzn.json"
  bench lzn-acc --model "$(stage rf)" --n 1000 > "$d/acc-rf.json"
  bench lzn-acc --model "$(stage clf)" > "$d/acc-clf.json"
  for b in 16 64 256 1000; do     # test accuracy by classification chunk (prior-std 0)
    gen classify "$(stage lzn)" fashion-mnist:test --batch "$b" --json --threads 2 > "$d/classify-batch-$b.json"
  done
fi
