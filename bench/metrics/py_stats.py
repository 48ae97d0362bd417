#!/usr/bin/env python3
"""The Python side of bench/metrics: pytorch-fid's pipeline on Debian's torch 1.13 with the fixture formula
weights (the same network Gen loads from the .pth that make_inception_fixtures.py --write-weights wrote).

    /usr/bin/python3 bench/metrics/py_stats.py fashion-mnist:test N OUT.npz [--threads 2] [--batch 50]

Reads Fashion-MNIST's IDX files like Gen (Debian's dataset-fashion-mnist), runs pytorch-fid's preprocessing
and block-3 features (pool3, 2048-d), writes np.savez_compressed(mu, sigma) and prints one JSON line with
images/s of the feature pass (decode included, weights building excluded).
"""
import argparse
import gzip
import json
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tests", "fixtures"))
import make_inception_fixtures as fx  # noqa: E402

FOLDER = "/usr/share/datasets/fashion-mnist"


def load(spec, n):
    split = spec.split(":")[1] if ":" in spec else "test"
    name = {"train": "train-images-idx3-ubyte.gz", "test": "t10k-images-idx3-ubyte.gz"}[split]
    with gzip.open(os.path.join(FOLDER, name)) as f:
        raw = f.read()
    count = int.from_bytes(raw[4:8], "big")
    return np.frombuffer(raw, np.uint8, offset=16).reshape(count, 1, 28, 28)[:n]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("data")
    p.add_argument("n", type=int)
    p.add_argument("out")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch", type=int, default=50)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    net = fx.fid_inception()
    net.load_state_dict(fx.formula_state_dict(net))
    images = load(a.data, a.n)
    feats = np.empty((len(images), 2048))
    start = time.time()
    with torch.no_grad():
        for i in range(0, len(images), a.batch):
            x = fx.preprocess_pytorch_fid(torch.from_numpy(images[i:i + a.batch].copy()))
            feats[i:i + a.batch] = fx.run_blocks(net, x, 3)["pool2048"].double().numpy()
    elapsed = time.time() - start
    mu, sigma = np.mean(feats, axis=0), np.cov(feats, rowvar=False)
    np.savez_compressed(a.out, mu=mu, sigma=sigma)
    print(json.dumps({"tool": "python-torch-" + torch.__version__, "n": len(images), "seconds": elapsed,
                      "images_per_s": len(images) / elapsed, "threads": a.threads}))


if __name__ == "__main__":
    main()
