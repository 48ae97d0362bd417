#!/usr/bin/env python3
"""Prints the bench/RESULTS.md rows of bench/detect/run.sh: the detectors' test metrics per seed, their
mean and spread, the cheap-cue table of the dataset and the timings. Usage: summarize.py OUT [SEED ...]"""
import json, statistics, sys

out, seeds = sys.argv[1], sys.argv[2:] or ["0", "1", "2"]

def load(p):
    with open(p) as f:
        return json.load(f)

rows = [("cifake", s) for s in seeds] + [("resnet-s", seeds[0])]
print("| arch | seed | accuracy | precision | recall | F1 | ROC-AUC | REAL acc | FAKE acc |")
print("|---|---|---|---|---|---|---|---|---|")
acc = {}
for arch, s in rows:
    try:
        e = load(f"{out}/eval-{arch}-s{s}.json")
    except FileNotFoundError:
        continue
    acc.setdefault(arch, []).append(e["accuracy"])
    print(f"| {arch} | {s} | {100*e['accuracy']:.2f}% | {e['precision']:.4f} | {e['recall']:.4f} | {e['f1']:.4f} | {e['roc_auc']:.4f} | "
          f"{100*e['real_accuracy']:.2f}% | {100*e['fake_accuracy']:.2f}% |")
for arch, v in acc.items():
    if len(v) > 1:
        print(f"\n{arch}: mean accuracy {100*statistics.mean(v):.2f}%, sample std {100*statistics.stdev(v):.2f} points over {len(v)} seeds")

import os
if os.path.exists(f"{out}/build.json"):   # run.sh's set (cross.sh alone writes build-edm.json)
    b = load(f"{out}/build.json")
    print(f"\ndataset: {b['counts']}, fake {b['fake'].get('model', '')}")
    print("\n| split | class | mean | std | exact 0 | exact 255 |")
    print("|---|---|---|---|---|---|")
    for split, per in b["cues"].items():
        for label, c in per.items():
            print(f"| {split} | {label} | {c['mean']:.2f} | {c['std']:.2f} | {100*c['zero_fraction']:.2f}% | {100*c['full_fraction']:.2f}% |")

print("\ntimings:")
with open(f"{out}/timings.txt") as f:
    print(f.read().strip())

# The cross-generator table of bench/detect/cross.sh, when it ran (generators in its order).
labels = {"edm": "EDM", "lowdiff": "LowDiff 16→32", "cond": "EDM class-conditional", "jem": "JEM-AT", "lzn": "LZN"}
set_of = lambda g: "ds" if g == "edm" else f"ds-{g}"
det_of = lambda g: "cifake-s0" if g == "edm" else f"cifake-{g}-s0"
if os.path.exists(f"{out}/cross-gens.txt"):
    gens = open(f"{out}/cross-gens.txt").read().split()
    print("\n| detector trained on ↓, tested on → | " + " | ".join(labels[h] for h in gens) + " |")
    print("|---|" + "---|" * len(gens))
    for g in gens:
        row = []
        for h in gens:
            e = load(f"{out}/cross-{det_of(g)}-on-{set_of(h)}.json")
            row.append(f"{100*e['accuracy']:.2f}% / {e['roc_auc']:.4f}")
        print(f"| {labels[g]} | " + " | ".join(row) + " |")
    print("\n| set | fake classes | split | class | mean | std | exact 0 | exact 255 |")
    print("|---|---|---|---|---|---|---|---|")
    for g in gens:
        path = f"{out}/{set_of(g)}/manifest.json"
        bj = load(path)
        for split, per in bj["cues"].items():
            for cls, c in per.items():
                print(f"| {labels[g]} | {'matched' if bj.get('fake_classes', '').startswith('matched') else 'unconditional'} | {split} | {cls} | {c['mean']:.2f} | {c['std']:.2f} | "
                      f"{100*c['zero_fraction']:.2f}% | {100*c['full_fraction']:.2f}% |")
