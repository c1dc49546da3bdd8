"""`specc run`: compile, prepare the data, and train the emitted code in a run folder.

The emitted train.py runs as its own process, exactly as a user would run it: what specc
runs is what it ships. A run folder holds the spec, the emitted code, data.npz, run.json,
metrics.jsonl, checkpoints, weights.safetensors and summary.json."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from specc.backends import BackendError, get_backend
from specc.compiler import Result
from specc.diagnostics import render_all
from specc.files import write_atomic, write_tree
from specc.ir.net import Spec
from specc.ir.train_config import CLASSIFICATION_LOSSES, Gan, Supervised

if TYPE_CHECKING:
    from specc.tools import datasets, transfer_init

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _fail(message: str, code: int = EXIT_FAILED) -> int:
    print(f"specc: error: {message}", file=sys.stderr)
    return code


def _new_run_dir(parent: Path, model: str) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for k in range(1000):
        candidate = parent / (f"{model}-{stamp}" + (f"-{k}" if k else ""))
        try:
            candidate.mkdir(parents=True)
            return candidate
        except FileExistsError:
            continue
    raise OSError(f"cannot create a run folder in {parent}")


def run_spec(result: Result, args: argparse.Namespace) -> int:
    spec = result.spec
    assert spec is not None
    if spec.training is None:
        return _fail(f"{spec.path} has no `train` or `gan` section; add one to run it")
    if args.resume:
        return _resume(Path(args.resume), args)
    try:
        backend = get_backend(args.backend)
        files = backend.emit(spec, result.source.text)
    except BackendError as err:
        print(render_all([err.diagnostic], result.source), file=sys.stderr)
        return EXIT_FAILED
    if "train.py" not in files:
        return _fail(
            f"{backend.title} cannot train a `{spec.training.kind}` section yet; "
            "`specc compile` emits its models"
        )
    arrays = prepare_data(spec)
    if isinstance(arrays, int):
        return arrays
    from specc.tools import datasets

    config = spec.training
    name = config.model if isinstance(config, Supervised) else config.name
    init = _initial_weights(spec, config, args) if isinstance(config, Supervised) else None
    if isinstance(init, int):
        return init
    try:
        run_dir = _new_run_dir(Path(args.out), name)
    except OSError as err:
        return _fail(f"cannot create a run folder under {args.out}: {err}", EXIT_USAGE)
    write_tree(run_dir, {**files, "spec.net": result.source.text})
    datasets.save_npz(arrays, run_dir / "data.npz")
    if arrays.vocab is not None:  # token id i is tokens[i]; `specc sample` reads it
        vocab = {"kind": "chars", "tokens": list(arrays.vocab)}
        write_atomic(run_dir / "vocab.json", json.dumps(vocab, ensure_ascii=False) + "\n")
    if init is not None:
        from safetensors.numpy import save_file

        save_file(init.tensors, str(run_dir / "init.tmp"))
        os.replace(run_dir / "init.tmp", run_dir / "init.safetensors")
    meta: dict[str, Any] = {
        "spec": spec.path,
        "backend": args.backend,
        "model": name,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    if init is not None and init.source is not None:
        source = str(init.source.resolve())
        meta["init"] = {"source": source, "loaded": init.loaded, "fresh": init.fresh}
    write_atomic(run_dir / "run.json", json.dumps(meta, indent=2) + "\n")
    print(f"run folder: {run_dir}", flush=True)
    return _train(run_dir, args, resume=False)


def _initial_weights(
    spec: Spec, config: Supervised, args: argparse.Namespace
) -> transfer_init.Initialised | int:
    """The same canonical starting weights, whichever backend trains (seeded by --seed); with
    `init`, the source's weights where its layers match the model's."""
    from specc.layers.canonical_init import canonical_init
    from specc.tools import transfer_init

    seed = args.seed if args.seed is not None else config.seed
    net = spec.model(config.model)
    fresh = canonical_init(net, seed)
    if config.init is None:
        return transfer_init.Initialised(fresh, None, [], [])
    try:
        init = transfer_init.build_init(net, config.init, fresh)
    except transfer_init.InitError as err:
        return _fail(str(err))
    print(
        f"init: {', '.join(init.loaded)} from {init.source}"
        + (f"; fresh: {', '.join(init.fresh)}" if init.fresh else ""),
        flush=True,
    )
    return init


def prepare_data(spec: Spec) -> datasets.Arrays | int:
    """The spec's data set, checked against its model; an exit code after an error."""
    from specc.passes.latent import rbm_node
    from specc.passes.masking import input_padding, token_embeddings
    from specc.tools import datasets

    config = spec.training
    if isinstance(config, Supervised):
        net = spec.model(config.model)
        # an RBM's visible units are Bernoulli: inputs in [0, 1], as for `bce`
        loss = "bce" if rbm_node(net) is not None else config.loss
    else:
        assert isinstance(config, Gan)
        net = spec.model(config.discriminator)
        loss = "gan"
    node = net.input_nodes[0]
    # the embeddings reading the token ids, if the input is token ids: their smallest vocab;
    # and how the input marks padding (token id 0, or float steps of one value), if it does
    vocab = min((op.vocab for op in token_embeddings(net)), default=None)
    padding = input_padding(net)
    mask_zero = padding is not None and padding.tokens
    output_shape = net.output_shape if loss != "gan" else ()
    try:
        arrays = datasets.load(
            config.data,
            node.shape,
            node.op.dtype,
            seed=config.seed,
            output_shape=output_shape,
            vocab=vocab,
            mask_zero=mask_zero,
        )
        if loss != "gan":
            # named in the messages: the file (or folder) read, else the data set
            path = getattr(config.data, "path", None)
            kind = config.data.kind
            source = f"`{kind}`" if path is None else f"{kind} {str(Path(path).expanduser())!r}"
            if loss in CLASSIFICATION_LOSSES and len(output_shape) == 1:
                arrays = datasets.labels_from_one_hot(arrays, source)
            datasets.check_against_model(
                arrays,
                node.shape,
                output_shape,
                loss,
                source,
                vocab=vocab,
                mask_zero=mask_zero,
                pad_value=None if padding is None or padding.tokens else padding.value,
                target_is_input=config.target == "input",
            )
        else:
            arrays = _to_unit_range(arrays)
    except datasets.DataError as err:
        return _fail(str(err))
    return arrays


