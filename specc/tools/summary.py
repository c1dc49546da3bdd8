"""`specc summary`: every layer with its output shape and parameter counts."""

from __future__ import annotations

from typing import Any

from specc.ir.net import Net, Spec
from specc.layers.base import fmt


def summary_json(spec: Spec) -> dict[str, Any]:
    return {
        "file": spec.path,
        "models": [
            {
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
                    }
                    for n in net.nodes
                ],
                "trainable": net.trainable,
                "non_trainable": net.non_trainable,
                "macs": net.total_macs,
            }
            for net in spec.models
        ],
    }


def _human(n: int) -> str:
    for unit, size in (("G", 10**9), ("M", 10**6), ("k", 10**3)):
        if n >= size:
            return f"{n / size:.2f}{unit}"
    return str(n)


def summary_table(net: Net) -> str:
    rows = [("layer", "op", "output", "params", "MACs")]
    for n in net.nodes:
        params = n.trainable + n.non_trainable
        rows.append(
            (
                n.name,
                n.kind,
                fmt(n.shape or ()),
                f"{params:,}" if params else "",
                _human(n.macs) if n.macs else "",
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    lines = [f"model {net.name}"]
    for i, row in enumerate(rows):
        cells = [row[c].ljust(widths[c]) if c < 3 else row[c].rjust(widths[c]) for c in range(5)]
        lines.append("  " + "  ".join(cells).rstrip())
        if i == 0:
            lines.append("  " + "  ".join("-" * w for w in widths))
    lines.append(f"  trainable parameters:     {net.trainable:,}")
    lines.append(f"  non-trainable parameters: {net.non_trainable:,}")
    lines.append(f"  multiply-accumulates per sample: {_human(net.total_macs)}")
    return "\n".join(lines)
