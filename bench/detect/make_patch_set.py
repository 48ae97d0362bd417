#!/usr/bin/env python3
"""The planted-patch set of bench/RESULTS.md "Detection": Fashion-MNIST images in the CIFAKE layout, FAKE =
REAL + a 3x3 patch of 255 at a random place. Usage: make_patch_set.py N OUT (N REAL + N FAKE training
images, 500 + 500 test images). Then: gen train detector --data OUT [--arch resnet-s] --epochs 3|10."""
import gzip, numpy as np, os, random, sys
from PIL import Image
def load(p):
    with gzip.open(p) as f: d=f.read()
    return np.frombuffer(d, np.uint8, offset=16).reshape(-1,28,28)
tr=load('/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz'); te=load('/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz')
N=int(sys.argv[1]); T=500; root=sys.argv[2]
rng=random.Random(1)
def patch(img):
    img=img.copy(); y=rng.randrange(26); x=rng.randrange(26); img[y:y+3,x:x+3]=255; return img
def write(d, imgs):
    os.makedirs(d, exist_ok=True)
    for i,im in enumerate(imgs): Image.fromarray(im).save(f'{d}/{i:05d}.png')
write(root+'/train/REAL', tr[:N]); write(root+'/train/FAKE', [patch(x) for x in tr[N:2*N]])
write(root+'/test/REAL', te[:T]); write(root+'/test/FAKE', [patch(x) for x in te[T:2*T]])
