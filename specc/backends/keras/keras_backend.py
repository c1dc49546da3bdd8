"""The Keras 3 backend: a view-model that computes every number and expression the
templates in templates/keras/ print. Spec values reach code only through `py_literal`
(repr) and identifiers only through `naming.identifier`.

Images are [C, H, W] in the language and at the emitted model's inputs and outputs (so both
backends take the same arrays); inside the model they are channels-last, as TensorFlow needs.
Every node's layer is named by the node's `ident`, so canonical weights are addressable by
name; helper layers (padding, transposes) get unique derived names and hold no weights."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from specc.backends.base import Backend, plan_variables
from specc.backends.codefmt import LIMIT, _split_top_level, format_code, wrap_line
from specc.backends.keras.keras_training import gan_context, supervised_context
from specc.backends.naming import identifier
from specc.backends.templating import py_literal as lit
from specc.backends.templating import render
from specc.ir.net import Net, Node, Spec
from specc.ir.train_config import Gan, Supervised
from specc.layers.base import fmt, resolve_axis, same_padding, window_output

# names the emitted module defines at top level: variables must not shadow them
HELPERS = frozenset(
    {
        "os",
        "uniform",
        "PadNegInf",
        "BatchNorm",
        "Gelu",
        "LogSoftmax",
        "canonical_state",
        "save_canonical",
        "load_canonical",
        "MODELS",
    }
)
_ACTIVATIONS = {"relu", "selu", "sigmoid", "tanh", "softplus", "silu"}
_RNN = {"rnn": "layers.SimpleRNN", "lstm": "layers.LSTM", "gru": "layers.GRU"}


@dataclass
class Step:
    lines: list[str]
    comment: str


@dataclass
class Model:
    name: str
    builder: str
    source_name: str
    inputs: list[str]  # the keras.Input variables
    input_lines: list[str]
    input_shapes: list[str]
    steps: list[Step]
    output: str
    output_shape: str
    trainable: int
    non_trainable: int


#: Suffixes of the helper layers that follow a node's own layer in its chain, so that their
#: output is the node's value: the crop after a transposed convolution, the permute back to
#: channels-last after a reshape to an image. (Padding and the permute before a flatten come
#: before the node's layer.)
_CROP, _HWC = "crop", "hwc"


def node_output_layer(layer_names: Iterable[str], ident: str) -> str | None:
    """Of a built model's layer names, in order, the one whose output is the node's value:
    the node's own layer or the last helper after it (derived names may end in `_`)."""
    pattern = re.compile(rf"{re.escape(ident)}(?:_(?:{_CROP}|{_HWC}))?_*")
    found = None
    for name in layer_names:
        if pattern.fullmatch(name):
            found = name
    return found


@dataclass
class _Names:
    """Unique layer names: every node's ident first, then derived helper names."""

    used: set[str] = field(default_factory=set)

    def derive(self, base: str, suffix: str) -> str:
        name = f"{base}_{suffix}"
        while name in self.used:
            name += "_"
        self.used.add(name)
        return name


def _chw_axis(axis: int, rank: int) -> int:
    """A sample axis of the language (images [C, H, W]) -> the Keras tensor axis (with the
    batch axis; images channels-last)."""
    if rank == 3:
        return (3, 1, 2)[axis]
    return axis + 1


def _call(out: str, ctor: str, arg: str, indent: str = "    ") -> str:
    """`out = ctor(arg)` laid out as `ruff format` lays it out, for a body at `indent` (the
    template adds the first line's indentation)."""
    full = f"{indent}{out} = {ctor}({arg})"
    if len(full) <= LIMIT:
        return full.strip()
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
    lines.append(f"{indent})({arg})")
    return "\n".join(lines)


