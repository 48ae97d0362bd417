#!/usr/bin/env bash
# Runs pretrain + probe jobs one after another, skipping jobs whose probe.json exists (safe to re-run;
# an interrupted pretraining resumes). Each job is "METHOD[+hal]:SEED" (e.g. simclr+hal:1), or a floor
# "raw:0" / "random:SEED". Runs go to $RUNS/<method>[-hal]-s<seed>/ (default runs/repr).
#   bench/representation/run_queue.sh simclr:0 simclr+hal:0 ...
# Environment: GEN (gen.dll; default: a private copy under runs/repr-bin so rebuilds do not touch running
# jobs), RUNS, THREADS (default 1), EXTRA (extra pretrain options, e.g. "--epochs 5").
set -uo pipefail
cd "$(dirname "$0")/../.."
GEN=${GEN:-runs/repr-bin/gen.dll}
RUNS=${RUNS:-runs/repr}
THREADS=${THREADS:-1}
EXTRA=${EXTRA:-}
SEGMENT_S=${SEGMENT_S:-0}   # >0: pretrain in segments of this many seconds, each ended by SIGTERM and resumed
                            # exactly (see segmented() in bench/diffusion/common.sh for why)
mkdir -p "$RUNS"
gen() { dotnet "$GEN" "$@"; }

for job in "$@"; do
  name=${job%%:*}; seed=${job##*:}
  case "$name" in
    raw)
      out="$RUNS/floor-raw"
      [ -f "$out/probe.json" ] || gen probe --raw-pixels --threads "$THREADS" --out "$out" --json > "$RUNS/floor-raw.log" 2>&1
      continue ;;
    random)
      out="$RUNS/floor-random-s$seed"
      [ -f "$out/probe.json" ] || gen probe --random-init --seed "$seed" --threads "$THREADS" --out "$out" --json > "$out.log" 2>&1
      continue ;;
  esac
  method=${name%+hal}; hal=""; tag=$method
  if [ "$name" != "$method" ]; then hal="--hallucinator"; tag="$method-hal"; fi
  out="$RUNS/$tag-s$seed"
  if [ -f "$out/probe.json" ]; then echo "skip $out"; continue; fi
  resume=""; [ -f "$out/state.safetensors" ] && resume="--resume"
  echo "$(date -Is) start $out (load $(cut -d' ' -f1-3 /proc/loadavg))"
  if [ ! -f "$out/last.safetensors" ] || [ -n "$resume" ] && ! grep -q '"status": "complete"' "$out/stage.json" 2>/dev/null; then
    ok=0
    while true; do
      if [ "$SEGMENT_S" -gt 0 ]; then
        timeout -s TERM "$SEGMENT_S" dotnet "$GEN" pretrain --method "$method" $hal --seed "$seed" --threads "$THREADS" --out "$out" $resume $EXTRA --json >> "$out.pretrain.log" 2>&1
      else
        gen pretrain --method "$method" $hal --seed "$seed" --threads "$THREADS" --out "$out" $resume $EXTRA --json >> "$out.pretrain.log" 2>&1
      fi
      rc=$?
      [ $rc = 0 ] && { ok=1; break; }
      [ $rc = 124 ] && [ -f "$out/state.safetensors" ] && { resume="--resume"; continue; }
      break
    done
    [ $ok = 1 ] || { echo "$(date -Is) FAILED pretrain $out (see $out.pretrain.log)"; continue; }
  fi
  gen probe "$out" --threads "$THREADS" --json > "$out.probe.log" 2>&1 || { echo "$(date -Is) FAILED probe $out"; continue; }
  echo "$(date -Is) done $out (load $(cut -d' ' -f1-3 /proc/loadavg))"
done
