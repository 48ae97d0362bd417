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

# The cross-generator table of bench/detect/cross.sh, when it ran.
import os
names = {"cifake-s0": "EDM (bundled)", "cifake-jem-s0": "JEM-AT (bundled)"}
sets = {"ds": "EDM test split", "ds-jem": "JEM-AT test split"}
if os.path.exists(f"{out}/cifake-lowdiff-s0"):
    names["cifake-lowdiff-s0"] = "LowDiff 16→32"
    sets["ds-lowdiff"] = "LowDiff test split"
cells = {(d, s): f"{out}/cross-{d}-on-{s}.json" for d in names for s in sets}
if all(os.path.exists(p) for p in cells.values()):
    print("\n| detector trained on | " + " | ".join(f"{v}: accuracy / ROC-AUC" for v in sets.values()) + " |")
    print("|---|" + "---|" * len(sets))
    for d, dn in names.items():
        row = []
        for s in sets:
            e = load(cells[(d, s)])
            row.append(f"{100*e['accuracy']:.2f}% / {e['roc_auc']:.4f}")
        print(f"| {dn} | " + " | ".join(row) + " |")
    for build, label in (("build-jem.json", "JEM-AT"), ("build-lowdiff.json", "LowDiff")):
        if not os.path.exists(f"{out}/{build}"):
            continue
        bj = load(f"{out}/{build}")
        print(f"\n{label} set cheap cues:")
        for split, per in bj["cues"].items():
            for cls, c in per.items():
                print(f"| {split} | {cls} | {c['mean']:.2f} | {c['std']:.2f} | {100*c['zero_fraction']:.2f}% | {100*c['full_fraction']:.2f}% |")
