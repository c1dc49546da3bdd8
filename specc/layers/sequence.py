"""Recurrent and attention layers on sequences [T, F]."""

from __future__ import annotations

import math
from typing import Annotated, ClassVar, Literal

from pydantic import Field

from specc.layers.base import (
    Op,
    Param,
    Positive,
    Rate,
    Shape,
    ShapeError,
    expect_rank,
    fmt,
    register,
)


class _Recurrent(Op):
    units: Positive
    return_sequences: bool = False
    family = "sequence"
    #: gate blocks per unit: rnn 1, gru 3, lstm 4
    gates: ClassVar[int] = 1
    shape_rule = "[T, F] → [units], or [T, units] with `return_sequences=true`"

    def output_shape(self, inputs: list[Shape]) -> Shape:
        (shape,) = inputs
        expect_rank(self.op, shape, (2,), "a sequence [T, F]", "use `embedding` or `reshape`")
        return (shape[0], self.units) if self.return_sequences else (self.units,)

    def parameters(self, inputs: list[Shape]) -> tuple[int, int]:
        f, u, g = inputs[0][1], self.units, self.gates
        return g * u * (f + u) + self.bias_count(), 0

    def bias_count(self) -> int:
        return self.gates * self.units

    def canonical_params(self, inputs: list[Shape], suffix: str = "") -> list[Param]:
        """PyTorch's layout; every tensor U(-1/sqrt(units), 1/sqrt(units))."""
        rows, bound = self.gates * self.units, 1.0 / math.sqrt(self.units)
        # one bias per gate block for rnn/lstm: PyTorch's second stays zero (frozen)
        second = self.bias_count() > rows
        return [
            Param(f"weight_ih_l0{suffix}", (rows, inputs[0][-1]), "uniform", bound),
            Param(f"weight_hh_l0{suffix}", (rows, self.units), "uniform", bound),
            Param(f"bias_ih_l0{suffix}", (rows,), "uniform", bound),
            Param(f"bias_hh_l0{suffix}", (rows,), "uniform", bound)
            if second
            else Param(f"bias_hh_l0{suffix}", (rows,), "zeros", trainable=False, counted=False),
        ]


@register
class Rnn(_Recurrent):
    """Elman RNN with tanh. One bias per gate block."""

    op: Literal["rnn"] = "rnn"


@register
class Lstm(_Recurrent):
    """LSTM, gates (i, f, g, o). One bias per gate block (Keras's count; see docs)."""

    op: Literal["lstm"] = "lstm"
    gates: ClassVar[int] = 4


@register
class Gru(_Recurrent):
    """GRU in PyTorch's formulation (reset gate applied after the recurrent product),
    with input and recurrent biases."""

    op: Literal["gru"] = "gru"
    gates: ClassVar[int] = 3

    def bias_count(self) -> int:
        return 2 * 3 * self.units


RecurrentLayer = Annotated[Rnn | Lstm | Gru, Field(discriminator="op")]


@register
class Bidirectional(Op):
    """Runs a recurrent layer forwards and backwards; outputs are concatenated."""

    op: Literal["bidirectional"] = "bidirectional"
    layer: RecurrentLayer
    family = "sequence"
    shape_rule = "as the wrapped layer, with the last axis doubled"

    def output_shape(self, inputs: list[Shape]) -> Shape:
        out = self.layer.output_shape(inputs)
        return (*out[:-1], out[-1] * 2)

    def parameters(self, inputs: list[Shape]) -> tuple[int, int]:
        t, n = self.layer.parameters(inputs)
        return 2 * t, 2 * n

    def canonical_params(self, inputs: list[Shape]) -> list[Param]:
        return [
            *self.layer.canonical_params(inputs),
            *self.layer.canonical_params(inputs, "_reverse"),
        ]


@register
class MultiheadAttention(Op):
    """Self-attention on one input, or cross-attention `(query, key_value)` on two."""

    op: Literal["multihead_attention"] = "multihead_attention"
    heads: Positive
    dim: Positive
    dropout: Rate = 0.0
    family = "sequence"
    arity = "one_or_two"
    shape_rule = (
        "[T, dim] (→ [T, dim]); with two names, query [T, dim] and key/value [S, dim] → [T, dim]"
    )

    def output_shape(self, inputs: list[Shape]) -> Shape:
        for shape in inputs:
            expect_rank(self.op, shape, (2,), "sequences [T, F]")
        if self.dim % self.heads:
            raise ShapeError(
                f"`multihead_attention` dim {self.dim} is not divisible by heads {self.heads}",
                "choose a dim that is a multiple of heads",
            )
        for shape in inputs:
            if shape[1] != self.dim:
                raise ShapeError(
                    f"`multihead_attention` with dim={self.dim} needs inputs [T, {self.dim}], "
                    f"got {fmt(shape)}",
                    f"add `dense({self.dim})` before it, or set dim={shape[1]}",
                )
        return inputs[0]

    def parameters(self, inputs: list[Shape]) -> tuple[int, int]:
        d = self.dim
        return 4 * d * d + 4 * d, 0

    def canonical_params(self, inputs: list[Shape]) -> list[Param]:
        """PyTorch's layout: in-projection Glorot-uniform (over the stacked [3d, d]
        matrix), out-projection U(-1/sqrt(d), 1/sqrt(d)), biases zero."""
        d = self.dim
        return [
            Param("in_proj_weight", (3 * d, d), "uniform", math.sqrt(6.0 / (d + 3 * d))),
            Param("in_proj_bias", (3 * d,), "zeros"),
            Param("out_proj.weight", (d, d), "uniform", 1.0 / math.sqrt(d)),
            Param("out_proj.bias", (d,), "zeros"),
        ]
