"""ONNX Runtime graph optimisation and AVX2-safe dynamic int8 quantisation.

Why the care: dynamic int8 runs MatMulInteger/QAttention with uint8 activations. With int8 (S8) weights, x86
CPUs without VNNI use VPMADDUBSW, which adds two u8*s8 products into a saturating int16: 2*255*127 overflows
and the output silently goes wrong (onnxruntime #5849, #6004, #9599). Two safe layouts:

* ``s8``: int8 weights limited to 7 bits. ORT's ``reduce_range=True`` gives [-64, 64]; we re-quantise each
  channel onto [-63, 63] so every weight lies within [-64, 63] (2*255*64 = 32640 fits int16 either way).
* ``u8``: uint8 weights (U8U8 GEMM): no VPMADDUBSW, no saturation, 8-bit weights, slower on VNNI CPUs.

The word-embedding table (QEmbedLayerNormalization) is only dequantised by a lookup, never multiplied in an
integer GEMM, so it keeps its full 8-bit range.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

# Ops whose weight input goes through an integer GEMM, and which input is the weight.
GEMM_WEIGHT_INPUT = {
    "MatMulInteger": 1,
    "QAttention": 1,
    "DynamicQuantizeMatMul": 1,
    "MatMulIntegerToFloat": 1,
    "ConvInteger": 1,
    "QLinearMatMul": 3,
    "QGemm": 3,
}
OPS_TO_QUANTIZE = ["MatMul", "Attention", "Gather", "EmbedLayerNormalization"]
BERT_HEADS = 12
BERT_HIDDEN = 384


@dataclass
class QuantVariant:
    key: str  # "s8" or "u8"
    weight_type: str  # "QInt8" / "QUInt8"
    reduce_range: bool
    description: str


VARIANTS = {
    "s8": QuantVariant(
        "s8", "QInt8", True, "int8 weights, 7-bit (reduce_range, re-quantised onto [-63, 63])"
    ),
    "u8": QuantVariant("u8", "QUInt8", False, "uint8 weights (U8U8 GEMM), full 8-bit"),
}


def optimize_bert(src: Path, dst: Path, num_heads: int = BERT_HEADS, hidden_size: int = BERT_HIDDEN) -> dict:
    """Fuse the BERT graph (EmbedLayerNormalization, Attention, SkipLayerNormalization, BiasGelu).

    opt_level=1 (ORT basic, hardware-independent) then the transformer fusions; exact GELU (no approximation).
    Higher ORT levels would write CPU-specific ops (FusedMatMul, NCHWc) that the quantiser does not handle and
    that ORT re-derives at load time anyway.
    """
    from librarian.engine import _onnxruntime  # noqa: F401  (telemetry off before onnxruntime loads)
    from onnxruntime.transformers.fusion_options import FusionOptions
    from onnxruntime.transformers.optimizer import optimize_model

    opts = FusionOptions("bert")
    opts.enable_gelu_approximation = False
    model = optimize_model(
        str(src),
        model_type="bert",
        num_heads=num_heads,
        hidden_size=hidden_size,
        optimization_options=opts,
        opt_level=1,
        use_gpu=False,
    )
    stats = {k: v for k, v in model.get_fused_operator_statistics().items() if v}
    if not stats.get("Attention") or not stats.get("EmbedLayerNormalization"):
        raise RuntimeError(f"transformer fusion did not apply as expected: {stats}")
    dst.parent.mkdir(parents=True, exist_ok=True)
    model.save_model_to_file(str(dst))
    return stats


def quantize(src: Path, dst: Path, variant: QuantVariant) -> dict:
    """Per-channel dynamic int8 quantisation of an ORT-optimised graph (PITFALLS: not ORTQuantizer)."""
    from librarian.engine import _onnxruntime  # noqa: F401  (telemetry off before onnxruntime loads)
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(
        str(src),
        str(dst),
        op_types_to_quantize=OPS_TO_QUANTIZE,
        per_channel=True,
        reduce_range=variant.reduce_range,
        weight_type=getattr(QuantType, variant.weight_type),
        extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
    )
    requantised = 0
    if variant.weight_type == "QInt8":
        requantised = requantize_7bit(dst, src)
    return {"requantised_tensors": requantised}


def gemm_weight_names(model: onnx.ModelProto) -> list[str]:
    inits = {i.name for i in model.graph.initializer}
    names = []
    for node in model.graph.node:
        idx = GEMM_WEIGHT_INPUT.get(node.op_type)
        if idx is not None and len(node.input) > idx and node.input[idx] in inits:
            names.append(node.input[idx])
    return names


def requantize_7bit(quantized_path: Path, float_path: Path, qmax: int = 63) -> int:
    """Re-quantise every int8 GEMM weight that reaches +/-64 onto [-qmax, qmax] from the float weights.

    ORT's symmetric reduce_range range is [-64, 64]; the AVX2 guarantee we test for is [-64, 63]. Scale is
    recomputed per output channel as absmax/qmax (no clipping), zero point stays 0.
    """
    qmodel = onnx.load(str(quantized_path))
    fmodel = onnx.load(str(float_path))
    floats = {i.name: i for i in fmodel.graph.initializer}
    inits = {i.name: i for i in qmodel.graph.initializer}
    changed = 0
    for name in gemm_weight_names(qmodel):
        q = numpy_helper.to_array(inits[name])
        if q.dtype != np.int8 or (q.min() >= -64 and q.max() <= 63):
            continue
        base = name.removesuffix("_quantized")
        scale_name, zp_name = base + "_scale", base + "_zero_point"
        if base not in floats or scale_name not in inits:
            raise RuntimeError(f"cannot re-quantise {name}: float weight or scale not found")
        w = numpy_helper.to_array(floats[base]).astype(np.float64)
        if w.shape != q.shape:
            raise RuntimeError(f"cannot re-quantise {name}: shape {w.shape} != {q.shape}")
        zp = numpy_helper.to_array(inits[zp_name]) if zp_name in inits else np.zeros(1, np.int8)
        if np.any(zp != 0):
            raise RuntimeError(f"{name}: expected symmetric quantisation (zero point 0)")
        old_scale = numpy_helper.to_array(inits[scale_name])
        if old_scale.size == 1:
            absmax = np.asarray(np.abs(w).max())
        elif old_scale.size == w.shape[1]:  # MatMul weight [K, N]: one scale per output column
            absmax = np.abs(w).max(axis=0)
        else:
            raise RuntimeError(f"{name}: unexpected scale shape {old_scale.shape} for weight {w.shape}")
        scale = np.where(absmax > 0, absmax / qmax, 1.0)
        new_q = np.clip(np.rint(w / scale), -qmax, qmax).astype(np.int8)
        scale = scale.astype(np.float32)
        inits[name].CopyFrom(numpy_helper.from_array(new_q, name))
        inits[scale_name].CopyFrom(numpy_helper.from_array(scale.reshape(old_scale.shape), scale_name))
        changed += 1
    onnx.save(qmodel, str(quantized_path))
    return changed


@dataclass
class WeightAudit:
    gemm_weights: int = 0
    int8: int = 0
    uint8: int = 0
    int8_min: int = 0
    int8_max: int = 0
    bad: list[str] = field(default_factory=list)
    ops: dict[str, int] = field(default_factory=dict)


def audit(path: Path) -> WeightAudit:
    """Check that every integer-GEMM weight is uint8, or int8 within [-64, 63]."""
    model = onnx.load(str(path))
    inits = {i.name: i for i in model.graph.initializer}
    result = WeightAudit()
    for node in model.graph.node:
        result.ops[node.op_type] = result.ops.get(node.op_type, 0) + 1
    for name in gemm_weight_names(model):
        a = numpy_helper.to_array(inits[name])
        result.gemm_weights += 1
        if a.dtype == np.uint8:
            result.uint8 += 1
        elif a.dtype == np.int8:
            result.int8 += 1
            result.int8_min = min(result.int8_min, int(a.min()))
            result.int8_max = max(result.int8_max, int(a.max()))
            if a.min() < -64 or a.max() > 63:
                result.bad.append(f"{name}: int8 range [{a.min()}, {a.max()}]")
        else:
            result.bad.append(f"{name}: dtype {a.dtype}")
    return result


def quantized_op_types(path: Path) -> list[str]:
    model = onnx.load(str(path))
    quantized = {
        "MatMulInteger": "MatMul",
        "QAttention": "Attention",
        "QEmbedLayerNormalization": "EmbedLayerNormalization",
        "QGather": "Gather",
    }
    present = {n.op_type for n in model.graph.node}
    # A Gather reading a uint8/int8 table is a quantised Gather too.
    inits = {i.name: i for i in model.graph.initializer}
    for n in model.graph.node:
        if n.op_type == "Gather" and n.input[0] in inits and inits[n.input[0]].data_type in (2, 3):
            present.add("QGather")
    return sorted({v for k, v in quantized.items() if k in present})
