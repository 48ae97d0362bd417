#!/usr/bin/env python3
"""ONNX's own checker on graphs gen export wrote (docs/deploy.md §3).

Usage: /usr/bin/python3 bench/onnx/check_graphs.py MODEL.onnx [...]
Needs Debian's python3-onnx (a checking tool here, never a dependency of Gen). For each model: the
full checker (onnx.checker.check_model(full_check=True), which also runs strict shape inference), the
opset and IR version, the operators used, and the inferred output shape. Exit 1 if any model fails.
"""
import sys
import onnx
from onnx import checker, shape_inference

failed = 0
for path in sys.argv[1:]:
    m = onnx.load(path)
    try:
        checker.check_model(m, full_check=True)
        inferred = shape_inference.infer_shapes(m, check_type=True, strict_mode=True)
        out = inferred.graph.output[0]
        dims = [d.dim_param or d.dim_value for d in out.type.tensor_type.shape.dim]
        ops = sorted({n.op_type for n in m.graph.node})
        opset = [o.version for o in m.opset_import if o.domain in ("", "ai.onnx")]
        print(f"ok   {path}: IR {m.ir_version}, opset {opset}, {len(m.graph.node)} nodes, output {out.name} {dims}, ops {' '.join(ops)}")
    except Exception as e:  # the checker raises ValidationError / InferenceError
        failed += 1
        print(f"FAIL {path}: {type(e).__name__}: {str(e).splitlines()[0]}")
sys.exit(1 if failed else 0)
