#!/usr/bin/env bash
# Foundation benchmarks (the classifier, docs/methods/classifier.md). Run on a quiet machine; prints the figures that go into
# bench/RESULTS.md. Usage: bench/classifier/run.sh [all|accuracy|throughput|memory|startup]
set -euo pipefail
cd "$(dirname "$0")/../.."
what="${1:-all}"
out="${BENCH_OUT:-runs/bench-classifier}"
mkdir -p "$out"
dotnet build -c Release src/Pipeline/Cli/Gen.Cli.csproj -nologo -clp:ErrorsOnly -v:q
dotnet build -c Release bench/tools/Gen.Bench/Gen.Bench.csproj -nologo -clp:ErrorsOnly -v:q
gen() { dotnet src/Pipeline/Cli/bin/Release/net10.0/linux-x64/gen.dll "$@"; }
bench() { dotnet bench/tools/Gen.Bench/bin/Release/net10.0/linux-x64/gen-bench.dll "$@"; }
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%FT%TZ)"

if [[ "$what" == all || "$what" == startup ]]; then
  # `gen --help` must answer without loading libtorch: wall time of 10 runs.
  start=$(date +%s.%N); for i in $(seq 10); do gen --help >/dev/null; done; end=$(date +%s.%N)
  echo "startup: gen --help mean $(echo "($end - $start) / 10" | bc -l | cut -c1-5) s over 10 runs"
  GEN_TRACE_NATIVE=1 gen data info fashion-mnist 2>&1 >/dev/null | grep native
fi

if [[ "$what" == all || "$what" == throughput ]]; then
  # Train-step throughput and achieved GFLOP/s, interleaved with the fp32 matmul peak.
  bench classifier-step --rounds 5 --steps 30 --batch 128 --width 32 --stem-stride 2
fi

if [[ "$what" == all || "$what" == accuracy ]]; then
  # The default recipe end to end: training wall time (elapsed_s before the final evaluation) and test accuracy.
  rm -rf "$out/accuracy"
  gen train classifier --data fashion-mnist --out "$out/accuracy" --json > "$out/accuracy.json"
  python3 - "$out/accuracy" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1] + "/metrics.jsonl")]
train = [r for r in rows if "loss" in r]
acc = [r for r in rows if "test_acc" in r][-1]
print(f"accuracy: {100 * acc['test_acc']:.2f}% after {int(train[-1]['step'])} steps, "
      f"{train[-1]['epoch']:.1f} epochs, training wall time {train[-1]['elapsed_s'] / 60:.1f} min, "
      f"median {sorted(r['images_per_s'] for r in train)[len(train) // 2]:.0f} img/s")
PY
fi

if [[ "$what" == all || "$what" == memory ]]; then
  # Resident memory over 2,000 training steps: growth after warm-up (step 200) must stay under 5%.
  rm -rf "$out/memory"
  gen train classifier --data fashion-mnist --out "$out/memory" --steps 2000 --log-every 50 --checkpoint-every 500 >/dev/null 2>&1
  python3 - "$out/memory" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1] + "/metrics.jsonl") if "rss_mb" in l]
warm = next(r["rss_mb"] for r in rows if r["step"] >= 200)
last = rows[-1]["rss_mb"]
peak = max(r["rss_mb"] for r in rows if r["step"] >= 200)
print(f"memory: RSS {warm:.0f} MB at step 200, {last:.0f} MB at step {int(rows[-1]['step'])} "
      f"(growth {100 * (last - warm) / warm:+.1f}%, peak after warm-up {peak:.0f} MB)")
PY
fi
