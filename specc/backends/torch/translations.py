"""PyTorch's translation of each layer kind: one function per kind (or per family of kinds
that PyTorch writes alike), found through `TRANSLATIONS`. A function gets the node in
context (`Site`) and returns the module to build, if any, and the forward lines.

Adding a layer kind: write its translation here, decorated with `@translates("kind")`; the
registry test (tests/test_registry.py) names any kind without one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from specc.backends.base import UNUSED, BackendError, NodeSite, TranslationTable
from specc.backends.codefmt import LIMIT
from specc.backends.templating import py_literal as lit
from specc.layers.base import resolve_axis
from specc.layers.layout import layout_of
from specc.layers.sequence import POSITION_STD


@dataclass
class Layer:
    attr: str
    code: str
    setup: list[str] = field(default_factory=list)  # statements run after construction


@dataclass
class Site(NodeSite):
    """One node as the translation sees it: its module attribute, input shapes and
    variables, and the variable its value goes to."""

    attr: str
    xs: list[str]
    out: str
    helpers: set[str]  # the emitted module's helper definitions this model needs
    unsupported: Callable[..., BackendError]
    #: each input's padding-mask variable (True at real steps), None where unpadded
    masks: list[str | None] = field(default_factory=list)
    #: the mask variable this node defines (a `mask_zero` embedding)
    mask_out: str | None = None
    #: a recurrent layer whose final states are bound: the variable holding its final
    #: state (h, or an LSTM's (h, c), each [directions, N, units]); for a `recurrent_state`
    #: node, its layer's
    state_var: str | None = None
    #: for a `recurrent_state` node: the recurrent layer's op
    state_source: Any = None

    @property
    def x(self) -> str:
        return self.xs[0]

    @property
    def mask(self) -> str | None:
        """The first input's padding mask."""
        return self.masks[0] if self.masks else None

    def assign(self, expr: str) -> list[str]:
        return [f"{self.out} = {expr}"]

    def module(self, code: str, src: str | None = None) -> tuple[Layer, list[str]]:
        """A module built as `code`, applied to `src` (the input by default)."""
        return Layer(self.attr, code), self.assign(f"self.{self.attr}({src or self.x})")


Translation = tuple[Layer | None, list[str]]
Translator = Callable[[Site], Translation]


TRANSLATIONS = TranslationTable("PyTorch")
translates = TRANSLATIONS.translates


# ----- activations and shape-only layers ---------------------------------------------------------
_ACTIVATIONS = {
    "relu": "F.relu({x})",
    "selu": "F.selu({x})",
    "sigmoid": "torch.sigmoid({x})",
    "tanh": "torch.tanh({x})",
    "softplus": "F.softplus({x})",
    "silu": "F.silu({x})",
}


@translates(*_ACTIVATIONS)
def _activation(s: Site) -> Translation:
    return None, s.assign(_ACTIVATIONS[s.op.op].format(x=s.x))


@translates("leaky_relu")
def _leaky_relu(s: Site) -> Translation:
    return None, s.assign(f"F.leaky_relu({s.x}, negative_slope={lit(s.op.slope)})")


@translates("elu")
def _elu(s: Site) -> Translation:
    return None, s.assign(f"F.elu({s.x}, alpha={lit(s.op.alpha)})")


@translates("gelu")
def _gelu(s: Site) -> Translation:
    return None, s.assign(f"F.gelu({s.x}, approximate={lit(s.op.approximate)})")


@translates("softmax", "log_softmax")
def _softmax(s: Site) -> Translation:
    dim = resolve_axis(s.op.op, s.op.axis, s.shape) + 1
    return None, s.assign(f"F.{s.op.op}({s.x}, dim={dim})")


@translates("identity")
def _identity(s: Site) -> Translation:
    return None, [] if s.out == s.x else s.assign(s.x)  # never `x = x`


@translates("flatten")
def _flatten(s: Site) -> Translation:
    return None, s.assign(f"torch.flatten({s.x}, start_dim=1)")