def _to_unit_range(arrays: datasets.Arrays) -> datasets.Arrays:
    """GAN real data: scaled to [-1, 1] (the range of a `tanh` generator) with the training
    split's minimum and maximum."""
    import dataclasses

    low, high = float(arrays.x_train.min()), float(arrays.x_train.max())
    scale = 2.0 / (high - low) if high > low else 1.0

    def unit(x: Any) -> Any:
        return ((x - low) * scale - 1.0).astype("float32")

    return dataclasses.replace(arrays, x_train=unit(arrays.x_train), x_test=unit(arrays.x_test))


def _resume(run_dir: Path, args: argparse.Namespace) -> int:
    if not (run_dir / "train.py").is_file():
        return _fail(f"{run_dir} is not a run folder (no train.py)", EXIT_USAGE)
    if not any(run_dir.glob("checkpoint*")):
        return _fail(f"{run_dir} has no checkpoint to resume from; start a new run", EXIT_USAGE)
    return _train(run_dir, args, resume=True)


def _train(run_dir: Path, args: argparse.Namespace, *, resume: bool) -> int:
    command = [sys.executable, "train.py", "--data", "data.npz", "--out", "."]
    for flag in ("epochs", "batch", "seed"):
        value = getattr(args, flag, None)
        if value is not None:
            command += [f"--{flag}", str(value)]
    command += ["--device", args.device]
    if (run_dir / "init.safetensors").exists():
        command += ["--init", "init.safetensors"]
    if getattr(args, "log_batches", False):
        command.append("--log-batches")
    if resume:
        command.append("--resume")
    if getattr(args, "quiet", False):
        command.append("--quiet")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        code = subprocess.call(command, cwd=run_dir, env=env)
    except KeyboardInterrupt:
        print(f"\ninterrupted; continue with: specc run --resume {run_dir}", file=sys.stderr)
        return 130
    if code != 0:
        return _fail(f"training failed (exit {code}); the run folder is {run_dir}")
    summary = run_dir / "summary.json"
    if summary.exists():
        print(f"results: {summary}")
    return EXIT_OK


def _reconstructs(run_dir: Path) -> bool:
    """The run folder's spec is an image autoencoder's (`target = input`)."""
    from specc.backends.runtime import reconstruction_pictures
    from specc.compiler import compile_file

    spec_file = run_dir / "spec.net"
    if not spec_file.is_file():
        return False
    result = compile_file(str(spec_file))
    return result.spec is not None and reconstruction_pictures(result.spec)


def sample(args: argparse.Namespace) -> int:
    """`specc sample RUN_DIR`: the run's own train.py draws from its trained generator."""
    run_dir = Path(args.run_dir)
    if not (run_dir / "train.py").is_file():
        return _fail(f"{run_dir} is not a run folder (no train.py)", EXIT_USAGE)
    if not any(run_dir.glob("generator.*")):
        # an image autoencoder: originals beside reconstructions; a VAE: prior samples
        if _reconstructs(run_dir):
            if not (run_dir / "weights.safetensors").is_file():
                return _fail(
                    f"{run_dir} has no trained weights; finish (or resume) the run first",
                    EXIT_USAGE,
                )
        else:
            return _fail(
                f"{run_dir} has no trained generator (samples come from a GAN's run or an image "
                "VAE's or RBM's, text from a text run, reconstructions from an image "
                "autoencoder's run)",
                EXIT_USAGE,
            )
    if args.n < 1:
        return _fail("-n must be at least 1", EXIT_USAGE)
    out = Path(args.out).resolve()
    command = [
        sys.executable,
        "train.py",
        "--out",
        ".",
        "--sample",
        str(args.n),
        "--sample-out",
        str(out),
        "--device",
        args.device,
    ]
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "TF_CPP_MIN_LOG_LEVEL": "2"}
    code = subprocess.call(command, cwd=run_dir, env=env)
    return EXIT_OK if code == 0 else _fail(f"sampling failed (exit {code})")
