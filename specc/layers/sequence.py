"""Recurrent and attention layers on sequences [T, F]."""

from __future__ import annotations

import math
from typing import Annotated, ClassVar, Literal

from pydantic import Field

from specc.layers.base import (
    NonNegative,
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

#: std of a learned position table's initial values (BERT's and GPT-2's choice)
POSITION_STD = 0.02


def _expect_sequence(op: str, shape: Shape, help: str = "") -> None:
    """A sequence [T, F]: time steps first, features last."""
    expect_rank(op, shape, (2,), "a sequence [T, F] (time steps, features)", help)


def _check_initial_states(
    layer: Op, states: tuple[str, ...], units: int, given: list[Shape]
) -> None:
    """`initial_state=[...]`: one [units] value per state of `layer`, in `states` order."""
    if not given:
        return
    names = ", ".join(states)
    if len(given) != len(states):
        raise ShapeError(
            f"`{layer.op}` starts from {len(states)} state{'s' * (len(states) > 1)} "
            f"({names}); `initial_state` gives {len(given)}",
            f"write `initial_state=[{names}]`"
            if len(states) > 1
            else f"write `initial_state={names}`",
        )
    for name, shape in zip(states, given, strict=True):
        if tuple(shape) != (units,):
            raise ShapeError(
                f"`{layer.op}` initial state `{name}` must be [{units}] (one value per unit); "
                f"got {fmt(shape)}",
                f"give a state of {units} features, e.g. another recurrent layer's with "
                f"{units} units, or `dense({units})` of it",
            )


class _Recurrent(Op):
    units: Positive
    return_sequences: bool = False
    family = "sequence"
    mask_rule = "consume"
    #: gate blocks per unit: rnn 1, gru 3, lstm 4
    gates: ClassVar[int] = 1
    #: the final states, as `out, h = ...` binds them (Keras's `return_state` order) and as
    #: `initial_state=[...]` gives them
    state_names: ClassVar[tuple[str, ...]] = ("h",)
    shape_rule = (
        "[T, F] → [units], or [T, units] with `return_sequences=true`; initial states [units] each"
    )

    def states(self) -> tuple[str, ...]:
        return self.state_names

    def output_shape(self, inputs: list[Shape]) -> Shape:
        shape, *initial = inputs
        _expect_sequence(self.op, shape, "use `embedding` or `reshape`")
        _check_initial_states(self, self.states(), self.units, initial)
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
    state_names: ClassVar[tuple[str, ...]] = ("h", "c")


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
    """Runs a recurrent layer forwards and backwards; `merge` combines the two directions'
    outputs (features concatenated [forward, backward], or their sum, product or mean)."""

    op: Literal["bidirectional"] = "bidirectional"
    layer: RecurrentLayer
    #: how the two directions combine: concatenated features, or elementwise sum, product
    #: or mean (Keras's `merge_mode`)
    merge: Literal["concat", "sum", "mul", "ave"] = "concat"
    family = "sequence"
    mask_rule = "consume"
    keyword_only = ("merge",)
    shape_rule = (
        "as the wrapped layer, with the last axis doubled (`merge=concat`) or kept "
        "(`sum`, `mul`, `ave`)"
    )

    def states(self) -> tuple[str, ...]:
        """Each direction's states, forward first (Keras's order)."""
        inner = self.layer.states()
        return tuple(f"{d}_{s}" for d in ("forward", "backward") for s in inner)

    def output_shape(self, inputs: list[Shape]) -> Shape:
        shape, *initial = inputs
        out = self.layer.output_shape([shape])
        _check_initial_states(self, self.states(), self.layer.units, initial)
        return (*out[:-1], out[-1] * 2) if self.merge == "concat" else out

    def parameters(self, inputs: list[Shape]) -> tuple[int, int]:
        t, n = self.layer.parameters(inputs[:1])
        return 2 * t, 2 * n

    def canonical_params(self, inputs: list[Shape]) -> list[Param]:
        return [
            *self.layer.canonical_params(inputs[:1]),
            *self.layer.canonical_params(inputs[:1], "_reverse"),
        ]


@register
class RecurrentState(Op):
    """One final state of a recurrent layer: `out, h, c = ... -> lstm(...)` binds a layer's
    output and its final states (see Sequences)."""

    op: Literal["recurrent_state"] = "recurrent_state"
    #: the state's position in the layer's states (`h`, `c`; bidirectional: forward first)
    index: NonNegative
    #: its name there (`h`, `c`, `forward_h`, ...)
    state: str
    units: Positive
    family = "sequence"
    mask_rule = "consume"
    #: made by the compiler from a binding, never written as a layer call
    internal: ClassVar[bool] = True
    shape_rule = "→ [units]: the layer's state after its last (real) step"

    def output_shape(self, inputs: list[Shape]) -> Shape:
        return (self.units,)


@register
class MultiheadAttention(Op):
    """Self-attention on one input, or cross-attention `(query, key_value)` on two.
    `causal=true`: query step t attends to key steps 0..t only."""

    op: Literal["multihead_attention"] = "multihead_attention"
    heads: Positive
    dim: Positive
    dropout: Rate = 0.0
    causal: bool = False
    family = "sequence"
    mask_rule = "consume"
    arity = "one_or_two"
    keyword_only = ("causal",)
    shape_rule = (
        "[T, dim] (→ [T, dim]); with two names, query [T, dim] and key/value [S, dim] → [T, dim]"
    )

    def output_shape(self, inputs: list[Shape]) -> Shape:
        for shape in inputs:
            _expect_sequence(self.op, shape)
        if self.dim % self.heads:
            raise ShapeError(
                f"`multihead_attention` dim {self.dim} is not divisible by heads {self.heads}",
                "choose a dim that is a multiple of heads",
            )
        for shape in inputs:
            if shape[1] != self.dim:
                raise ShapeError(
                    f"`multihead_attention` with dim={self.dim} needs {self.dim} features per "
                    f"time step, [T, {self.dim}]; got {fmt(shape)} (F = {shape[1]})",
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


def is_recurrent(op: Op | type[Op]) -> bool:
    """A layer with final states: `rnn`, `lstm`, `gru`, `bidirectional`."""
    cls = op if isinstance(op, type) else type(op)
    return issubclass(cls, (_Recurrent, Bidirectional))


@register
class Masking(Op):
    """Marks the padding of a float sequence, as Keras's `Masking(mask_value)`: a time step
    whose features all equal `value` is padding (trailing: after each sequence's real steps).
    Padded steps become zeros; the mask travels with the sequence as `mask_zero`'s does. It
    reads a model input."""

    op: Literal["masking"] = "masking"
    value: Annotated[float, Field(allow_inf_nan=False)] = 0.0
    family = "sequence"
    mask_rule = "steps"
    shape_rule = "[T, F], unchanged (padded steps zero)"

    def output_shape(self, inputs: list[Shape]) -> Shape:
        (shape,) = inputs
        _expect_sequence(
            self.op, shape, "for token ids [T] int, use `embedding(vocab, dim, mask_zero=true)`"
        )
        return shape


# ----- positions and pooling over time --------------------------------------------------------
@register
class PositionEmbedding(Op):
    """Adds a learned vector to each time step: x[t] + table[t], the table [T, F] drawn from
    N(0, 0.02²)."""

    op: Literal["position_embedding"] = "position_embedding"
    family = "sequence"
    mask_rule = "steps"
    shape_rule = "[T, F], unchanged (adds a learned [T, F] table)"

    def output_shape(self, inputs: list[Shape]) -> Shape:
        (shape,) = inputs
        _expect_sequence(self.op, shape, "use `embedding` or `dense` first")
        return shape

    def parameters(self, inputs: list[Shape]) -> tuple[int, int]:
        return math.prod(inputs[0]), 0

    def canonical_params(self, inputs: list[Shape]) -> list[Param]:
        return [Param("weight", tuple(inputs[0]), "normal", POSITION_STD)]


@register
class SinusoidalPosition(Op):
    """Adds the fixed sinusoidal encoding of Vaswani et al. (2017): for step t and feature
    pair i, sin(t / 10000^(2i/F)) at feature 2i and cos(...) at 2i + 1. No parameters."""

    op: Literal["sinusoidal_position"] = "sinusoidal_position"
    family = "sequence"
    mask_rule = "steps"
    shape_rule = "[T, F] with F even, unchanged (adds a fixed sin/cos table)"

    def output_shape(self, inputs: list[Shape]) -> Shape:
        (shape,) = inputs
        _expect_sequence(self.op, shape, "use `embedding` or `dense` first")
        if shape[1] % 2:
            raise ShapeError(
                f"`sinusoidal_position` pairs sine and cosine features, so it needs an even "
                f"feature count; got {fmt(shape)} (F = {shape[1]})",
                f"project to an even size first, e.g. `dense({shape[1] + 1})`",
            )
        return shape


class _GlobalPool1d(Op):
    family = "pooling"
    mask_rule = "consume"  # over the real steps only
    shape_rule = "[T, F] → [F] (over the time axis)"

    def output_shape(self, inputs: list[Shape]) -> Shape:
        (shape,) = inputs
        _expect_sequence(
            self.op, shape, "for images [C, H, W] use `global_avgpool2d` / `global_maxpool2d`"
        )
        return (shape[1],)


@register
class GlobalAvgPool1d(_GlobalPool1d):
    """The mean over time steps."""

    op: Literal["global_avgpool1d"] = "global_avgpool1d"


@register
class GlobalMaxPool1d(_GlobalPool1d):
    """The maximum over time steps, per feature."""

    op: Literal["global_maxpool1d"] = "global_maxpool1d"
