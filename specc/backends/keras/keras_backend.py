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
from dataclasses import dataclass
from typing import Any

from specc.backends.base import Backend, bound_states, plan_variables
from specc.backends.codefmt import LIMIT, format_code
from specc.backends.keras.keras_training import gan_context, supervised_context
from specc.backends.keras.translations import (
    CROP,
    HWC,
    TRANSLATIONS,
    Names,
    Site,
    call_line,
)
from specc.backends.naming import identifier, mask_variables
from specc.backends.runtime import runtime_module
from specc.backends.templating import py_literal as lit
from specc.backends.templating import render
from specc.ir.net import Net, Node, Spec
from specc.ir.train_config import Gan, Supervised
from specc.layers.base import fmt
from specc.layers.latent import RBM_WEIGHT_STD
from specc.layers.layout import layout_of
from specc.passes.latent import sample_node
from specc.passes.masking import mask_sources

# names the emitted module defines at top level: variables must not shadow them
HELPERS = frozenset(
    {
        "os",
        "uniform",
        "PadNegInf",
        "BatchNorm",
        "Gelu",
        "LogSoftmax",
        "AttentionInit",
        "MaskedMaxPool1D",
        "ZeroPaddedSteps",
        "GaussianSample",
        "BernoulliRbm",
        "decoder",
        "canonical_state",
        "save_canonical",
        "load_canonical",
        "MODELS",
    }
)


@dataclass
class Step:
    lines: list[str]
    comment: str

    def __post_init__(self) -> None:
        # a comment that does not fit after a wrapped statement's last line goes above it
        # (the last line of a call, `)(x)`, is inside no brackets of its own)
        if len(self.lines) == 1 and "\n" in self.lines[0]:
            last = self.lines[0].split("\n")[-1]
            if len(f"{last}  # {self.comment}") > LIMIT:
                self.lines = [f"# {self.comment}", *self.lines]
                self.comment = ""


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
    #: a variational autoencoder's `gaussian_sample` layer name (the decoder starts there)
    sample: str | None = None
    latent_dim: int = 0


_CONVOLUTIONS = ("Conv1D", "Conv2D", "Conv3D", "Conv2DTranspose", "Conv3DTranspose")


@dataclass(frozen=True)
class WeightMapping:
    """Which branches the emitted canonical-weight mapping needs: only the spec's layers'."""

    conv: str  # the isinstance target for convolutions ("" when there are none)
    dense: bool
    embedding: bool
    layernorm: bool
    position: bool
    batchnorm: bool
    rnn: bool
    attention: bool
    rbm: bool

    @classmethod
    def of(cls, used: set[str]) -> WeightMapping:
        convs = [f"layers.{c}" for c in _CONVOLUTIONS if c in used]
        return cls(
            conv=convs[0] if len(convs) == 1 else (f"({', '.join(convs)})" if convs else ""),
            dense="Dense" in used,
            embedding="Embedding" in used,
            layernorm="LayerNormalization" in used,
            position="PositionEmbedding" in used,
            batchnorm="BatchNorm" in used,
            rnn="RNN" in used,
            attention="MultiHeadAttention" in used,
            rbm="BernoulliRbm" in used,
        )


def node_output_layer(layer_names: Iterable[str], ident: str) -> str | None:
    """Of a built model's layer names, in order, the one whose output is the node's value:
    the node's own layer or the last helper after it (derived names may end in `_`)."""
    pattern = re.compile(rf"{re.escape(ident)}(?:_(?:{CROP}|{HWC}))?_*")
    found = None
    for name in layer_names:
        if pattern.fullmatch(name):
            found = name
    return found


