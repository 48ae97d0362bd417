#!/usr/bin/env bash
# Pipeline benchmarks (docs/architecture.md "Stages"): the content hash that keys stage folders, on
# a folder of 10,000 PNGs, and the shipped quick pipeline end to end, first run and cached rerun.
# Run on a quiet machine, alone. Usage: bench/pipeline/run.sh [all|hash|quick]
set -euo pipefail
cd "$(dirname "$0")/../.."
what="${1:-all}"
out="${BENCH_OUT:-runs/bench-pipeline}"
dotnet build -c Release src/Pipeline/Cli/Gen.Cli.csproj -nologo -clp:ErrorsOnly -v:q
dotnet build -c Release bench/tools/Gen.Bench/Gen.Bench.csproj -nologo -clp:ErrorsOnly -v:q
gen() { dotnet src/Pipeline/Cli/bin/Release/net10.0/linux-x64/gen.dll "$@"; }
bench() { dotnet bench/tools/Gen.Bench/bin/Release/net10.0/linux-x64/gen-bench.dll "$@"; }
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%FT%TZ)"

if [[ "$what" == all || "$what" == hash ]]; then
  bench hash --n 10000 --rounds 5
fi

if [[ "$what" == all || "$what" == quick ]]; then
  rm -rf "$out/quick"
  for run in first rerun; do
    start=$(date +%s.%N)
    gen run assets/pipelines/fmnist-quick.json --out "$out/quick" > "$out/quick-$run.log" 2>&1
    end=$(date +%s.%N)
    echo "fmnist-quick $run: $(echo "$end - $start" | bc -l | cut -c1-7) s wall (log $out/quick-$run.log)"
  done
  tail -n 8 "$out/quick-first.log"
fi
