"""The PyTorch backend: a view-model that computes every number and expression the
templates in templates/torch/ print. Spec values reach code only through `py_literal`
(repr) and identifiers only through `naming.identifier`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from specc.backends.base import Backend, bound_states, plan_variables
from specc.backends.codefmt import LIMIT, format_code
from specc.backends.naming import allocate, class_name, identifier, mask_variables
from specc.backends.runtime import runtime_module
from specc.backends.templating import render
from specc.backends.torch.torch_training import gan_context, supervised_context
from specc.backends.torch.translations import TRANSLATIONS, Layer, Site
from specc.ir.net import Net, Node, Spec
from specc.ir.train_config import Gan, Supervised
from specc.layers.base import fmt
from specc.layers.latent import RBM_WEIGHT_STD
from specc.passes.latent import decoder_nodes, forward_order, rbm_node, sample_node
from specc.passes.masking import mask_sources

#: names `forward` uses besides the nodes' variables: helper functions, and `h`, the final
#: state of a recurrent layer
#: `eps`, forward's argument for a latent sample's noise
FORWARD_NAMES = frozenset({"packed_rnn", "masked_mean", "masked_max", "h", "_keep", "eps"})

#: what a layer attribute must not hide: the emitted modules' own methods, and every
#: attribute of `nn.Module` (tests/test_hardening.py checks this list against PyTorch's)
MODULE_NAMES = frozenset(
    {
        "forward", "training", "decode", "penalty", "T_destination", "add_module", "apply",
        "bfloat16", "buffers", "call_super_init", "children", "compile", "cpu", "cuda",
        "double", "dump_patches", "eval", "extra_repr", "float", "get_buffer",
        "get_extra_state", "get_parameter", "get_submodule", "half", "ipu", "load_state_dict",
        "modules", "mtia", "named_buffers", "named_children", "named_modules",
        "named_parameters", "parameters", "register_backward_hook", "register_buffer",
        "register_forward_hook", "register_forward_pre_hook", "register_full_backward_hook",
        "register_full_backward_pre_hook", "register_load_state_dict_post_hook",
        "register_load_state_dict_pre_hook", "register_module", "register_parameter",
        "register_state_dict_post_hook", "register_state_dict_pre_hook", "requires_grad_",
        "set_extra_state", "set_submodule", "share_memory", "state_dict", "to", "to_empty",
        "train", "type", "xpu", "zero_grad", "_apply", "_backward_hooks",
        "_backward_pre_hooks", "_buffers", "_call_impl", "_compiled_call_impl",
        "_forward_hooks", "_forward_hooks_always_called", "_forward_hooks_with_kwargs",
        "_forward_pre_hooks", "_forward_pre_hooks_with_kwargs", "_get_backward_hooks",
        "_get_backward_pre_hooks", "_get_name", "_is_full_backward_hook",
        "_load_from_state_dict", "_load_state_dict_post_hooks", "_load_state_dict_pre_hooks",
        "_maybe_warn_non_full_backward_hook", "_modules", "_named_members",
        "_non_persistent_buffers_set", "_parameters", "_register_load_state_dict_pre_hook",
        "_register_state_dict_hook", "_replicate_for_data_parallel", "_save_to_state_dict",
        "_slow_forward", "_state_dict_hooks", "_state_dict_pre_hooks", "_version",
        "_wrapped_call_impl",
    }
)  # fmt: skip


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
    #: a variational autoencoder: its `gaussian_sample` module's attribute, the variable of
    #: the sample (decode's argument) and decode's steps (the decoder: forward ends there)
    sample: str | None = None
    latent: str = ""
    latent_dim: int = 0
    decode_steps: list[Step] = field(default_factory=list)
    #: an RBM: its `BernoulliRbm` module's attribute
    rbm: str | None = None

    @property
    def signature(self) -> list[str]:
        """forward's `def` line(s), laid out as ruff lays them out (at the class's indent)."""
        params = [f"{name}: torch.Tensor" for name in self.inputs]
        if self.sample:
            params.append("eps: torch.Tensor | None = None")
        one = f"def forward(self, {', '.join(params)}) -> torch.Tensor:"
        if len(one) + 4 <= LIMIT:
            return [one]
        inner = f"    self, {', '.join(params)}"
        if len(inner) + 4 <= LIMIT:
            return ["def forward(", inner, ") -> torch.Tensor:"]
        return ["def forward(", "    self,", *(f"    {p}," for p in params), ") -> torch.Tensor:"]


class TorchBackend(Backend):
    name = "torch"
    title = "the PyTorch backend"

    # ----- entry point ------------------------------------------------------------------
    def emit(self, spec: Spec, source_text: str) -> dict[str, str]:
        self.used_helpers: set[str] = set()
        models = [self.model(net) for net in spec.models]
        lines = [line for m in models for step in m.steps for line in step.lines]
        context = {
            "spec_path": spec.path,
            "models": models,
            "helpers": self.used_helpers,
            "uses_functional": any(re.search(r"\bF\.", line) for line in lines)
            or "BernoulliRbm" in self.used_helpers,
            "rbm_std": RBM_WEIGHT_STD,
        }
        files = {"model.py": format_code(render("torch/model.py.j2", **context))}
        if isinstance(spec.training, Supervised):
            files["train.py"] = format_code(
                render(
                    "torch/train.py.j2",
                    **context,
                    **supervised_context(spec, spec.training, self.model_list(spec)),
                )
            )
            files["runtime.py"] = runtime_module(spec)
        elif isinstance(spec.training, Gan):
            files["train.py"] = format_code(
                render(
                    "torch/gan.py.j2",
                    **context,
                    **gan_context(spec.training, self.model_list(spec)),
                )
            )
            files["runtime.py"] = runtime_module(spec)
        return files

    # ----- models -------------------------------------------------------------------------
    def model(self, net: Net) -> Model:
        # a VAE's decoder last: `forward` ends in `return self.decode(z)`, and no variable
        # of forward's takes the latent's name before it
        net = forward_order(net)
        variables = plan_variables(net, reserved=FORWARD_NAMES)
        taken = set(variables.names.values()) | FORWARD_NAMES
        masks = mask_variables(net, taken)
        taken |= set(masks.values())
        states: dict[str, str] = {}  # recurrent layer -> its final state's variable
        for layer_name in bound_states(net):
            states[layer_name] = identifier(f"{net.node(layer_name).ident}_state", taken)
            taken.add(states[layer_name])
        sources = mask_sources(net)
        layers: list[Layer] = []
        steps: list[Step] = []
        renames: dict[str, str] = {}
        penalties: list[tuple[str, float, float]] = []
        step_of: dict[str, Step] = {}
        # the layers' attributes, distinct by construction (`list` beside `list_`)
        attrs = allocate((n.name for n in net.nodes if n.kind != "input"), MODULE_NAMES)
        for node in net.nodes:
            if node.kind == "input":
                continue
            attr = attrs[node.name]
            canonical = node.ident
            if attr != canonical:
                renames[attr] = canonical
            ins = [net.node(i).shape for i in node.inputs]
            in_vars = [variables.of(i) for i in node.inputs]
            out = variables.of(node.name)
            in_masks = [masks.get(sources[i] or "") for i in node.inputs]
            # a recurrent_state node reads its layer's final state
            source = net.node(node.inputs[0]) if node.kind == "recurrent_state" else node
            layer, lines = self.translate(
                node,
                attr,
                ins,
                in_vars,
                out,
                in_masks,
                masks.get(node.name),
                state_var=states.get(source.name),
                state_source=source.op if source is not node else None,
            )
            if layer is not None:
                layers.append(layer)
            if getattr(node.op, "l1", 0.0) or getattr(node.op, "l2", 0.0):
                penalties.append((attr, node.op.l1, node.op.l2))
            steps.append(Step(lines, fmt(node.shape or ())))
            step_of[node.name] = steps[-1]
        sample, rbm = sample_node(net), rbm_node(net)
        decode_steps: list[Step] = []
        if sample is not None:  # forward ends in `return self.decode(z)`
            decoder = [n.name for n in decoder_nodes(net, sample) or []]
            decode_steps = [step_of[name] for name in decoder]
            steps = [step for step in steps if all(step is not d for d in decode_steps)]
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
            sample=attrs[sample.name] if sample else None,
            latent=variables.of(sample.name) if sample else "",
            latent_dim=(sample.shape or (0,))[0] if sample else 0,
            decode_steps=decode_steps,
            rbm=attrs[rbm.name] if rbm else None,
        )

    def translate(
        self,
        node: Node,
        attr: str,
        ins: list[Any],
        xs: list[str],
        out: str,
        in_masks: list[str | None] | None = None,
        mask_out: str | None = None,
        state_var: str | None = None,
        state_source: Any = None,
    ) -> tuple[Layer | None, list[str]]:
        """The module to build (if any) and the forward lines for one node."""
        translation = TRANSLATIONS.get(node.op.op)
        if translation is None:
            raise self.unsupported(node, f"`{node.op.op}`")
        site = Site(
            node,
            ins,
            attr=attr,
            xs=xs,
            out=out,
            helpers=self.used_helpers,
            unsupported=self.unsupported,
            masks=in_masks or [None] * len(ins),
            mask_out=mask_out,
            state_var=state_var,
            state_source=state_source,
        )
        return translation(site)

    def model_list(self, spec: Spec) -> list[Model]:
        return [self.model(net) for net in spec.models]


__all__ = ["FORWARD_NAMES", "TorchBackend"]
