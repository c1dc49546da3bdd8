"""Keras's translation of each layer kind: one function per kind (or per family of kinds
that Keras writes alike), found through `TRANSLATIONS`. A function gets the node in context
(`Site`) and returns the forward lines: usually a chain of layer calls from the node's input
to its variable (`Site.chain`).

Inside the model, images are channels-last; `Layout` (specc.layers.layout) says how a
language axis maps to a Keras axis. Every node's layer is named by the node's `ident`; helper
layers (padding, transposes, crops) get unique derived names (`Names`) and hold no weights.

Adding a layer kind: write its translation here, decorated with `@translates("kind")`; the
registry test (tests/test_registry.py) names any kind without one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from specc.backends.base import UNUSED, BackendError, NodeSite, TranslationTable
from specc.backends.codefmt import LIMIT, _split_top_level, wrap_line
from specc.backends.templating import py_literal as lit
from specc.layers.base import fmt, resolve_axis, same_padding, window_output
from specc.layers.layout import layout_of

#: Suffixes of the helper layers that follow a node's own layer in its chain, so that their
#: output is the node's value: the crop after a transposed convolution, the permute back to
#: channels-last after a reshape to an image. (Padding and the permute before a flatten come
#: before the node's layer.)
CROP, HWC = "crop", "hwc"


@dataclass
class Names:
    """Unique layer names: every node's ident first, then derived helper names."""

    used: set[str] = field(default_factory=set)

    def derive(self, base: str, suffix: str) -> str:
        name = f"{base}_{suffix}"
        while name in self.used:
            name += "_"
        self.used.add(name)
        return name


def keras_axis(axis: int, shape: Any) -> int:
    """A sample axis of the language -> the Keras tensor axis (batch axis included;
    channels-first layouts channels-last)."""
    return layout_of(shape).keras_axis(axis)


def call_line(out: str, ctor: str, arg: str, indent: str = "    ") -> str:
    """`out = ctor(arg)` laid out as `ruff format` lays it out, for a body at `indent` (the
    template adds the first line's indentation)."""
    full = f"{indent}{out} = {ctor}({arg})"
    if len(full) <= LIMIT:
        return full.strip()
    targets = _split_top_level(out)
    if len(targets) > 1 and len(f"{indent}{out} = {ctor[: ctor.index('(') + 1]}") > LIMIT:
        # too many names for one line: one per line, in brackets, as ruff writes them
        rest = call_line("_", ctor, arg, indent)[1:]
        names = [f"{indent}    {target}," for target in targets]
        return "\n".join(["(", *names, f"{indent}){rest}"])
    inner_indent = indent + "    "
    head = f"{indent}{out} = {ctor}("
    if len(head) <= LIMIT:  # split the last call's brackets
        return "\n".join([head.strip(), f"{inner_indent}{arg}", f"{indent})"])
    open_at = ctor.index("(")
    name, inner = ctor[: open_at + 1], ctor[open_at + 1 : -1]
    lines = [f"{out} = {name}"]
    one = f"{inner_indent}{inner}"
    if len(one) <= LIMIT and not inner.rstrip().endswith(","):
        lines.append(one)
    else:
        for part in _split_top_level(inner):
            wrapped = wrap_line(f"{inner_indent}{part}")
            lines.extend([*wrapped[:-1], wrapped[-1] + ","])
    last = f"{indent})({arg})"
    if len(last) <= LIMIT:
        lines.append(last)
    else:  # the call's arguments one per line, as ruff lays them out
        lines.append(f"{indent})(")
        lines.extend(f"{inner_indent}{part}," for part in _split_top_level(arg))
        lines.append(f"{indent})")
    return "\n".join(lines)


