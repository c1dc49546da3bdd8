"""One framework's step of `specc weights convert`, run in its own process:

    python -m specc.tools.weights_worker JOB.json

The job names the emitted model.py, the model, one input file and one output file, each with
its format (`canonical`, `torch` or `keras`). The worker builds a fresh model of its framework
from the emitted code, checks that the input file holds exactly that model's tensors with
their shapes, loads it, and writes the output: the canonical layout through the emitted
`save_canonical`, a PyTorch state dict with `torch.save`, Keras weights with
`model.save_weights` (or a whole model with `model.save` for `.keras`). So the mapping between
layouts is exactly the one the backends use.

A problem with a file is reported as one line `specc-weights: error: ...` on stderr and exit
code 2; specc shows that line."""

from __future__ import annotations

import contextlib
import json
import os
import sys
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from specc.tools.emitted_code import load_module

MARKER = "specc-weights: error: "


class WeightsError(Exception):
    """A problem with a weights file, in words for the user."""


def _listing(items: Iterable[str], limit: int = 6) -> str:
    items = list(items)
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def _shape(shape: Iterable[int]) -> str:
    return "[" + ", ".join(str(int(n)) for n in shape) + "]"


def check_tensors(
    found: Mapping[str, tuple[int, ...]],
    expected: Mapping[str, tuple[int, ...]],
    path: str,
    job: dict[str, Any],
    optional: Iterable[str] = (),
) -> None:
    """Raise WeightsError unless `found` has exactly the names and shapes of `expected`
    (names in `optional` may be absent)."""
    optional = set(optional)
    missing = [k for k in expected if k not in found and k not in optional]
    extra = [k for k in found if k not in expected]
    wrong = [
        f"{k} is {_shape(found[k])} in the file, {_shape(expected[k])} in the model"
        for k in expected
        if k in found and tuple(found[k]) != tuple(expected[k])
    ]
    problems = []
    if missing:
        problems.append(f"it lacks {len(missing)} of the model's tensors ({_listing(missing)})")
    if extra:
        problems.append(f"it has {len(extra)} tensors the model does not ({_listing(extra)})")
    if wrong:
        problems.append(f"{len(wrong)} tensors have another shape ({_listing(wrong, 3)})")
    if problems:
        raise WeightsError(
            f"{path} does not fit model `{job['model']}` of {job['spec']}: "
            + "; ".join(problems)
            + ". Was it saved from another spec or another model of this one?"
        )


@contextlib.contextmanager
def _reading(display: str) -> Iterator[None]:
    """Any failure while loading a checked file, as one line naming the file."""
    try:
        yield
    except WeightsError:
        raise
    except Exception as err:
        text = str(err).strip()
        first = text.splitlines()[0] if text else type(err).__name__
        raise WeightsError(f"cannot load {display}: {first}") from None


def _read_canonical(path: str, display: str) -> dict[str, tuple[int, ...]]:
    """Names and shapes of a safetensors file, read from its header alone."""
    try:
        with open(path, "rb") as handle:
            size = int.from_bytes(handle.read(8), "little")
            if not 2 <= size <= 100_000_000:
                raise ValueError("bad header length")
            header = json.loads(handle.read(size))
        return {
            key: tuple(value["shape"])
            for key, value in header.items()
            if key != "__metadata__" and isinstance(value, dict)
        }
    except (OSError, ValueError, KeyError, TypeError, UnicodeDecodeError) as err:
        raise WeightsError(
            f"{display} is not a safetensors file (canonical weights are safetensors): "
            f"its header cannot be read ({err})"
        ) from None


# ----- PyTorch --------------------------------------------------------------------------------
_WRAPPERS = ("_orig_mod.", "module.")  # torch.compile and DataParallel prefixes
_ROLES = ("generator", "discriminator")  # the state dicts of a GAN run's checkpoint


