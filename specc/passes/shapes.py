"""Shape inference and parameter counting over an expanded network."""

from __future__ import annotations

from specc.diagnostics import Diagnostics
from specc.ir.net import Input, Net, Node
from specc.layers import ShapeError
from specc.layers.base import fmt
from specc.passes.expand import RawNet
from specc.passes.latent import check_latent, check_rbm
from specc.passes.masking import check_masks


def infer(raw: RawNet, diags: Diagnostics) -> Net | None:
    """A new Net with every node's output shape and parameter counts; None on errors.
    A node whose input failed is skipped silently, so one mistake gives one error."""
    shapes: dict[str, tuple[int, ...]] = {}
    dtypes: dict[str, str] = {}
    out: list[Node] = []
    ok = True
    for node in raw.nodes:
        if isinstance(node.op, Input):
            shapes[node.name] = node.op.dims
            dtypes[node.name] = node.op.dtype
            out.append(Node(name=node.name, op=node.op, shape=node.op.dims, span=node.span))
            continue
        if any(i not in shapes for i in node.inputs):
            ok = False
            continue
        ins = [shapes[i] for i in node.inputs]
        in_dtype = dtypes[node.inputs[0]]
        op = node.op
        label = "input has shape " + " and ".join(fmt(s) for s in ins)
        if op.input_dtype == "int" and in_dtype != "int":
            diags.error(
                "E0502",
                f"`{op.op}` needs token ids, but its input holds numbers",
                node.span,
                label=label,
                help="declare the input as `[T] int`",
            )
            ok = False
            continue
        if op.input_dtype != "int" and in_dtype == "int":
            diags.error(
                "E0503",
                f"`{op.op}` cannot take token ids",
                node.span,
                label=label,
                help="add `embedding(vocab, dim)` first",
            )
            ok = False
            continue
        try:
            shape = op.output_shape(ins)
            trainable, frozen = op.parameters(ins)
            macs = op.macs(ins, shape)
        except ShapeError as err:
            diags.error("E0501", err.message, node.span, label=label, help=err.help)
            ok = False
            continue
        shapes[node.name] = shape
        dtypes[node.name] = "float"
        out.append(
            Node(
                name=node.name,
                op=op,
                inputs=node.inputs,
                shape=shape,
                trainable=trainable,
                non_trainable=frozen,
                macs=macs,
                span=node.span,
            )
        )
    if not ok or raw.output is None:
        return None
    net = Net(
        name=raw.name, nodes=tuple(out), inputs=tuple(raw.inputs), output=raw.output, span=raw.span
    )
    ok = check_masks(net, diags) and check_latent(net, diags) and check_rbm(net, diags)
    return net if ok else None
