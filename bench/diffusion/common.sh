#!/usr/bin/env bash
# Shared settings of the diffusion benchmarks (sourced by the other scripts).
# Builds the gen CLI and diff-bench (Release) once, into bin-$GEN_BUILD_SLOT folders, then copies them to
# $BIN so rebuilds during a long benchmark do not swap DLLs under a running process.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export GEN_BUILD_SLOT="${GEN_BUILD_SLOT:-diffusion}"
RUNS="${RUNS:-$ROOT/runs/diff}"          # run folders of the trained models (edm, lowdiff)
OUT="${OUT:-$RUNS/bench}"                # sampled images and per-config JSON
RESULTS="${RESULTS:-$ROOT/bench/diffusion/results}"
THREADS="${THREADS:-1}"                  # shared 2-core machine: 1 intra-op thread (docs/platform.md §9)
BIN="$RUNS/bench-bin"
mkdir -p "$OUT" "$RESULTS"

build() {
  if [[ -x "$BIN/gen" && -x "$BIN/diff-bench" && "${REBUILD:-0}" != 1 ]]; then return; fi
  (cd "$ROOT" && dotnet build src/Pipeline/Cli/Gen.Cli.csproj -c Release -v q -nologo >/dev/null \
              && dotnet build bench/diffusion/DiffBench/DiffBench.csproj -c Release -v q -nologo >/dev/null)
  rm -rf "$BIN"; mkdir -p "$BIN"
  cp -r "$ROOT/src/Pipeline/Cli/bin-$GEN_BUILD_SLOT/Release/net10.0/linux-x64/." "$BIN/"
  cp -r "$ROOT/bench/diffusion/DiffBench/bin-$GEN_BUILD_SLOT/Release/net10.0/linux-x64/." "$BIN/"
}

# sample_fid SERIES TAG CKPT N SEED [gen sample options...]
# Samples N images (seeds SEED…SEED+N−1) into $OUT/TAG, computes FD-FMNIST against the Fashion-MNIST test
# split (bundled statistics, 10k images), and appends one JSON line to $RESULTS/fid.jsonl.
sample_fid() {
  local series="$1" tag="$2" ckpt="$3" n="$4" seed="$5"; shift 5
  local dir="$OUT/$tag"
  rm -rf "$dir"
  # --engine: TorchSharp unless ENGINE says otherwise, as when the figures in bench/RESULTS.md were measured.
  "$BIN/gen" sample "$ckpt" --n "$n" --seed "$seed" --out "$dir" --threads "$THREADS" --batch 250 --engine "${ENGINE:-torch}" --json "$@" > "$dir.sample.json"
  "$BIN/gen" fid "$dir" fashion-mnist:test --extractor fmnist --threads "$THREADS" --engine "${ENGINE:-torch}" --json > "$dir.fid.json"
  /usr/bin/python3 - "$series" "$tag" "$dir" "$*" >> "$RESULTS/fid.jsonl" <<'PY'
import json, sys
series, tag, d, opts = sys.argv[1:5]
s = json.load(open(d + ".sample.json")); f = json.load(open(d + ".fid.json"))
print(json.dumps({"series": series, "tag": tag, "options": opts, "kind": s["kind"], "step": s["step"], "n": s["n"],
                  "first_seed": s["first_seed"], "dtype": s["dtype"], "stages": s["stages"],
                  "nfe32": s["nfe_full_res_equivalent"], "images_per_s": s["images_per_s"], "fid": f["value"],
                  "metric": f["metric"]}))
PY
  tail -n 1 "$RESULTS/fid.jsonl"
}

# segmented CMD...: runs a resumable `gen train …` command in segments of $SEGMENT_S seconds (default 75),
# each ended by SIGTERM (the trainer checkpoints and exits; --resume continues exactly), until it finishes.
# Why: on these machines a long-lived training process slowed to ~1.8 s/step after about a minute while a
# fresh process on the same checkpoint ran ~0.9 s/step; restarted segments later turned out slow too. The
# slowdown was ATen's AVX-512 SiLU kernel (docs/platform.md §11, now avoided). A restart costs ~6 s. SEGMENT_S=0 runs the command once, unsegmented.
segmented() {
  local seg="${SEGMENT_S:-75}" rc
  if [[ "$seg" == 0 ]]; then "$@"; return; fi
  while true; do
    timeout -s TERM "$seg" "$@"; rc=$?
    [[ $rc == 0 ]] && return 0
    [[ $rc == 124 ]] || return $rc
  done
}