@translates("reshape")
def _reshape(s: Site) -> Translation:
    dims = ", ".join(str(d) for d in s.node.shape or ())
    return None, s.assign(f"{s.x}.reshape({s.x}.shape[0], {dims})")


@translates("global_avgpool2d", "global_maxpool2d")
def _global_pool(s: Site) -> Translation:
    fn = "torch.mean" if s.op.op == "global_avgpool2d" else "torch.amax"
    dims = tuple(range(2, len(s.shape) + 1))
    return None, s.assign(f"{fn}({s.x}, dim={lit(dims)})")


# ----- merges ------------------------------------------------------------------------------------
@translates("add")
def _add(s: Site) -> Translation:
    return None, s.assign(" + ".join(s.xs))


@translates("multiply")
def _multiply(s: Site) -> Translation:
    return None, s.assign(" * ".join(s.xs))


@translates("concat")
def _concat(s: Site) -> Translation:
    dim = resolve_axis("concat", s.op.axis, s.shape) + 1
    return None, s.assign(f"torch.cat([{', '.join(s.xs)}], dim={dim})")


# ----- latent -------------------------------------------------------------------------------------
@translates("gaussian_sample")
def _gaussian_sample(s: Site) -> Translation:
    s.helpers.add("GaussianSample")
    mean, log_var = s.xs
    # `eps`: forward's argument, the harness's draws (None: the layer's own, or the mean)
    return Layer(s.attr, "GaussianSample()"), s.assign(f"self.{s.attr}({mean}, {log_var}, eps)")


@translates("rbm")
def _rbm(s: Site) -> Translation:
    s.helpers.add("BernoulliRbm")
    return s.module(f"BernoulliRbm({s.shape[0]}, {s.op.hidden})")


# ----- layers with weights -----------------------------------------------------------------------
@translates("dense")
def _dense(s: Site) -> Translation:
    return s.module(f"nn.Linear({s.shape[-1]}, {s.op.units}, bias={lit(s.op.bias)})")


def _symmetric(
    pads: tuple[tuple[int, int], ...],
) -> tuple[tuple[int, ...], tuple[int, ...] | None]:
    """Module padding when even on both sides of every axis; otherwise zero and an explicit
    F.pad (last axis first: left, right, top, bottom, ...)."""
    if all(a == b for a, b in pads):
        return tuple(a for a, _ in pads), None
    flat = tuple(p for pair in reversed(pads) for p in pair)
    return (0,) * len(pads), flat


@translates("conv2d", "conv3d")
def _conv(s: Site) -> Translation:
    op = s.op
    padding, pre = _symmetric(op.pads(s.shape))
    code = (
        f"nn.Conv{op.spatial}d({s.shape[0]}, {op.filters}, kernel_size={lit(op.kernel)}, "
        f"stride={lit(op.stride)}, padding={lit(padding)}, dilation={lit(op.dilation)}, "
        f"groups={op.groups}, bias={lit(op.bias)})"
    )
    return s.module(code, f"F.pad({s.x}, {lit(pre)})" if pre else None)


@translates("conv1d")
def _conv1d(s: Site) -> Translation:
    op = s.op
    pads = op.pads(s.shape)
    padding = pads[0] if pads[0] == pads[1] else 0
    code = (
        f"nn.Conv1d({s.shape[1]}, {op.filters}, kernel_size={op.kernel}, "
        f"stride={op.stride}, padding={padding}, dilation={op.dilation}, "
        f"groups={op.groups}, bias={lit(op.bias)})"
    )
    src = f"{s.x}.transpose(1, 2)"  # sequences are [T, F]; PyTorch convolves [F, T]
    if pads[0] != pads[1]:
        src = f"F.pad({src}, {lit(pads)})"
    return Layer(s.attr, code), s.assign(f"self.{s.attr}({src}).transpose(1, 2)")


