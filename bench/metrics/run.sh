#!/usr/bin/env bash
# bench/metrics: FID throughput Gen vs Debian's Python torch (same network, same formula weights, same CPU,
# Every gen call pins --engine torch: these figures are TorchSharp's (bench/onnx/run.sh compares the engines).
# same run, interleaved), bf16 vs fp32 extraction (speed and FID change), RSS against N, and the matrix
# square root (libtorch vs MathNet). Results: bench/metrics/results/<time>.txt (+ JSON lines).
#
#   bash bench/metrics/run.sh [N] [ROUNDS]     # N images per pass (default 200), interleaved rounds (default 2)
#   N_PY=1000 N_TRAIN=2000 RSS=0 SQRTM_BENCH=0 bash bench/metrics/run.sh 10000 1     # the 10k run of bench/RESULTS.md "Metrics"
# N_PY: images of the Python pass (default N; its images/s is steady after start-up, so a smaller N
# measures the same rate in less time). N_TRAIN: images of the train-split passes whose FID against the
# test pass gives the bf16 FID change (default N). RSS=0 / SQRTM_BENCH=0 skip the RSS-against-N and matrix
# square root parts; FID_BENCH=0 skips the throughput and agreement part (to rerun only the RSS part).
# The RSS part runs the Inception extractor with GEN_MALLOC_TRACE, which logs glibc's heap (obtained, in
# use, free) every 2,000 images: growth that is fragmentation shows as "free" rising with "in use" flat.
#
# The machine is shared: every speed figure is a ratio of passes run back to back in this script; the load
# average is logged before and after each pass.
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-200}
ROUNDS=${2:-2}
N_PY=${N_PY:-$N}
N_TRAIN=${N_TRAIN:-$N}
THREADS=${THREADS:-2}
OUT=bench/metrics/results
mkdir -p "$OUT"
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
LOG="$OUT/$STAMP.txt"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
slot=${GEN_BUILD_SLOT:+-$GEN_BUILD_SLOT}
dotnet build src/Pipeline/Cli -c Release -v q --nologo > /dev/null
dotnet build bench/metrics/SqrtmBench -c Release -v q --nologo > /dev/null
GEN="dotnet src/Pipeline/Cli/bin$slot/Release/net10.0/linux-x64/gen.dll"
SQRTM="dotnet bench/metrics/SqrtmBench/bin$slot/Release/net10.0/linux-x64/SqrtmBench.dll"

say() { echo "$*" | tee -a "$LOG"; }
load() { cut -d' ' -f1-3 /proc/loadavg; }

say "# bench/metrics $STAMP: N=$N per pass, $ROUNDS rounds, $THREADS threads, $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
/usr/bin/python3 tests/fixtures/make_inception_fixtures.py --write-weights "$TMP/formula.legacy.pth"
SHA=$(sha256sum "$TMP/formula.legacy.pth" | cut -d' ' -f1)
W=(--extractor inception --weights "$TMP/formula.legacy.pth" --weights-sha256 "$SHA" --threads "$THREADS")

gen_pass() {   # name dtype split n
  local t0 t1; t0=$(date +%s.%N); local l0; l0=$(load)
  /usr/bin/time -f "%M" -o "$TMP/rss" $GEN stats --engine torch "fashion-mnist:$3" --n "$4" "${W[@]}" --dtype "$2" --out "$TMP/$1.npz" --force > /dev/null 2> "$TMP/err" || { cat "$TMP/err"; exit 1; }
  t1=$(date +%s.%N)
  say "$(printf '%-22s N=%-5d %7.1f s  %6.2f img/s  rss %6d MB  load %s -> %s' "$1" "$4" "$(echo "$t1 - $t0" | bc)" "$(echo "$4 / ($t1 - $t0)" | bc -l)" $(( $(cat "$TMP/rss") / 1024 )) "$l0" "$(load)")"
}
py_pass() {    # name split n
  local t0 t1; t0=$(date +%s.%N); local l0; l0=$(load)
  /usr/bin/time -f "%M" -o "$TMP/rss" /usr/bin/python3 bench/metrics/py_stats.py "fashion-mnist:$2" "$3" "$TMP/$1.npz" --threads "$THREADS" > "$TMP/py.json"
  t1=$(date +%s.%N)
  say "$(printf '%-22s N=%-5d %7.1f s  %6.2f img/s  rss %6d MB  load %s -> %s  (feature loop only: %s img/s)' "$1" "$3" "$(echo "$t1 - $t0" | bc)" "$(echo "$3 / ($t1 - $t0)" | bc -l)" $(( $(cat "$TMP/rss") / 1024 )) "$l0" "$(load)" "$(python3 -c "import json;print(round(json.load(open('$TMP/py.json'))['images_per_s'],2))")")"
}
fid() { $GEN fid "$TMP/$1.npz" "$TMP/$2.npz" --json | python3 -c "import json,sys;print(json.load(sys.stdin)['value'])"; }

