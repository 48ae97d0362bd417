#!/usr/bin/env bash
# Gen's main job on a fresh machine: installs what is missing, builds in Release, then runs the
# default job on Fashion-MNIST. Safe to re-run: finished work is reused, interrupted work resumes.
set -euo pipefail
cd "$(dirname "$0")"

say() { printf '\n== %s\n' "$*"; }

# 1. Prerequisites -----------------------------------------------------------------------------
if ! command -v dotnet >/dev/null 2>&1; then
  echo "error: the .NET 10 SDK is missing; install it (https://learn.microsoft.com/dotnet/core/install/linux-debian) and run ./run.sh again" >&2
  exit 2
fi
need_apt=()
[ -d /usr/share/datasets/fashion-mnist ] || [ -n "${GEN_DATA:-}" ] || [ -d "${GEN_HOME:-$HOME/.cache/gen}/datasets/fashion-mnist" ] || need_apt+=(dataset-fashion-mnist)
command -v fc-list >/dev/null 2>&1 && fc-list | grep -qi dejavu || need_apt+=(fonts-dejavu-core)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing ${need_apt[*]} with apt"
    apt-get install -y "${need_apt[@]}" >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y "${need_apt[@]}" >/dev/null; }
  else
    echo "missing Debian packages: ${need_apt[*]}; install them with: sudo apt-get install ${need_apt[*]}" >&2
    [[ " ${need_apt[*]} " == *" dataset-fashion-mnist "* ]] && exit 2
  fi
fi

# 2. Build --------------------------------------------------------------------------------------
say "building Gen (Release)"
dotnet build -c Release src/Pipeline/Cli/Gen.Cli.csproj -nologo -clp:ErrorsOnly -v:q
gen() { dotnet src/Pipeline/Cli/bin/Release/net10.0/linux-x64/gen.dll "$@"; }

# 3. The default job ----------------------------------------------------------------------------
# Default: a 10×10 class grid from the bundled class-conditional diffusion checkpoint (trained by Gen on
# Fashion-MNIST, sampled with classifier-free guidance; see assets/diffusion/README.md) and the FD-FMNIST of
# 1,000 of its samples against the bundled Fashion-MNIST test statistics. `./run.sh edm` does the same
# with the bundled unconditional checkpoint (the one `gen sample` uses without a checkpoint argument).
# `./run.sh classifier` runs the foundation's demo instead (a 2-epoch ResNet classifier); `./run.sh jem`
# samples a class grid from the bundled JEM-AT model and measures its robustness; `./run.sh lzn` samples
# a class grid from the bundled Latent Zoning Network and measures its test accuracy; `./run.sh lowdiff`
# does what `edm` does with the bundled LowDiff cascade (16→32) and its measured sampler recipe.
COND=assets/diffusion/fmnist-cond.safetensors
LOWDIFF=assets/diffusion/fmnist-lowdiff.safetensors
LOWDIFF_RECIPE=(--stage-steps 10,8 --sampler dpmpp-2m --sigma-start 8)   # docs/methods/diffusion.md §3.6

# grid_and_fd OUT GRID_N COLUMNS GRID_WHAT FD_WHAT [gen sample arguments: checkpoint, sampler options]
# A grid of GRID_N samples (seeds 0…) in OUT/grid.png, then the FD-FMNIST of $GEN_MAIN_N (default 1,000)
# samples (seeds 100000…) against the Fashion-MNIST test set (bundled statistics).
grid_and_fd() {
  local out="$1" grid_n="$2" columns="$3" grid_what="$4" fd_what="$5"; shift 5
  local n="${GEN_MAIN_N:-1000}"
  mkdir -p "$out"
  say "$grid_what"
  gen sample "$@" --n "$grid_n" --seed 0 --columns "$columns" --grid "$out/grid.png" --threads 2
  say "FD-FMNIST of $n $fd_what against the Fashion-MNIST test set (bundled statistics)"
  rm -rf "$out/samples"
  gen sample "$@" --n "$n" --seed 100000 --out "$out/samples" --threads 2
  gen fid "$out/samples" fashion-mnist:test --extractor fmnist --threads 2
  echo "grid: $out/grid.png"
}

job="${1:-sample}"
case "$job" in
  sample)
    grid_and_fd runs/main 100 10 \
      "a 10×10 class grid from the bundled class-conditional diffusion model ($COND): one class per column" \
      "of its samples (class = seed mod 10)" "$COND";;
  edm)
    # No checkpoint argument: `gen sample` finds the bundled unconditional one itself.
    grid_and_fd runs/main-edm 64 8 \
      "sampling 64 images from the bundled unconditional checkpoint (assets/diffusion/fmnist.safetensors)" \
      "bundled-checkpoint samples";;
  lowdiff)
    grid_and_fd runs/main-lowdiff 64 8 \
      "sampling 64 images from the bundled LowDiff cascade ($LOWDIFF): 16² base, then 32² refinement" \
      "of its samples" "$LOWDIFF" "${LOWDIFF_RECIPE[@]}";;
  classifier)
    gen data info fashion-mnist
    run=runs/demo-classifier
    if [ -f "$run/stage.json" ] && grep -q '"status": "complete"' "$run/stage.json"; then
      say "reusing the finished demo run in $run"
    elif [ -f "$run/state.safetensors" ]; then
      say "resuming the demo run in $run"
      gen train classifier --data fashion-mnist --out "$run" --resume
    else
      say "training a small ResNet on Fashion-MNIST for 2 epochs (about two minutes on 2 cores)"
      gen train classifier --data fashion-mnist --out "$run" --epochs 2 --warmup 100
    fi
    say "test accuracy, confusion matrix and a captioned prediction grid"
    gen eval classifier "$run" --data fashion-mnist:test --grid "$run/predictions.png" --n 64
    echo "training curves: $run/plots/";;
  jem)
    model=assets/jem/fmnist-jem-at.safetensors
    out=runs/jem-demo; mkdir -p "$out"
    say "a 10×10 class grid from the bundled JEM-AT model ($model): one class per column"
    gen sample "$model" --n 100 --columns 10 --grid "$out/grid.png" --threads 2
    say "its clean and PGD-20 accuracy on the first 1,000 Fashion-MNIST test images"
    gen robust "$model" --attacks l2:0.5,l2:1,linf:0.05,linf:0.1 --n 1000 --threads 2
    echo "grid: $out/grid.png";;
  lzn)
    model=assets/lzn/fmnist-lzn.safetensors
    out=runs/lzn-demo; mkdir -p "$out"
    say "a 10×10 class grid from the bundled Latent Zoning Network ($model): one class per column"
    gen sample "$model" --n 100 --columns 10 --grid "$out/grid.png" --threads 2
    say "its test accuracy: image → latent → nearest class zone, in batches of 64"
    gen eval classifier "$model" --threads 2
    echo "grid: $out/grid.png";;
  *) echo "error: unknown job '$job'; use ./run.sh (class grid + FID), ./run.sh edm (unconditional grid + FID), ./run.sh lowdiff (LowDiff grid + FID), ./run.sh classifier, ./run.sh jem or ./run.sh lzn" >&2; exit 2;;
esac
