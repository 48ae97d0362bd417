#!/usr/bin/env python3
"""How visible the planted patches of make_patch_set.py are: for each FAKE test image, the total grey-level
change the 3x3 patch of 255 makes (255 minus the covered pixels, summed over the 9 pixels). A patch that
lands on a bright garment changes little, which bounds what any detector can reach on this set.
Also the hand-written rule "FAKE iff the image holds a 3x3 block of 255 anywhere": every FAKE image has one,
so the rule's errors are the REAL images that hold one too; its accuracy is what a detector that learned
exactly the planted cue reaches on this set.
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
print(f"  t =    0: {100 * (d == 0).mean():.1f} % (the FAKE image equals its REAL original)")
def has_block(img):
    w = (img == 255).astype(int)
    rows = w[0:26] + w[1:27] + w[2:28]                   # 26 x 28: vertical sums of 3
    return bool(((rows[:, 0:26] + rows[:, 1:27] + rows[:, 2:28]) == 9).any())
real = np.array([has_block(img) for img in te[:T]])
print(f"REAL test images holding a 3x3 block of 255: {100 * real.mean():.1f} %; "
      f"the rule 'FAKE iff such a block' scores {100 * (0.5 * (1 - real.mean()) + 0.5):.1f} % on the test split")
