"""The PyTorch backend: a view-model that computes every number and expression the
templates in templates/torch/ print. Spec values reach code only through `py_literal`
(repr) and identifiers only through `naming.identifier`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from specc.backends.base import Backend, plan_variables
from specc.backends.codefmt import format_code
from specc.backends.naming import class_name, identifier
from specc.backends.templating import py_literal as lit
from specc.backends.templating import render
from specc.backends.torch.torch_training import gan_context, supervised_context
from specc.ir.net import Net, Node, Spec
from specc.ir.train_config import Gan, Supervised
from specc.layers.base import fmt, resolve_axis

_ACTIVATIONS = {
    "relu": "F.relu({x})",
    "selu": "F.selu({x})",
    "sigmoid": "torch.sigmoid({x})",
    "tanh": "torch.tanh({x})",
    "softplus": "F.softplus({x})",
    "silu": "F.silu({x})",
}
_RNN = {"rnn": "nn.RNN", "lstm": "nn.LSTM", "gru": "nn.GRU"}


@dataclass
class Layer:
    attr: str
    code: str
    setup: list[str] = field(default_factory=list)  # statements run after construction


@dataclass
class Step:
    lines: list[str]
    comment: str


@dataclass
class Model:
    name: str
    class_name: str
    source_name: str
    layers: list[Layer]
    inputs: list[str]
    input_shapes: list[str]
    steps: list[Step]
    output: str
    output_shape: str
    trainable: int
    non_trainable: int
    penalties: list[tuple[str, float, float]]  # (attr, l1, l2) on the layer's weight
    renames: dict[str, str]  # torch state-dict prefix -> canonical prefix, where they differ


class TorchBackend(Backend):
    name = "torch"
    title = "the PyTorch backend"

    # ----- entry point ------------------------------------------------------------------
    def emit(self, spec: Spec, source_text: str) -> dict[str, str]:
        models = [self.model(net) for net in spec.models]
        context = {"spec_path": spec.path, "models": models}
        files = {"model.py": format_code(render("torch/model.py.j2", **context))}
        if isinstance(spec.training, Supervised):
            files["train.py"] = format_code(
                render(
                    "torch/train.py.j2",
                    **context,
                    **supervised_context(spec, spec.training, self.model_list(spec)),
                )
            )
        elif isinstance(spec.training, Gan):
            files["train.py"] = format_code(
                render(
                    "torch/gan.py.j2",
                    **context,
                    **gan_context(spec.training, self.model_list(spec)),
                )
            )
        return files

    # ----- models -------------------------------------------------------------------------
    def model(self, net: Net) -> Model:
        variables = plan_variables(net)
        layers: list[Layer] = []
        steps: list[Step] = []
        renames: dict[str, str] = {}
        penalties: list[tuple[str, float, float]] = []
        for node in net.nodes:
            if node.kind == "input":
                continue
            attr = identifier(node.name, {"forward", "training"})
            canonical = node.ident
            if attr != canonical:
                renames[attr] = canonical
            ins = [net.node(i).shape for i in node.inputs]
            in_vars = [variables.of(i) for i in node.inputs]
            out = variables.of(node.name)
            layer, lines = self.translate(node, attr, ins, in_vars, out)
            if layer is not None:
                layers.append(layer)
            if getattr(node.op, "l1", 0.0) or getattr(node.op, "l2", 0.0):
                penalties.append((attr, node.op.l1, node.op.l2))
            steps.append(Step(lines, fmt(node.shape or ())))
        return Model(
            name=net.name,
            class_name=class_name(net.name),
            source_name=net.name,
            layers=layers,
            inputs=[variables.of(i) for i in net.inputs],
            input_shapes=[fmt(net.node(i).shape or ()) for i in net.inputs],
            steps=steps,
            output=variables.of(net.output),
            output_shape=fmt(net.output_shape),
            trainable=net.trainable,
            non_trainable=net.non_trainable,
            penalties=penalties,
            renames=renames,
        )

    def translate(
        self, node: Node, attr: str, ins: list[Any], xs: list[str], out: str
    ) -> tuple[Layer | None, list[str]]:
        """The module to build (if any) and the forward lines for one node."""
        op = node.op
        kind = op.op
        x = xs[0]
        shape = ins[0]
        call = f"self.{attr}({x})"

        def assign(expr: str) -> list[str]:
            return [f"{out} = {expr}"]

        if kind in _ACTIVATIONS:
            return None, assign(_ACTIVATIONS[kind].format(x=x))
        if kind == "leaky_relu":
            return None, assign(f"F.leaky_relu({x}, negative_slope={lit(op.slope)})")
        if kind == "elu":
            return None, assign(f"F.elu({x}, alpha={lit(op.alpha)})")
        if kind == "gelu":
            return None, assign(f"F.gelu({x}, approximate={lit(op.approximate)})")
        if kind in ("softmax", "log_softmax"):
            dim = resolve_axis(kind, op.axis, shape) + 1
            return None, assign(f"F.{kind}({x}, dim={dim})")
        if kind == "identity":
            return None, assign(x)
        if kind == "flatten":
            return None, assign(f"torch.flatten({x}, start_dim=1)")
        if kind == "reshape":
            dims = ", ".join(str(d) for d in node.shape or ())
            return None, assign(f"{x}.reshape({x}.shape[0], {dims})")
        if kind == "global_avgpool2d":
            return None, assign(f"torch.mean({x}, dim=(2, 3))")
        if kind == "global_maxpool2d":
            return None, assign(f"torch.amax({x}, dim=(2, 3))")
        if kind == "add":
            return None, assign(" + ".join(xs))
        if kind == "multiply":
            return None, assign(" * ".join(xs))
        if kind == "concat":
            dim = resolve_axis(kind, op.axis, shape) + 1
            return None, assign(f"torch.cat([{', '.join(xs)}], dim={dim})")
        if kind == "dense":
            code = f"nn.Linear({shape[-1]}, {op.units}, bias={lit(op.bias)})"
            return Layer(attr, code), assign(call)
        if kind == "conv2d":
            pads = op.pads(shape)
            padding, pre = _symmetric(pads)
            code = (
                f"nn.Conv2d({shape[0]}, {op.filters}, kernel_size={lit(op.kernel)}, "
                f"stride={lit(op.stride)}, padding={lit(padding)}, dilation={lit(op.dilation)}, "
                f"groups={op.groups}, bias={lit(op.bias)})"
            )
            src = f"F.pad({x}, {lit(pre)})" if pre else x
            return Layer(attr, code), assign(f"self.{attr}({src})")
        if kind == "conv1d":
            pads = op.pads(shape)
            padding = pads[0] if pads[0] == pads[1] else 0
            code = (
                f"nn.Conv1d({shape[1]}, {op.filters}, kernel_size={op.kernel}, "
                f"stride={op.stride}, padding={padding}, dilation={op.dilation}, "
                f"groups={op.groups}, bias={lit(op.bias)})"
            )
            src = f"{x}.transpose(1, 2)"
            if pads[0] != pads[1]:
                src = f"F.pad({src}, {lit(pads)})"
            return Layer(attr, code), assign(f"self.{attr}({src}).transpose(1, 2)")
        if kind == "conv2d_transpose":
            code = (
                f"nn.ConvTranspose2d({shape[0]}, {op.filters}, kernel_size={lit(op.kernel)}, "
                f"stride={lit(op.stride)}, padding={lit(op.padding)}, "
                f"output_padding={lit(op.output_padding)}, dilation={lit(op.dilation)}, "
                f"bias={lit(op.bias)})"
            )
            return Layer(attr, code), assign(call)
        if kind in ("maxpool2d", "avgpool2d"):
            pads = op.pads(shape)
            padding, pre = _symmetric(pads)
            if kind == "maxpool2d":
                code = (
                    f"nn.MaxPool2d(kernel_size={lit(op.kernel)}, stride={lit(op.strides)}, "
                    f"padding={lit(padding)}, ceil_mode={lit(op.ceil)})"
                )
                src = f'F.pad({x}, {lit(pre)}, value=float("-inf"))' if pre else x
            else:
                if pre:
                    raise self.unsupported(
                        node,
                        "`avgpool2d` with uneven `same` padding",
                        "use an odd kernel, or explicit padding",
                    )
                code = (
                    f"nn.AvgPool2d(kernel_size={lit(op.kernel)}, stride={lit(op.strides)}, "
                    f"padding={lit(padding)}, ceil_mode={lit(op.ceil)}, "
                    "count_include_pad=False)"
                )
                src = x
            return Layer(attr, code), assign(f"self.{attr}({src})")
        if kind == "adaptive_avgpool2d":
            return Layer(attr, f"nn.AdaptiveAvgPool2d({lit(op.size)})"), assign(call)
        if kind == "upsample2d":
            extra = ", align_corners=False" if op.mode == "bilinear" else ""
            code = f"nn.Upsample(scale_factor={lit(op.scale)}, mode={lit(op.mode)}{extra})"
            return Layer(attr, code), assign(call)
        if kind == "zero_pad2d":
            t, b, left, r = op.padding
            return Layer(attr, f"nn.ZeroPad2d({lit((left, r, t, b))})"), assign(call)
        if kind == "dropout":
            return Layer(attr, f"nn.Dropout(p={lit(op.rate)})"), assign(call)
        if kind == "batchnorm":
            cls = "nn.BatchNorm2d" if len(shape) == 3 else "nn.BatchNorm1d"
            code = f"{cls}({shape[0]}, eps={lit(op.eps)}, momentum={lit(op.momentum)})"
            return Layer(attr, code), assign(call)
        if kind == "layernorm":
            return Layer(attr, f"nn.LayerNorm({shape[-1]}, eps={lit(op.eps)})"), assign(call)
        if kind == "embedding":
            return Layer(attr, f"nn.Embedding({op.vocab}, {op.dim})"), assign(call)
        if kind in _RNN or kind == "bidirectional":
            return self._recurrent(node, attr, shape, x, out)
        if kind == "multihead_attention":
            code = (
                f"nn.MultiheadAttention({op.dim}, {op.heads}, dropout={lit(op.dropout)}, "
                "batch_first=True)"
            )
            q = xs[0]
            kv = xs[1] if len(xs) > 1 else xs[0]
            return Layer(attr, code), [
                f"{out}, _ = self.{attr}({q}, {kv}, {kv}, need_weights=False)"
            ]
        raise self.unsupported(node, f"`{kind}`")

    def _recurrent(
        self, node: Node, attr: str, shape: Any, x: str, out: str
    ) -> tuple[Layer, list[str]]:
        op = node.op
        bidirectional = op.op == "bidirectional"
        cell = op.layer if bidirectional else op
        code = (
            f"{_RNN[cell.op]}({shape[-1]}, {cell.units}, batch_first=True"
            + (", bidirectional=True" if bidirectional else "")
            + ")"
        )
        setup = []
        if cell.op in ("rnn", "lstm"):
            # The language gives each gate block one bias (as Keras does); torch has two.
            # Keeping b_hh at zero and frozen makes the two computations identical.
            for suffix in ("l0", "l0_reverse") if bidirectional else ("l0",):
                setup.append(f"nn.init.zeros_(self.{attr}.bias_hh_{suffix})")
                setup.append(f"self.{attr}.bias_hh_{suffix}.requires_grad_(False)")
        layer = Layer(attr, code, setup)
        if cell.return_sequences:
            return layer, [f"{out}, _ = self.{attr}({x})"]
        state = "(h, _)" if cell.op == "lstm" else "h"
        if bidirectional:
            # the final state of each direction: forward after the last step, backward after
            # the first
            return layer, [
                f"_, {state} = self.{attr}({x})",
                f"{out} = torch.cat([h[0], h[1]], dim=1)",
            ]
        return layer, [f"_, {state} = self.{attr}({x})", f"{out} = h[0]"]

    def model_list(self, spec: Spec) -> list[Model]:
        return [self.model(net) for net in spec.models]


def _symmetric(
    pads: tuple[tuple[int, int], ...],
) -> tuple[tuple[int, int], tuple[int, int, int, int] | None]:
    """Module padding when even on both sides; otherwise zero and an explicit F.pad
    (left, right, top, bottom)."""
    (t, b), (left, r) = pads
    if t == b and left == r:
        return (t, left), None
    return (0, 0), (left, r, t, b)


__all__ = ["TorchBackend"]
