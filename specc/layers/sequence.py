"""Recurrent and attention layers on sequences [T, F]."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field

from specc.layers.base import Op, Positive, Rate, Shape, ShapeError, expect_rank, fmt, register


class _Recurrent(Op):
    units: Positive
    return_sequences: bool = False
    family = "sequence"
    #: gate blocks per unit: rnn 1, gru 3, lstm 4
    gates: ClassVar[int] = 1

    def output_shape(self, inputs: list[Shape]) -> Shape:
        (shape,) = inputs
        expect_rank(self.op, shape, (2,), "a sequence [T, F]", "use `embedding` or `reshape`")
        return (shape[0], self.units) if self.return_sequences else (self.units,)

    def parameters(self, inputs: list[Shape]) -> tuple[int, int]:
        f, u, g = inputs[0][1], self.units, self.gates
        return g * u * (f + u) + self.bias_count(), 0

    def bias_count(self) -> int:
        return self.gates * self.units


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

    def output_shape(self, inputs: list[Shape]) -> Shape:
        out = self.layer.output_shape(inputs)
        return (*out[:-1], out[-1] * 2)

    def parameters(self, inputs: list[Shape]) -> tuple[int, int]:
        t, n = self.layer.parameters(inputs)
        return 2 * t, 2 * n


@register
class MultiheadAttention(Op):
    """Self-attention on one input, or cross-attention `(query, key_value)` on two."""

    op: Literal["multihead_attention"] = "multihead_attention"
    heads: Positive
    dim: Positive
    dropout: Rate = 0.0
    family = "sequence"
    arity = "one_or_two"

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
