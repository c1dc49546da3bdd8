"""`specc weights convert SPEC IN OUT`: weights of one of the spec's models from one format to
another, so a model trained with one framework can be served with the other.

Formats (from the file name, or `--from` / `--to`; the table is in docs/backends.md):

- `canonical`: `.safetensors` in the canonical layout, read and written;
- `torch`: `.pt` / `.pth`; reads a state dict or a run's `checkpoint.pt`, writes a state dict;
- `keras`: reads `.weights.h5`, `.keras` or a run's `checkpoint.npz`; writes `.weights.h5`
  (`model.save_weights`) or, for `.keras`, the whole model (`model.save`).

The conversion runs the emitted code of the spec (specc.tools.weights_worker, one process per
framework; specc itself never imports PyTorch or TensorFlow): the input is loaded into a fresh
model of its framework, after a check that it holds exactly that model's tensors and shapes;
across frameworks the weights go through a canonical file. The output is written to a temp
file next to OUT and moved into place only when complete."""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from specc.backends import BackendError, get_backend
from specc.backends.naming import class_name
from specc.compiler import Result
from specc.diagnostics import render_all, suggest
from specc.ir.train_config import Gan

EXIT_OK, EXIT_SPEC, EXIT_USAGE = 0, 1, 2
FORMATS = ("torch", "keras", "canonical")
MARKER = "specc-weights: error: "  # specc.tools.weights_worker.MARKER
_WHAT = {
    "canonical": "canonical safetensors",
    "torch": "PyTorch state dict",
    "keras": "Keras weights",
}
_FRAMEWORK = {"torch": "PyTorch", "keras": "Keras"}
_NEEDS = {
    "torch": (("torch", "torch"),),
    "keras": (("keras", "keras"), ("tensorflow", "keras")),
}


class ConvertError(Exception):
    """A usage or file problem: one paragraph, exit 2."""


def format_of(path: str, given: str | None, flag: str) -> str:
    if given:
        return given
    name = Path(path).name.lower()
    if name.endswith(".safetensors"):
        return "canonical"
    if name.endswith((".pt", ".pth")):
        return "torch"
    if name.endswith((".weights.h5", ".keras", ".npz")):
        return "keras"
    hint = " (Keras 3 weights files end in .weights.h5)" if name.endswith((".h5", ".hdf5")) else ""
    raise ConvertError(
        f"cannot tell the format of {path} from its name{hint}: use .safetensors (canonical), "
        f".pt or .pth (PyTorch), .weights.h5, .keras or .npz (Keras), or give "
        f"{flag} torch|keras|canonical"
    )


def _keras_suffix(path: str, reading: bool) -> str:
    name = Path(path).name.lower()
    for suffix in (".weights.h5", ".keras") + ((".npz",) if reading else ()):
        if name.endswith(suffix):
            return suffix
    if reading:
        raise ConvertError(
            f"Keras weights are read from a .weights.h5 file (model.save_weights), a .keras "
            f"file (model.save) or a run's checkpoint.npz; {path} is none of these"
        )
    raise ConvertError(
        f"Keras writes weights to a file whose name ends in .weights.h5 (or a whole model to "
        f".keras); {path} does not"
    )


def pick_model(result: Result, name: str | None) -> str:
    assert result.spec is not None
    names = [m.name for m in result.spec.models]
    if name is not None:
        if name in names:
            return name
        close = suggest(name, names)
        hint = f"did you mean `{close}`? " if close else ""
        raise ConvertError(
            f"{result.spec.path} has no model `{name}`; {hint}its models are "
            + ", ".join(f"`{n}`" for n in names)
        )
    if len(names) == 1:
        return names[0]
    raise ConvertError(
        f"{result.spec.path} defines {len(names)} models ("
        + ", ".join(f"`{n}`" for n in names)
        + "); choose one with --model NAME"
    )


def _role(result: Result, model: str) -> str | None:
    config = result.spec.training if result.spec is not None else None
    if isinstance(config, Gan):
        if model == config.generator:
            return "generator"
        if model == config.discriminator:
            return "discriminator"
    return None


def _installed(module: str) -> bool:
    """Whether `module` can be imported, found without importing it."""
    return importlib.util.find_spec(module) is not None


def _check_installed(framework: str, canonical: bool) -> None:
    needs = list(_NEEDS[framework]) + ([("safetensors", framework)] if canonical else [])
    for module, extra in needs:
        if not _installed(module):
            raise ConvertError(
                f"converting {_WHAT[framework]} needs {module}, which is not installed in "
                f"this Python ({sys.executable}); install it with `pip install 'specc[{extra}]'`"
            )