@dataclass
class Site(NodeSite):
    """One node as the translation sees it."""

    xs: list[str]
    out: str
    names: Names
    helpers: set[str]  # the emitted module's helper definitions this model needs
    weights: set[str]  # the Keras layer classes with weights, for the canonical mapping
    unsupported: Callable[..., BackendError]
    #: each input's padding-mask variable (True at real steps), None where unpadded
    masks: list[str | None] = field(default_factory=list)
    #: the mask variable this node defines (a `mask_zero` embedding)
    mask_out: str | None = None
    #: a recurrent layer whose final states are bound: each state's variable, in the layer's
    #: order (None: not bound)
    states: list[str | None] = field(default_factory=list)
    #: the model's input for a latent sample's noise (`keras.Input(..., optional=True)`)
    eps: str = "eps"

    @property
    def x(self) -> str:
        return self.xs[0]

    @property
    def mask(self) -> str | None:
        """The first input's padding mask."""
        return self.masks[0] if self.masks else None

    def masked_call(self, ctor: str) -> list[str]:
        """`ctor` applied to the input and, where it is padded, its mask (`mask=`): the
        emitted code hands every mask over explicitly, never through Keras's implicit
        propagation (which stops at layers without mask support and would also mask padded
        query steps in attention)."""
        arg = self.x if self.mask is None else f"{self.x}, mask={self.mask}"
        return [call_line(self.out, ctor, arg)]

    @property
    def name(self) -> str:
        """The node's layer name, as a literal."""
        return lit(self.node.ident)

    def derive(self, suffix: str) -> str:
        """A helper layer's name, as a literal."""
        return lit(self.names.derive(self.node.ident, suffix))

    def chain(self, *ctors: str) -> list[str]:
        """Layers applied in order to the node's (first) input, ending in its variable."""
        lines, src = [], self.xs[0]
        for ctor in ctors:
            lines.append(call_line(self.out, ctor, src))
            src = self.out
        return lines

    def init(self, fan_in: int) -> str:
        """PyTorch's default initialisation: weights and biases U(-1/sqrt(fan_in), ...)."""
        self.helpers.add("uniform")
        return f"kernel_initializer=uniform({fan_in}), bias_initializer=uniform({fan_in})"

    def penalty(self) -> str:
        l1, l2 = getattr(self.op, "l1", 0.0), getattr(self.op, "l2", 0.0)
        if not (l1 or l2):
            return "None"
        return f"keras.regularizers.L1L2(l1={lit(l1)}, l2={lit(l2)})"


Translator = Callable[[Site], list[str]]


TRANSLATIONS = TranslationTable("Keras")
translates = TRANSLATIONS.translates


# ----- activations and shape-only layers ---------------------------------------------------------
@translates("relu", "selu", "sigmoid", "tanh", "softplus", "silu")
def _activation(s: Site) -> list[str]:
    return s.chain(f"layers.Activation({lit(s.op.op)}, name={s.name})")


@translates("leaky_relu")
def _leaky_relu(s: Site) -> list[str]:
    return s.chain(f"layers.LeakyReLU(negative_slope={lit(s.op.slope)}, name={s.name})")


@translates("elu")
def _elu(s: Site) -> list[str]:
    return s.chain(f"layers.ELU(alpha={lit(s.op.alpha)}, name={s.name})")


@translates("gelu")
def _gelu(s: Site) -> list[str]:
    s.helpers.add("Gelu")
    return s.chain(f"Gelu(approximate={lit(s.op.approximate == 'tanh')}, name={s.name})")


@translates("softmax")
def _softmax(s: Site) -> list[str]:
    if s.mask is not None:
        # over the features of a padded sequence: Keras's Softmax layer would take the
        # sequence's Keras mask [N, T] as a mask over [N, T, F] and fail
        return s.chain(f'layers.Activation("softmax", name={s.name})')
    axis = keras_axis(resolve_axis("softmax", s.op.axis, s.shape), s.shape)
    return s.chain(f"layers.Softmax(axis={axis}, name={s.name})")


@translates("log_softmax")
def _log_softmax(s: Site) -> list[str]:
    s.helpers.add("LogSoftmax")
    axis = keras_axis(resolve_axis("log_softmax", s.op.axis, s.shape), s.shape)
    return s.chain(f"LogSoftmax(axis={axis}, name={s.name})")


@translates("identity")
def _identity(s: Site) -> list[str]:
    return s.chain(f"layers.Identity(name={s.name})")


def _to_channels_first(s: Site) -> list[str]:
    """A permute to the language's axis order, where the input is channels-last inside."""
    perm = layout_of(s.shape).to_channels_first
    return [f"layers.Permute({lit(perm)}, name={s.derive('chw')})"] if perm else []


@translates("flatten")
def _flatten(s: Site) -> list[str]:
    # flatten in PyTorch's (C, H, W) order
    return s.chain(
        *_to_channels_first(s), f'layers.Flatten(data_format="channels_last", name={s.name})'
    )


@translates("reshape")
def _reshape(s: Site) -> list[str]:
    target = tuple(s.node.shape or ())
    chain = [*_to_channels_first(s), f"layers.Reshape({lit(target)}, name={s.name})"]
    back = layout_of(target).to_channels_last
    if back:
        chain.append(f"layers.Permute({lit(back)}, name={s.derive(HWC)})")
    return s.chain(*chain)