def _torch_state(path: str, display: str, job: dict[str, Any]) -> dict[str, Any]:
    """The model's state dict from a file written by torch.save: a state dict itself, or a
    training checkpoint holding one (`model`; a GAN's `generator` / `discriminator`)."""
    import torch

    with open(path, "rb") as handle:
        head = handle.read(2)
    if not zipfile.is_zipfile(path) and head[:1] != b"\x80":  # torch.save: zip, or a pickle
        raise WeightsError(f"{display} is not a file written by torch.save")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:
        text = str(err)
        if "Unsupported global" in text:
            raise WeightsError(
                f"{display} holds Python objects besides tensors, which specc does not unpickle "
                "(torch.load with weights_only=True refused it); save `model.state_dict()` "
                "instead of the model object"
            ) from None
        first = text.strip().splitlines()[0] if text.strip() else type(err).__name__
        raise WeightsError(f"{display} is not a file torch.load can read ({first})") from None

    def is_state(value: Any) -> bool:
        return (
            isinstance(value, Mapping)
            and bool(value)
            and all(isinstance(v, torch.Tensor) for v in value.values())
        )

    if is_state(obj):
        state = dict(obj)
    elif isinstance(obj, Mapping) and is_state(obj.get("model")):
        state = dict(obj["model"])
    elif isinstance(obj, Mapping) and job.get("role") and is_state(obj.get(job["role"])):
        state = dict(obj[job["role"]])
    elif isinstance(obj, Mapping) and any(is_state(obj.get(k)) for k in _ROLES):
        raise WeightsError(
            f"{display} is a GAN checkpoint, but model `{job['model']}` is not the GAN's "
            "generator or discriminator"
        )
    else:
        what = (
            f"a dict with keys {_listing(map(str, obj))}"
            if isinstance(obj, Mapping)
            else f"a {type(obj).__name__}"
        )
        raise WeightsError(
            f"{display} holds no PyTorch state dict: torch.load gives {what}; give a file "
            "written by `torch.save(model.state_dict(), path)` or a checkpoint.pt of a run"
        )
    for prefix in _WRAPPERS:
        if all(k.startswith(prefix) for k in state):
            state = {k[len(prefix) :]: v for k, v in state.items()}
    return state


def run_torch(job: dict[str, Any]) -> int:
    import torch

    models = load_module(job["model_py"], "specc_weights_torch_model")
    net = getattr(models, job["class"])()
    source, target = job["source"], job["target"]
    if source["format"] == "canonical":
        found = _read_canonical(source["path"], source["display"])
        expected = {k: tuple(v.shape) for k, v in models.canonical_state(net).items()}
        check_tensors(found, expected, source["display"], job)
        with _reading(source["display"]):
            models.load_canonical(net, source["path"])
    else:
        state = _torch_state(source["path"], source["display"], job)
        own = net.state_dict()
        check_tensors(
            {k: tuple(v.shape) for k, v in state.items()},
            {k: tuple(v.shape) for k, v in own.items()},
            source["display"],
            job,
            optional=[k for k in own if k.endswith("num_batches_tracked")],
        )
        bad = [
            k for k, v in state.items() if not v.is_floating_point() and own[k].is_floating_point()
        ]
        if bad:
            raise WeightsError(
                f"{source['display']}: {_listing(bad)} should hold floating-point numbers"
            )
        with _reading(source["display"]):
            net.load_state_dict(state, strict=False)
    if target["format"] == "canonical":
        models.save_canonical(net, target["path"])
    else:
        torch.save(net.state_dict(), target["path"])
    return len(models.canonical_state(net))


# ----- Keras ----------------------------------------------------------------------------------
def _h5_arrays(group: Any, prefix: str = "") -> dict[str, tuple[int, ...]]:
    import h5py

    out: dict[str, tuple[int, ...]] = {}
    for key, item in group.items():
        if isinstance(item, h5py.Dataset):
            out[prefix + key] = tuple(item.shape)
        else:
            out.update(_h5_arrays(item, f"{prefix}{key}/"))
    return out


def _keras_arrays(path: str, display: str) -> dict[str, tuple[int, ...]]:
    """Paths and shapes of the arrays in a `.weights.h5` file or a `.keras` archive (whose
    weights are a `model.weights.h5` inside)."""
    import io

    import h5py

    try:
        if path.endswith(".keras"):
            with zipfile.ZipFile(path) as archive:
                data = archive.read("model.weights.h5")
            with h5py.File(io.BytesIO(data), "r") as handle:
                arrays = _h5_arrays(handle)
        else:
            with h5py.File(path, "r") as handle:
                arrays = _h5_arrays(handle)
    except (OSError, zipfile.BadZipFile, KeyError) as err:
        kind = "Keras model file (.keras)" if path.endswith(".keras") else "Keras weights file"
        raise WeightsError(f"{display} is not a {kind} ({err})") from None
    return arrays


