#!/usr/bin/env bash
# The class-conditional Fashion-MNIST model (bench/RESULTS.md "Diffusion", conditional rows): for each
# classifier-free guidance g in GUIDANCE (default 1 1.5 2 3), 1,000 samples of seeds SEED… (class = seed
# mod 10, so 100 per class), their FD-FMNIST against the test split (sample_fid, series "cond") and the
# per-class accuracy of the bundled Fashion-MNIST classifier on them (gen-bench class-acc).
#   MODEL=assets/diffusion/fmnist-cond.safetensors bench/diffusion/cond.sh
# Results: $RESULTS/fid.jsonl (series cond) and $RESULTS/cond-acc.jsonl. Run alone (THREADS=2 by default).
source "$(dirname "$0")/common.sh"
build
THREADS="${THREADS:-2}"
MODEL="${MODEL:-$ROOT/assets/diffusion/fmnist-cond.safetensors}"
SEED="${SEED:-0}"
TOOLS="$RUNS/bench-tools-bin"
if [[ ! -x "$TOOLS/gen-bench" || "${REBUILD:-0}" == 1 ]]; then
  (cd "$ROOT" && dotnet build bench/tools/Gen.Bench/Gen.Bench.csproj -c Release -v q -nologo >/dev/null)
  rm -rf "$TOOLS"; mkdir -p "$TOOLS"
  cp -r "$ROOT/bench/tools/Gen.Bench/bin-$GEN_BUILD_SLOT/Release/net10.0/linux-x64/." "$TOOLS/"
fi
for g in ${GUIDANCE:-1 1.5 2 3}; do
  tag="cond-g$g-s$SEED"
  sample_fid cond "$tag" "$MODEL" 1000 "$SEED" --guidance "$g"
  "$TOOLS/gen-bench" class-acc --model "$MODEL" --images "$OUT/$tag" --threads "$THREADS" \
    | /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); d["guidance"]=float(sys.argv[1]); d["first_seed"]=int(sys.argv[2]); print(json.dumps(d))' "$g" "$SEED" \
    | tee -a "$RESULTS/cond-acc.jsonl"
done