@translates("global_avgpool2d", "global_maxpool2d")
def _global_pool(s: Site) -> list[str]:
    cls = "GlobalAveragePooling2D" if s.op.op == "global_avgpool2d" else "GlobalMaxPooling2D"
    return s.chain(f'layers.{cls}(data_format="channels_last", keepdims=False, name={s.name})')


# ----- latent -------------------------------------------------------------------------------------
@translates("gaussian_sample")
def _gaussian_sample(s: Site) -> list[str]:
    s.helpers.add("GaussianSample")
    return [call_line(s.out, f"GaussianSample(name={s.name})", ", ".join([*s.xs, s.eps]))]


@translates("rbm")
def _rbm(s: Site) -> list[str]:
    s.helpers.add("BernoulliRbm")
    s.weights.add("BernoulliRbm")
    return s.chain(f"BernoulliRbm({s.op.hidden}, name={s.name})")


# ----- merges ------------------------------------------------------------------------------------
@translates("add", "multiply")
def _merge(s: Site) -> list[str]:
    cls = "Add" if s.op.op == "add" else "Multiply"
    return [call_line(s.out, f"layers.{cls}(name={s.name})", "[" + ", ".join(s.xs) + "]")]


@translates("concat")
def _concat(s: Site) -> list[str]:
    axis = keras_axis(resolve_axis("concat", s.op.axis, s.shape), s.shape)
    ctor = f"layers.Concatenate(axis={axis}, name={s.name})"
    return [call_line(s.out, ctor, "[" + ", ".join(s.xs) + "]")]


# ----- layers with weights -----------------------------------------------------------------------
@translates("dense")
def _dense(s: Site) -> list[str]:
    s.weights.add("Dense")
    return s.chain(
        f"layers.Dense({s.op.units}, activation=None, use_bias={lit(s.op.bias)}, "
        f"{s.init(s.shape[-1])}, kernel_regularizer={s.penalty()}, name={s.name})"
    )


@translates("conv2d", "conv3d")
def _conv(s: Site) -> list[str]:
    op = s.op
    n, kind = op.spatial, op.op
    ones = (1,) * n
    if op.dilation != ones and op.stride != ones:
        raise s.unsupported(
            s.node,
            f"`{kind}` with both a stride and a dilation above 1",
            "TensorFlow's convolution takes one or the other",
        )
    if op.groups > 1:
        raise s.unsupported(
            s.node,
            f"grouped `{kind}` (groups > 1)",
            "TensorFlow has no grouped convolution on the CPU; use groups=1",
        )
    pads = op.pads(s.shape)
    chain = []
    if op.padding == "same":
        padding = "same"  # the language's `same` is TensorFlow's, by definition
    else:
        padding = "valid"
        if any(p for pair in pads for p in pair):
            chain.append(
                f"layers.ZeroPadding{n}D(padding={lit(tuple(pads))}, "
                f'data_format="channels_last", name={s.derive("pad")})'
            )
    cls = f"Conv{n}D"
    s.weights.add(cls)
    chain.append(
        f"layers.{cls}({op.filters}, kernel_size={lit(op.kernel)}, "
        f'strides={lit(op.stride)}, padding={lit(padding)}, data_format="channels_last", '
        f"dilation_rate={lit(op.dilation)}, groups={op.groups}, activation=None, "
        f"use_bias={lit(op.bias)}, {s.init(op.fan_in(s.ins))}, "
        f"kernel_regularizer={s.penalty()}, name={s.name})"
    )
    return s.chain(*chain)


@translates("conv1d")
def _conv1d(s: Site) -> list[str]:
    op = s.op
    if op.dilation != 1 and op.stride != 1:
        raise s.unsupported(
            s.node,
            "`conv1d` with both a stride and a dilation above 1",
            "TensorFlow's convolution takes one or the other",
        )
    if op.groups > 1:
        raise s.unsupported(s.node, "grouped `conv1d` (groups > 1)", "use groups=1")
    pads = op.pads(s.shape)
    chain = []
    if op.padding == "same":
        padding = "same"
    else:
        padding = "valid"
        if any(pads):
            chain.append(f"layers.ZeroPadding1D(padding={lit(pads)}, name={s.derive('pad')})")
    fan_in = op.fan_in(s.ins)
    s.weights.add("Conv1D")
    chain.append(
        f"layers.Conv1D({op.filters}, kernel_size={op.kernel}, strides={op.stride}, "
        f'padding={lit(padding)}, data_format="channels_last", dilation_rate={op.dilation}, '
        f"groups={op.groups}, activation=None, use_bias={lit(op.bias)}, "
        f"{s.init(fan_in)}, kernel_regularizer={s.penalty()}, "
        f"name={s.name})"
    )
    return s.chain(*chain)


