#!/usr/bin/env bash
# Profile of EDM training steps: `perf record` (299 Hz) over `diff-bench step-trace` (default UNet, batch
# 128 at 32², Adam, STEPS steps, 2 threads), the samples bucketed into op kinds by profile_summary.py.
# CAP sets ATEN_CPU_CAPABILITY for the run (default: Gen's choice, avx2; docs/platform.md §11).
# Output: $RESULTS/profile_${CAP:-default}.txt (the step-trace summary, then the table). Needs `perf`.
source "$(dirname "$0")/common.sh"
build
command -v perf >/dev/null || { echo "profile.sh needs perf (apt-get install linux-perf)" >&2; exit 2; }
tag="${CAP:-default}"; data="$(mktemp -d)/perf.data"; out="$RESULTS/profile_$tag.txt"
echo "# profile $(date -u +%FT%TZ) ATEN_CPU_CAPABILITY=${CAP:-(Gen default)} steps ${STEPS:-25}" > "$out"
env ${CAP:+ATEN_CPU_CAPABILITY=$CAP} perf record -F 299 -o "$data" -- "$BIN/diff-bench" step-trace --threads "${TRAIN_THREADS:-2}" --steps "${STEPS:-25}" 2>&1 \
  | grep -v -e NNPACK -e '^\[ perf' | tee -a "$out"
perf script -i "$data" -F ip,sym,dso 2>/dev/null | /usr/bin/python3 "$(dirname "$0")/profile_summary.py" | tee -a "$out"
rm -rf "$(dirname "$data")"
