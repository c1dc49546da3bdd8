"""Python identifiers for emitted code. Spec names are already `[A-Za-z_][A-Za-z0-9_]*`
(the grammar allows nothing else); here they are kept clear of keywords and of the names
the emitted code itself uses."""

from __future__ import annotations

import builtins
import keyword
import re
from collections.abc import Iterable

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


def allocate(
    names: Iterable[str], reserved: frozenset[str] = frozenset()
) -> dict[str, PythonIdentifier]:
    """A distinct identifier for each name, one-to-one by construction: a name keeps its own
    (dots as underscores) where that is not reserved, and the others (`list` -> `list_`)
    get underscores appended until they clash with no identifier given out, nor with a name
    that keeps its own (`list` next to `list_` gives `list__` to `list`)."""
    names = list(dict.fromkeys(names))
    out: dict[str, PythonIdentifier] = {}
    taken: set[str] = set(reserved)
    for name in names:  # first the names that keep their own identifier
        ident = identifier(name, reserved)
        if ident == name.replace(".", "_") and ident not in taken:
            out[name] = ident
            taken.add(ident)
    for name in names:
        if name not in out:
            out[name] = identifier(name, frozenset(taken))
            taken.add(out[name])
    return {name: out[name] for name in names}


#: the module-level names of the emitted files (model.py, train.py, runtime.py,
#: optimizer.py, gan.py): a model's class must not take one (tests/test_hardening.py keeps
#: this list complete against the golden files)
EMITTED_NAMES = frozenset(
    {
        "AUTOCAST", "AttentionInit", "BATCH", "BatchNorm", "BernoulliRbm", "CD_K", "CLASSES",
        "COMPILE", "Callable", "DOptimizer", "D_LR", "D_STEPS", "EPOCHS", "F", "FROZEN",
        "FROZEN_NORMS", "GIBBS_STEPS", "GOptimizer", "GP_WEIGHT", "GRID", "G_LR",
        "GaussianSample", "Gelu", "IMAGE", "INIT_HELP", "KL_WARMUP", "KL_WEIGHT", "LATENT",
        "LATENT_DIM", "LR", "LR_SCALES", "LogSoftmax", "MIN_DELTA", "MODELS",
        "MaskedMaxPool1D", "Optimizer", "PATIENCE", "POLICIES", "PadNegInf",
        "PositionEmbedding", "Progress", "Queue", "RENAMES", "SCALES", "SEED",
        "SinusoidalPosition", "Tensor", "Training", "UNFREEZE", "UNITS", "VALIDATION",
        "VISIBLE", "ZeroPaddedSteps",
    }
)  # fmt: skip


def class_name(name: str) -> PythonIdentifier:
    """A model's class: its name with a capital first letter, kept clear of the emitted
    files' own module-level names (`EPOCHS` -> `EPOCHS_`)."""
    return identifier(name if name[:1].isupper() else name[:1].upper() + name[1:], EMITTED_NAMES)


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
