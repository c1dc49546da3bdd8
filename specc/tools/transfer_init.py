"""A run's starting weights for transfer learning (`init = weights(...)` in `train`): the
model's fresh canonical weights, with the layers named in both the model and a trained
source taken from the source, matched by layer name.

The source is a run folder (its weights.safetensors), canonical .safetensors, or a PyTorch
or Keras weights file inside a run folder (converted with that run's spec, as `specc weights
convert` does). Every weight of a chosen layer must be in the source with the model's shape;
what does not fit is listed, names and shapes, with the fix. Only numpy and safetensors are
imported (a framework only for a conversion, in its own process)."""

from __future__ import annotations

import glob
import tempfile
from argparse import Namespace
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from specc.ir.net import Net
from specc.ir.train_config import InitWeights
from specc.layers.base import fmt
from specc.passes.transfer import matches, weighted_layers

_FRAMEWORK_SUFFIXES = (".pt", ".pth", ".weights.h5", ".keras", ".npz")


class InitError(Exception):
    """The source cannot initialise the model: one paragraph for the user."""


@dataclass(frozen=True)
class Initialised:
    """The starting weights, where they came from, and which layers they set."""

    tensors: dict[str, np.ndarray]
    source: Path | None  # None: no `init`, fresh weights alone
    loaded: list[str]  # layer names taken from the source
    fresh: list[str]  # layer names with weights left at their fresh initialisation


def resolve(path: str) -> Path:
    """The source that `path` names: itself, or the newest match of a glob."""
    expanded = str(Path(path).expanduser())
    if any(c in expanded for c in "*?["):
        found = sorted(glob.glob(expanded), key=lambda p: Path(p).stat().st_mtime)
        usable = [
            Path(p)
            for p in found
            if Path(p).is_file() or (Path(p) / "weights.safetensors").is_file()
        ]
        if not usable:
            what = "matches it, but none holds trained weights" if found else "matches it"
            raise InitError(
                f"`init`: nothing {what} ({path}); train the source first, e.g. "
                "`specc run SOURCE.net --out runs`"
            )
        return usable[-1]
    source = Path(expanded)
    if not source.exists():
        raise InitError(f"`init`: no such file or folder: {path}")
    return source


def read_source(source: Path) -> dict[str, np.ndarray]:
    """The canonical tensors of `source` (a run folder, canonical or framework weights)."""
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    if source.is_dir():
        weights = source / "weights.safetensors"
        if not weights.is_file():
            raise InitError(
                f"`init`: the run folder {source} has no weights.safetensors yet (its training "
                f"has not finished); finish it with `specc run --resume {source}`"
            )
        source = weights
    name = source.name.lower()
    if name.endswith(_FRAMEWORK_SUFFIXES):
        return _converted(source)
    if not name.endswith(".safetensors"):
        raise InitError(
            f"`init`: cannot read {source}: give a run folder, canonical .safetensors, or a "
            "PyTorch (.pt) or Keras (.weights.h5) weights file in a run folder"
        )
    try:
        return load_file(str(source))
    except (SafetensorError, OSError) as err:
        raise InitError(f"`init`: {source} is not a safetensors file ({err})") from None
    except TypeError as err:  # a dtype NumPy lacks: bfloat16
        raise InitError(
            f"`init`: {source} holds tensors NumPy cannot read ({err}); save them as float32"
        ) from None


def _converted(source: Path) -> dict[str, np.ndarray]:
    """A framework's weights file, made canonical with the spec of the run folder it is in."""
    from safetensors.numpy import load_file

    from specc.compiler import compile_file
    from specc.tools.weights import ConvertError, _convert

    spec_file = source.parent / "spec.net"
    if not spec_file.is_file():
        raise InitError(
            f"`init`: {source} is a framework's weights file outside a run folder, so its "
            "layer names are unknown; make it canonical first: `specc weights convert "
            f"SOURCE.net {source} weights.safetensors`, and give that file"
        )
    result = compile_file(str(spec_file))
    if result.spec is None:
        raise InitError(f"`init`: {spec_file} no longer compiles; give canonical weights")
    with tempfile.TemporaryDirectory(prefix="specc-init-") as work:
        out = Path(work) / "canonical.safetensors"
        args = Namespace(
            model=None, input=str(source), output=str(out), source_format=None,
            target_format="canonical",
        )  # fmt: skip
        try:
            if _convert(result, args) != 0:
                raise InitError(f"`init`: cannot convert {source} (see above)")
        except ConvertError as err:
            raise InitError(f"`init`: {err}") from None
        return load_file(str(out))


def build_init(net: Net, config: InitWeights, fresh: dict[str, np.ndarray]) -> Initialised:
    """`fresh` (the model's canonical initialisation) with the chosen layers' weights from
    the source; InitError lists every chosen weight that is missing or of another shape."""
    source = resolve(config.path)
    tensors = read_source(source)
    explicit = config.layers is not None
    chosen = [
        node
        for node in weighted_layers(net)
        if (not explicit or any(matches(node.name, p) for p in config.layers or ()))
        and not any(matches(node.name, p) for p in config.skip)
    ]
    out = dict(fresh)
    loaded, kept, problems = [], [], []
    for node in chosen:
        inputs = [net.node(i).shape or () for i in node.inputs]
        params = node.op.canonical_params(inputs)
        keys = [f"{node.ident}.{p.name}" for p in params]
        if not explicit and not any(k in tensors for k in keys):
            kept.append(node.name)  # a layer the source does not have: a new one
            continue
        bad = []
        for key, param in zip(keys, params, strict=True):
            if key not in tensors:
                bad.append(f"{key} {fmt(param.shape)} is not in the source")
            elif tuple(tensors[key].shape) != tuple(param.shape):
                bad.append(
                    f"{key} is {fmt(tuple(tensors[key].shape))} in the source, "
                    f"{fmt(param.shape)} in `{net.name}`"
                )
        if bad:
            problems.append((node.name, bad))
            continue
        for key in keys:
            out[key] = tensors[key].astype(np.float32)
        loaded.append(node.name)
    skipped = {n.name for n in weighted_layers(net)} - set(loaded) - set(kept)
    if problems:
        lines = [f"  {line}" for _, bad in problems for line in bad]
        names = ", ".join(f'"{name}"' for name, _ in problems)
        raise InitError(
            f"`init`: {source} does not fit `{net.name}` in {len(problems)} layer"
            + ("s" if len(problems) > 1 else "")
            + ":\n"
            + "\n".join(lines)
            + f"\nkeep their fresh weights with `skip = [{names}]` in `weights(...)` (a new "
            "head), or make the layers the same as the source's"
        )
    if not loaded:
        raise InitError(
            f"`init`: {source} holds no weights of a layer of `{net.name}` (its names: "
            + ", ".join(sorted({k.rsplit(".", 1)[0] for k in tensors})[:8])
            + "); layers match by name: name them alike with `as NAME`"
        )
    order = [n.name for n in weighted_layers(net)]
    fresh_layers = [n for n in order if n in set(kept) | skipped]
    return Initialised(out, source, loaded, fresh_layers)