class KerasBackend(Backend):
    name = "keras"
    title = "the Keras backend"

    # ----- entry point ------------------------------------------------------------------
    def emit(self, spec: Spec, source_text: str) -> dict[str, str]:
        self.used_helpers: set[str] = set()
        models = [self.model(net) for net in spec.models]
        context = {
            "spec_path": spec.path,
            "models": models,
            "helpers": self.used_helpers,
        }
        files = {"model.py": format_code(render("keras/model.py.j2", **context))}
        if isinstance(spec.training, Supervised):
            model = next(m for m in models if m.name == spec.training.model)
            files["train.py"] = format_code(
                render(
                    "keras/train.py.j2",
                    spec_path=spec.path,
                    model=model,
                    **supervised_context(spec, spec.training),
                )
            )
        elif isinstance(spec.training, Gan):
            files["train.py"] = format_code(
                render("keras/gan.py.j2", spec_path=spec.path, **gan_context(models, spec.training))
            )
        return files

    # ----- models -------------------------------------------------------------------------
    def model(self, net: Net) -> Model:
        reserved = set(HELPERS)
        variables = plan_variables(net, reserved=frozenset(reserved))
        names = _Names({n.ident for n in net.nodes})
        taken = set(variables.names.values()) | reserved
        inputs: list[str] = []
        input_lines: list[str] = []
        steps: list[Step] = []
        for node in net.input_nodes:
            var = variables.of(node.name)
            shape = node.shape or ()
            dtype = '"int32"' if node.op.dtype == "int" else '"float32"'
            if len(shape) == 3:
                raw = identifier(f"{node.ident}_chw", frozenset(taken))
                taken.add(raw)
                inputs.append(raw)
                input_lines.append(
                    f"{raw} = keras.Input(shape={lit(shape)}, dtype={dtype}, "
                    f"name={lit(node.ident)})  # {fmt(shape)}"
                )
                perm = names.derive(node.ident, _HWC)
                input_lines.append(
                    _call(var, f"layers.Permute((2, 3, 1), name={lit(perm)})", raw)
                    + "  # channels-last inside"
                )
            else:
                inputs.append(var)
                input_lines.append(
                    f"{var} = keras.Input(shape={lit(shape)}, dtype={dtype}, "
                    f"name={lit(node.ident)})  # {fmt(shape)}"
                )
        for node in net.nodes:
            if node.kind == "input":
                continue
            ins = [net.node(i).shape for i in node.inputs]
            in_vars = [variables.of(i) for i in node.inputs]
            out = variables.of(node.name)
            lines = self.translate(node, ins, in_vars, out, names)
            steps.append(Step(lines, fmt(node.shape or ())))
        output = variables.of(net.output)
        if len(net.output_shape) == 3:
            perm = names.derive(net.node(net.output).ident, "chw")
            steps.append(
                Step(
                    [_call(output, f"layers.Permute((3, 1, 2), name={lit(perm)})", output)],
                    "channels-first again: " + fmt(net.output_shape),
                )
            )
        return Model(
            name=net.name,
            builder=identifier("build_" + net.name.lower()),
            source_name=net.name,
            inputs=inputs,
            input_lines=input_lines,
            input_shapes=[fmt(net.node(i).shape or ()) for i in net.inputs],
            steps=steps,
            output=output,
            output_shape=fmt(net.output_shape),
            trainable=net.trainable,
            non_trainable=net.non_trainable,
        )

    def translate(
        self, node: Node, ins: list[Any], xs: list[str], out: str, names: _Names
    ) -> list[str]:
        """The forward lines for one node: a chain of layer calls from the inputs to `out`."""
        op = node.op
        kind = op.op
        shape = ins[0]
        name = lit(node.ident)
        chain: list[str] = []  # layer constructors applied in order to xs[0]

        def done() -> list[str]:
            lines, src = [], xs[0]
            for ctor in chain:
                lines.append(_call(out, ctor, src))
                src = out
            return lines

        if kind in _ACTIVATIONS:
            chain.append(f"layers.Activation({lit(kind)}, name={name})")
        elif kind == "leaky_relu":
            chain.append(f"layers.LeakyReLU(negative_slope={lit(op.slope)}, name={name})")
        elif kind == "elu":
            chain.append(f"layers.ELU(alpha={lit(op.alpha)}, name={name})")
        elif kind == "gelu":
            self.used_helpers.add("Gelu")
            chain.append(f"Gelu(approximate={lit(op.approximate == 'tanh')}, name={name})")
        elif kind == "softmax":
            axis = _chw_axis(resolve_axis(kind, op.axis, shape), len(shape))
            chain.append(f"layers.Softmax(axis={axis}, name={name})")
        elif kind == "log_softmax":
            self.used_helpers.add("LogSoftmax")
            axis = _chw_axis(resolve_axis(kind, op.axis, shape), len(shape))
            chain.append(f"LogSoftmax(axis={axis}, name={name})")
        elif kind == "identity":
            chain.append(f"layers.Identity(name={name})")
        elif kind == "flatten":
            if len(shape) == 3:  # flatten in PyTorch's (C, H, W) order
                perm = lit(names.derive(node.ident, "chw"))
                chain.append(f"layers.Permute((3, 1, 2), name={perm})")
            chain.append(f'layers.Flatten(data_format="channels_last", name={name})')
        elif kind == "reshape":
            target = node.shape or ()
            if len(shape) == 3:
                perm = lit(names.derive(node.ident, "chw"))
                chain.append(f"layers.Permute((3, 1, 2), name={perm})")
            if len(target) == 3:
                chain.append(f"layers.Reshape({lit(tuple(target))}, name={name})")
                perm = lit(names.derive(node.ident, _HWC))
                chain.append(f"layers.Permute((2, 3, 1), name={perm})")
            else:
                chain.append(f"layers.Reshape({lit(tuple(target))}, name={name})")
        elif kind == "global_avgpool2d":
            chain.append(
                f'layers.GlobalAveragePooling2D(data_format="channels_last", keepdims=False, '
                f"name={name})"
            )
        elif kind == "global_maxpool2d":
            chain.append(
                f'layers.GlobalMaxPooling2D(data_format="channels_last", keepdims=False, '
                f"name={name})"
            )
        elif kind in ("add", "multiply", "concat"):
            args = "[" + ", ".join(xs) + "]"
            if kind == "concat":
                axis = _chw_axis(resolve_axis(kind, op.axis, shape), len(shape))
                return [_call(out, f"layers.Concatenate(axis={axis}, name={name})", args)]
            cls = "Add" if kind == "add" else "Multiply"
            return [_call(out, f"layers.{cls}(name={name})", args)]
        elif kind == "dense":
            fan_in = shape[-1]
            chain.append(
                f"layers.Dense({op.units}, activation=None, use_bias={lit(op.bias)}, "
                f"{self._init(fan_in)}, kernel_regularizer={self._penalty(op)}, name={name})"
            )
        elif kind == "conv2d":
            chain.extend(self._conv2d(node, shape, names))
        elif kind == "conv1d":
            chain.extend(self._conv1d(node, shape, names))
        elif kind == "conv2d_transpose":
            chain.extend(self._conv2d_transpose(node, shape, names))
        elif kind == "maxpool2d":
            chain.extend(self._maxpool(node, shape, names))
        elif kind == "avgpool2d":
            chain.extend(self._avgpool(node, shape))
        elif kind == "adaptive_avgpool2d":
            (_, h, w), (oh, ow) = shape, op.size
            if (h, w) == (oh, ow):
                chain.append(f"layers.Identity(name={name})")  # already {oh}x{ow}
            elif h % oh == 0 and w % ow == 0:
                pool = (h // oh, w // ow)
                chain.append(
                    f"layers.AveragePooling2D(pool_size={lit(pool)}, strides={lit(pool)}, "
                    f'padding="valid", data_format="channels_last", name={name})'
                )
            else:
                raise self.unsupported(
                    node,
                    f"`adaptive_avgpool2d` from {h}x{w} to {oh}x{ow}",
                    "Keras has no adaptive pooling; use an output size that divides the input "
                    "size, or `avgpool2d`",
                )
        elif kind == "upsample2d":
            chain.append(
                f'layers.UpSampling2D(size={lit(op.scale)}, data_format="channels_last", '
                f"interpolation={lit(op.mode)}, name={name})"
            )
        elif kind == "zero_pad2d":
            t, b, left, r = op.padding
            chain.append(
                f"layers.ZeroPadding2D(padding={lit(((t, b), (left, r)))}, "
                f'data_format="channels_last", name={name})'
            )
        elif kind == "dropout":
            chain.append(f"layers.Dropout(rate={lit(op.rate)}, noise_shape=None, name={name})")
        elif kind == "batchnorm":
            self.used_helpers.add("BatchNorm")
            chain.append(
                f"BatchNorm(momentum={lit(op.momentum)}, epsilon={lit(op.eps)}, name={name})"
            )
        elif kind == "layernorm":
            chain.append(
                f"layers.LayerNormalization(axis=-1, epsilon={lit(op.eps)}, center=True, "
                f'scale=True, beta_initializer="zeros", gamma_initializer="ones", name={name})'
            )
        elif kind == "embedding":
            chain.append(
                f"layers.Embedding({op.vocab}, {op.dim}, embeddings_initializer="
                "keras.initializers.RandomNormal(mean=0.0, stddev=1.0), "
                f"mask_zero=False, name={name})"
            )
        elif kind in _RNN or kind == "bidirectional":
            chain.append(self._recurrent(node, shape))
        elif kind == "multihead_attention":
            head = op.dim // op.heads
            ctor = (
                f"layers.MultiHeadAttention(num_heads={op.heads}, key_dim={head}, "
                f"value_dim={head}, dropout={lit(op.dropout)}, use_bias=True, "
                f'output_shape=None, kernel_initializer="glorot_uniform", '
                f'bias_initializer="zeros", name={name})'
            )
            q = xs[0]
            kv = xs[1] if len(xs) > 1 else xs[0]
            return [_call(out, ctor, f"query={q}, value={kv}, key={kv}")]
        else:
            raise self.unsupported(node, f"`{kind}`")
        return done()

    # ----- layer helpers --------------------------------------------------------------------
    def _init(self, fan_in: int) -> str:
        """PyTorch's default initialisation: weights and biases U(-1/sqrt(fan_in), ...)."""
        self.used_helpers.add("uniform")
        return f"kernel_initializer=uniform({fan_in}), bias_initializer=uniform({fan_in})"

    def _penalty(self, op: Any) -> str:
        l1, l2 = getattr(op, "l1", 0.0), getattr(op, "l2", 0.0)
        if not (l1 or l2):
            return "None"
        return f"keras.regularizers.L1L2(l1={lit(l1)}, l2={lit(l2)})"

    def _conv2d(self, node: Node, shape: Any, names: _Names) -> list[str]:
        op = node.op
        if op.dilation != (1, 1) and op.stride != (1, 1):
            raise self.unsupported(
                node,
                "`conv2d` with both a stride and a dilation above 1",
                "TensorFlow's convolution takes one or the other",
            )
        if op.groups > 1:
            raise self.unsupported(
                node,
                "grouped `conv2d` (groups > 1)",
                "TensorFlow has no grouped convolution on the CPU; use groups=1",
            )
        pads = op.pads(shape)
        chain = []
        if op.padding == "same":
            padding = "same"  # the language's `same` is TensorFlow's, by definition
        else:
            padding = "valid"
            if any(p for pair in pads for p in pair):
                pad = lit(names.derive(node.ident, "pad"))
                chain.append(
                    f"layers.ZeroPadding2D(padding={lit(tuple(pads))}, "
                    f'data_format="channels_last", name={pad})'
                )
        fan_in = shape[0] // op.groups * op.kernel[0] * op.kernel[1]
        chain.append(
            f"layers.Conv2D({op.filters}, kernel_size={lit(op.kernel)}, "
            f'strides={lit(op.stride)}, padding={lit(padding)}, data_format="channels_last", '
            f"dilation_rate={lit(op.dilation)}, groups={op.groups}, activation=None, "
            f"use_bias={lit(op.bias)}, {self._init(fan_in)}, "
            f"kernel_regularizer={self._penalty(op)}, name={lit(node.ident)})"
        )
        return chain

    def _conv1d(self, node: Node, shape: Any, names: _Names) -> list[str]:
        op = node.op
        if op.dilation != 1 and op.stride != 1:
            raise self.unsupported(
                node,
                "`conv1d` with both a stride and a dilation above 1",
                "TensorFlow's convolution takes one or the other",
            )
        if op.groups > 1:
            raise self.unsupported(node, "grouped `conv1d` (groups > 1)", "use groups=1")
        pads = op.pads(shape)
        chain = []
        if op.padding == "same":
            padding = "same"
        else:
            padding = "valid"
            if any(pads):
                pad = lit(names.derive(node.ident, "pad"))
                chain.append(f"layers.ZeroPadding1D(padding={lit(pads)}, name={pad})")
        fan_in = shape[1] // op.groups * op.kernel
        chain.append(
            f"layers.Conv1D({op.filters}, kernel_size={op.kernel}, strides={op.stride}, "
            f'padding={lit(padding)}, data_format="channels_last", dilation_rate={op.dilation}, '
            f"groups={op.groups}, activation=None, use_bias={lit(op.bias)}, "
            f"{self._init(fan_in)}, kernel_regularizer={self._penalty(op)}, "
            f"name={lit(node.ident)})"
        )
        return chain

    def _conv2d_transpose(self, node: Node, shape: Any, names: _Names) -> list[str]:
        op = node.op
        if op.dilation != (1, 1):
            raise self.unsupported(
                node,
                "`conv2d_transpose` with dilation above 1",
                "use dilation=1",
            )
        # Keras "valid" with an explicit output_padding gives (n - 1) * s + k + output_padding;
        # PyTorch then crops `padding` from each side.
        fan_in = op.filters * op.kernel[0] * op.kernel[1]  # PyTorch's fan-in for this layer
        chain = [
            f"layers.Conv2DTranspose({op.filters}, kernel_size={lit(op.kernel)}, "
            f'strides={lit(op.stride)}, padding="valid", '
            f'output_padding={lit(op.output_padding)}, data_format="channels_last", '
            f"dilation_rate={lit(op.dilation)}, activation=None, use_bias={lit(op.bias)}, "
            f"{self._init(fan_in)}, kernel_regularizer={self._penalty(op)}, "
            f"name={lit(node.ident)})"
        ]
        ph, pw = op.padding
        if ph or pw:
            crop = lit(names.derive(node.ident, _CROP))
            chain.append(
                f"layers.Cropping2D(cropping={lit(((ph, ph), (pw, pw)))}, "
                f'data_format="channels_last", name={crop})'
            )
        return chain

    def _pool_extra(self, node: Node, shape: Any) -> tuple[tuple[int, int], ...]:
        """Extra bottom/right padding that turns PyTorch's ceil mode into floor mode."""
        op = node.op
        pads = op.pads(shape)
        extra = []
        for n, k, s, (a, b), out in zip(
            shape[1:], op.kernel, op.strides, pads, (node.shape or ())[1:], strict=True
        ):
            floor = window_output(op.op, n, k, s, (a, b))
            extra.append(max((out - 1) * s + k - (n + a + b), 0) if out != floor else 0)
        return tuple((a, b + e) for (a, b), e in zip(pads, extra, strict=True))

    def _maxpool(self, node: Node, shape: Any, names: _Names) -> list[str]:
        op = node.op
        name = lit(node.ident)
        common = f'strides={lit(op.strides)}, data_format="channels_last", name={name}'
        pads = self._pool_extra(node, shape)
        if op.padding == "same" and pads == op.pads(shape):
            return [f'layers.MaxPooling2D(pool_size={lit(op.kernel)}, padding="same", {common})']
        chain = []
        if any(p for pair in pads for p in pair):
            self.used_helpers.add("PadNegInf")
            pad = lit(names.derive(node.ident, "pad"))
            chain.append(f"PadNegInf(padding={lit(pads)}, name={pad})")
        chain.append(f'layers.MaxPooling2D(pool_size={lit(op.kernel)}, padding="valid", {common})')
        return chain

    def _avgpool(self, node: Node, shape: Any) -> list[str]:
        op = node.op
        name = lit(node.ident)
        pads = op.pads(shape)
        out = (node.shape or ())[1:]
        floor = tuple(
            window_output(op.op, n, k, s, p)
            for n, k, s, p in zip(shape[1:], op.kernel, op.strides, pads, strict=True)
        )
        if op.ceil and floor != tuple(out):
            raise self.unsupported(
                node,
                "`avgpool2d` with ceil=true where it adds a window",
                "use ceil=false, or pick sizes where ceil and floor agree",
            )
        tf_same = tuple(
            same_padding(n, k, s) for n, k, s in zip(shape[1:], op.kernel, op.strides, strict=True)
        )
        if not any(p for pair in pads for p in pair):
            padding = "valid"
        elif pads == tf_same:
            padding = "same"  # padded cells are left out of the count in both
        else:
            raise self.unsupported(
                node,
                f"`avgpool2d` with padding {fmt([p for p, _ in pads])} on {shape[1]}x{shape[2]}",
                "Keras averages over padding only in its `same` mode; use `padding=same`, "
                "or pad with `zero_pad2d` first (padding then counts)",
            )
        return [
            f"layers.AveragePooling2D(pool_size={lit(op.kernel)}, strides={lit(op.strides)}, "
            f'padding={lit(padding)}, data_format="channels_last", name={name})'
        ]

    def _recurrent(self, node: Node, shape: Any) -> str:
        op = node.op
        bidirectional = op.op == "bidirectional"
        cell = op.layer if bidirectional else op
        self.used_helpers.add("uniform")
        init = f"uniform({cell.units})"  # PyTorch: U(-1/sqrt(units), 1/sqrt(units))
        args = [
            str(cell.units),
            'activation="tanh"',
        ]
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
        args += [
            "dropout=0.0",
            "recurrent_dropout=0.0",
            f"return_sequences={lit(cell.return_sequences)}",
            "return_state=False",
            "go_backwards=False",
            "unroll=False",
        ]
        if not bidirectional:
            return f"{_RNN[cell.op]}({', '.join(args)}, name={lit(node.ident)})"
        inner = f"{_RNN[cell.op]}({', '.join(args)})"
        return f'layers.Bidirectional({inner}, merge_mode="concat", name={lit(node.ident)})'


__all__ = ["KerasBackend", "node_output_layer"]
