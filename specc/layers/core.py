"""Dense, shape, normalisation, regularisation and embedding layers."""

from __future__ import annotations

import math
from typing import Literal

from pydantic import Field

from specc.layers.base import (
    Op,
    Param,
    Penalty,
    Positive,
    PositiveFloat,
    Rate,
    Shape,
    ShapeError,
    StrictInt,
    expect_rank,
    fmt,
    register,
    uniform_fan_in,
)
from specc.layers.layout import layout_of


@register
class Dense(Op):
    """A fully connected layer on the last axis."""

    op: Literal["dense"] = "dense"
    units: Positive
    bias: bool = True
    l1: Penalty = 0.0
    l2: Penalty = 0.0
    family = "dense"
    keyword_only = ("l1", "l2")
    mask_rule = "steps"
    shape_rule = "[F] → [units]; [T, F] → [T, units] (acts on the last axis)"

    def output_shape(self, inputs: list[Shape]) -> Shape:
        (shape,) = inputs
        layout = layout_of(shape)
        if layout.channels_first:
            raise ShapeError(
                f"`dense` needs a flat input [F] or a sequence [T, F], got "
                f"the {layout.describe().split(' [')[0].split()[-1]} {fmt(shape)}",
                "add `flatten` before `dense`",
            )
        expect_rank(self.op, shape, (1, 2), "a flat input [F] or a sequence [T, F]")
        return (*shape[:-1], self.units)

    def parameters(self, inputs: list[Shape]) -> tuple[int, int]:
        return inputs[0][-1] * self.units + (self.units if self.bias else 0), 0

    def macs(self, inputs: list[Shape], output: Shape) -> int:
        return math.prod(inputs[0]) * self.units

    def canonical_params(self, inputs: list[Shape]) -> list[Param]:
        fan_in = inputs[0][-1]
        params = [uniform_fan_in("weight", (self.units, fan_in), fan_in)]
        if self.bias:
            params.append(uniform_fan_in("bias", (self.units,), fan_in))
        return params


@register
class Flatten(Op):
    op: Literal["flatten"] = "flatten"
    family = "shape"
    shape_rule = "any → [product of the dimensions] (C, H, W order)"

    def output_shape(self, inputs: list[Shape]) -> Shape:
        return (math.prod(inputs[0]),)


@register
class Reshape(Op):
    """Reshape to `dims` (without the batch axis); one dimension may be -1."""

    op: Literal["reshape"] = "reshape"
    dims: list[StrictInt] = Field(min_length=1)
    family = "shape"
    shape_rule = "any → dims; one dimension may be −1; element counts must agree"

    def output_shape(self, inputs: list[Shape]) -> Shape:
        (shape,) = inputs
        total = math.prod(shape)
        dims = list(self.dims)
        if dims.count(-1) > 1 or any(d == 0 or d < -1 for d in dims):
            raise ShapeError(
                f"`reshape` dimensions {fmt(dims)} must be positive, with at most one -1",
                "write each dimension as a positive integer",
            )
        known = math.prod(d for d in dims if d != -1)
        if -1 in dims:
            if total % known:
                raise ShapeError(
                    f"`reshape` cannot make {fmt(dims)} from {fmt(shape)} ({total} elements)",
                    f"the known dimensions must divide {total}",
                )
            dims[dims.index(-1)] = total // known
        elif known != total:
            raise ShapeError(
                f"`reshape` to {fmt(dims)} needs {known} elements, but the input {fmt(shape)} "
                f"has {total}",
                "the product of the dimensions must equal the input's element count",
            )
        return tuple(dims)


@register
class Identity(Op):
    op: Literal["identity"] = "identity"
    family = "shape"
    shape_rule = "unchanged"
    mask_rule = "steps"


@register
class Dropout(Op):
    op: Literal["dropout"] = "dropout"
    rate: Rate = 0.5
    family = "regularisation"
    shape_rule = "unchanged"
    mask_rule = "steps"


@register
class BatchNorm(Op):
    """Batch normalisation over the channel axis of [C, H, W] or [C, D, H, W], or the
    features of [F].

    momentum follows PyTorch: running = (1 - momentum) * running + momentum * batch."""

    op: Literal["batchnorm"] = "batchnorm"
    eps: PositiveFloat = 1e-5
    momentum: float = Field(default=0.1, gt=0.0, lt=1.0)
    family = "normalisation"
    shape_rule = "[C, H, W], [C, D, H, W] or [F], unchanged (statistics per channel / feature)"

    def output_shape(self, inputs: list[Shape]) -> Shape:
        (shape,) = inputs
        expect_rank(
            self.op,
            shape,
            (1, 3, 4),
            "an image [C, H, W], a volume [C, D, H, W] or a flat input [F]",
            "for sequences [T, F] use `layernorm`",
        )
        return shape

    def parameters(self, inputs: list[Shape]) -> tuple[int, int]:
        c = inputs[0][0]
        return 2 * c, 2 * c

    def canonical_params(self, inputs: list[Shape]) -> list[Param]:
        c = (inputs[0][0],)
        return [
            Param("weight", c, "ones"),
            Param("bias", c, "zeros"),
            Param("running_mean", c, "zeros", trainable=False),
            Param("running_var", c, "ones", trainable=False),
        ]


@register
class LayerNorm(Op):
    """Layer normalisation over the last axis of [F] or [T, F]."""

    op: Literal["layernorm"] = "layernorm"
    eps: PositiveFloat = 1e-5
    family = "normalisation"
    shape_rule = "[F] or [T, F], unchanged (normalises the last axis)"
    mask_rule = "steps"

    def output_shape(self, inputs: list[Shape]) -> Shape:
        (shape,) = inputs
        expect_rank(
            self.op,
            shape,
            (1, 2),
            "a flat input [F] or a sequence [T, F]",
            "for images use `batchnorm`",
        )
        return shape

    def parameters(self, inputs: list[Shape]) -> tuple[int, int]:
        return 2 * inputs[0][-1], 0

    def canonical_params(self, inputs: list[Shape]) -> list[Param]:
        f = (inputs[0][-1],)
        return [Param("weight", f, "ones"), Param("bias", f, "zeros")]


@register
class Embedding(Op):
    """Token ids [T] (an `int` input) -> vectors [T, dim]. `mask_zero=true`: token id 0 is
    padding, after each sequence's real tokens; the layers that read sequences skip it."""

    op: Literal["embedding"] = "embedding"
    vocab: Positive
    dim: Positive
    #: token id 0 marks padding (trailing): the output carries a padding mask
    mask_zero: bool = False
    family = "sequence"
    input_dtype = "int"
    keyword_only = ("mask_zero",)
    shape_rule = "token ids [T] (an `int` input) → [T, dim]"

    def output_shape(self, inputs: list[Shape]) -> Shape:
        (shape,) = inputs
        expect_rank(self.op, shape, (1,), "token ids [T]", "declare the input as `[T] int`")
        return (shape[0], self.dim)

    def parameters(self, inputs: list[Shape]) -> tuple[int, int]:
        return self.vocab * self.dim, 0

    def canonical_params(self, inputs: list[Shape]) -> list[Param]:
        return [Param("weight", (self.vocab, self.dim), "normal", 1.0)]
