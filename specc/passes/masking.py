"""Padding masks through a network: which values are sequences with padded steps, and where
the mask comes from.

A mask starts at `embedding(vocab, dim, mask_zero=true)`: token id 0 is padding, and padding
is trailing (each sequence's real tokens come first). Each layer kind says what it does with
a masked input (`Op.mask_rule`):

- "steps" kinds act on each time step alone (dense, dropout, activations, layernorm,
  positions, and merges of sequences over the feature axis) and pass the mask on;
- "consume" kinds read it: recurrent layers run over the real steps only (their output
  keeps the mask when they return every step, padded steps zero), attention ignores padded
  key steps (its output keeps the query's mask), pooling over time pools the real steps;
- every other kind refuses a masked input (a diagnostic): `flatten`, `reshape` or `conv1d`
  would mix padded steps into real values without saying so.

A mask also starts at `masking(value)` on a float sequence [T, F] (a step whose features all
equal `value` is padding), which reads a model input.

A value's mask is named by its source: the `mask_zero` embedding or the `masking` node.
"""

from __future__ import annotations

from dataclasses import dataclass

from specc.diagnostics import Diagnostics
from specc.ir.net import Net, Node
from specc.layers.base import resolve_axis
from specc.layers.core import Embedding
from specc.layers.sequence import is_recurrent

#: the mask of each node's output: the name of the node that starts it (`starts_mask`)
MaskSources = dict[str, str | None]


def starts_mask(node: Node) -> bool:
    """The node marks padding: a `mask_zero` embedding or a `masking` layer."""
    return node.kind == "masking" or (node.kind == "embedding" and node.op.mask_zero)


def _masked_sources(node: Node, sources: MaskSources) -> list[str]:
    return sorted({s for i in node.inputs if (s := sources.get(i)) is not None})


def mask_sources(net: Net, diags: Diagnostics | None = None) -> MaskSources:
    """Every node's output mask (None: no padding). With `diags`, misuse becomes
    diagnostics; the mask of a node in error is dropped so one mistake gives one error."""
    sources: MaskSources = {}
    for node in net.nodes:
        sources[node.name] = None
        if node.kind == "input":
            continue
        op = node.op
        if starts_mask(node):
            if node.kind == "masking" and net.node(node.inputs[0]).kind != "input":
                if diags is not None:
                    diags.error(
                        "E0506",
                        "`masking` reads a model input",
                        node.span,
                        label="not a model input",
                        help="put `masking` right after the input: the padding is found in "
                        "the data as given (and so are the loss's real steps)",
                    )
                continue
            sources[node.name] = node.name
            continue
        found = _masked_sources(node, sources)
        if not found:
            continue
        problem = _refusal(net, node, found)
        if problem is not None:
            if diags is not None:
                message, help = problem
                ins = [net.node(i).shape or () for i in node.inputs]
                diags.error(
                    "E0504" if len(found) == 1 else "E0505",
                    message,
                    node.span,
                    label="input is a padded sequence "
                    + " and ".join("[" + ", ".join(map(str, s)) + "]" for s in ins),
                    help=help,
                )
            continue
        source = found[0]
        if is_recurrent(op):
            cell = op.layer if node.kind == "bidirectional" else op
            sources[node.name] = source if cell.return_sequences else None
        elif node.kind == "multihead_attention":
            sources[node.name] = sources[node.inputs[0]]  # the query's
        elif op.mask_rule == "steps":
            sources[node.name] = source
    return sources


def _refusal(net: Net, node: Node, found: list[str]) -> tuple[str, str] | None:
    """(message, help) when `node` cannot take its masked inputs."""
    op, kind = node.op, node.kind
    first = net.node(node.inputs[0]).shape or ()
    if kind == "multihead_attention":
        return None  # cross-attention: the query and the keys may have masks of their own
    if len(found) > 1:
        return (
            f"`{kind}` joins sequences padded by different masks "
            f"({', '.join(f'`{s}`' for s in found)})",
            "give the branches one `mask_zero` embedding, or pool each branch over time first",
        )
    if op.mask_rule == "refuse":
        return (
            f"`{kind}` cannot take a padded sequence: it would mix the padded steps into the "
            "real ones",
            "pool over time first (`global_avgpool1d`, `global_maxpool1d`), or take the last "
            "real step with `lstm`/`gru`/`rnn` (return_sequences=false)",
        )
    axis = getattr(op, "axis", None)
    if axis is not None and len(first) == 2 and resolve_axis(kind, axis, first) != 1:
        return (
            f"`{kind}` over the time axis of a padded sequence would mix padded steps into "
            "the real ones",
            "use the feature axis (the default), or pool over time first",
        )
    return None


def check_masks(net: Net, diags: Diagnostics) -> bool:
    """Diagnose masks that reach layers which cannot take them; False on errors."""
    errors = sum(d.is_error for d in diags.items)
    mask_sources(net, diags)
    return sum(d.is_error for d in diags.items) == errors


@dataclass(frozen=True)
class Padding:
    """How a model's input marks padded steps: token id 0 (`embedding(..., mask_zero=true)`)
    or, for a float sequence, a step whose features all equal `value` (`masking(value)`)."""

    tokens: bool
    value: float = 0.0


def padding_of(net: Net, source: str) -> Padding:
    """The padding a mask source (a `mask_zero` embedding or `masking` node) reads."""
    op = net.node(source).op
    return Padding(tokens=True) if isinstance(op, Embedding) else Padding(False, op.value)


def output_mask(net: Net) -> Padding | None:
    """Where the model's output is a padded sequence (its loss and metrics skip the padded
    steps): how its input marks them. None for any other output."""
    source = mask_sources(net).get(net.output)
    return None if source is None else padding_of(net, source)


def token_embeddings(net: Net) -> list[Embedding]:
    """The embeddings reading the model's (first) input, when it holds token ids."""
    first = net.input_nodes[0].name
    return [n.op for n in net.layers if isinstance(n.op, Embedding) and first in n.inputs]


def input_padding(net: Net) -> Padding | None:
    """How the model's (first) input marks padding, if anything reads it as padded."""
    first = net.input_nodes[0].name
    for node in net.layers:
        if first in node.inputs and starts_mask(node):
            return padding_of(net, node.name)
    return None
