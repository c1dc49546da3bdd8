"""Canonical initial weights, made with NumPy from a seed: the same starting point for every
backend, so `specc run --seed S` starts the same run on PyTorch and on Keras.

The distributions are PyTorch's defaults (the language's), declared by each layer kind's
`canonical_params` (specc/layers/): weights and biases of convolutions, dense and recurrent
layers U(+-1/sqrt(fan_in)) (recurrent: 1/sqrt(units)), normalisation scales 1 and shifts 0,
running statistics 0 and 1, embeddings N(0, 1), attention projections Glorot-uniform with
zero biases. Keys and shapes are the canonical layout (docs/backends.md); only numpy is
needed."""

from __future__ import annotations

import numpy as np

from specc.ir.net import Net
from specc.layers.base import Param


def draw(param: Param, rng: np.random.Generator) -> np.ndarray:
    """One tensor from its documented distribution (`Param.init`)."""
    if param.init == "uniform":
        return rng.uniform(-param.bound, param.bound, param.shape).astype(np.float32)
    if param.init == "normal":
        return (rng.standard_normal(param.shape) * param.bound).astype(np.float32)
    if param.init == "zeros":
        return np.zeros(param.shape, np.float32)
    return np.ones(param.shape, np.float32)


def canonical_init(net: Net, seed: int) -> dict[str, np.ndarray]:
    """Every canonical tensor of `net`, drawn in the network's layer order."""
    rng = np.random.default_rng([seed, 17])
    weights: dict[str, np.ndarray] = {}
    for node in net.layers:
        inputs = [net.node(i).shape or () for i in node.inputs]
        for param in node.op.canonical_params(inputs):
            weights[f"{node.ident}.{param.name}"] = draw(param, rng)
    return weights
