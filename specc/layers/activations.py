"""Activations: element-wise, shape-preserving (softmax over an axis)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from specc.layers.base import Axis, Op, PositiveFloat, Shape, register, resolve_axis


class _Activation(Op):
    family = "activation"
    shape_rule = "unchanged"
    mask_rule = "steps"  # softmax over time excepted (specc/passes/masking.py)


def _simple(name: str, doc: str) -> type[Op]:
    cls = type(
        name.title().replace("_", ""),
        (_Activation,),
        {"__annotations__": {"op": Literal[name]}, "op": name, "__doc__": doc},
    )
    return register(cls)


Relu = _simple("relu", "max(x, 0)")
Selu = _simple("selu", "scaled ELU with the self-normalising constants")
Sigmoid = _simple("sigmoid", "1 / (1 + exp(-x))")
Tanh = _simple("tanh", "hyperbolic tangent")
Softplus = _simple("softplus", "log(1 + exp(x))")
Silu = _simple("silu", "x * sigmoid(x) (swish)")


@register
class LeakyRelu(_Activation):
    op: Literal["leaky_relu"] = "leaky_relu"
    slope: float = Field(default=0.01, ge=0.0)


@register
class Elu(_Activation):
    op: Literal["elu"] = "elu"
    alpha: PositiveFloat = 1.0


@register
class Gelu(_Activation):
    """Exact GELU by default; `approximate=tanh` for the tanh approximation."""

    op: Literal["gelu"] = "gelu"
    approximate: Literal["none", "tanh"] = "none"


@register
class Softmax(_Activation):
    op: Literal["softmax"] = "softmax"
    axis: Axis = "features"
    shape_rule = "unchanged (normalises `axis`)"

    def output_shape(self, inputs: list[Shape]) -> Shape:
        resolve_axis(self.op, self.axis, inputs[0])
        return inputs[0]


@register
class LogSoftmax(_Activation):
    op: Literal["log_softmax"] = "log_softmax"
    axis: Axis = "features"
    shape_rule = "unchanged (normalises `axis`)"

    def output_shape(self, inputs: list[Shape]) -> Shape:
        resolve_axis(self.op, self.axis, inputs[0])
        return inputs[0]
