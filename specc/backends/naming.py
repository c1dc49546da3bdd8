"""Python identifiers for emitted code. Spec names are already `[A-Za-z_][A-Za-z0-9_]*`
(the grammar allows nothing else); here they are kept clear of keywords and of the names
the emitted code itself uses."""

from __future__ import annotations

import builtins
import keyword
import re

from specc.ir.net import Net
from specc.passes.masking import starts_mask

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
RESERVED = (
    set(keyword.kwlist)
    | set(keyword.softkwlist)
    | set(dir(builtins))
    | {"self", "x", "np", "math", "torch", "nn", "F", "keras", "layers", "ops", "tf", "model"}
)


class PythonIdentifier(str):
    """A string that has been checked to be a safe Python identifier."""


def identifier(name: str, reserved: set[str] | frozenset[str] = frozenset()) -> PythonIdentifier:
    """`name` made safe: dots become underscores, reserved words get a trailing underscore."""
    ident = name.replace(".", "_")
    if not _IDENT.match(ident):
        raise ValueError(f"not an identifier: {name!r}")
    if ident.startswith("__"):  # dunder names have meaning to Python
        ident = "v" + ident
    while ident in RESERVED or ident in reserved:
        ident = ident + "_"
    return PythonIdentifier(ident)


def class_name(name: str) -> PythonIdentifier:
    return identifier(name if name[:1].isupper() else name[:1].upper() + name[1:])


def mask_variables(net: Net, taken: set[str]) -> dict[str, str]:
    """The padding-mask variable of each `mask_zero` embedding and `masking` node:
    `<input>_mask`."""
    out: dict[str, str] = {}
    for node in net.layers:
        if starts_mask(node):
            name = identifier(f"{node.inputs[0]}_mask", frozenset(taken))
            taken.add(name)
            out[node.name] = name
    return out