if [ "${FID_BENCH:-1}" = 1 ]; then
say "## Inception FID pipeline, end to end (process start, weights, decode, features, stats): fashion-mnist:test, N=$N"
for r in $(seq 1 "$ROUNDS"); do
  gen_pass "gen-fp32-test-r$r" float32 test "$N"
  py_pass "python-fp32-test-r$r" test "$N_PY"
  gen_pass "gen-bf16-test-r$r" bf16 test "$N"
done
gen_pass gen-fp32-train float32 train "$N_TRAIN"
gen_pass gen-bf16-train bf16 train "$N_TRAIN"
say "## Agreement"
if [ "$N_PY" = "$N" ]; then
  say "FID(gen fp32 test, python test)         = $(fid gen-fp32-test-r1 python-fp32-test-r1)   (same images, same weights: ~0 up to fp32)"
fi
F32=$(fid gen-fp32-test-r1 gen-fp32-train); B16=$(fid gen-bf16-test-r1 gen-bf16-train)
say "FID(test, train) fp32                    = $F32"
say "FID(test, train) bf16                    = $B16   (relative change $(python3 -c "print(f'{abs($B16-$F32)/abs($F32):.2%}')"))"
say "FID(gen bf16 test, gen fp32 test)        = $(fid gen-bf16-test-r1 gen-fp32-test-r1)"
[ "$N" -ge 2048 ] && [ "$N_TRAIN" -ge 2048 ] || say "note: fewer than 2048 images in a set makes its covariance rank-deficient (the FIDs are biased); they compare pipelines on identical inputs, not models."
fi

if [ "${RSS:-1}" = 1 ]; then
say "## RSS against N (memory bounded by the batch, not by N)"
for n in 2000 10000; do
  /usr/bin/time -f "%M %e" -o "$TMP/rss" $GEN stats --engine torch fashion-mnist:train --n $n --extractor fmnist --fmnist-weights assets/metrics/fmnist_extractor.safetensors --out "$TMP/f$n.npz" --force --threads "$THREADS" > /dev/null 2>&1
  say "fmnist extractor, N=$n: max RSS $(( $(cut -d' ' -f1 "$TMP/rss") / 1024 )) MB, $(cut -d' ' -f2 "$TMP/rss") s"
done
for n in ${RSS_INCEPTION_N:-2000 10000}; do
  GEN_MALLOC_TRACE=40 /usr/bin/time -f "%M %e" -o "$TMP/rss" $GEN stats --engine torch fashion-mnist:test --n $n "${W[@]}" --out "$TMP/i$n.npz" --force > /dev/null 2> "$TMP/err"
  say "inception extractor fp32 (batch 50), N=$n: max RSS $(( $(cut -d' ' -f1 "$TMP/rss") / 1024 )) MB, $(cut -d' ' -f2 "$TMP/rss") s"
  grep '^malloc-trace' "$TMP/err" | sed 's/^/  /' | tee -a "$LOG"
done

fi
if [ "${SQRTM_BENCH:-1}" = 1 ]; then
say "## tr sqrt(S1 S2) at d=2048: libtorch eigh (Gen) vs MathNet.Numerics managed EVD"
$SQRTM 2048 "${SQRTM_REPS:-1}" "$THREADS" | tee -a "$LOG"
fi
say "load at end: $(load)"
