#!/usr/bin/env python3
"""Prints the bench/RESULTS.md rows of bench/jem/run.sh: robustness (B1), generation (B2), stability (B3), cost."""
import glob, json, statistics, sys

out, seeds = sys.argv[1], sys.argv[2:] or ["0"]
ATT = ["l2 0.5", "l2 1", "l2 1.5", "linf 0.05", "linf 0.1"]

def row(m):
    acc = {f"{a['threat']} {a['eps']:g}": a["accuracy"] for a in m["attacks"]}
    return [m["clean_accuracy"]] + [acc.get(k, float("nan")) for k in ATT]

def fmt(v): return f"{v:.3f}"

print("| seed | model | clean | L2 0.5 | L2 1.0 | L2 1.5 | L∞ .05 | L∞ .1 |")
print("|---|---|---|---|---|---|---|---|")
gates = []
for s in seeds:
    d = f"{out}/seed{s}"
    dat, plain = json.load(open(f"{d}/robust-dat-vs-plain.json"))["models"]
    st1 = json.load(open(f"{d}/robust-stage1.json"))["models"][0]
    matched = json.load(open(f"{d}/robust-plain-matched.json"))["models"][0]
    for name, m in [("plain, 3 epochs", plain), (f"plain matched ({matched['model']})", matched), ("stage 1 AT", st1), ("stage 2 DAT (EMA)", dat)]:
        print(f"| {s} | {name} | " + " | ".join(fmt(v) for v in row(m)) + " |")
    r_dat, r_m, r_p, r_1 = row(dat), row(matched), row(plain), row(st1)
    gates.append(dict(seed=s, clean_gap_matched=r_dat[0] - r_m[0], l2_vs_matched=r_dat[1] - r_m[1], linf_vs_matched=r_dat[4] - r_m[4],
                      l2_vs_plain=r_dat[1] - r_p[1], linf_vs_plain=r_dat[4] - r_p[4], clean_vs_plain=r_dat[0] - r_p[0],
                      stage2_minus_stage1=[round(a - b, 3) for a, b in zip(r_dat, r_1)]))
print()
print("B1 (points, stage 2 minus plain): " + "; ".join(
    f"seed {g['seed']}: matched (clean {100*g['clean_gap_matched']:+.1f}) L2 0.5 {100*g['l2_vs_matched']:+.1f}, L∞ .05 {100*g['linf_vs_matched']:+.1f}; "
    f"fully trained (clean {100*g['clean_vs_plain']:+.1f}) L2 0.5 {100*g['l2_vs_plain']:+.1f}, L∞ .05 {100*g['linf_vs_plain']:+.1f}" for g in gates))
for s in seeds:
    d = f"{out}/seed{s}"
    gen = json.load(open(f"{d}/generation.json"))
    fd = json.load(open(f"{d}/fd-fmnist.json"))
    rows = [json.loads(l) for l in open(f"{d}/jem/metrics.jsonl")]
    train = [r for r in rows if "loss" in r]
    t150 = max((r.get("t", 0) for r in train if r["step"] <= 150), default=0)
    nan = any(r["loss"] != r["loss"] for r in train)
    s1 = [json.loads(l) for l in open(f"{d}/jem/stage1/metrics.jsonl")]
    pl = [json.loads(l) for l in open(f"{d}/plain/metrics.jsonl")]
    g = next(x for x in gates if x["seed"] == s)
    print(f"seed {s} B2: self-accuracy {gen['self_accuracy']:.2f}, plain agreement {gen['judge_agreement']:.2f}, "
          f"s(test) {gen['s_test']:.2f}, s(p0) {gen['s_p0']:.2f}, s(samples) {gen['s_samples']:.2f}, gap {gen['energy_gap']:.2f}, "
          f"{gen['steps']} steps of {gen['step_size']}; FD-FMNIST {fd['value']:.2f} (N = {fd['a']['n']})")
    print(f"seed {s} B3: NaN {nan}; max T logged by step 150 {t150:.1f}, final T {max(r.get('t', 0) for r in train):.1f}; "
          f"stage 2 − stage 1 (clean, L2 .5/1/1.5, L∞ .05/.1): {g['stage2_minus_stage1']}")
    print(f"seed {s} cost: plain {[r for r in pl if 'loss' in r][-1]['elapsed_s']:.0f} s, stage 1 {[r for r in s1 if 'loss' in r][-1]['elapsed_s']:.0f} s, "
          f"stage 2 {train[-1]['elapsed_s']:.0f} s ({int(train[-1]['step'])} iterations); "
          f"matmul {open(f'{d}/matmul-before.txt').read().split(':')[1].split('GFLOP')[0].strip()} / {open(f'{d}/matmul-after.txt').read().split(':')[1].split('GFLOP')[0].strip()} GFLOP/s before/after")
