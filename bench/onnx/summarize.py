#!/usr/bin/env python3
"""Prints the bench/RESULTS.md rows of bench/onnx/run.sh from its output folder."""
import json, statistics, sys, pathlib

d = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "runs/bench-onnx")
rows = [json.loads(l) for f in sorted(d.glob("speed*.jsonl")) for l in f.read_text().splitlines() if l.strip()]

def ratio_rows(what, key, batch=None):
    sel = [r for r in rows if r["what"] == what and (batch is None or r.get("batch") == batch)]
    per_round = {}
    for r in sel:
        per_round.setdefault(r["round"], {})[r["engine"]] = r[key]
    t = [v["torch"] for v in per_round.values()]
    o = [v["onnx"] for v in per_round.values()]
    ratios = [v["onnx"] / v["torch"] for v in per_round.values()]
    return t, o, ratios

print("| measurement | TorchSharp | ONNX Runtime | ONNX / Torch per round |")
print("|---|---|---|---|")
for what, batch in [("edm-sampling", 64), ("edm-sampling", 256), ("classifier", 256), ("fmnist-features", 250), ("inception-features", 50)]:
    t, o, r = ratio_rows(what, "images_per_s", batch)
    if not r:
        continue
    print(f"| {what} batch {batch} (images/s, median of {len(r)}) | {statistics.median(t):.2f} | {statistics.median(o):.2f} | "
          + ", ".join(f"{x:.2f}×" for x in r) + " |")
t, o, r = ratio_rows("open-and-16", "seconds")
print(f"| open + first 16 images (s, median) | {statistics.median(t):.2f} | {statistics.median(o):.2f} | "
      + ", ".join(f"{x:.2f}×" for x in r) + " (time ratio) |")
chunks = [r for r in rows if r["what"] == "edm-chunks"]
if chunks:
    arms = sorted({r["arm"] for r in chunks}, key=lambda a: (a != "torch", int(a[5:]) if a != "torch" else 0))
    torch_by_round = {r["round"]: r["images_per_s"] for r in chunks if r["arm"] == "torch"}
    for a in arms:
        sel = sorted((r for r in chunks if r["arm"] == a), key=lambda r: r["round"])
        vals = ", ".join(f"{r['images_per_s']:.2f}" for r in sel)
        ratio = "" if a == "torch" else " (" + ", ".join(f"{r['images_per_s'] / torch_by_round[r['round']]:.2f}×" for r in sel) + ")"
        print(f"| EDM sampling batch 256, {a} (images/s per round) | {vals}{ratio} | | |")
rss = {}
for e in ("torch", "onnx"):
    f = d / f"rss-{e}.txt"
    if f.exists():
        kb, wall = f.read_text().split()[:2]
        s = json.loads((d / f"sample-{e}.json").read_text())
        rss[e] = (int(kb) / 1024 / 1024, float(wall), s["n"], s["images_per_s"])
if rss:
    print(f"| peak RSS, gen sample --n {rss['torch'][2]} --batch 256 (GiB) | {rss['torch'][0]:.2f} | {rss['onnx'][0]:.2f} | sampler images/s {rss['torch'][3]:.2f} vs {rss['onnx'][3]:.2f} |")
for name in ("edm", "jem", "fmnist"):
    f = d / f"export-{name}.json"
    if f.exists():
        e = json.loads(f.read_text())
        p = e["parity"]
        print(f"| export {name}: {e['model']} | {e['nodes']} nodes, {e['bytes']/1024:.0f} KB | max abs {p['max_abs_error']:.3g}, rel {p['max_relative_error']:.3g} | tolerance {p['tolerance']:g} {p['tolerance_kind']} |")
c = d / "checker.txt"
if c.exists():
    print()
    print(c.read_text().strip())
