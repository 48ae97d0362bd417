#!/usr/bin/env python3
"""Summarises bench/representation runs into the tables of bench/RESULTS.md (## Representation).

    /usr/bin/python3 bench/representation/summarize.py [runs/repr] [runs/repr-e5 ...]

Reads every <run>/probe.json (and the floors' probe.json), the run's metrics.jsonl (wall time, final kNN
monitor) and config.json; prints (1) one row per run, (2) mean ± sd per arm, (3) the paired
Hallucinator difference per method and seed set with a 95 % t-interval (t quantile from scipy when
present, else the table below). Only the standard library is needed.
"""
import glob
import json
import math
import os
import re
import statistics
import sys

T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262}


def t975(df):
    try:
        from scipy.stats import t
        return float(t.ppf(0.975, df))
    except Exception:  # noqa: BLE001 - scipy is optional
        return T975.get(df, 1.96)


def load(folder):
    rows = []
    for probe in sorted(glob.glob(os.path.join(folder, "*", "probe.json"))):
        run = os.path.dirname(probe)
        name = os.path.basename(run)
        p = json.load(open(probe))
        row = {"set": os.path.basename(folder.rstrip("/")), "run": name,
               "linear": p.get("linear", {}).get("top1"), "knn": p.get("knn", {}).get("top1"),
               "knn_alt": p.get("knn_alt", {}).get("top1"), "source": p["source"]}
        m = re.match(r"(?P<method>[a-z0-9]+?)(?P<hal>-hal)?-s(?P<seed>\d+)$", name)
        if m:
            row.update(method=m["method"], hal=bool(m["hal"]), seed=int(m["seed"]))
        metrics = os.path.join(run, "metrics.jsonl")
        if os.path.exists(metrics):
            lines = [json.loads(l) for l in open(metrics) if l.strip()]
            losses = [l for l in lines if "loss" in l]
            if losses:
                row["wall_s"] = losses[-1].get("elapsed_s")
                row["epochs"] = losses[-1].get("epoch")
            knn = [l for l in lines if "knn_top1" in l]
            if knn:
                row["monitor_knn"] = knn[-1]["knn_top1"]
        rows.append(row)
    return rows


def pct(v):
    return "" if v is None else f"{100 * v:.2f}"


def main(folders):
    rows = [r for f in folders for r in load(f)]
    print("| set | run | epochs | linear top-1 | kNN 200/0.1 | kNN 20/0.07 | wall min |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        wall = f"{r['wall_s'] / 60:.1f}" if r.get("wall_s") else ""
        ep = f"{r['epochs']:.0f}" if r.get("epochs") else ""
        print(f"| {r['set']} | {r['run']} | {ep} | {pct(r['linear'])} | {pct(r['knn'])} | {pct(r['knn_alt'])} | {wall} |")

    print()
    print("| set | method | arm | n | linear mean ± sd | kNN mean ± sd |")
    print("|---|---|---|---|---|---|")
    arms = {}
    for r in rows:
        if "method" in r:
            arms.setdefault((r["set"], r["method"], r["hal"]), []).append(r)
    for (s, method, hal), rs in sorted(arms.items()):
        lin = [x["linear"] for x in rs]
        knn = [x["knn"] for x in rs]
        sd = lambda v: statistics.stdev(v) * 100 if len(v) > 1 else float("nan")  # noqa: E731
        print(f"| {s} | {method} | {'+H' if hal else 'base'} | {len(rs)} | {100 * statistics.mean(lin):.2f} ± {sd(lin):.2f} | "
              f"{100 * statistics.mean(knn):.2f} ± {sd(knn):.2f} |")

    print()
    print("| set | method | paired seeds | Δ linear (H − base) [95 % CI] | Δ kNN [95 % CI] | wall ratio H/base |")
    print("|---|---|---|---|---|---|")
    for s, method in sorted({(k[0], k[1]) for k in arms}):
        base = {r["seed"]: r for r in arms.get((s, method, False), [])}
        hal = {r["seed"]: r for r in arms.get((s, method, True), [])}
        seeds = sorted(set(base) & set(hal))
        if not seeds:
            continue
        out = []
        for key in ("linear", "knn"):
            d = [100 * (hal[i][key] - base[i][key]) for i in seeds]
            if len(d) > 1:
                m, sd = statistics.mean(d), statistics.stdev(d)
                h = t975(len(d) - 1) * sd / math.sqrt(len(d))
                out.append(f"{m:+.2f} [{m - h:+.2f}, {m + h:+.2f}]")
            else:
                out.append(f"{d[0]:+.2f} (one seed)")
        ratios = [hal[i]["wall_s"] / base[i]["wall_s"] for i in seeds if hal[i].get("wall_s") and base[i].get("wall_s")]
        ratio = f"{statistics.mean(ratios):.2f}" if ratios else ""
        print(f"| {s} | {method} | {','.join(map(str, seeds))} | {out[0]} | {out[1]} | {ratio} |")


if __name__ == "__main__":
    main(sys.argv[1:] or ["runs/repr", "runs/repr-e5"])
