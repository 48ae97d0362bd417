#!/usr/bin/env python3
"""A one-number baseline for a REAL/FAKE set in the CIFAKE layout: each image scored by its fraction of
exactly-zero pixels (fewer zeros = more likely FAKE), the threshold chosen on the training split, and
accuracy and ROC-AUC reported on the test split. It shows how much of a detector's accuracy the
background cue alone explains. Usage: cue_baseline.py DS"""
import os, sys
import numpy as np
from PIL import Image

def split(root, name):
    xs, ys = [], []
    for label, y in (("REAL", 0), ("FAKE", 1)):
        d = os.path.join(root, name, label)
        for f in sorted(os.listdir(d)):
            a = np.asarray(Image.open(os.path.join(d, f)))
            xs.append((a == 0).mean()); ys.append(y)
    return np.array(xs), np.array(ys)

def auc(score, y):  # Mann-Whitney with average ranks for ties
    order = np.argsort(score, kind="mergesort"); s = score[order]
    ranks = np.empty(len(s)); i = 0
    while i < len(s):
        j = i
        while j + 1 < len(s) and s[j + 1] == s[i]: j += 1
        ranks[i:j + 1] = (i + j) / 2 + 1; i = j + 1
    r = np.empty(len(s)); r[order] = ranks
    pos = y.sum(); neg = len(y) - pos
    return (r[y == 1].sum() - pos * (pos + 1) / 2) / (pos * neg)

root = sys.argv[1]
xtr, ytr = split(root, "train"); xte, yte = split(root, "test")
cands = np.unique(xtr)
accs = [((xtr < t) == ytr).mean() for t in cands]
t = cands[int(np.argmax(accs))]
print(f"threshold on the exact-zero fraction (train): {t:.4f} (train accuracy {max(accs):.4f})")
print(f"test accuracy {((xte < t) == yte).mean():.4f}, test ROC-AUC {auc(-xte, yte):.4f} (score = minus the zero fraction)")