@translates("conv2d_transpose", "conv3d_transpose")
def _conv_transpose(s: Site) -> list[str]:
    op = s.op
    n = op.spatial
    if op.dilation != (1,) * n:
        raise s.unsupported(s.node, f"`{op.op}` with dilation above 1", "use dilation=1")
    # Keras "valid" with an explicit output_padding gives (n - 1) * s + k + output_padding;
    # PyTorch then crops `padding` from each side.
    cls = f"Conv{n}DTranspose"
    s.weights.add(cls)
    chain = [
        f"layers.{cls}({op.filters}, kernel_size={lit(op.kernel)}, "
        f'strides={lit(op.stride)}, padding="valid", '
        f'output_padding={lit(op.output_padding)}, data_format="channels_last", '
        f"dilation_rate={lit(op.dilation)}, activation=None, use_bias={lit(op.bias)}, "
        f"{s.init(op.fan_in())}, kernel_regularizer={s.penalty()}, "
        f"name={s.name})"
    ]
    if any(op.padding):
        crop = tuple((p, p) for p in op.padding)
        chain.append(
            f"layers.Cropping{n}D(cropping={lit(crop)}, "
            f'data_format="channels_last", name={s.derive(CROP)})'
        )
    return s.chain(*chain)


# ----- pooling and resampling --------------------------------------------------------------------
def _pool_extra(s: Site) -> tuple[tuple[int, int], ...]:
    """Padding, with extra bottom/right padding that turns PyTorch's ceil mode into floor
    mode."""
    op = s.op
    pads = op.pads(s.shape)
    extra = []
    for n, k, st, (a, b), out in zip(
        s.shape[1:], op.kernel, op.strides, pads, (s.node.shape or ())[1:], strict=True
    ):
        floor = window_output(op.op, n, k, st, (a, b))
        extra.append(max((out - 1) * st + k - (n + a + b), 0) if out != floor else 0)
    return tuple((a, b + e) for (a, b), e in zip(pads, extra, strict=True))


@translates("maxpool2d", "maxpool3d")
def _maxpool(s: Site) -> list[str]:
    op = s.op
    cls = f"MaxPooling{op.spatial}D"
    common = f'strides={lit(op.strides)}, data_format="channels_last", name={s.name}'
    pads = _pool_extra(s)
    if op.padding == "same" and pads == op.pads(s.shape):
        return s.chain(f'layers.{cls}(pool_size={lit(op.kernel)}, padding="same", {common})')
    chain = []
    if any(p for pair in pads for p in pair):
        s.helpers.add("PadNegInf")
        chain.append(f"PadNegInf(padding={lit(pads)}, name={s.derive('pad')})")
    chain.append(f'layers.{cls}(pool_size={lit(op.kernel)}, padding="valid", {common})')
    return s.chain(*chain)


@translates("avgpool2d", "avgpool3d")
def _avgpool(s: Site) -> list[str]:
    op, shape = s.op, s.shape
    pads = op.pads(shape)
    out = (s.node.shape or ())[1:]
    floor = tuple(
        window_output(op.op, n, k, st, p)
        for n, k, st, p in zip(shape[1:], op.kernel, op.strides, pads, strict=True)
    )
    if op.ceil and floor != tuple(out):
        raise s.unsupported(
            s.node,
            f"`{op.op}` with ceil=true where it adds a window",
            "use ceil=false, or pick sizes where ceil and floor agree",
        )
    tf_same = tuple(
        same_padding(n, k, st) for n, k, st in zip(shape[1:], op.kernel, op.strides, strict=True)
    )
    if not any(p for pair in pads for p in pair):
        padding = "valid"
    elif pads == tf_same:
        padding = "same"  # padded cells are left out of the count in both
    else:
        raise s.unsupported(
            s.node,
            f"`{op.op}` with padding {fmt([p for p, _ in pads])} on "
            + "x".join(str(d) for d in shape[1:]),
            "Keras averages over padding only in its `same` mode; use `padding=same`, "
            f"or pad with `zero_pad{op.spatial}d` first (padding then counts)",
        )
    return s.chain(
        f"layers.AveragePooling{op.spatial}D(pool_size={lit(op.kernel)}, "
        f"strides={lit(op.strides)}, "
        f'padding={lit(padding)}, data_format="channels_last", name={s.name})'
    )