def _keras_labels(net: Any, reference: dict[str, tuple[int, ...]]) -> dict[str, str]:
    """`layers/<group>/` of a Keras weights file -> the layer's name in the model, for messages:
    Keras names the groups after layer classes, numbered in the order of `model.layers`."""
    try:
        from keras.src.utils.naming import to_snake_case
    except ImportError:  # a Keras without it: messages show the groups alone
        return {}
    used: dict[str, int] = {}
    labels = {}
    for layer in net.layers:
        group = to_snake_case(type(layer).__name__)
        used[group] = used.get(group, -1) + 1
        group = f"layers/{group}" + (f"_{used[group]}" if used[group] else "") + "/"
        if any(key.startswith(group) for key in reference):
            labels[group] = layer.name
    return labels


def _labelled(arrays: dict[str, tuple[int, ...]], labels: dict[str, str]) -> dict:
    def label(key: str) -> str:
        group = "/".join(key.split("/")[:2]) + "/"
        return f"{key} (layer `{labels[group]}`)" if group in labels else key

    return {label(k): v for k, v in arrays.items()}


def _keras_checkpoint(net: Any, path: str, job: dict[str, Any]) -> None:
    """Set the model's variables from a Keras run's checkpoint.npz (`model.<i>` in the
    order of `model.variables`; a GAN's `generator.<i>` / `discriminator.<i>`)."""
    import numpy as np

    display = job["source"]["display"]
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except (OSError, ValueError, zipfile.BadZipFile) as err:
        raise WeightsError(f"{display} is not a NumPy .npz checkpoint ({err})") from None
    prefix = next(
        (p for p in ("model", job.get("role")) if p and f"{p}.0" in arrays),
        None,
    )
    if prefix is None:
        raise WeightsError(
            f"{display} holds no model weights for `{job['model']}` (no `model.0`"
            + (f" or `{job['role']}.0`" if job.get("role") else "")
            + f" array; it holds {_listing(sorted(arrays))})"
        )
    variables = net.variables
    found = {
        k[len(prefix) + 1 :]: v.shape
        for k, v in arrays.items()
        if k.startswith(prefix + ".") and k[len(prefix) + 1 :].isdigit()
    }
    names = {str(i): v.path for i, v in enumerate(variables)}
    check_tensors(
        {f"{prefix}.{k} ({names.get(k, 'no such variable')})": s for k, s in found.items()},
        {f"{prefix}.{i} ({names[str(i)]})": tuple(v.shape) for i, v in enumerate(variables)},
        display,
        job,
    )
    for i, variable in enumerate(variables):
        variable.assign(np.asarray(arrays[f"{prefix}.{i}"], dtype=variable.dtype))


def run_keras(job: dict[str, Any], work: Path) -> int:
    models = load_module(job["model_py"], "specc_weights_keras_model")
    net = models.MODELS[job["model"]]()
    source, target = job["source"], job["target"]
    path = source["path"]
    if source["format"] == "canonical":
        found = _read_canonical(path, source["display"])
        expected = {k: tuple(v.shape) for k, v in models.canonical_state(net).items()}
        check_tensors(found, expected, source["display"], job)
        with _reading(source["display"]):
            models.load_canonical(net, path)
    elif path.endswith(".npz"):
        _keras_checkpoint(net, path, job)
    else:
        # Keras loads .weights.h5 by layer order and ignores weights the model lacks: compare
        # the file with what this model itself writes first.
        reference = str(work / "reference.weights.h5")
        net.save_weights(reference)
        expected = _keras_arrays(reference, reference)
        labels = _keras_labels(net, expected)
        tops = {key.split("/")[0] for key in expected}  # `layers` (a fit model adds more)
        found = _keras_arrays(path, source["display"])
        check_tensors(
            _labelled({k: v for k, v in found.items() if k.split("/")[0] in tops}, labels),
            _labelled(expected, labels),
            source["display"],
            job,
        )
        with _reading(source["display"]):
            net.load_weights(path)
    if target["format"] == "canonical":
        models.save_canonical(net, target["path"])
    elif target["path"].endswith(".keras"):
        net.save(target["path"])
    else:
        net.save_weights(target["path"])
    return len(models.canonical_state(net))


def main() -> None:
    job_path = Path(sys.argv[1])
    job = json.loads(job_path.read_text())
    try:
        if job["framework"] == "torch":
            count = run_torch(job)
        else:
            os.environ.setdefault("KERAS_BACKEND", "tensorflow")
            count = run_keras(job, job_path.parent)
    except WeightsError as err:
        print(MARKER + " ".join(str(err).split()), file=sys.stderr)
        sys.exit(2)
    (job_path.parent / f"{job_path.stem}.done.json").write_text(json.dumps({"tensors": count}))


if __name__ == "__main__":
    main()
