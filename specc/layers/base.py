"""The contract every layer kind meets: typed arguments with the language's own defaults,
a shape rule and a parameter count. Backends read these classes; they never re-derive them."""

from __future__ import annotations

import math
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

Shape = tuple[int, ...]


class ShapeError(Exception):
    """A layer cannot take the shapes it is given. Becomes a diagnostic at the layer."""

    def __init__(self, message: str, help: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.help = help


def fmt(shape: Shape | list[int]) -> str:
    return "[" + ", ".join(str(d) for d in shape) + "]"


# ----- argument types -------------------------------------------------------------------------
def _pair(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("expected an integer or a list of two integers")
    if isinstance(value, int):
        return (value, value)
    if isinstance(value, (list, tuple)) and len(value) == 2:
        return tuple(value)
    raise ValueError("expected an integer or a list of two integers")


def _positive_pair(value: tuple[int, int]) -> tuple[int, int]:
    if any(v <= 0 for v in value):
        raise ValueError("must be positive")
    return value


def _padding(value: Any) -> Any:
    if value == "valid":
        return (0, 0)
    if value == "same":
        return "same"
    if isinstance(value, str):
        raise ValueError("expected `same`, `valid`, an integer or a list of two integers")
    return _pair(value)


def _nonneg_pair(value: Any) -> Any:
    if isinstance(value, tuple) and any(v < 0 for v in value):
        raise ValueError("must not be negative")
    return value


def _single(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        if len(value) != 1:
            raise ValueError("expected one integer")
        return value[0]
    return value


StrictInt = Annotated[int, Field(strict=True)]
Positive = Annotated[int, Field(strict=True, gt=0)]
NonNegative = Annotated[int, Field(strict=True, ge=0)]
Pair = Annotated[
    tuple[StrictInt, StrictInt], BeforeValidator(_pair), AfterValidator(_positive_pair)
]
NonNegPair = Annotated[
    tuple[StrictInt, StrictInt], BeforeValidator(_pair), AfterValidator(_nonneg_pair)
]
Padding2d = Annotated[
    Literal["same"] | tuple[StrictInt, StrictInt],
    BeforeValidator(_padding),
    AfterValidator(_nonneg_pair),
]
Padding1d = Annotated[
    Literal["same"] | tuple[StrictInt, StrictInt],
    BeforeValidator(lambda v: _padding(_single(v))),
    AfterValidator(_nonneg_pair),
]
Rate = Annotated[float, Field(ge=0.0, lt=1.0)]
PositiveFloat = Annotated[float, Field(gt=0.0)]
Penalty = Annotated[float, Field(ge=0.0)]
Axis = Literal["features"] | StrictInt


# ----- the base class -------------------------------------------------------------------------
class Op(BaseModel):
    """A layer kind. Fields are its arguments, in positional order, with their defaults."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    op: str

    #: "one" (a single predecessor), "many" (named inputs, merges) or "one_or_two" (attention)
    arity: ClassVar[str] = "one"
    #: family, for docs and summaries
    family: ClassVar[str] = "layer"
    #: arguments documented, but never given positionally
    keyword_only: ClassVar[tuple[str, ...]] = ()
    #: input element type: "float" or "int"
    input_dtype: ClassVar[str] = "float"

    @classmethod
    def argument_names(cls) -> list[str]:
        return [n for n in cls.model_fields if n != "op"]

    @classmethod
    def positional_names(cls) -> list[str]:
        return [n for n in cls.argument_names() if n not in cls.keyword_only]

    def output_shape(self, inputs: list[Shape]) -> Shape:
        (shape,) = inputs
        return shape

    def parameters(self, inputs: list[Shape]) -> tuple[int, int]:
        """(trainable, non-trainable) parameter counts."""
        return 0, 0

    def macs(self, inputs: list[Shape], output: Shape) -> int:
        """Multiply-accumulates per sample (0 where negligible)."""
        return 0

    def arguments(self) -> dict[str, Any]:
        return {n: getattr(self, n) for n in self.argument_names()}


REGISTRY: dict[str, type[Op]] = {}


def register(cls: type[Op]) -> type[Op]:
    name = cls.model_fields["op"].default
    REGISTRY[name] = cls
    return cls


# ----- shape helpers shared by the rules and the backends --------------------------------------
def expect_rank(op: str, shape: Shape, ranks: tuple[int, ...], what: str, help: str = "") -> None:
    if len(shape) not in ranks:
        raise ShapeError(f"`{op}` needs {what}, got {fmt(shape)}", help)


def same_padding(size: int, kernel: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """TensorFlow's `same`: output ceil(size / stride); the odd pixel goes after."""
    out = -(-size // stride)
    total = max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0)
    return total // 2, total - total // 2


def resolve_padding(
    padding: str | tuple[int, int],
    sizes: tuple[int, ...],
    kernel: tuple[int, ...],
    stride: tuple[int, ...],
    dilation: tuple[int, ...],
) -> tuple[tuple[int, int], ...]:
    """(before, after) padding per spatial axis."""
    if padding == "same":
        return tuple(
            same_padding(n, k, s, d)
            for n, k, s, d in zip(sizes, kernel, stride, dilation, strict=False)
        )
    assert isinstance(padding, tuple)
    return tuple((p, p) for p in padding[: len(sizes)])


def window_output(
    op: str,
    size: int,
    kernel: int,
    stride: int,
    pads: tuple[int, int],
    dilation: int = 1,
    ceil: bool = False,
) -> int:
    span = (kernel - 1) * dilation + 1
    padded = size + pads[0] + pads[1]
    if padded < span:
        raise ShapeError(
            f"`{op}` window of size {span} does not fit an input of size {size}"
            + (f" padded to {padded}" if padded != size else ""),
            "use a smaller kernel, add padding, or remove a pooling step earlier",
        )
    if ceil:
        out = math.ceil((padded - span) / stride) + 1
        if (out - 1) * stride >= size + pads[0]:
            out -= 1
        return out
    return (padded - span) // stride + 1


def feature_axis(shape: Shape) -> int:
    """The language's feature axis: channels of an image ([C, H, W]), else the last axis."""
    return 0 if len(shape) == 3 else len(shape) - 1


def resolve_axis(op: str, axis: str | int, shape: Shape) -> int:
    if axis == "features":
        return feature_axis(shape)
    assert isinstance(axis, int)
    rank = len(shape)
    if not -rank <= axis < rank:
        raise ShapeError(
            f"`{op}` axis {axis} is out of range for a sample of shape {fmt(shape)}",
            f"use `features` or an axis from 0 to {rank - 1} (the batch axis is not counted)",
        )
    return axis % rank
