#!/usr/bin/env python3
"""How visible the planted patches of make_patch_set.py are: for each FAKE test image, the total grey-level
change the 3x3 patch of 255 makes (255 minus the covered pixels, summed over the 9 pixels). A patch that
lands on a bright garment changes little, which bounds what any detector can reach on this set.
Usage: patch_visibility.py [N] (N as given to make_patch_set.py, default 2000; same placement draws)."""
import gzip, numpy as np, random, sys
def load(p):
    with gzip.open(p) as f: d = f.read()
    return np.frombuffer(d, np.uint8, offset=16).reshape(-1, 28, 28)
tr = load('/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz')
te = load('/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz')
N = int(sys.argv[1]) if len(sys.argv) > 1 else 2000; T = 500
rng = random.Random(1)                       # the draws of make_patch_set.py, in its order
def change(img):
    y = rng.randrange(26); x = rng.randrange(26)
    return int((255 - img[y:y+3, x:x+3].astype(int)).sum())
for img in tr[N:2*N]: change(img)            # the training fakes come first
d = np.array([change(img) for img in te[T:2*T]])
print("test FAKE images whose patch changes the image by at most t grey levels in total (of 9 x 255 = 2295):")
for t in (200, 500, 1000): print(f"  t = {t:4d}: {100 * (d <= t).mean():.1f} %")
