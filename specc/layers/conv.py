"""Convolution, pooling and spatial layers. Images are [C, H, W]; sequences [T, F]."""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import BeforeValidator

from specc.layers.base import (
    NonNegative,
    NonNegPair,
    Op,
    Padding1d,
    Padding2d,
    Pair,
    Penalty,
    Positive,
    Shape,
    ShapeError,
    expect_rank,
    fmt,
    register,
    resolve_padding,
    window_output,
)

_IMAGE_HELP = "images are [channels, height, width]; use `reshape` to make one"


def _check_groups(op: str, channels: int, filters: int, groups: int) -> None:
    if channels % groups or filters % groups:
        raise ShapeError(
            f"`{op}` groups={groups} must divide both the input channels ({channels}) "
            f"and the filters ({filters})",
            "choose groups that divide both",
        )


@register
class Conv2d(Op):
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
    family = "convolution"
    keyword_only = ("l1", "l2")

    def pads(self, shape: Shape) -> tuple[tuple[int, int], ...]:
        return resolve_padding(self.padding, shape[1:], self.kernel, self.stride, self.dilation)

    def output_shape(self, inputs: list[Shape]) -> Shape:
        (shape,) = inputs
        expect_rank(self.op, shape, (3,), "an image [C, H, W]", _IMAGE_HELP)
        _check_groups(self.op, shape[0], self.filters, self.groups)
        pads = self.pads(shape)
        h, w = (
            window_output(self.op, n, k, s, p, d)
            for n, k, s, p, d in zip(
                shape[1:], self.kernel, self.stride, pads, self.dilation, strict=False
            )
        )
        return (self.filters, h, w)

    def parameters(self, inputs: list[Shape]) -> tuple[int, int]:
        cin = inputs[0][0]
        kh, kw = self.kernel
        return self.filters * (cin // self.groups) * kh * kw + (self.filters if self.bias else 0), 0

    def macs(self, inputs: list[Shape], output: Shape) -> int:
        kh, kw = self.kernel
        return math.prod(output) * (inputs[0][0] // self.groups) * kh * kw


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

    def parameters(self, inputs: list[Shape]) -> tuple[int, int]:
        cin = inputs[0][1]
        return self.filters * (cin // self.groups) * self.kernel + (
            self.filters if self.bias else 0
        ), 0

    def macs(self, inputs: list[Shape], output: Shape) -> int:
        return math.prod(output) * (inputs[0][1] // self.groups) * self.kernel


@register
class Conv2dTranspose(Op):
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
    family = "convolution"
    keyword_only = ("l1", "l2")

    def output_shape(self, inputs: list[Shape]) -> Shape:
        (shape,) = inputs
        expect_rank(self.op, shape, (3,), "an image [C, H, W]", _IMAGE_HELP)
        out = []
        for n, k, s, p, op_, d in zip(
            shape[1:],
            self.kernel,
            self.stride,
            self.padding,
            self.output_padding,
            self.dilation,
            strict=False,
        ):
            if op_ >= max(s, d):
                raise ShapeError(
                    f"`conv2d_transpose` output_padding {op_} must be smaller than the stride "
                    f"or the dilation ({max(s, d)})",
                    "lower output_padding",
                )
            size = (n - 1) * s - 2 * p + d * (k - 1) + op_ + 1
            if size <= 0:
                raise ShapeError(
                    f"`conv2d_transpose` padding {p} leaves no output for an input of size {n}",
                    "lower the padding",
                )
            out.append(size)
        return (self.filters, out[0], out[1])

    def parameters(self, inputs: list[Shape]) -> tuple[int, int]:
        kh, kw = self.kernel
        return inputs[0][0] * self.filters * kh * kw + (self.filters if self.bias else 0), 0

    def macs(self, inputs: list[Shape], output: Shape) -> int:
        kh, kw = self.kernel
        return math.prod(inputs[0]) * self.filters * kh * kw


class _Pool2d(Op):
    kernel: Pair
    stride: Pair | None = None
    padding: Padding2d = (0, 0)
    ceil: bool = False
    family = "pooling"

    @property
    def strides(self) -> tuple[int, int]:
        return self.stride if self.stride is not None else self.kernel

    def pads(self, shape: Shape) -> tuple[tuple[int, int], ...]:
        return resolve_padding(self.padding, shape[1:], self.kernel, self.strides, (1, 1))

    def output_shape(self, inputs: list[Shape]) -> Shape:
        (shape,) = inputs
        expect_rank(self.op, shape, (3,), "an image [C, H, W]", _IMAGE_HELP)
        if isinstance(self.padding, tuple) and any(
            p * 2 > k for p, k in zip(self.padding, self.kernel, strict=False)
        ):
            raise ShapeError(
                f"`{self.op}` padding {fmt(list(self.padding))} is more than half the kernel "
                f"{fmt(list(self.kernel))}",
                "padding may be at most half the kernel size",
            )
        pads = self.pads(shape)
        h, w = (
            window_output(self.op, n, k, s, p, 1, self.ceil)
            for n, k, s, p in zip(shape[1:], self.kernel, self.strides, pads, strict=False)
        )
        return (shape[0], h, w)


@register
class MaxPool2d(_Pool2d):
    """Max pooling; padding is -infinity."""

    op: Literal["maxpool2d"] = "maxpool2d"


@register
class AvgPool2d(_Pool2d):
    """Average pooling; padded cells are not counted in the average."""

    op: Literal["avgpool2d"] = "avgpool2d"


class _GlobalPool2d(Op):
    family = "pooling"

    def output_shape(self, inputs: list[Shape]) -> Shape:
        (shape,) = inputs
        expect_rank(self.op, shape, (3,), "an image [C, H, W]", _IMAGE_HELP)
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

    def output_shape(self, inputs: list[Shape]) -> Shape:
        (shape,) = inputs
        expect_rank(self.op, shape, (3,), "an image [C, H, W]", _IMAGE_HELP)
        return (shape[0], *self.size)


@register
class Upsample2d(Op):
    op: Literal["upsample2d"] = "upsample2d"
    scale: Pair = (2, 2)
    mode: Literal["nearest", "bilinear"] = "nearest"
    family = "shape"

    def output_shape(self, inputs: list[Shape]) -> Shape:
        (shape,) = inputs
        expect_rank(self.op, shape, (3,), "an image [C, H, W]", _IMAGE_HELP)
        return (shape[0], shape[1] * self.scale[0], shape[2] * self.scale[1])


def _four(value: object) -> object:
    if isinstance(value, bool):
        raise ValueError("expected an integer or a list of 2 or 4 integers")
    if isinstance(value, int):
        return (value,) * 4
    if isinstance(value, (list, tuple)) and len(value) == 2:
        return (value[0], value[0], value[1], value[1])
    if isinstance(value, (list, tuple)) and len(value) == 4:
        return tuple(value)
    raise ValueError("expected an integer, [h, w] or [top, bottom, left, right]")


@register
class ZeroPad2d(Op):
    """Zero padding: an integer, [h, w], or [top, bottom, left, right]."""

    op: Literal["zero_pad2d"] = "zero_pad2d"
    padding: Annotated[
        tuple[NonNegative, NonNegative, NonNegative, NonNegative], BeforeValidator(_four)
    ]
    family = "shape"

    def output_shape(self, inputs: list[Shape]) -> Shape:
        (shape,) = inputs
        expect_rank(self.op, shape, (3,), "an image [C, H, W]", _IMAGE_HELP)
        t, b, left, r = self.padding
        return (shape[0], shape[1] + t + b, shape[2] + left + r)
