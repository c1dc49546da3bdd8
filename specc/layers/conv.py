"""Convolution, pooling and spatial layers.

Images are [C, H, W] and volumes [C, D, H, W] (specc.layers.layout); each kind over them is
written once for any number of spatial axes (`spatial`) and declared per rank with its
argument types. `conv1d` convolves sequences [T, F] (channels last, like every sequence)."""

from __future__ import annotations

import math
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BeforeValidator

from specc.layers.base import (
    NonNegative,
    NonNegPair,
    NonNegTriple,
    Op,
    Padding1d,
    Padding2d,
    Padding3d,
    Pair,
    Param,
    Penalty,
    Positive,
    Shape,
    ShapeError,
    Triple,
    expect_rank,
    fmt,
    register,
    resolve_padding,
    uniform_fan_in,
    window_output,
)
from specc.layers.layout import Layout

_GRID_HELP = {
    2: "images are [channels, height, width]; use `reshape` to make one",
    3: "volumes are [channels, depth, height, width]; use `reshape` to make one",
}


def _expect_grid(op: str, shape: Shape, spatial: int) -> None:
    """`shape` must be [C, *spatial] with `spatial` axes."""
    expect_rank(op, shape, (spatial + 1,), Layout(spatial + 1).describe(), _GRID_HELP[spatial])


def _check_groups(op: str, channels: int, filters: int, groups: int) -> None:
    if channels % groups or filters % groups:
        raise ShapeError(
            f"`{op}` groups={groups} must divide both the input channels ({channels}) "
            f"and the filters ({filters})",
            "choose groups that divide both",
        )


def _conv_params(weight: Shape, bias: int | None, fan_in: int) -> list[Param]:
    params = [uniform_fan_in("weight", weight, fan_in)]
    if bias is not None:
        params.append(uniform_fan_in("bias", (bias,), fan_in))
    return params


