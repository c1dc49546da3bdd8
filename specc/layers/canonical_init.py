"""Canonical initial weights, made with NumPy from a seed: the same starting point for every
backend, so `specc run --seed S` starts the same run on PyTorch and on Keras.

The distributions are PyTorch's defaults (the language's), written out: weights and biases of
convolutions, dense and recurrent layers U(+-1/sqrt(fan_in)) (recurrent: 1/sqrt(units)),
normalisation scales 1 and shifts 0, running statistics 0 and 1, embeddings N(0, 1),
attention projections Glorot-uniform with zero biases. Keys and shapes are the canonical
layout (docs/backends.md); only numpy is needed."""

from __future__ import annotations

import math

import numpy as np

from specc.ir.net import Net, Node


def _uniform(rng: np.random.Generator, bound: float, shape: tuple[int, ...]) -> np.ndarray:
    return rng.uniform(-bound, bound, shape).astype(np.float32)


def _layer(node: Node, in_shape: tuple[int, ...], rng: np.random.Generator) -> dict:
    op = node.op
    kind = op.op
    out: dict[str, np.ndarray] = {}
    if kind in ("conv2d", "conv1d", "dense", "conv2d_transpose"):
        if kind == "conv2d":
            shape = (op.filters, in_shape[0] // op.groups, *op.kernel)
            fan_in = shape[1] * op.kernel[0] * op.kernel[1]
        elif kind == "conv1d":
            shape = (op.filters, in_shape[1] // op.groups, op.kernel)
            fan_in = shape[1] * op.kernel
        elif kind == "dense":
            shape = (op.units, in_shape[-1])
            fan_in = in_shape[-1]
        else:  # PyTorch computes a transposed convolution's fan-in from its second axis
            shape = (in_shape[0], op.filters, *op.kernel)
            fan_in = op.filters * op.kernel[0] * op.kernel[1]
        bound = 1.0 / math.sqrt(fan_in)
        out["weight"] = _uniform(rng, bound, shape)
        if op.bias:
            out["bias"] = _uniform(
                rng, bound, (shape[1] if kind == "conv2d_transpose" else shape[0],)
            )
        return out
    if kind in ("batchnorm", "layernorm"):
        c = in_shape[0] if kind == "batchnorm" else in_shape[-1]
        out = {"weight": np.ones(c, np.float32), "bias": np.zeros(c, np.float32)}
        if kind == "batchnorm":
            out["running_mean"] = np.zeros(c, np.float32)
            out["running_var"] = np.ones(c, np.float32)
        return out
    if kind == "embedding":
        return {"weight": rng.standard_normal((op.vocab, op.dim)).astype(np.float32)}
    if kind in ("rnn", "lstm", "gru", "bidirectional"):
        cell = op.layer if kind == "bidirectional" else op
        gates, units = {"rnn": 1, "lstm": 4, "gru": 3}[cell.op], cell.units
        bound = 1.0 / math.sqrt(units)
        for suffix in ("", "_reverse") if kind == "bidirectional" else ("",):
            out[f"weight_ih_l0{suffix}"] = _uniform(rng, bound, (gates * units, in_shape[-1]))
            out[f"weight_hh_l0{suffix}"] = _uniform(rng, bound, (gates * units, units))
            out[f"bias_ih_l0{suffix}"] = _uniform(rng, bound, (gates * units,))
            # one bias per gate block for rnn/lstm: PyTorch's second stays zero (frozen)
            out[f"bias_hh_l0{suffix}"] = (
                _uniform(rng, bound, (gates * units,))
                if cell.op == "gru"
                else np.zeros(gates * units, np.float32)
            )
        return out
    if kind == "multihead_attention":
        d = op.dim
        glorot = math.sqrt(6.0 / (d + 3 * d))
        return {
            "in_proj_weight": _uniform(rng, glorot, (3 * d, d)),
            "in_proj_bias": np.zeros(3 * d, np.float32),
            "out_proj.weight": _uniform(rng, 1.0 / math.sqrt(d), (d, d)),
            "out_proj.bias": np.zeros(d, np.float32),
        }
    return out


def canonical_init(net: Net, seed: int) -> dict[str, np.ndarray]:
    """Every canonical tensor of `net`, drawn in the network's layer order."""
    rng = np.random.default_rng([seed, 17])
    weights: dict[str, np.ndarray] = {}
    for node in net.layers:
        in_shape = net.node(node.inputs[0]).shape or ()
        for key, value in _layer(node, in_shape, rng).items():
            weights[f"{node.ident}.{key}"] = value
    return weights
