#!/usr/bin/env python3
"""Prints the bench/RESULTS.md rows of bench/lzn/run.sh from its output folder.

Usage: bench/lzn/summarize.py [runs/bench-lzn]
Reads short/{none,clf,rf}/metrics.jsonl and short/acc-*.json (the 300-step gates), and long/pipeline/*
(the stages of assets/pipelines/lzn-fmnist.json), long/acc-*.json and the matmul files (the long run).
"""
import glob
import json
import math
import os
import re
import statistics
import sys


def rows(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def get(obj, *keys):
    """obj[k1][k2]…, each key matched case-insensitively and without underscores."""
    for key in keys:
        if obj is None:
            return None
        norm = key.replace("_", "").lower()
        obj = next((v for k, v in obj.items() if k.replace("_", "").lower() == norm), None)
    return obj


def main_json(folder):
    for f in sorted(glob.glob(os.path.join(folder, "*.json"))):
        if os.path.basename(f) not in ("stage.json", "manifest.json", "config.json", "run.json"):
            with open(f) as h:
                return json.load(h)
    return None


def stage(root, name):
    found = [d for d in glob.glob(os.path.join(root, name + "-*")) if re.fullmatch(re.escape(name) + r"-[0-9a-f]{16}", os.path.basename(d))]
    return found[0] if found else None


def train_facts(run):
    log = rows(os.path.join(run, "metrics.jsonl"))
    steps = [r for r in log if "loss" in r]
    finite = all(math.isfinite(v) for r in log for v in r.values() if isinstance(v, (int, float)))
    monitor = [r for r in log if "test_acc" in r or "sample_acc" in r]
    ips = [r["images_per_s"] for r in steps if r.get("images_per_s")]
    return {
        "steps": steps[-1]["step"] if steps else 0,
        "label": steps[-1].get("label") if steps else None,
        "rec": steps[-1].get("rec") if steps else None,
        "finite": finite,
        "monitor": monitor[-1] if monitor else {},
        "ips_median": statistics.median(ips) if ips else None,
        "elapsed_s": steps[-1].get("elapsed_s") if steps else None,
    }


def acc(path):
    if not os.path.exists(path):
        return {}
    with open(path) as f:
        return json.load(f)


def fmt(v, spec=".3f"):
    return "–" if v is None else format(v, spec)


def matmul(path):
    if not os.path.exists(path):
        return None
    m = re.search(r"([0-9.]+) GFLOP/s", open(path).read())
    return float(m.group(1)) if m else None


def short(out):
    d = os.path.join(out, "short")
    if not os.path.isdir(d):
        return
    print("## short run (300 steps, batch 64, seed 0)")
    print("| run | label loss (steps 276–300) | rec loss | test acc (prior-std 0) | test acc (std 0.5 / 1) | sample acc (1,000) | NaN |")
    print("|---|---|---|---|---|---|---|")
    for name, label in (("none", "lzn"), ("clf", "clf (CE)"), ("rf", "rf (label-only flow)")):
        run = os.path.join(d, name)
        if not os.path.exists(os.path.join(run, "metrics.jsonl")):
            continue
        t = train_facts(run)
        a = acc(os.path.join(d, "acc-" + ("lzn" if name == "none" else name) + ".json"))
        by_std = a.get("test_acc_by_prior_std") or {}
        test0 = by_std.get("0", t["monitor"].get("test_acc"))
        others = " / ".join(fmt(by_std.get(s)) for s in ("0.5", "1")) if name == "none" else "–"
        print(f"| {label} | {fmt(t['label'])} | {fmt(t['rec'])} | {fmt(test0)} | {others} | {fmt(a.get('sample_acc'))} | {'no' if t['finite'] else 'yes'} |")
    for f in ("matmul-before.txt", "matmul-after.txt"):
        print(f"{f}: {fmt(matmul(os.path.join(d, f)), '.1f')} GFLOP/s")


def long(out):
    d = os.path.join(out, "long")
    root = os.path.join(d, "pipeline")
    if not os.path.isdir(root):
        return
    print("## long run (assets/pipelines/lzn-fmnist.json)")
    print("| run | steps | train s | s/step | img/s (median) | test acc | sample acc (1,000) | FD-FMNIST (1,000) | linear probe | kNN 200 |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name in ("lzn", "clf", "rf"):
        run = stage(root, name)
        if run is None or not os.path.exists(os.path.join(run, "metrics.jsonl")):
            continue
        t = train_facts(run)
        a = acc(os.path.join(d, f"acc-{name}.json"))
        ev = main_json(stage(root, name + "-eval")) if stage(root, name + "-eval") else None
        fd = main_json(stage(root, name + "-fd")) if stage(root, name + "-fd") else None
        pr = main_json(stage(root, name + "-probe")) if stage(root, name + "-probe") else None
        test = get(ev, "accuracy") if ev else None
        sps = t["elapsed_s"] / t["steps"] if t["elapsed_s"] and t["steps"] else None
        lin = get(pr, "linear", "top1") if pr else None
        knn = get(pr, "knn", "top1") if pr else None
        print(f"| {name} | {t['steps']} | {fmt(t['elapsed_s'], '.0f')} | {fmt(sps)} | {fmt(t['ips_median'], '.0f')} | {fmt(test, '.4f')} | "
              f"{fmt(a.get('sample_acc'))} | {fmt(get(fd, 'value') if fd else None, '.2f')} | {fmt(lin * 100 if lin is not None else None, '.2f')} | {fmt(knn * 100 if knn is not None else None, '.2f')} |")
    a = acc(os.path.join(d, "acc-lzn.json"))
    if a.get("test_acc_by_prior_std"):
        print("lzn test accuracy by prior std (full test set, chunks of %s): %s" % (a.get("classify_batch"), ", ".join(f"{k}: {v:.4f}" for k, v in a["test_acc_by_prior_std"].items())))
    def chunk_of(f):
        return int(re.search(r"(\d+)\.json$", f).group(1))
    chunks = sorted(glob.glob(os.path.join(d, "classify-batch-*.json")), key=chunk_of)
    if chunks:
        parts = ["%d: %.4f" % (chunk_of(f), json.load(open(f))["accuracy"]) for f in chunks]
        print("lzn test accuracy by chunk: " + ", ".join(parts))
    for f in ("matmul-before.txt", "matmul-after.txt"):
        print(f"{f}: {fmt(matmul(os.path.join(d, f)), '.1f')} GFLOP/s")


if __name__ == "__main__":
    out = sys.argv[1] if len(sys.argv) > 1 else "runs/bench-lzn"
    short(out)
    long(out)
