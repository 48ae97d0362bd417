#!/usr/bin/env bash
# bench/metrics/evalgen.sh: the one-pass evaluation (gen eval-gen) of docs/methods/metrics.md.
# Every gen call pins --engine torch: these figures are TorchSharp's (bench/onnx/run.sh compares the engines).
#   cost     what the metrics cost after extraction, 10k vs 10k Inception-width (2048-d) random features:
#            the k-NN metrics (three 10k×10k float64 distance passes), KID, covariances + Fréchet
#   speed    gen eval-gen --metrics fid,kid,is,pr,dc against gen fid alone on the same inputs, interleaved
#            rounds (Inception network with random weights: the real ones are not served on this machine;
#            the cost is the same, the values mean nothing), fp32 extraction (DTYPE=bf16 for bf16; with
#            these random weights bf16 ran far slower than fp32, see bench/RESULTS.md), SPEED_N images a side
#   quality  FD-FMNIST, precision, recall, density, coverage with 200-replicate bootstrap intervals for the
#            bundled diffusion checkpoint (1,000 samples, Heun N = 18) and the anchors (1,000 train images;
#            1,000 test images through 16² and 8²), all against the 10,000 test images; FD-FMNIST against N
#            of the same samples with its extrapolation FD∞. With LOWDIFF=CKPT a LowDiff row joins the table,
#            sampled with LOW_OPTS (default: the gate's settings of bench/diffusion/gate.sh)
# Usage: bash bench/metrics/evalgen.sh [all|cost|speed|quality]   (THREADS, default 2; ROUNDS, default 2; N, default 1000)
set -euo pipefail
cd "$(dirname "$0")/../.."
what="${1:-all}"
THREADS=${THREADS:-2}
ROUNDS=${ROUNDS:-2}
N=${N:-1000}
SPEED_N=${SPEED_N:-500}
DTYPE=${DTYPE:-float32}
OUT=${OUT:-runs/bench-evalgen}
RESULTS=bench/metrics/results
mkdir -p "$OUT" "$RESULTS"
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
LOG="$RESULTS/evalgen-$STAMP.txt"
slot=${GEN_BUILD_SLOT:+-$GEN_BUILD_SLOT}
dotnet build src/Pipeline/Cli -c Release -v q --nologo > /dev/null
dotnet build bench/tools/Gen.Bench -c Release -v q --nologo > /dev/null
dotnet build bench/diffusion/DiffBench -c Release -v q --nologo > /dev/null
GEN="dotnet src/Pipeline/Cli/bin$slot/Release/net10.0/linux-x64/gen.dll"
BENCH="dotnet bench/tools/Gen.Bench/bin$slot/Release/net10.0/linux-x64/gen-bench.dll"
DIFF="dotnet bench/diffusion/DiffBench/bin$slot/Release/net10.0/linux-x64/diff-bench.dll"
say() { echo "$*" | tee -a "$LOG"; }
load() { cut -d' ' -f1-3 /proc/loadavg; }
say "# bench/metrics/evalgen.sh $STAMP: $what, $THREADS threads, $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(load)"

if [[ "$what" == all || "$what" == cost ]]; then
  say "## metric cost after extraction"
  $BENCH metric-cost --n 10000 --d 2048 --threads "$THREADS" | tee -a "$LOG"
fi