@translates("conv2d_transpose", "conv3d_transpose")
def _conv_transpose(s: Site) -> Translation:
    op = s.op
    return s.module(
        f"nn.ConvTranspose{op.spatial}d({s.shape[0]}, {op.filters}, kernel_size={lit(op.kernel)}, "
        f"stride={lit(op.stride)}, padding={lit(op.padding)}, "
        f"output_padding={lit(op.output_padding)}, dilation={lit(op.dilation)}, "
        f"bias={lit(op.bias)})"
    )


# ----- pooling and resampling --------------------------------------------------------------------
@translates("maxpool2d", "maxpool3d")
def _maxpool(s: Site) -> Translation:
    op = s.op
    padding, pre = _symmetric(op.pads(s.shape))
    code = (
        f"nn.MaxPool{op.spatial}d(kernel_size={lit(op.kernel)}, stride={lit(op.strides)}, "
        f"padding={lit(padding)}, ceil_mode={lit(op.ceil)})"
    )
    return s.module(code, f'F.pad({s.x}, {lit(pre)}, value=float("-inf"))' if pre else None)


@translates("avgpool2d", "avgpool3d")
def _avgpool(s: Site) -> Translation:
    op = s.op
    padding, pre = _symmetric(op.pads(s.shape))
    if pre:
        raise s.unsupported(
            s.node,
            f"`{op.op}` with uneven `same` padding",
            "use an odd kernel, or explicit padding",
        )
    return s.module(
        f"nn.AvgPool{op.spatial}d(kernel_size={lit(op.kernel)}, stride={lit(op.strides)}, "
        f"padding={lit(padding)}, ceil_mode={lit(op.ceil)}, count_include_pad=False)"
    )


@translates("adaptive_avgpool2d")
def _adaptive_avgpool2d(s: Site) -> Translation:
    return s.module(f"nn.AdaptiveAvgPool2d({lit(s.op.size)})")


@translates("upsample2d")
def _upsample2d(s: Site) -> Translation:
    extra = ", align_corners=False" if s.op.mode == "bilinear" else ""
    return s.module(f"nn.Upsample(scale_factor={lit(s.op.scale)}, mode={lit(s.op.mode)}{extra})")


@translates("upsample3d")
def _upsample3d(s: Site) -> Translation:
    return s.module(f'nn.Upsample(scale_factor={lit(s.op.scale)}, mode="nearest")')


@translates("zero_pad2d", "zero_pad3d")
def _zero_pad(s: Site) -> Translation:
    # PyTorch lists the last axis first: (left, right, top, bottom[, front, back])
    pads = tuple(p for pair in reversed(s.op.pairs) for p in pair)
    return s.module(f"nn.ZeroPad{s.op.spatial}d({lit(pads)})")


# ----- regularisation and normalisation ----------------------------------------------------------
@translates("dropout")
def _dropout(s: Site) -> Translation:
    return s.module(f"nn.Dropout(p={lit(s.op.rate)})")


@translates("batchnorm")
def _batchnorm(s: Site) -> Translation:
    cls = f"nn.BatchNorm{max(layout_of(s.shape).spatial, 1)}d"  # [F]: BatchNorm1d
    return s.module(f"{cls}({s.shape[0]}, eps={lit(s.op.eps)}, momentum={lit(s.op.momentum)})")


@translates("layernorm")
def _layernorm(s: Site) -> Translation:
    return s.module(f"nn.LayerNorm({s.shape[-1]}, eps={lit(s.op.eps)})")


# ----- sequences and attention -------------------------------------------------------------------
@translates("embedding")
def _embedding(s: Site) -> Translation:
    layer, lines = s.module(f"nn.Embedding({s.op.vocab}, {s.op.dim})")
    if s.mask_out is None:
        return layer, lines
    # token 0 is padding, after each sequence's real tokens
    return layer, [f"{s.mask_out} = {s.x} != 0  # True at real steps", *lines]


