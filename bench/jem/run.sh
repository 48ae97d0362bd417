#!/usr/bin/env bash
# JEM-AT on Fashion-MNIST (docs/methods/jem-at.md §3–4): trains the plain baseline and stage 1 → stage 2
# for each seed, then measures B1 (robustness, also against the plain snapshot of matched clean
# accuracy), B2 (generation: self-accuracy, plain agreement, energy gap, FD-FMNIST of 1,000 samples),
# B3 (stability: NaN, T by iteration 150, stage 2 vs stage 1) and the cost beside the matmul peak.
# Run alone on a quiet machine. Usage: [JEM_ARGS="--attack-eps 0.5"] bench/jem/run.sh [SEED ...]   (default: 0)
# Results: $BENCH_OUT/seedS/*.json, then bench/jem/summarize.py prints the RESULTS.md rows.
# Memory diagnostic of RESULTS.md (heap in use vs RSS while T stays at 30), after a seed-0 run:
#   gen train jem --stage 2 --init $BENCH_OUT/seed0/jem/stage1 --steps 150 --auc-window 1 --log-every 10 \
#       --eval-every 0 --out runs/memdiag   # then read rss_mb and heap_in_use_mb in runs/memdiag/metrics.jsonl
set -euo pipefail
cd "$(dirname "$0")/../.."
out="${BENCH_OUT:-runs/bench-jem}"
seeds=("${@:-0}")
mkdir -p "$out"
dotnet build -c Release src/Pipeline/Cli/Gen.Cli.csproj -nologo -clp:ErrorsOnly -v:q
dotnet build -c Release bench/tools/Gen.Bench/Gen.Bench.csproj -nologo -clp:ErrorsOnly -v:q
gen() { dotnet src/Pipeline/Cli/bin/Release/net10.0/linux-x64/gen.dll "$@"; }
bench() { dotnet bench/tools/Gen.Bench/bin/Release/net10.0/linux-x64/gen-bench.dll "$@"; }
attacks="l2:0.5,l2:1,l2:1.5,linf:0.05,linf:0.1"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%FT%TZ)"

for s in "${seeds[@]}"; do
  d="$out/seed$s"; mkdir -p "$d"
  bench matmul > "$d/matmul-before.txt"
  [ -f "$d/plain/last.safetensors" ] || gen train jem --stage plain --seed "$s" --out "$d/plain" --json > "$d/train-plain.json"
  [ -f "$d/jem/last.safetensors" ] || gen train jem --stage both --seed "$s" --out "$d/jem" ${JEM_ARGS:-} --json > "$d/train-jem.json"
  bench matmul > "$d/matmul-after.txt"

  # B1: stage 2 (EMA) and stage 1 against the fully trained plain model, PGD-20 on 1,000 test images.
  gen robust "$d/jem" --baseline "$d/plain" --attacks "$attacks" --n 1000 --json > "$d/robust-dat-vs-plain.json"
  gen robust "$d/jem/stage1" --attacks "$attacks" --n 1000 --json > "$d/robust-stage1.json"
  # The plain snapshot whose clean accuracy on the same 1,000 images is nearest stage 2's (within
  # ±2 points is the gate's match): clean accuracy of every first-epoch snapshot (a 1-step attack
  # costs little and reports the clean accuracy), then the full attacks on the nearest one.
  for f in "$d"/plain/checkpoints/step-*.safetensors; do
    step=$(basename "$f" .safetensors); step=$((10#${step#step-}))
    [ "$step" -le 475 ] || continue
    gen robust "$f" --attacks l2:0.5 --steps 1 --n 1000 --json > "$d/clean-plain-$step.json"
  done
  matched=$(python3 - "$d" <<'PY'
import glob, json, sys
d = sys.argv[1]
dat = json.load(open(f"{d}/robust-dat-vs-plain.json"))["models"][0]["clean_accuracy"]
best = min(glob.glob(f"{d}/clean-plain-*.json"), key=lambda f: abs(json.load(open(f))["models"][0]["clean_accuracy"] - dat))
print(json.load(open(best))["models"][0]["checkpoint"])
PY
)
  gen robust "$matched" --attacks "$attacks" --n 1000 --json > "$d/robust-plain-matched.json"

  # B2: generation checks and FD-FMNIST of 1,000 samples.
  bench jem-gen --model "$d/jem" --judge "$d/plain" --n 100 > "$d/generation.json"
  gen fid "$d/jem" fashion-mnist:test --extractor fmnist --n 1000 --json > "$d/fd-fmnist.json"
  gen sample "$d/jem" --n 100 --columns 10 --grid "$d/grid.png" > /dev/null
done
python3 bench/jem/summarize.py "$out" "${seeds[@]}"
