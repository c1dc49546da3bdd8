"""The contract every layer kind meets: typed arguments with the language's own defaults,
a shape rule and a parameter count. Backends read these classes; they never re-derive them."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from specc.layers.layout import layout_of

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
_WORDS = {2: "two", 3: "three"}


def _ntuple(n: int) -> Any:
    """An integer (the same on every axis) or a list of `n` integers -> an n-tuple."""
    message = f"expected an integer or a list of {_WORDS[n]} integers"

    def convert(value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError(message)
        if isinstance(value, int):
            return (value,) * n
        if isinstance(value, (list, tuple)) and len(value) == n:
            return tuple(value)
        raise ValueError(message)

    return convert


_pair = _ntuple(2)


def _positive_pair(value: tuple[int, ...]) -> tuple[int, ...]:
    if any(v <= 0 for v in value):
        raise ValueError("must be positive")
    return value


def _padding(n: int) -> Any:
    message = f"expected `same`, `valid`, an integer or a list of {_WORDS[n]} integers"
    ntuple = _ntuple(n)

    def convert(value: Any) -> Any:
        if value == "valid":
            return (0,) * n
        if value == "same":
            return "same"
        if isinstance(value, str):
            raise ValueError(message)
        return ntuple(value)

    return convert


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
    BeforeValidator(_padding(2)),
    AfterValidator(_nonneg_pair),
]
Padding1d = Annotated[
    Literal["same"] | tuple[StrictInt, StrictInt],
    BeforeValidator(lambda v: _padding(2)(_single(v))),
    AfterValidator(_nonneg_pair),
]
Triple = Annotated[
    tuple[StrictInt, StrictInt, StrictInt],
    BeforeValidator(_ntuple(3)),
    AfterValidator(_positive_pair),
]
NonNegTriple = Annotated[
    tuple[StrictInt, StrictInt, StrictInt],
    BeforeValidator(_ntuple(3)),
    AfterValidator(_nonneg_pair),
]
Padding3d = Annotated[
    Literal["same"] | tuple[StrictInt, StrictInt, StrictInt],
    BeforeValidator(_padding(3)),
    AfterValidator(_nonneg_pair),
]
Rate = Annotated[float, Field(ge=0.0, lt=1.0)]
PositiveFloat = Annotated[float, Field(gt=0.0)]
Penalty = Annotated[float, Field(ge=0.0)]
Axis = Literal["features"] | StrictInt


# ----- canonical parameters ----------------------------------------------------------------
@dataclass(frozen=True)
class Param:
    """One canonical tensor of a layer: its name (PyTorch's), shape (PyTorch's layout) and
    initial distribution. `canonical_init` draws a layer's tensors in the order listed.

    init: "uniform" U(-bound, bound) (bound = 1/sqrt(fan_in) for PyTorch's defaults),
    "normal" N(0, std**2) with std = `bound`, "zeros" or "ones"."""

    name: str
    shape: Shape
    init: Literal["uniform", "normal", "zeros", "ones"]
    bound: float = 0.0
    #: trained by the optimizer (batch-norm running statistics are not)
    trainable: bool = True
    #: part of the language's parameter count; False for PyTorch's second recurrent bias,
    #: which stays zero and frozen so that the computation is the language's (Keras's)
    counted: bool = True

    @property
    def size(self) -> int:
        return math.prod(self.shape)


def uniform_fan_in(name: str, shape: Shape, fan_in: int) -> Param:
    """PyTorch's default for weights and biases: U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    return Param(name, shape, "uniform", 1.0 / math.sqrt(fan_in))


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
    #: the shape rule in one line, for docs/language.md (docs/gen_layers.py)
    shape_rule: ClassVar[str] = ""
    #: what the kind does with a padding mask on its input (specc/passes/masking.py):
    #: "steps" acts on each time step alone and passes the mask on, "consume" reads it
    #: (recurrent layers, attention, pooling over time), "refuse" cannot take a masked input
    mask_rule: ClassVar[Literal["steps", "consume", "refuse"]] = "refuse"
    #: made by the compiler, never written as a layer call (a recurrent layer's states)
    internal: ClassVar[bool] = False

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

    def canonical_params(self, inputs: list[Shape]) -> list[Param]:
        """The layer's canonical tensors (names, layouts, initialisers), in drawing order.
        A kind with parameters must list them; the default is for kinds without any."""
        if self.parameters(inputs) != (0, 0):
            raise NotImplementedError(
                f"layer kind `{self.op}` has parameters but no canonical_params"
            )
        return []

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
    """The language's feature axis: channels of [C, *spatial], else the last axis."""
    return layout_of(shape).feature_axis


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