@translates("adaptive_avgpool2d")
def _adaptive_avgpool2d(s: Site) -> list[str]:
    (_, h, w), (oh, ow) = s.shape, s.op.size
    if (h, w) == (oh, ow):
        return s.chain(f"layers.Identity(name={s.name})")  # already {oh}x{ow}
    if h % oh == 0 and w % ow == 0:
        pool = (h // oh, w // ow)
        return s.chain(
            f"layers.AveragePooling2D(pool_size={lit(pool)}, strides={lit(pool)}, "
            f'padding="valid", data_format="channels_last", name={s.name})'
        )
    raise s.unsupported(
        s.node,
        f"`adaptive_avgpool2d` from {h}x{w} to {oh}x{ow}",
        "Keras has no adaptive pooling; use an output size that divides the input "
        "size, or `avgpool2d`",
    )


@translates("upsample2d")
def _upsample2d(s: Site) -> list[str]:
    return s.chain(
        f'layers.UpSampling2D(size={lit(s.op.scale)}, data_format="channels_last", '
        f"interpolation={lit(s.op.mode)}, name={s.name})"
    )


@translates("upsample3d")
def _upsample3d(s: Site) -> list[str]:
    return s.chain(
        f'layers.UpSampling3D(size={lit(s.op.scale)}, data_format="channels_last", name={s.name})'
    )


@translates("zero_pad2d", "zero_pad3d")
def _zero_pad(s: Site) -> list[str]:
    return s.chain(
        f"layers.ZeroPadding{s.op.spatial}D(padding={lit(s.op.pairs)}, "
        f'data_format="channels_last", name={s.name})'
    )


# ----- regularisation and normalisation ----------------------------------------------------------
@translates("dropout")
def _dropout(s: Site) -> list[str]:
    return s.chain(f"layers.Dropout(rate={lit(s.op.rate)}, noise_shape=None, name={s.name})")


@translates("batchnorm")
def _batchnorm(s: Site) -> list[str]:
    s.helpers.add("BatchNorm")
    s.weights.add("BatchNorm")
    return s.chain(
        f"BatchNorm(momentum={lit(s.op.momentum)}, epsilon={lit(s.op.eps)}, name={s.name})"
    )


@translates("layernorm")
def _layernorm(s: Site) -> list[str]:
    s.weights.add("LayerNormalization")
    return s.chain(
        f"layers.LayerNormalization(axis=-1, epsilon={lit(s.op.eps)}, center=True, "
        f'scale=True, beta_initializer="zeros", gamma_initializer="ones", name={s.name})'
    )


# ----- sequences and attention -------------------------------------------------------------------
@translates("embedding")
def _embedding(s: Site) -> list[str]:
    s.weights.add("Embedding")
    lines = s.chain(
        f"layers.Embedding({s.op.vocab}, {s.op.dim}, embeddings_initializer="
        "keras.initializers.RandomNormal(mean=0.0, stddev=1.0), "
        f"mask_zero=False, name={s.name})"
    )
    if s.mask_out is None:
        return lines
    # token 0 is padding, after each sequence's real tokens; the mask is passed explicitly
    s.helpers.add("ops")
    return [f"{s.mask_out} = ops.not_equal({s.x}, 0)  # True at real steps", *lines]


@translates("masking")
def _masking(s: Site) -> list[str]:
    # Keras's Masking computes the same, but would also hand its mask on implicitly; the
    # emitted code passes every mask explicitly (see `masked_call`)
    s.helpers.add("ops")
    s.helpers.add("ZeroPaddedSteps")
    value = lit(s.op.value)
    real = f"ops.any(ops.not_equal({s.x}, {value}), axis=-1)"
    return [
        f"{s.mask_out} = {real}  # True at real steps",
        *s.chain(f"ZeroPaddedSteps({value}, name={s.name})"),
    ]


_RNN = {"rnn": "layers.SimpleRNN", "lstm": "layers.LSTM", "gru": "layers.GRU"}


@translates(*_RNN, "bidirectional")
def _recurrent(s: Site) -> list[str]:
    op = s.op
    bidirectional = op.op == "bidirectional"
    cell = op.layer if bidirectional else op
    s.weights.add("RNN")
    s.helpers.add("uniform")
    init = f"uniform({cell.units})"  # PyTorch: U(-1/sqrt(units), 1/sqrt(units))
    args = [str(cell.units), 'activation="tanh"']
    if cell.op != "rnn":
        args.append('recurrent_activation="sigmoid"')
    args += [
        "use_bias=True",
        f"kernel_initializer={init}",
        f"recurrent_initializer={init}",
        f"bias_initializer={init}",
    ]
    if cell.op == "lstm":
        args.append("unit_forget_bias=False")
    if cell.op == "gru":
        args.append("reset_after=True")  # PyTorch's formulation
    if s.mask is not None:  # padded steps' outputs are zero (PyTorch's pad_packed_sequence)
        args.append(f"zero_output_for_mask={lit(cell.return_sequences)}")
    args += [
        "dropout=0.0",
        "recurrent_dropout=0.0",
        f"return_sequences={lit(cell.return_sequences)}",
        f"return_state={lit(bool(s.states))}",
        "go_backwards=False",
        "unroll=False",
    ]
    if bidirectional:
        inner = f"{_RNN[cell.op]}({', '.join(args)})"
        ctor = f"layers.Bidirectional({inner}, merge_mode={lit(op.merge)}, name={s.name})"
    else:
        ctor = f"{_RNN[cell.op]}({', '.join(args)}, name={s.name})"
    call = s.x if s.mask is None else f"{s.x}, mask={s.mask}"
    if len(s.xs) > 1:  # forward states first, h before c: Keras's order
        call += f", initial_state=[{', '.join(s.xs[1:])}]"
    # with bound states: the output, then the final states (`_` where not bound)
    out = ", ".join([s.out, *(v or UNUSED for v in s.states)])
    return [call_line(out, ctor, call)]


@translates("recurrent_state")
def _recurrent_state(s: Site) -> list[str]:
    return []  # given by its recurrent layer's call (`return_state=True`)


@translates("multihead_attention")
def _attention(s: Site) -> list[str]:
    op = s.op
    s.weights.add("MultiHeadAttention")
    s.helpers.add("AttentionInit")
    head = op.dim // op.heads
    ctor = (
        f"layers.MultiHeadAttention(num_heads={op.heads}, key_dim={head}, "
        f"value_dim={head}, dropout={lit(op.dropout)}, use_bias=True, "
        f"output_shape=None, kernel_initializer=AttentionInit({op.heads}, {op.dim}), "
        f'bias_initializer="zeros", name={s.name})'
    )
    q = s.xs[0]
    kv = s.xs[1] if len(s.xs) > 1 else s.xs[0]
    lines = []
    if s.mask is not None:
        # a copy without Keras's mask: Keras would also mask the padded query steps
        s.helpers.add("ops")
        lines.append("# the query without its Keras mask: padded query steps attend as in torch")
        q = f"ops.copy({q})"
    call = f"query={q}, value={kv}, key={kv}"
    kv_mask = s.masks[-1] if s.masks else None
    if kv_mask is not None:  # [N, 1, S]: True where a key step is real
        call += f", attention_mask=ops.expand_dims({kv_mask}, 1)"
    if op.causal:
        call += ", use_causal_mask=True"  # step t attends to key steps 0..t
    return [*lines, call_line(s.out, ctor, call)]


# ----- positions and pooling over time -----------------------------------------------------------
@translates("position_embedding")
def _position_embedding(s: Site) -> list[str]:
    s.helpers.add("PositionEmbedding")
    s.weights.add("PositionEmbedding")
    steps, features = s.shape
    return s.chain(f"PositionEmbedding({steps}, {features}, name={s.name})")


@translates("sinusoidal_position")
def _sinusoidal_position(s: Site) -> list[str]:
    s.helpers.add("SinusoidalPosition")
    steps, features = s.shape
    return s.chain(f"SinusoidalPosition({steps}, {features}, name={s.name})")


@translates("global_avgpool1d", "global_maxpool1d")
def _global_pool1d(s: Site) -> list[str]:
    if s.mask is not None:  # over the real steps only
        if s.op.op == "global_avgpool1d":
            return s.masked_call(
                f'layers.GlobalAveragePooling1D(data_format="channels_last", keepdims=False, '
                f"name={s.name})"
            )
        s.helpers.add("MaskedMaxPool1D")
        return s.masked_call(f"MaskedMaxPool1D(name={s.name})")
    cls = "GlobalAveragePooling1D" if s.op.op == "global_avgpool1d" else "GlobalMaxPooling1D"
    return s.chain(f'layers.{cls}(data_format="channels_last", keepdims=False, name={s.name})')
