"""Merge layers: take two or more named inputs."""

from __future__ import annotations

from typing import Literal

from specc.layers.base import Axis, Op, Shape, ShapeError, fmt, register, resolve_axis


class _Elementwise(Op):
    arity = "many"
    family = "merge"
    shape_rule = "two or more equal shapes → the same shape"
    mask_rule = "steps"

    def output_shape(self, inputs: list[Shape]) -> Shape:
        first = inputs[0]
        for other in inputs[1:]:
            if other != first:
                raise ShapeError(
                    f"`{self.op}` needs inputs of one shape, got "
                    + " and ".join(fmt(s) for s in inputs),
                    "make the branches agree, e.g. with a 1x1 `conv2d` projection on the shortcut",
                )
        return first


@register
class Add(_Elementwise):
    op: Literal["add"] = "add"


@register
class Multiply(_Elementwise):
    op: Literal["multiply"] = "multiply"


@register
class Concat(Op):
    """Concatenation along an axis (default: the feature axis, channels for images)."""

    op: Literal["concat"] = "concat"
    axis: Axis = "features"
    arity = "many"
    family = "merge"
    shape_rule = "shapes equal except on `axis` → the sum along `axis`"
    mask_rule = "steps"  # on the feature axis only (specc/passes/masking.py)

    def output_shape(self, inputs: list[Shape]) -> Shape:
        first = inputs[0]
        axis = resolve_axis(self.op, self.axis, first)
        for other in inputs[1:]:
            if len(other) != len(first) or any(
                a != b for i, (a, b) in enumerate(zip(first, other, strict=False)) if i != axis
            ):
                raise ShapeError(
                    "`concat` inputs must agree on every axis but the joined one, got "
                    + " and ".join(fmt(s) for s in inputs),
                    "check the branches' shapes with `specc summary`",
                )
        total = sum(s[axis] for s in inputs)
        return (*first[:axis], total, *first[axis + 1 :])