@translates("masking")
def _masking(s: Site) -> Translation:
    assert s.mask_out is not None
    # a step whose features all equal the value is padding; padded steps become zeros
    real = f"{s.mask_out} = ({s.x} != {lit(s.op.value)}).any(dim=-1)  # True at real steps"
    return None, [real, *s.assign(f"{s.x} * {s.mask_out}.unsqueeze(-1)")]


_RNN = {"rnn": "nn.RNN", "lstm": "nn.LSTM", "gru": "nn.GRU"}


@translates(*_RNN, "bidirectional")
def _recurrent(s: Site) -> Translation:
    op = s.op
    bidirectional = op.op == "bidirectional"
    cell = op.layer if bidirectional else op
    code = (
        f"{_RNN[cell.op]}({s.shape[-1]}, {cell.units}, batch_first=True"
        + (", bidirectional=True" if bidirectional else "")
        + ")"
    )
    setup = []
    if cell.op in ("rnn", "lstm"):
        # The language gives each gate block one bias (as Keras does); torch has two.
        # Keeping b_hh at zero and frozen makes the two computations identical.
        for suffix in ("l0", "l0_reverse") if bidirectional else ("l0",):
            setup.append(f"nn.init.zeros_(self.{s.attr}.bias_hh_{suffix})")
            setup.append(f"self.{s.attr}.bias_hh_{suffix}.requires_grad_(False)")
    layer = Layer(s.attr, code, setup)
    merge = op.merge if bidirectional else "concat"
    args = [s.x]
    if len(s.xs) > 1:  # initial states [N, units] -> [directions, N, units]
        args.append(_initial_state(s.xs[1:], cell.op == "lstm", bidirectional))
    # padded sequences: only the real steps run (packed), padded steps' outputs are zero
    call = f"self.{s.attr}({', '.join(args)})"
    if s.mask is not None:
        s.helpers.add("packed_rnn")
        call = f"packed_rnn(self.{s.attr}, {', '.join([args[0], s.mask, *args[1:]])})"
    state = s.state_var
    if cell.return_sequences:
        if merge == "concat":
            return layer, [f"{s.out}, {state or '_'} = {call}"]
        # features [forward | backward] -> [direction, units], combined over the directions
        reduce = {"sum": "sum", "mul": "prod", "ave": "mean"}[merge]
        split = f"unflatten(-1, (2, {cell.units}))"
        if state is not None:
            return layer, [
                f"{s.out}, {state} = {call}",
                f"{s.out} = {s.out}.{split}",
                f"{s.out} = {s.out}.{reduce}(dim=-2)",
            ]
        run = f"{call}[0]"
        line = f"{s.out} = {run}.{split}.{reduce}(dim=-2)"
        if len(line) + 8 > LIMIT and len(f"            {run}") <= LIMIT:
            # as ruff lays out a long chain, in `forward`'s body
            pad = " " * 12
            line = f"{s.out} = (\n{pad}{run}\n{pad}.{split}\n{pad}.{reduce}(dim=-2)\n        )"
        elif len(line) + 8 > LIMIT:  # a call too long for a chain: one statement a step
            return layer, [
                f"{s.out}, _ = {call}",
                f"{s.out} = {s.out}.{split}",
                f"{s.out} = {s.out}.{reduce}(dim=-2)",
            ]
        return layer, [line]
    # the last step's output is the final state h [directions, N, units]
    if state is not None:
        lines, h = [f"_, {state} = {call}"], f"{state}[0]" if cell.op == "lstm" else state
    else:
        lines, h = [f"_, {'(h, _)' if cell.op == 'lstm' else 'h'} = {call}"], "h"
    if s.out == UNUSED:  # only the final states are read
        return layer, lines
    if bidirectional:
        # the final state of each direction: forward after the last step, backward after
        # the first
        return layer, [*lines, _merge_directions(s.out, f"{h}[0]", f"{h}[1]", merge)]
    return layer, [*lines, f"{s.out} = {h}[0]"]