class KerasBackend(Backend):
    name = "keras"
    title = "the Keras backend"

    # ----- entry point ------------------------------------------------------------------
    def emit(self, spec: Spec, source_text: str) -> dict[str, str]:
        self.used_helpers: set[str] = set()
        self.weight_layers: set[str] = set()
        models = [self.model(net) for net in spec.models]
        context = {
            "spec_path": spec.path,
            "models": models,
            "helpers": self.used_helpers,
            "weights": WeightMapping.of(self.weight_layers),
            "rbm_std": RBM_WEIGHT_STD,
        }
        files = {"model.py": format_code(render("keras/model.py.j2", **context))}
        if isinstance(spec.training, Supervised):
            model = next(m for m in models if m.name == spec.training.model)
            training = supervised_context(spec, spec.training)
            files["train.py"] = format_code(
                render("keras/train.py.j2", spec_path=spec.path, model=model, **training)
            )
            files["optimizer.py"] = format_code(
                render("keras/optimizer.py.j2", spec_path=spec.path, **training)
            )
            files["runtime.py"] = runtime_module(spec)
        elif isinstance(spec.training, Gan):
            files["train.py"] = format_code(
                render("keras/gan.py.j2", spec_path=spec.path, **gan_context(models, spec.training))
            )
            files["runtime.py"] = runtime_module(spec)
        return files

    # ----- models -------------------------------------------------------------------------
    def model(self, net: Net) -> Model:
        reserved = set(HELPERS)
        variables = plan_variables(net, reserved=frozenset(reserved))
        names = Names({n.ident for n in net.nodes})
        taken = set(variables.names.values()) | reserved
        masks = mask_variables(net, taken)
        sources = mask_sources(net)
        states = bound_states(net)
        inputs: list[str] = []
        input_lines: list[str] = []
        steps: list[Step] = []
        for node in net.input_nodes:
            var = variables.of(node.name)
            shape = node.shape or ()
            dtype = '"int32"' if node.op.dtype == "int" else '"float32"'
            to_last = layout_of(shape).to_channels_last
            if to_last:
                raw = identifier(f"{node.ident}_chw", frozenset(taken))
                taken.add(raw)
                inputs.append(raw)
                input_lines.append(
                    f"{raw} = keras.Input(shape={lit(shape)}, dtype={dtype}, "
                    f"name={lit(node.ident)})  # {fmt(shape)}"
                )
                perm = names.derive(node.ident, HWC)
                input_lines.append(
                    call_line(var, f"layers.Permute({lit(to_last)}, name={lit(perm)})", raw)
                    + "  # channels-last inside"
                )
            else:
                inputs.append(var)
                input_lines.append(
                    f"{var} = keras.Input(shape={lit(shape)}, dtype={dtype}, "
                    f"name={lit(node.ident)})  # {fmt(shape)}"
                )
        sample = sample_node(net)
        eps = ""
        if sample is not None:  # the latent's noise: an input the caller may leave out
            eps = identifier("eps", frozenset(taken))
            taken.add(eps)
            inputs.append(eps)
            dim = (sample.shape or (0,))[0]
            name = lit(names.derive(sample.ident, "eps"))
            input_lines.append(
                f"{eps} = keras.Input(shape=({dim},), name={name}, optional=True)  "
                "# the latent's noise"
            )
        for node in net.nodes:
            if node.kind == "input":
                continue
            ins = [net.node(i).shape for i in node.inputs]
            in_vars = [variables.of(i) for i in node.inputs]
            out = variables.of(node.name)
            in_masks = [masks.get(sources[i] or "") for i in node.inputs]
            node_states = [variables.of(n) if n else None for n in states.get(node.name, [])]
            lines = self.translate(
                node, ins, in_vars, out, names, in_masks, masks.get(node.name), node_states, eps
            )
            if lines:  # (a recurrent layer's states come with its own call)
                steps.append(Step(lines, fmt(node.shape or ())))
        output = variables.of(net.output)
        to_first = layout_of(net.output_shape).to_channels_first
        if to_first:
            perm = names.derive(net.node(net.output).ident, "chw")
            steps.append(
                Step(
                    [
                        call_line(
                            output, f"layers.Permute({lit(to_first)}, name={lit(perm)})", output
                        )
                    ],
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
            sample=sample.ident if sample else None,
            latent_dim=(sample.shape or (0,))[0] if sample else 0,
        )

    def translate(
        self,
        node: Node,
        ins: list[Any],
        xs: list[str],
        out: str,
        names: Names,
        in_masks: list[str | None] | None = None,
        mask_out: str | None = None,
        states: list[str | None] | None = None,
        eps: str = "",
    ) -> list[str]:
        """The forward lines for one node: a chain of layer calls from the inputs to `out`."""
        translation = TRANSLATIONS.get(node.op.op)
        if translation is None:
            raise self.unsupported(node, f"`{node.op.op}`")
        site = Site(
            node,
            ins,
            xs,
            out,
            names,
            self.used_helpers,
            self.weight_layers,
            self.unsupported,
            in_masks or [None] * len(ins),
            mask_out,
            states or [],
            eps,
        )
        return translation(site)


__all__ = ["KerasBackend", "node_output_layer"]
