"""`specc summary`: every layer with its output shape and parameter counts."""

from __future__ import annotations

from typing import Any

from specc.ir.net import Net, Spec
from specc.ir.train_config import Supervised
from specc.layers.base import fmt
from specc.passes.transfer import Transfer, transfer_of


def transfer_in(spec: Spec, net: Net) -> Transfer | None:
    """The spec's freezing and learning-rate groups, if it trains `net` with them."""
    config = spec.training
    if isinstance(config, Supervised) and config.model == net.name:
        return transfer_of(net, config)
    return None


def frozen_count(net: Net, transfer: Transfer | None) -> int:
    """The trainable parameters of the frozen layers."""
    frozen = set(transfer.frozen) if transfer else set()
    return sum(n.trainable for n in net.layers if n.ident in frozen)


def summary_json(spec: Spec) -> dict[str, Any]:
    return {
        "file": spec.path,
        "models": [_model_json(net, transfer_in(spec, net)) for net in spec.models],
    }


def _model_json(net: Net, transfer: Transfer | None) -> dict[str, Any]:
    frozen = set(transfer.frozen) if transfer else set()
    scales = transfer.lr_scales if transfer else {}
    return {
        "name": net.name,
        "layers": [
            {
                "name": n.name,
                "op": n.kind,
                "inputs": list(n.inputs),
                "shape": list(n.shape or ()),
                "trainable": n.trainable,
                "non_trainable": n.non_trainable,
                "macs": n.macs,
                "frozen": n.ident in frozen,
                "lr_scale": scales.get(n.ident, 1.0),
            }
            for n in net.nodes
        ],
        "trainable": net.trainable,
        "non_trainable": net.non_trainable,
        # transfer learning: the trainable parameters of frozen layers, and when they unfreeze
        "frozen": frozen_count(net, transfer),
        "unfreeze": transfer.unfreeze if transfer else None,
        "macs": net.total_macs,
    }


def _human(n: int) -> str:
    for unit, size in (("G", 10**9), ("M", 10**6), ("k", 10**3)):
        if n >= size:
            return f"{n / size:.2f}{unit}"
    return str(n)


def summary_table(net: Net, transfer: Transfer | None = None) -> str:
    """The table of `net`; with `transfer` (the spec trains it with frozen layers or learning
    rates per group), a column that marks them and the frozen parameters apart."""
    frozen = set(transfer.frozen) if transfer else set()
    scales = transfer.lr_scales if transfer else {}
    rows = [("layer", "op", "output", "params", "MACs", "training" if transfer else "")]
    for n in net.nodes:
        params = n.trainable + n.non_trainable
        notes = []
        if n.ident in frozen:
            notes.append("frozen")
        if n.ident in scales:
            notes.append(f"lr x{scales[n.ident]:g}")
        rows.append(
            (
                n.name,
                n.kind,
                fmt(n.shape or ()),
                f"{params:,}" if params else "",
                _human(n.macs) if n.macs else "",
                ", ".join(notes),
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(6)]
    lines = [f"model {net.name}"]
    for i, row in enumerate(rows):
        cells = [
            row[c].ljust(widths[c]) if c < 3 or c == 5 else row[c].rjust(widths[c])
            for c in range(6)
        ]
        lines.append("  " + "  ".join(cells).rstrip())
        if i == 0:
            lines.append("  " + "  ".join("-" * w for w in widths if w))
    held = frozen_count(net, transfer)
    if held:
        until = f" until epoch {transfer.unfreeze}" if transfer and transfer.unfreeze else ""
        lines.append(f"  trainable parameters:     {net.trainable:,}")
        lines.append(f"    {'frozen' + until + ':':<23} {held:,}")
        lines.append(f"    {'training:':<23} {net.trainable - held:,}")
    else:
        lines.append(f"  trainable parameters:     {net.trainable:,}")
    lines.append(f"  non-trainable parameters: {net.non_trainable:,}")
    lines.append(f"  multiply-accumulates per sample: {_human(net.total_macs)}")
    return "\n".join(lines)
