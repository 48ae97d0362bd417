#!/usr/bin/env python3
"""Buckets the samples of a `perf record` of an EDM training run into op kinds (shares of all samples).

Usage: perf script -i perf.data -F ip,sym,dso | profile_summary.py
The JIT bucket (samples in anonymous executable memory, named by a /tmp/perf-PID.map file) is oneDNN's just-in-time convolution kernels (anonymous executable memory), which the
.NET runtime shares only with its own JIT-compiled code; .NET's share of a step is small (its native
parts are listed under 'runtime')."""
import re
import sys

RULES = [  # (bucket, test on "dso sym"), first match wins
    ("convolution (oneDNN, JIT code)", lambda d, s: "perf-" in d or "[JIT]" in d or "dnnl::" in s or "jit_" in s),
    ("matmul (MKL sgemm)", lambda d, s: "mkl_blas" in s or "sgemm" in s),
    ("SLEEF exp (SiLU/sigmoid/softmax)", lambda d, s: "Sleef_" in s),
    ("SiLU kernels", lambda d, s: "silu" in s),
    ("GroupNorm", lambda d, s: "GroupNorm" in s or "RowwiseMoments" in s or "ComputeInternalGradients" in s
        or "GammaBackward" in s or "group_norm" in s),
    ("reductions (sum)", lambda d, s: "sum" in s and ("cascade_sum" in s or "multi_row_sum" in s or "reduce" in s)),
    ("pool / upsample", lambda d, s: "pool" in s or "upsample" in s or "repeat_interleave" in s),
    ("softmax", lambda d, s: "softmax" in s),
    ("element-wise (add, mul, copy, fill, …)", lambda d, s: "VectorizedLoop" in s or "direct_copy" in s
        or "TensorIterator" in s or "fill" in s or "copy_kernel" in s or "unary" in s or "binary" in s or "normal_kernel" in s),
    ("memcpy / memset", lambda d, s: "memmove" in s or "memcpy" in s or "memset" in s),
    ("allocator (glibc malloc)", lambda d, s: "malloc" in s or "_int_free" in s or "unlink_chunk" in s or s.strip() in ("free", "cfree")),
    ("OpenMP (libgomp: wait and barriers)", lambda d, s: "libgomp" in d),
    ("kernel", lambda d, s: "kernel.kallsyms" in d),
    ("runtime (.NET, TorchSharp, libc10)", lambda d, s: any(k in d for k in ("coreclr", "clrjit", "LibTorchSharp", "libc10", "System.", "doublemapper"))),
]

def main():
    buckets, total = {}, 0
    for line in sys.stdin:
        m = re.match(r"\s*[0-9a-f]+ (.*) \((.*)\)\s*$", line)
        if not m:
            continue
        sym, dso = m.group(1), m.group(2)
        total += 1
        name = next((b for b, test in RULES if test(dso, sym)), "other libtorch / libc")
        buckets[name] = buckets.get(name, 0) + 1
    print(f"| op kind | share of {total} samples |\n|---|---|")
    for name, n in sorted(buckets.items(), key=lambda kv: -kv[1]):
        print(f"| {name} | {100 * n / total:.1f} % |")

if __name__ == "__main__":
    main()
