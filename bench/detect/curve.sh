#!/usr/bin/env bash
# The detection curve of a diffusion training run beside its FD-FMNIST curve (docs/methods/detection.md
# §1): trains a short EDM run with snapshots, then `gen fid-curve` and `gen detect-curve` on it, and
# copies the combined plot to docs/images/detect-curve.png. Run alone on a quiet machine.
# Usage: [CURVE_STEPS=450 CURVE_EVERY=150] bench/detect/curve.sh. Results: $BENCH_OUT/run/{fid,detect}_curve.json.
set -euo pipefail
cd "$(dirname "$0")/../.."
out="${BENCH_OUT:-runs/bench-detect-curve}"
steps="${CURVE_STEPS:-450}"
every="${CURVE_EVERY:-150}"
mkdir -p "$out"
dotnet build -c Release src/Pipeline/Cli/Gen.Cli.csproj -nologo -clp:ErrorsOnly -v:q
gen() { dotnet src/Pipeline/Cli/bin/Release/net10.0/linux-x64/gen.dll "$@"; }
timed() { local name=$1; shift; local t0; t0=$(date +%s.%N); "$@"; echo "$name $(echo "$(date +%s.%N) - $t0" | bc) s" >> "$out/timings.txt"; }
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%FT%TZ)" | tee -a "$out/timings.txt"

if [ ! -f "$out/run/last.safetensors" ]; then
  if [ -f "$out/run/state.safetensors" ]; then resume=--resume; else resume=; fi
  timed train gen train diffusion --data fashion-mnist --out "$out/run" --steps "$steps" --threads 2 \
      --checkpoint-every "$every" --sample-every 0 --log-every 10 $resume --json > "$out/train.json"
fi
timed fid-curve gen fid-curve "$out/run" --ref fashion-mnist:test --extractor fmnist --n 1000 --json > "$out/fid-curve.json"
timed detect-curve gen detect-curve "$out/run" --real fashion-mnist:test --n 1000 --n-test 500 --json > "$out/detect-curve.json"
cp "$out/run/detect_curve.png" docs/images/detect-curve.png
