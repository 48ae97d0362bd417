#!/usr/bin/env bash
# The shared start of the detection benchmarks, sourced by each script once it has set $out (a folder
# relative to the repository root): strict mode, the repository root as the working folder, $out created,
# a Release build of the gen CLI, gen() to run it, timed NAME CMD… (runs CMD and appends its wall time
# to $out/timings.txt) and log_machine (cores, CPU, load and time, to the screen and $out/timings.txt).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
mkdir -p "$out"
dotnet build -c Release src/Pipeline/Cli/Gen.Cli.csproj -nologo -clp:ErrorsOnly -v:q
gen() { dotnet src/Pipeline/Cli/bin/Release/net10.0/linux-x64/gen.dll "$@"; }
timed() { local name=$1; shift; local t0; t0=$(date +%s.%N); "$@"; echo "$name $(echo "$(date +%s.%N) - $t0" | bc) s" >> "$out/timings.txt"; }
log_machine() { echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%FT%TZ)" | tee -a "$out/timings.txt"; }