def _initial_state(xs: list[str], lstm: bool, bidirectional: bool) -> str:
    """The states given as [N, units] each, in the language's order (forward before
    backward; h before c), as PyTorch takes them: [directions, N, units], an LSTM's as
    (h, c)."""
    per = 2 if lstm else 1
    parts = [
        f"torch.stack([{xs[i]}, {xs[i + per]}])" if bidirectional else f"{xs[i]}.unsqueeze(0)"
        for i in range(per)
    ]
    return f"({', '.join(parts)})" if lstm else parts[0]


@translates("recurrent_state")
def _recurrent_state(s: Site) -> Translation:
    # one of the final states of the layer before: h, or an LSTM's (h, c), each
    # [directions, N, units]
    assert s.state_var is not None and s.state_source is not None
    layer = s.state_source
    cell = layer.layer if layer.op == "bidirectional" else layer
    per = len(cell.states())
    direction, which = divmod(s.op.index, per)
    value = f"{s.state_var}[{which}]" if per > 1 else s.state_var
    return None, s.assign(f"{value}[{direction}]")


_MERGES = {
    "concat": "torch.cat([{a}, {b}], dim=-1)",
    "sum": "{a} + {b}",
    "mul": "{a} * {b}",
    "ave": "({a} + {b}) / 2",
}


def _merge_directions(out: str, forward: str, backward: str, merge: str) -> str:
    return f"{out} = " + _MERGES[merge].format(a=forward, b=backward)


@translates("multihead_attention")
def _attention(s: Site) -> Translation:
    op = s.op
    code = (
        f"nn.MultiheadAttention({op.dim}, {op.heads}, dropout={lit(op.dropout)}, batch_first=True)"
    )
    q = s.xs[0]
    kv = s.xs[1] if len(s.xs) > 1 else s.xs[0]
    call = f"self.{s.attr}({q}, {kv}, {kv}, need_weights=False"
    kv_mask = s.masks[-1] if s.masks else None
    if kv_mask is not None:  # True where blocked: the padded key steps
        call += f", key_padding_mask=~{kv_mask}"
    if not op.causal:
        return Layer(s.attr, code), [f"{s.out}, _ = {call})"]
    steps, keys = s.ins[0][0], s.ins[-1][0]
    # kept on the attention module itself, so it follows the model's device
    setup = [
        f"self.{s.attr}.register_buffer(",
        '    "causal_mask",  # True where blocked: key steps after the query\'s own',
        f"    torch.ones({steps}, {keys}, dtype=torch.bool).triu(1),",
        "    persistent=False,",
        ")",
    ]
    return Layer(s.attr, code, setup), [
        f"{s.out}, _ = {call}, attn_mask=self.{s.attr}.causal_mask)"
    ]


# ----- positions and pooling over time -----------------------------------------------------------
@translates("position_embedding")
def _position_embedding(s: Site) -> Translation:
    steps, features = s.shape
    # one learned row per step, drawn as the language says (nn.Embedding's default is N(0, 1))
    setup = [f"nn.init.normal_(self.{s.attr}.weight, std={lit(POSITION_STD)})"]
    layer = Layer(s.attr, f"nn.Embedding({steps}, {features})", setup)
    return layer, s.assign(f"{s.x} + self.{s.attr}.weight")


@translates("sinusoidal_position")
def _sinusoidal_position(s: Site) -> Translation:
    s.helpers.add("SinusoidalPosition")
    steps, features = s.shape
    return s.module(f"SinusoidalPosition({steps}, {features})")


@translates("global_avgpool1d", "global_maxpool1d")
def _global_pool1d(s: Site) -> Translation:
    if s.mask is not None:  # over the real steps only
        fn = "masked_mean" if s.op.op == "global_avgpool1d" else "masked_max"
        s.helpers.add(fn)
        return None, s.assign(f"{fn}({s.x}, {s.mask})")
    fn = "torch.mean" if s.op.op == "global_avgpool1d" else "torch.amax"
    return None, s.assign(f"{fn}({s.x}, dim=1)")
