"""Transfer learning's layer selections: which layers a `freeze`, `lr_groups` or `init`
pattern names, checked against the model (E0647-E0650).

A pattern is a layer's name (`dense_3`, `encoder.dense_1`), a block instance's name (all its
layers: `encoder`) or a glob of either (`conv2d_*`, `basic_?`). Only layers with weights
count: freezing a `relu` means nothing."""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase

from specc.diagnostics import Diagnostics, suggest
from specc.ir.net import Net, Node
from specc.ir.train_config import Supervised
from specc.source import Span


def weighted_layers(net: Net) -> list[Node]:
    """The model's layers that have canonical weights, in order."""
    out = []
    for node in net.layers:
        inputs = [net.node(i).shape or () for i in node.inputs]
        if node.op.canonical_params(inputs):
            out.append(node)
    return out


def matches(name: str, pattern: str) -> bool:
    """`pattern` names layer `name`, or a block instance that holds it."""
    parts = name.split(".")
    return any(fnmatchcase(".".join(parts[:k]), pattern) for k in range(1, len(parts) + 1))


def selected(net: Net, patterns: tuple[str, ...]) -> list[Node]:
    """The layers with weights that any of `patterns` names, in model order."""
    return [n for n in weighted_layers(net) if any(matches(n.name, p) for p in patterns)]


@dataclass(frozen=True)
class Transfer:
    """What the emitted training does with a supervised model's layers (by canonical ident):
    the frozen ones, the epoch that unfreezes them (None: never), and each layer's learning
    rate scale (layers not listed: 1.0)."""

    frozen: tuple[str, ...]
    unfreeze: int | None
    lr_scales: dict[str, float]

    @property
    def scales(self) -> tuple[float, ...]:
        """The distinct scales in the order of the optimizer's groups: 1.0 first."""
        return tuple(sorted(set(self.lr_scales.values()) | {1.0}, key=lambda s: s != 1.0))


def transfer_of(net: Net, config: Supervised) -> Transfer | None:
    """The run's freezing and learning-rate groups, None when the spec has neither."""
    if not config.freeze and not config.lr_groups:
        return None
    frozen = tuple(n.ident for n in selected(net, config.freeze))
    scales: dict[str, float] = {}
    for group in config.lr_groups:  # the first group that names a layer sets its scale
        for node in selected(net, group.layers):
            scales.setdefault(node.ident, group.scale)
    return Transfer(frozen, config.unfreeze, scales)


def check_transfer(
    config: Supervised, net: Net, spans: dict[str, Span], name_span: Span, diags: Diagnostics
) -> None:
    layers = weighted_layers(net)
    names = [n.name for n in layers]
    blocks = sorted({n.split(".")[0] for n in names if "." in n})
    known = names + blocks
    listed = ", ".join(f"`{n}`" for n in known) or "none"

    def check(patterns: tuple[str, ...], key: str) -> bool:
        ok = True
        for pattern in patterns:
            if not any(matches(n, pattern) for n in names):
                close = suggest(pattern, known)
                hint = f"did you mean `{close}`? " if close else ""
                diags.error(
                    "E0647",
                    f"`{key}` names `{pattern}`, but no layer with weights of `{net.name}` "
                    "has that name",
                    spans.get(key, name_span),
                    label="no such layer",
                    help=f"{hint}its layers with weights (and block instances) are {listed}",
                )
                ok = False
        return ok

    ok = check(config.freeze, "freeze")
    for group in config.lr_groups:
        ok = check(group.layers, "lr_groups") and ok
    if config.init is not None:
        ok = check(config.init.layers or (), "init") and ok
        ok = check(config.init.skip, "init") and ok
    if not ok:
        return
    if config.freeze and len(selected(net, config.freeze)) == len(layers):
        diags.error(
            "E0648",
            f"`freeze` names every layer with weights of `{net.name}`: nothing would train",
            spans["freeze"],
            help="remove `freeze`: the model has one layer with weights"
            if len(names) == 1
            else "leave out the layers to train (a new head), e.g. "
            f"`freeze = [{', '.join(repr(n).replace(chr(39), chr(34)) for n in names[:-1])}]`",
        )
    if config.unfreeze is not None:
        if not config.freeze:
            diags.error(
                "E0649",
                "`unfreeze` sets when the frozen layers start to train, but nothing is frozen",
                spans["unfreeze"],
                help='remove `unfreeze`, or add `freeze = ["layer", ...]`',
            )
        elif config.unfreeze >= config.epochs:
            diags.error(
                "E0649",
                f"`unfreeze = {config.unfreeze}` is not before the last epoch "
                f"(`epochs = {config.epochs}`): the frozen layers would never train",
                spans["unfreeze"],
                help=f"unfreeze after fewer epochs than {config.epochs}, or remove `unfreeze`",
            )
    if config.init is not None and config.init.layers is not None:
        chosen = selected(net, config.init.layers)
        if not [n for n in chosen if not any(matches(n.name, p) for p in config.init.skip)]:
            diags.error(
                "E0650",
                "`init` skips every layer it names: no weights would be loaded",
                spans["init"],
                help="remove `skip`, or name other layers in `layers`",
            )