def _worker(job_path: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "CUDA_VISIBLE_DEVICES": "",  # a conversion needs no GPU (and TF would claim one)
        "PYTHONUNBUFFERED": "1",
    }
    # the worker must import this specc, wherever the caller's working folder is
    root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)
    return subprocess.run(
        [sys.executable, "-m", "specc.tools.weights_worker", str(job_path)],
        capture_output=True,
        text=True,
        env=env,
    )


def _failure(done: subprocess.CompletedProcess[str], framework: str) -> str:
    lines = [line.strip() for line in done.stderr.splitlines() if line.strip()]
    for line in reversed(lines):
        if line.startswith(MARKER):
            return line[len(MARKER) :]
    last = lines[-1] if lines else f"exit code {done.returncode}"
    return f"the {_FRAMEWORK[framework]} step of the conversion failed: {last}"


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _fsync(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def run_convert(result: Result, args: argparse.Namespace) -> int:
    try:
        return _convert(result, args)
    except ConvertError as err:
        print(f"specc: error: {err}", file=sys.stderr)
        return EXIT_USAGE


def _convert(result: Result, args: argparse.Namespace) -> int:
    spec = result.spec
    assert spec is not None
    model = pick_model(result, args.model)
    src = format_of(args.input, args.source_format, "--from")
    dst = format_of(args.output, args.target_format, "--to")
    if src == "canonical" and dst == "canonical":
        raise ConvertError(
            f"{args.input} and {args.output} are both canonical safetensors: nothing to convert"
        )
    if src == "keras":
        _keras_suffix(args.input, reading=True)
    out_suffix = _keras_suffix(args.output, reading=False) if dst == "keras" else ""
    source = Path(args.input)
    if not source.exists():
        raise ConvertError(f"no such file: {args.input}")
    if not source.is_file():
        raise ConvertError(f"{args.input} is not a file")
    target = Path(args.output)
    if target.is_dir():
        raise ConvertError(f"{args.output} is a folder; give the name of the file to write")
    out_suffix = out_suffix or target.suffix

    # the steps: (framework, input format, output format); across frameworks via canonical
    if src == "canonical":
        steps = [(dst, "canonical", dst)]
    elif dst in ("canonical", src):
        steps = [(src, src, dst)]
    else:
        steps = [(src, src, "canonical"), (dst, "canonical", dst)]
    for framework, step_in, step_out in steps:
        _check_installed(framework, "canonical" in (step_in, step_out))
    emitted: dict[str, dict[str, str]] = {}
    for framework in {s[0] for s in steps}:
        try:
            emitted[framework] = get_backend(framework).emit(spec, result.source.text)
        except BackendError as err:
            print(render_all([err.diagnostic], result.source), file=sys.stderr)
            return EXIT_SPEC

    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=out_suffix, dir=target.parent
        )
        os.close(fd)
    except OSError as err:
        raise ConvertError(f"cannot write {args.output}: {err.strerror}") from None
    tmp = Path(tmp_name)
    try:
        count = _run_steps(steps, emitted, spec.path, model, result, source, tmp, args)
        _fsync(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp's file is private; OUT is an ordinary file
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()
    what = "Keras model (.keras)" if out_suffix == ".keras" else _WHAT[dst]
    print(f"wrote {args.output}: {count} tensors of `{model}` as {what} (from {args.input})")
    return EXIT_OK


def _run_steps(
    steps: list[tuple[str, str, str]],
    emitted: dict[str, dict[str, str]],
    spec_path: str,
    model: str,
    result: Result,
    source: Path,
    tmp: Path,
    args: argparse.Namespace,
) -> int:
    count = 0
    with tempfile.TemporaryDirectory(prefix="specc-weights-") as work_dir:
        work = Path(work_dir)
        for framework, files in emitted.items():
            (work / framework).mkdir()
            for name, text in files.items():
                (work / framework / name).write_text(text, encoding="utf-8")
        between = work / "canonical.safetensors"
        for k, (framework, step_in, step_out) in enumerate(steps):
            first, last = k == 0, k == len(steps) - 1
            job: dict[str, Any] = {
                "framework": framework,
                "model_py": str(work / framework / "model.py"),
                "model": model,
                "class": class_name(model),
                "role": _role(result, model),
                "spec": spec_path,
                "source": {
                    "path": str(source.resolve() if first else between),
                    "display": args.input if first else f"the canonical weights from {args.input}",
                    "format": step_in,
                },
                "target": {"path": str(tmp.resolve() if last else between), "format": step_out},
            }
            job_path = work / f"job{k}.json"
            job_path.write_text(json.dumps(job))
            done = _worker(job_path)
            if done.returncode != 0:
                raise ConvertError(_failure(done, framework))
            count = json.loads((work / f"job{k}.done.json").read_text())["tensors"]
    return count