if [[ "$what" == all || "$what" == speed ]]; then
  say "## eval-gen (fid,kid,is,pr,dc) vs gen fid alone: A = fashion-mnist:train first $SPEED_N, B = fashion-mnist:test first $SPEED_N, Inception $DTYPE"
  W="$OUT/inception-random.safetensors"
  [ -f "$W" ] || $BENCH inception-weights --out "$W" > /dev/null
  SHA=$(sha256sum "$W" | cut -d' ' -f1)
  X=(--engine torch --extractor inception --weights "$W" --weights-sha256 "$SHA" --dtype "$DTYPE" --threads "$THREADS")
  for r in $(seq 1 "$ROUNDS"); do
    t0=$(date +%s.%N); l0=$(load)
    $GEN fid fashion-mnist:train fashion-mnist:test --n "$SPEED_N" "${X[@]}" --json > "$OUT/fid.json" 2> /dev/null
    t1=$(date +%s.%N)
    $GEN eval-gen fashion-mnist:train fashion-mnist:test --n "$SPEED_N" --n-ref "$SPEED_N" --metrics fid,kid,is,pr,dc --subset-size "$SPEED_N" "${X[@]}" --json > "$OUT/evalgen.json" 2> /dev/null
    t2=$(date +%s.%N)
    f=$(echo "$t1 - $t0" | bc -l); e=$(echo "$t2 - $t1" | bc -l)
    say "$(printf 'round %d: gen fid %6.1f s | gen eval-gen %6.1f s (features %s s, metrics %s s) | ratio %.2f | load %s -> %s' "$r" "$f" "$e" \
      "$(python3 -c "import json;print(round(json.load(open('$OUT/evalgen.json'))['extract_seconds'],1))")" \
      "$(python3 -c "import json;print(round(json.load(open('$OUT/evalgen.json'))['metric_seconds'],1))")" "$(echo "$e / $f" | bc -l)" "$l0" "$(load)")"
  done
fi

if [[ "$what" == all || "$what" == quality ]]; then
  say "## quality table: N = $N generated/anchor images vs the 10,000 test images, extractor fmnist, bootstrap 200"
  [ -d "$OUT/edm-n18" ] && [ "$(ls "$OUT/edm-n18" | wc -l)" = "$N" ] || { rm -rf "$OUT/edm-n18"; $GEN sample --engine torch --n "$N" --seed 0 --steps 18 --out "$OUT/edm-n18" --threads "$THREADS" > /dev/null; }
  [ -d "$OUT/anchors/up8" ] || $DIFF anchors --out "$OUT/anchors" > /dev/null
  rows=("edm-n18:$OUT/edm-n18")
  if [[ -n "${LOWDIFF:-}" ]]; then
    read -r -a low_opts <<< "${LOW_OPTS:---stage-steps 18,6 --sampler heun,dpmpp-2m}"
    [ -d "$OUT/lowdiff" ] && [ "$(ls "$OUT/lowdiff" | wc -l)" = "$N" ] || { rm -rf "$OUT/lowdiff"; $GEN sample "$LOWDIFF" --engine torch --n "$N" --seed 0 "${low_opts[@]}" --out "$OUT/lowdiff" --threads "$THREADS" > /dev/null; }
    rows+=("lowdiff:$OUT/lowdiff")
  fi
  for row in "${rows[@]}" "train:$OUT/anchors/train10k" "up16:$OUT/anchors/up16" "up8:$OUT/anchors/up8"; do
    name=${row%%:*}; dir=${row#*:}
    $GEN eval-gen "$dir" fashion-mnist:test --engine torch --n "$N" --extractor fmnist --metrics fid,pr,dc --bootstrap 200 --threads "$THREADS" --json > "$OUT/q-$name.json" 2> /dev/null
    say "$(python3 -c "
import json,sys
d=json.load(open('$OUT/q-$name.json'))
print('$name'.ljust(8), ' | '.join('%s %.4f [%.4f, %.4f]' % (v['name'], v['value'], v['low'], v['high']) for v in d['values']), '| N = %d vs %d' % (d['a']['n'], d['b']['n']))")"
  done
  say "## FD-FMNIST against N (the same $N samples)"
  $GEN fid "$OUT/edm-n18" fashion-mnist:test --engine torch --extractor fmnist --n-curve 250,400,600,800,1000 --threads "$THREADS" 2> /dev/null | tee -a "$LOG"
fi
say "# done $(date -u +%FT%TZ), load $(load)"