# ----- convolutions over [C, *spatial] -------------------------------------------------------
class _ConvNd(Op):
    """A convolution over `spatial` axes; fields are declared per rank."""

    spatial: ClassVar[int]
    family = "convolution"
    keyword_only = ("l1", "l2")

    filters: int
    kernel: Any
    stride: Any
    padding: Any
    dilation: Any
    groups: int
    bias: bool

    def pads(self, shape: Shape) -> tuple[tuple[int, int], ...]:
        return resolve_padding(self.padding, shape[1:], self.kernel, self.stride, self.dilation)

    def output_shape(self, inputs: list[Shape]) -> Shape:
        (shape,) = inputs
        _expect_grid(self.op, shape, self.spatial)
        _check_groups(self.op, shape[0], self.filters, self.groups)
        sizes = (
            window_output(self.op, n, k, s, p, d)
            for n, k, s, p, d in zip(
                shape[1:], self.kernel, self.stride, self.pads(shape), self.dilation, strict=True
            )
        )
        return (self.filters, *sizes)

    def fan_in(self, inputs: list[Shape]) -> int:
        return inputs[0][0] // self.groups * math.prod(self.kernel)

    def parameters(self, inputs: list[Shape]) -> tuple[int, int]:
        return self.filters * self.fan_in(inputs) + (self.filters if self.bias else 0), 0

    def macs(self, inputs: list[Shape], output: Shape) -> int:
        return math.prod(output) * self.fan_in(inputs)

    def canonical_params(self, inputs: list[Shape]) -> list[Param]:
        weight = (self.filters, inputs[0][0] // self.groups, *self.kernel)
        return _conv_params(weight, self.filters if self.bias else None, self.fan_in(inputs))


@register
class Conv2d(_ConvNd):
    op: Literal["conv2d"] = "conv2d"
    filters: Positive
    kernel: Pair
    stride: Pair = (1, 1)
    padding: Padding2d = (0, 0)
    dilation: Pair = (1, 1)
    groups: Positive = 1
    bias: bool = True
    l1: Penalty = 0.0
    l2: Penalty = 0.0
    spatial = 2
    shape_rule = "[C, H, W] → [filters, H', W'], H' = ⌊(H + pads − d·(k−1) − 1) / s⌋ + 1"


@register
class Conv3d(_ConvNd):
    """A convolution over volumes (video clips, scans)."""

    op: Literal["conv3d"] = "conv3d"
    filters: Positive
    kernel: Triple
    stride: Triple = (1, 1, 1)
    padding: Padding3d = (0, 0, 0)
    dilation: Triple = (1, 1, 1)
    groups: Positive = 1
    bias: bool = True
    l1: Penalty = 0.0
    l2: Penalty = 0.0
    spatial = 3
    shape_rule = "[C, D, H, W] → [filters, D', H', W'], each axis as for `conv2d`"


@register
class Conv1d(Op):
    """A convolution over time: [T, F] -> [T', filters] (channels last, like every sequence)."""

    op: Literal["conv1d"] = "conv1d"
    filters: Positive
    kernel: Positive
    stride: Positive = 1
    padding: Padding1d = (0, 0)
    dilation: Positive = 1
    groups: Positive = 1
    bias: bool = True
    l1: Penalty = 0.0
    l2: Penalty = 0.0
    family = "convolution"
    keyword_only = ("l1", "l2")
    shape_rule = "[T, F] → [T', filters] (channels last, like every sequence)"

    def pads(self, shape: Shape) -> tuple[int, int]:
        return resolve_padding(
            self.padding, shape[:1], (self.kernel,), (self.stride,), (self.dilation,)
        )[0]

    def output_shape(self, inputs: list[Shape]) -> Shape:
        (shape,) = inputs
        expect_rank(self.op, shape, (2,), "a sequence [T, F]")
        _check_groups(self.op, shape[1], self.filters, self.groups)
        t = window_output(
            self.op, shape[0], self.kernel, self.stride, self.pads(shape), self.dilation
        )
        return (t, self.filters)

    def fan_in(self, inputs: list[Shape]) -> int:
        return inputs[0][1] // self.groups * self.kernel

    def parameters(self, inputs: list[Shape]) -> tuple[int, int]:
        return self.filters * self.fan_in(inputs) + (self.filters if self.bias else 0), 0

    def macs(self, inputs: list[Shape], output: Shape) -> int:
        return math.prod(output) * self.fan_in(inputs)

    def canonical_params(self, inputs: list[Shape]) -> list[Param]:
        weight = (self.filters, inputs[0][1] // self.groups, self.kernel)
        return _conv_params(weight, self.filters if self.bias else None, self.fan_in(inputs))


class _ConvTransposeNd(Op):
    """A transposed convolution over `spatial` axes; fields are declared per rank."""

    spatial: ClassVar[int]
    family = "convolution"
    keyword_only = ("l1", "l2")

    filters: int
    kernel: Any
    stride: Any
    padding: Any
    output_padding: Any
    dilation: Any
    bias: bool

    def output_shape(self, inputs: list[Shape]) -> Shape:
        (shape,) = inputs
        _expect_grid(self.op, shape, self.spatial)
        out = []
        for n, k, s, p, op_, d in zip(
            shape[1:],
            self.kernel,
            self.stride,
            self.padding,
            self.output_padding,
            self.dilation,
            strict=True,
        ):
            if op_ >= max(s, d):
                raise ShapeError(
                    f"`{self.op}` output_padding {op_} must be smaller than the stride "
                    f"or the dilation ({max(s, d)})",
                    "lower output_padding",
                )
            size = (n - 1) * s - 2 * p + d * (k - 1) + op_ + 1
            if size <= 0:
                raise ShapeError(
                    f"`{self.op}` padding {p} leaves no output for an input of size {n}",
                    "lower the padding",
                )
            out.append(size)
        return (self.filters, *out)

    def fan_in(self) -> int:
        """PyTorch computes a transposed convolution's fan-in from its weight's second axis."""
        return self.filters * math.prod(self.kernel)

    def parameters(self, inputs: list[Shape]) -> tuple[int, int]:
        return inputs[0][0] * self.fan_in() + (self.filters if self.bias else 0), 0

    def macs(self, inputs: list[Shape], output: Shape) -> int:
        return math.prod(inputs[0]) * self.fan_in()

    def canonical_params(self, inputs: list[Shape]) -> list[Param]:
        weight = (inputs[0][0], self.filters, *self.kernel)
        return _conv_params(weight, self.filters if self.bias else None, self.fan_in())


@register
class Conv2dTranspose(_ConvTransposeNd):
    op: Literal["conv2d_transpose"] = "conv2d_transpose"
    filters: Positive
    kernel: Pair
    stride: Pair = (1, 1)
    padding: NonNegPair = (0, 0)
    output_padding: NonNegPair = (0, 0)
    dilation: Pair = (1, 1)
    bias: bool = True
    l1: Penalty = 0.0
    l2: Penalty = 0.0
    spatial = 2
    shape_rule = "[C, H, W] → [filters, (H−1)·s − 2p + d·(k−1) + output_padding + 1, …]"


@register
class Conv3dTranspose(_ConvTransposeNd):
    op: Literal["conv3d_transpose"] = "conv3d_transpose"
    filters: Positive
    kernel: Triple
    stride: Triple = (1, 1, 1)
    padding: NonNegTriple = (0, 0, 0)
    output_padding: NonNegTriple = (0, 0, 0)
    dilation: Triple = (1, 1, 1)
    bias: bool = True
    l1: Penalty = 0.0
    l2: Penalty = 0.0
    spatial = 3
    shape_rule = "[C, D, H, W] → [filters, D', H', W'], each axis as for `conv2d_transpose`"


# ----- pooling ---------------------------------------------------------------------------------
class _PoolNd(Op):
    """Window pooling over `spatial` axes; fields are declared per rank."""

    spatial: ClassVar[int]
    family = "pooling"

    kernel: Any
    stride: Any
    padding: Any
    ceil: bool

    @property
    def strides(self) -> tuple[int, ...]:
        return self.stride if self.stride is not None else self.kernel

    def pads(self, shape: Shape) -> tuple[tuple[int, int], ...]:
        return resolve_padding(
            self.padding, shape[1:], self.kernel, self.strides, (1,) * self.spatial
        )

    def output_shape(self, inputs: list[Shape]) -> Shape:
        (shape,) = inputs
        _expect_grid(self.op, shape, self.spatial)
        if isinstance(self.padding, tuple) and any(
            p * 2 > k for p, k in zip(self.padding, self.kernel, strict=True)
        ):
            raise ShapeError(
                f"`{self.op}` padding {fmt(list(self.padding))} is more than half the kernel "
                f"{fmt(list(self.kernel))}",
                "padding may be at most half the kernel size",
            )
        sizes = (
            window_output(self.op, n, k, s, p, 1, self.ceil)
            for n, k, s, p in zip(
                shape[1:], self.kernel, self.strides, self.pads(shape), strict=True
            )
        )
        return (shape[0], *sizes)


class _Pool2d(_PoolNd):
    kernel: Pair
    stride: Pair | None = None
    padding: Padding2d = (0, 0)
    ceil: bool = False
    spatial = 2


class _Pool3d(_PoolNd):
    kernel: Triple
    stride: Triple | None = None
    padding: Padding3d = (0, 0, 0)
    ceil: bool = False
    spatial = 3


@register
class MaxPool2d(_Pool2d):
    """Max pooling; padding is -infinity."""

    op: Literal["maxpool2d"] = "maxpool2d"
    shape_rule = "[C, H, W] → [C, H', W'] (stride defaults to the kernel; `ceil` rounds up)"


@register
class AvgPool2d(_Pool2d):
    """Average pooling; padded cells are not counted in the average."""

    op: Literal["avgpool2d"] = "avgpool2d"
    shape_rule = "as `maxpool2d`; padded cells are not counted in the average"


@register
class MaxPool3d(_Pool3d):
    """Max pooling over volumes; padding is -infinity."""

    op: Literal["maxpool3d"] = "maxpool3d"
    shape_rule = "[C, D, H, W] → [C, D', H', W'], each axis as for `maxpool2d`"


@register
class AvgPool3d(_Pool3d):
    """Average pooling over volumes; padded cells are not counted in the average."""

    op: Literal["avgpool3d"] = "avgpool3d"
    shape_rule = (
        "as `maxpool3d`; padded cells are not counted in the average; the window must fit "
        "the unpadded input"
    )

    def output_shape(self, inputs: list[Shape]) -> Shape:
        out = super().output_shape(inputs)
        for n, k in zip(inputs[0][1:], self.kernel, strict=True):
            if k > n:  # PyTorch's avg_pool3d refuses it, padded or not
                raise ShapeError(
                    f"`avgpool3d` window {fmt(list(self.kernel))} does not fit the input "
                    f"{fmt(list(inputs[0]))} before padding",
                    "use a smaller kernel, or `zero_pad3d` first (padding then counts)",
                )
        return out


class _GlobalPool2d(Op):
    family = "pooling"
    shape_rule = "[C, H, W] → [C]"

    def output_shape(self, inputs: list[Shape]) -> Shape:
        (shape,) = inputs
        _expect_grid(self.op, shape, 2)
        return (shape[0],)


@register
class GlobalAvgPool2d(_GlobalPool2d):
    op: Literal["global_avgpool2d"] = "global_avgpool2d"


@register
class GlobalMaxPool2d(_GlobalPool2d):
    op: Literal["global_maxpool2d"] = "global_maxpool2d"


@register
class AdaptiveAvgPool2d(Op):
    """Average pooling to a fixed output size (PyTorch's adaptive windows)."""

    op: Literal["adaptive_avgpool2d"] = "adaptive_avgpool2d"
    size: Pair
    family = "pooling"
    shape_rule = "[C, H, W] → [C, h, w] (PyTorch's adaptive windows)"

    def output_shape(self, inputs: list[Shape]) -> Shape:
        (shape,) = inputs
        _expect_grid(self.op, shape, 2)
        return (shape[0], *self.size)


# ----- resampling and padding ------------------------------------------------------------------
class _UpsampleNd(Op):
    spatial: ClassVar[int]
    family = "shape"
    scale: Any

    def output_shape(self, inputs: list[Shape]) -> Shape:
        (shape,) = inputs
        _expect_grid(self.op, shape, self.spatial)
        return (shape[0], *(n * s for n, s in zip(shape[1:], self.scale, strict=True)))


@register
class Upsample2d(_UpsampleNd):
    op: Literal["upsample2d"] = "upsample2d"
    scale: Pair = (2, 2)
    mode: Literal["nearest", "bilinear"] = "nearest"
    spatial = 2
    shape_rule = "[C, H, W] → [C, H·sh, W·sw]"


@register
class Upsample3d(_UpsampleNd):
    """Nearest-neighbour upsampling of volumes (each cell repeated)."""

    op: Literal["upsample3d"] = "upsample3d"
    scale: Triple = (2, 2, 2)
    spatial = 3
    shape_rule = "[C, D, H, W] → [C, D·sd, H·sh, W·sw]"


def _sides(spatial: int) -> Any:
    """An integer, one integer per axis, or (before, after) per axis -> (before, after, ...)."""
    n = 2 * spatial
    per_axis = {2: "[h, w]", 3: "[d, h, w]"}[spatial]
    each = {2: "[top, bottom, left, right]", 3: "[front, back, top, bottom, left, right]"}[spatial]
    message = f"expected an integer, {per_axis} or {each}"

    def convert(value: object) -> object:
        if isinstance(value, bool):
            raise ValueError(message)
        if isinstance(value, int):
            return (value,) * n
        if isinstance(value, (list, tuple)) and len(value) == spatial:
            return tuple(v for v in value for _ in (0, 1))
        if isinstance(value, (list, tuple)) and len(value) == n:
            return tuple(value)
        raise ValueError(message)

    return convert


class _ZeroPadNd(Op):
    spatial: ClassVar[int]
    family = "shape"
    padding: Any

    @property
    def pairs(self) -> tuple[tuple[int, int], ...]:
        """(before, after) per spatial axis."""
        p = self.padding
        return tuple((p[2 * i], p[2 * i + 1]) for i in range(self.spatial))

    def output_shape(self, inputs: list[Shape]) -> Shape:
        (shape,) = inputs
        _expect_grid(self.op, shape, self.spatial)
        return (shape[0], *(n + a + b for n, (a, b) in zip(shape[1:], self.pairs, strict=True)))


@register
class ZeroPad2d(_ZeroPadNd):
    """Zero padding: an integer, [h, w], or [top, bottom, left, right]."""

    op: Literal["zero_pad2d"] = "zero_pad2d"
    padding: Annotated[
        tuple[NonNegative, NonNegative, NonNegative, NonNegative], BeforeValidator(_sides(2))
    ]
    spatial = 2
    shape_rule = "[C, H, W] → [C, H + top + bottom, W + left + right]"


@register
class ZeroPad3d(_ZeroPadNd):
    """Zero padding of volumes: an integer, [d, h, w], or
    [front, back, top, bottom, left, right]."""

    op: Literal["zero_pad3d"] = "zero_pad3d"
    padding: Annotated[
        tuple[NonNegative, NonNegative, NonNegative, NonNegative, NonNegative, NonNegative],
        BeforeValidator(_sides(3)),
    ]
    spatial = 3
    shape_rule = "[C, D, H, W] → [C, D + front + back, H + top + bottom, W + left + right]"
