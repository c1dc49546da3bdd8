"""The emitted sequence-model training code against idiomatic hand-written PyTorch and Keras
(benchmarks/handwritten/lstm_digits_*.py), issue 13. Prints figures; times nothing as a test.

    python benchmarks/bench_sequences.py [--rounds 10] [--epochs 8] [--backends torch,keras]
        [--threads N]

Training-loop samples/s of `specs/lstm_digits.net` (an LSTM(128) over 16 rows of 16 pixels,
dense(10), Adam 2e-3, batch 32): the emitted train.py against the hand-written script, same
model, data.npz, optimizer, batch, epochs and data order, on each backend, in interleaved
rounds (ABBA). A run's figure is the median of its epochs after the first (the first traces
and warms up); the ratio is the median of the rounds' ratios. Also says whether each model
takes the fused recurrent path: for PyTorch, that its recurrent modules are nn.LSTM / nn.GRU
(one fused op per layer, as the profiler shows: cuDNN on CUDA, oneDNN's RNN on a CPU); for
Keras, that each LSTM's arguments meet the conditions under which Keras picks cuDNN (see
`keras_probe`), and which implementation the traced training step holds on this machine.

Until `digits(size=16, rows=true)` checks, the spec is compiled with its data line replaced
by `npz(...)` of the same arrays (specc's digits at 16x16, the channel axis dropped).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

import numpy as np
from benchlib import (
    ENV,
    HANDWRITTEN,
    ROOT,
    SPECC,
    compile_to,
    interleave,
    last_json,
    read_metrics,
    report,
    run,
)

PY = sys.executable
SPEC = "specs/lstm_digits.net"
INPUT = (16, 16)  # the spec's `input rows: [16, 16]`
TARGET = 0.95
SCRIPTS = {"torch": "lstm_digits_torch.py", "keras": "lstm_digits_keras.py"}
BUILDERS = {"torch": "LstmClassifier", "keras": "lstm_classifier"}  # in those scripts


# ----- the emitted code and its data ---------------------------------------------------------
def prepare(work: Path, backend: str) -> Path:
    """The spec compiled for `backend` into work/<backend>, with data.npz beside train.py."""
    folder = work / f"lstm_digits_{backend}"
    check = subprocess.run([SPECC, "check", SPEC], cwd=ROOT, env=ENV, capture_output=True)
    if check.returncode == 0:
        compile_to(SPEC, backend, folder)
    else:  # the data set form is not there yet: the same arrays through npz(...)
        data = work / "data.npz"
        if not data.exists():
            write_digits_rows(data)
        spec = work / "lstm_digits_npz.net"
        text = (ROOT / SPEC).read_text()
        line = next(s for s in text.splitlines() if s.strip().startswith("data "))
        spec.write_text(text.replace(line, f'  data      = npz("{data}")'))
        compile_to(str(spec), backend, folder, data=False)
        shutil.copyfile(data, folder / "data.npz")
    with np.load(folder / "data.npz") as arrays:
        shape = arrays["x_train"].shape[1:]
    if shape != INPUT:
        sys.exit(f"{folder / 'data.npz'}: samples {list(shape)}, expected {list(INPUT)}")
    return folder


def write_digits_rows(path: Path) -> None:
    from specc.tools.datasets import load_digits

    digits = load_digits(16)  # [N, 1, 16, 16]: the rows are the image's rows
    np.savez(
        path,
        x_train=digits.x_train[:, 0],
        y_train=digits.y_train,
        x_test=digits.x_test[:, 0],
        y_test=digits.y_test,
    )


# ----- the fused path ------------------------------------------------------------------------
def load_module(path: Path):
    sys.path.insert(0, str(path.parent))
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build(path: Path, builder: str):
    module = load_module(path)
    if builder == "MODELS":  # the emitted model.py: the spec's only model
        return next(iter(module.MODELS.values()))()
    return getattr(module, builder)()


def torch_probe(path: Path, builder: str) -> dict:
    """The model's recurrent modules, and the ops one forward and backward pass runs on a
    batch of two (CPU): a fused nn.LSTM is one aten::lstm, here lowered to oneDNN's
    mkldnn_rnn_layer; on CUDA the same op runs cuDNN."""
    from collections import Counter

    import torch
    from torch import nn
    from torch.profiler import profile

    model = build(path, builder)
    rnns = [(n, type(m).__name__) for n, m in model.named_modules() if isinstance(m, nn.RNNBase)]
    cells = (nn.LSTMCell, nn.GRUCell, nn.RNNCell)
    cell_modules = [n for n, m in model.named_modules() if isinstance(m, cells)]
    with profile() as prof:
        model(torch.randn(2, *INPUT)).sum().backward()
    ops = Counter(e.name for e in prof.events())
    wanted = ("aten::lstm", "aten::gru", "aten::mkldnn_rnn_layer", "aten::_cudnn_rnn")
    return {
        "recurrent": rnns,
        "cells": cell_modules,
        "fused": bool(rnns) and not cell_modules and all(t in ("LSTM", "GRU") for _, t in rnns),
        "ops": {k: ops[k] for k in wanted if ops[k]},
        "cuda": torch.cuda.is_available(),
        "versions": {"torch": torch.__version__},
    }


def keras_probe(path: Path, builder: str) -> dict:
    """Each LSTM layer's arguments against the conditions under which Keras 3 runs it as one
    cuDNN op (keras/src/layers/rnn/lstm.py, LSTM.inner_loop: `use_cudnn` "auto" or True and
    no `recurrent_dropout`, then backend.lstm; keras/src/backend/tensorflow/rnn.py, lstm ->
    cudnn_ok -> _do_lstm_arguments_support_cudnn: activation tanh, recurrent_activation
    sigmoid, not unroll, use_bias; and _is_gpu_available(), else NotImplementedError and
    the generic while loop of RNN.inner_loop). Also the op types of a traced training step:
    CudnnRNN* when fused, a While loop otherwise."""
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    import keras
    import tensorflow as tf
    from keras import activations, layers, ops

    model = build(path, builder)
    found = []
    for layer in model.layers:
        inner = [layer]
        if isinstance(layer, layers.Bidirectional):
            inner = [layer.forward_layer, layer.backward_layer]
        for rnn in inner:
            if isinstance(rnn, (layers.LSTM, layers.GRU)):
                found.append(rnn)
    checks = []
    for rnn in found:
        cell = rnn.cell
        conditions = {
            "activation tanh": cell.activation in (activations.tanh, tf.tanh, ops.tanh),
            "recurrent_activation sigmoid": cell.recurrent_activation
            in (activations.sigmoid, tf.sigmoid, ops.sigmoid),
            "recurrent_dropout 0": not cell.recurrent_dropout,
            "unroll False": not rnn.unroll,
            "use_bias True": bool(cell.use_bias),
            "use_cudnn auto/True": rnn.use_cudnn in ("auto", True),
        }
        if isinstance(rnn, layers.GRU):
            conditions["reset_after True"] = bool(cell.reset_after)
        checks.append({"layer": rnn.name, "kind": type(rnn).__name__, "conditions": conditions})

    x = tf.zeros((2, *INPUT))

    @tf.function
    def step(x):
        with tf.GradientTape() as tape:
            out = model(x, training=True)
        return tape.gradient(tf.reduce_sum(out), model.trainable_weights)

    graph = step.get_concrete_function(x).graph.as_graph_def()
    kinds = [node.op for node in graph.node]
    kinds += [node.op for f in graph.library.function for node in f.node_def]
    return {
        "layers": checks,
        "fused_arguments": bool(checks) and all(all(c["conditions"].values()) for c in checks),
        "gpu": bool(tf.config.list_logical_devices("GPU")),
        "ops": {
            "CudnnRNN*": sum(k.startswith("CudnnRNN") for k in kinds),
            "While": sum(k in ("While", "StatelessWhile") for k in kinds),
        },
        "versions": {"tensorflow": tf.__version__, "keras": keras.__version__},
    }


def probe(backend: str, path: Path, builder: str) -> dict:
    command = [PY, str(Path(__file__).resolve()), "--probe", backend, str(path), builder]
    _, out = run(command, cwd=path.parent)
    return last_json(out)


def describe(backend: str, emitted: dict, hand: dict) -> str:
    if backend == "torch":
        modules = ", ".join(f"{n} = nn.{t}" for n, t in emitted["recurrent"]) or "none"
        where = "oneDNN on this CPU, which the timed runs use; cuDNN on CUDA"
        return (
            f"emitted: {modules}, fused: {'yes' if emitted['fused'] else 'NO'}; ops per "
            f"forward+backward: emitted {_ops(emitted)}, hand-written {_ops(hand)} ({where})"
        )
    lines = []
    for check in emitted["layers"]:
        failed = [k for k, v in check["conditions"].items() if not v]
        verdict = "meets" if not failed else f"fails ({', '.join(failed)})"
        lines.append(
            f"emitted {check['layer']} ({check['kind']}) {verdict} Keras's cuDNN "
            "conditions (tanh, sigmoid, recurrent_dropout 0, unroll False, use_bias, "
            "use_cudnn auto)"
        )
    ran = "cuDNN" if emitted["ops"]["CudnnRNN*"] else "the generic while loop (CPU path)"
    gpu = "a GPU is visible" if emitted["gpu"] else "no GPU here"
    lines.append(
        f"{gpu}, so {ran} ran; traced step ops: emitted {_ops(emitted)}, hand-written {_ops(hand)}"
    )
    return "; ".join(lines)


def _ops(probed: dict) -> str:
    return ", ".join(f"{k} x{v}" for k, v in probed["ops"].items()) or "none"


# ----- the loop ------------------------------------------------------------------------------
def loop(folder: Path, backend: str, rounds: int, epochs: int) -> dict:
    script = str(HANDWRITTEN / SCRIPTS[backend])
    accuracy: dict[str, list[float]] = {"emitted": [], "hand": []}

    def emitted() -> list[float]:
        command = [PY, "train.py", "--data", "data.npz", "--out", "out"]
        run(command + ["--epochs", str(epochs), "--quiet", "--device", "cpu"], cwd=folder)
        metrics = read_metrics(folder / "out")
        accuracy["emitted"].append(metrics[-1]["test_accuracy"])
        return [m["samples_per_s"] for m in metrics[1:]]

    def handwritten() -> list[float]:
        command = [PY, script, "--data", str(folder / "data.npz"), "--epochs", str(epochs)]
        _, out = run(command)
        result = last_json(out)
        accuracy["hand"].append(result["test_accuracy"])
        return result["epoch_samples_per_s"][1:]

    print(f"lstm_digits training loop, {backend}, {epochs} epochs (samples/s)", flush=True)
    a, b = interleave(rounds, emitted, handwritten)
    report(f"lstm_digits {backend} loop", "samples/s", a, b, f">= {TARGET}", higher=True)
    per_round = [statistics.median(x) / statistics.median(y) for x, y in zip(a, b, strict=True)]
    best = [max(x) / max(y) for x, y in zip(a, b, strict=True)]
    return {
        "emitted": statistics.median(statistics.median(x) for x in a),
        "hand": statistics.median(statistics.median(y) for y in b),
        "ratio": statistics.median(per_round),
        "best": statistics.median(best),
        "low": min(per_round),
        "high": max(per_round),
        "accuracy": {k: statistics.median(v) for k, v in accuracy.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=8, help="per run (the spec has 15)")
    parser.add_argument("--backends", default="torch,keras")
    parser.add_argument("--threads", type=int, help="OMP/TF intra-op threads for every process")
    parser.add_argument("--work", default=str(ROOT / "runs" / "bench_sequences"))
    parser.add_argument(
        "--probe", nargs=3, metavar=("BACKEND", "FILE", "BUILDER"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.probe:
        backend, path, builder = args.probe
        probed = (torch_probe if backend == "torch" else keras_probe)(Path(path), builder)
        print(json.dumps(probed), flush=True)
        return
    if args.threads:
        ENV["OMP_NUM_THREADS"] = str(args.threads)
        ENV["TF_NUM_INTRAOP_THREADS"] = str(args.threads)
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    backends = args.backends.split(",")
    folders, notes, versions = {}, [], {}
    for backend in backends:
        folders[backend] = folder = prepare(work, backend)
        emitted = probe(backend, folder / "model.py", "MODELS")
        hand = probe(backend, HANDWRITTEN / SCRIPTS[backend], BUILDERS[backend])
        versions.update(emitted["versions"])
        notes.append(f"{backend}: {describe(backend, emitted, hand)}")
        print(notes[-1], flush=True)
    ENV["CUDA_VISIBLE_DEVICES"] = ""  # every timed run on the CPU, hand-written Keras too
    rows = [(b, loop(folders[b], b, args.rounds, args.epochs)) for b in backends]

    print(
        f"\nlstm_digits training loop, samples/s, median of each run's epochs 2-{args.epochs}; "
        f"{args.rounds} ABBA rounds; CPU, {os.cpu_count()} cores; "
        + ", ".join(f"{k} {v}" for k, v in versions.items())
    )
    print(
        "| backend | emitted | hand-written | ratio (rounds' range) | ratio, best epochs "
        "| target | test accuracy, emitted / hand-written |"
    )
    print("| --- | ---: | ---: | ---: | ---: | --- | ---: |")
    for backend, r in rows:
        met = "met" if r["ratio"] >= TARGET else "NOT met"
        print(
            f"| {backend} | {r['emitted']:,.0f} | {r['hand']:,.0f} | {r['ratio']:.3f} "
            f"({r['low']:.2f}-{r['high']:.2f}) | {r['best']:.3f} | >= {TARGET} ({met}) | "
            f"{r['accuracy']['emitted']:.4f} / {r['accuracy']['hand']:.4f} |"
        )
    for note in notes:
        print(note)


if __name__ == "__main__":
    main()
