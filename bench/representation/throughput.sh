#!/usr/bin/env bash
# Train-step throughput (images/s) of every method, interleaved round by round with an fp32 matmul
# (1024², 1 s) in the same process, so the ratio images/s ÷ GFLOP/s is comparable across machine loads.
#   bench/representation/throughput.sh [--rounds 5] [--steps 5] [--threads 1]
# Writes bench/representation/throughput.json.
set -euo pipefail
cd "$(dirname "$0")/../.."
export GEN_BUILD_SLOT=${GEN_BUILD_SLOT:-repr}
dotnet build -c Release bench/representation/ReprBench/ReprBench.csproj -nologo -clp:ErrorsOnly -v:q
dll=$(ls bench/representation/ReprBench/bin-"$GEN_BUILD_SLOT"/Release/net10.0/*/repr-bench.dll 2>/dev/null || ls bench/representation/ReprBench/bin/Release/net10.0/*/repr-bench.dll)
dotnet "$dll" --json bench/representation/throughput.json "$@"
