#!/usr/bin/env bash
# The planted-patch sanity check of docs/methods/detection.md §5 as a benchmark: N + N Fashion-MNIST training
# images (default 30000, the whole training split; the first rounds used 2000), FAKE = REAL + a 3×3 patch of
# 255 at a random place, 500 + 500 test images (make_patch_set.py). For each ARCH (default "resnet-s cifake")
# and each training variant in VARIANTS (options separated by ';', default "--schedule constant;--schedule cosine;--lr 3e-3;--batch 16;--lr 3e-3 --batch 32"),
# one detector trained for EPOCHS (default 3) epochs with seed SEED (default 0), then `gen detect eval` of the
# run folder (its best-validation epoch) on the test split. The recipe's defaults are Adam 1e-3, batch 64, constant.
#   bench/detect/patch.sh        → one JSON line per run in $BENCH_OUT/patch.jsonl
# Run alone on a quiet machine (2 threads).
out="${BENCH_OUT:-runs/bench-detect}"
epochs="${EPOCHS:-3}"
seed="${SEED:-0}"
n="${N:-30000}"
source "$(dirname "$0")/common.sh"   # strict mode, cd to the root, mkdir $out, build, gen(), timed, log_machine
set_dir="$out/patch-set-$n"
[ -d "$set_dir/test/FAKE" ] || /usr/bin/python3 bench/detect/make_patch_set.py "$n" "$set_dir"
IFS=';' read -r -a variants <<< "${VARIANTS:---schedule constant;--schedule cosine;--lr 3e-3;--batch 16;--lr 3e-3 --batch 32}"
for arch in ${ARCHS:-resnet-s cifake}; do
  for variant in "${variants[@]}"; do
    read -r -a opts <<< "$variant"
    run="$out/patch-n$n-$arch-$(echo "$variant" | tr -d ' -')-e$epochs-s$seed"
    rm -rf "$run"
    t0=$(date +%s.%N)
    gen train detector --data "$set_dir" --arch "$arch" "${opts[@]}" --epochs "$epochs" \
        --seed "$seed" --threads 2 --out "$run" --json > "$run.train.json"
    secs=$(echo "$(date +%s.%N) - $t0" | bc)
    gen detect eval "$run" "$set_dir" --json > "$run.eval.json"
    /usr/bin/python3 - "$n" "$arch" "$variant" "$epochs" "$seed" "$secs" "$run.eval.json" >> "$out/patch.jsonl" <<'PY'
import json, sys
n, arch, variant, epochs, seed, secs, path = sys.argv[1:8]
e = json.load(open(path))
print(json.dumps({"n_per_class": int(n), "arch": arch, "options": variant, "epochs": int(epochs), "seed": int(seed), "train_s": round(float(secs), 1),
                  "accuracy": e["accuracy"], "roc_auc": e["roc_auc"]}))
PY
    tail -n 1 "$out/patch.jsonl"
  done
done
