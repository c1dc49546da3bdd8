"""`specc verify`: PyTorch and Keras agree on shipped specs; a fault is found and named."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.layer_catalogue import TRAINING, trainable_spec

pytest.importorskip("torch")
pytest.importorskip("keras")
ROOT = Path(__file__).resolve().parent.parent


def verify(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "specc.cli", "verify", *args],
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
    )


def verify_all(paths: list[Path]) -> str:
    """Verify several specs in one call (one worker process per framework serves them all);
    each must agree on every tensor. Returns the report."""
    done = verify(*map(str, paths))
    assert done.returncode == 0, done.stdout + done.stderr
    for path in paths:
        match = re.search(
            rf"^{re.escape(str(path))}: (\d+) of (\d+) tensors agree$", done.stdout, re.M
        )
        assert match and match[1] == match[2] and int(match[1]) > 0, (path, done.stdout)
    return done.stdout


@pytest.mark.parametrize("name", ["lenet5", "dcgan", "autoencoder"])
def test_shipped_spec_verifies(name: str, tmp_path: Path) -> None:
    report = tmp_path / "verify.json"
    done = verify(str(ROOT / "specs" / f"{name}.net"), "--json", str(report))
    assert done.returncode == 0, done.stdout + done.stderr
    data = json.loads(report.read_text())
    assert data["ok"] and data["tensors"]
    phases = {t["phase"] for t in data["tensors"]}
    if name == "dcgan":
        assert {"gan", "steps"} <= phases
    else:
        assert {"forward", "train", "grad", "steps"} <= phases
        # every layer's output is compared, not only the model's
        assert sum(t["phase"] == "forward" for t in data["tensors"]) >= 4
    if name == "autoencoder":  # the noise is drawn by runtime.py: the same on both sides
        assert any(t["phase"] == "data" and t["name"] == "noisy" for t in data["tensors"])


OPTIMIZERS = [
    "sgd(lr=0.1, momentum=0.9, nesterov=true, weight_decay=1e-3)",
    "adam(lr=1e-3, weight_decay=1e-2)",
    "adamw(lr=1e-3)",
    "rmsprop(lr=1e-3, momentum=0.5)",
    "adagrad(lr=1e-2)",
]

SMALL = """
model Small {
  input image: [3, 12, 12]
  a = conv2d(4, 3, stride=2, padding=same) -> batchnorm -> leaky_relu(0.2)
  b = input -> conv2d(4, 4, stride=2, padding=same) -> gelu
  concat(a, b) -> maxpool2d(3, stride=1, padding=1) -> dropout(0.3)
  flatten
  dense(16, l2=1e-3) -> layernorm -> tanh
  dense(5)
}
train Small {
  data = synthetic(n=32, classes=5)
  loss = cross_entropy
  optimizer = OPTIMIZER
  clip_grad = 1.0
}
"""


def test_optimizers_and_layers_verify(tmp_path: Path) -> None:
    """Each optimizer and its variants (momentum, nesterov, weight decay), with the mixed
    layers of SMALL, in one call; and the MLP spec beside them."""
    paths = [ROOT / "specs" / "mlp.net"]
    for i, optimizer in enumerate(OPTIMIZERS):
        paths.append(tmp_path / f"small_{i}.net")
        paths[-1].write_text(SMALL.replace("OPTIMIZER", optimizer))
    verify_all(paths)


def test_a_fault_is_found_and_named(tmp_path: Path) -> None:
    report = tmp_path / "verify.json"
    done = verify(
        str(ROOT / "specs" / "lenet5.net"),
        "--json",
        str(report),
        env={"SPECC_VERIFY_TAMPER": "keras", "SPECC_VERIFY_TAMPER_KEY": "conv2d_2"},
    )
    assert done.returncode == 1
    assert "first layer that diverges: `conv2d_2`" in done.stdout
    assert json.loads(report.read_text())["first_divergence"] == "conv2d_2"


def test_a_float32_gradient_difference_is_settled_in_float64(tmp_path: Path) -> None:
    """A gradient that differs in float32 only (as ResNet-18's first stage does) passes when
    both frameworks agree in float64; the report says which evidence settled it."""
    report = tmp_path / "verify.json"
    done = verify(
        str(ROOT / "specs" / "lenet5.net"),
        "--json",
        str(report),
        env={"SPECC_VERIFY_TAMPER": "keras", "SPECC_VERIFY_TAMPER_KEY": "grad/conv2d_1.weight"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 tensor differs in float32 beyond both, but with both frameworks in float64" in (
        done.stdout
    )
    (row,) = [t for t in json.loads(report.read_text())["tensors"] if t["max_rel"] > 1e-3]
    assert row["name"] == "conv2d_1.weight" and row["float64_difference"] < 1e-6


def test_a_difference_that_float64_confirms_fails(tmp_path: Path) -> None:
    done = verify(
        str(ROOT / "specs" / "lenet5.net"),
        env={
            "SPECC_VERIFY_TAMPER": "keras,keras64",
            "SPECC_VERIFY_TAMPER_KEY": "grad/conv2d_1.weight",
        },
    )
    assert done.returncode == 1
    assert "the backends do not compute the same thing there" in done.stdout


def test_forward_differences_are_never_settled_in_float64() -> None:
    from specc.tools.verify import Row

    grad = Row("grad", "w", (2,), 1e-3, 1e-3, 1e-5, float64_error=1e-8)
    forward = Row("forward", "x", (2,), 1e-3, 1e-3, 1e-5, float64_error=1e-8)
    assert grad.ok and not forward.ok


@pytest.mark.slow
@pytest.mark.parametrize(("name", "steps"), [("resnet18", 1)])
def test_large_shipped_spec_verifies(name: str, steps: int, tmp_path: Path) -> None:
    """At batch 2 and with one optimizer step, to keep CI's time (schedules across epochs are
    verified on small specs: test_every_schedule_gives_the_same_rates). AlexNet and VGG-16
    (their layer kinds are the catalogue's; their forward passes are compared in
    test_keras_backend.py) are verified by hand, their figures in docs/equivalence.md:
    `specc verify specs/alexnet.net --batch 2 --steps 3` takes over a minute, `specc verify
    specs/vgg16.net --batch 2 --steps 1` 4 minutes and 11 GB here."""
    report = tmp_path / "verify.json"
    args = ["--batch", "2", "--steps", str(steps), "--json", str(report)]
    done = verify(str(ROOT / "specs" / f"{name}.net"), *args)
    assert done.returncode == 0, done.stdout + done.stderr
    data = json.loads(report.read_text())
    assert data["ok"] and {"forward", "train", "grad", "steps"} <= {
        t["phase"] for t in data["tensors"]
    }


def test_dropout_drops_the_same_fraction_on_both_backends(tmp_path: Path) -> None:
    import numpy as np
    import torch

    from tests.emitted import import_emitted

    text = "model D {\n  input x: [4096]\n  dropout(0.3)\n}\n"
    torch_model = import_emitted("torch", text, tmp_path / "t").D().train()
    keras_model = import_emitted("keras", text, tmp_path / "k").MODELS["D"]()
    ones = np.ones((8, 4096), np.float32)
    torch_zero = float((torch_model(torch.from_numpy(ones)) == 0).float().mean())
    keras_zero = float(np.mean(np.asarray(keras_model(ones, training=True)) == 0))
    assert abs(torch_zero - 0.3) < 0.01 and abs(keras_zero - 0.3) < 0.01
    # kept activations are scaled by 1 / (1 - rate) on both
    kept = np.asarray(keras_model(ones, training=True))
    assert np.allclose(kept[kept != 0], 1 / 0.7, rtol=1e-6)


def test_verify_needs_a_training_section(tmp_path: Path) -> None:
    spec = tmp_path / "s.net"
    spec.write_text("model A {\n  input x: [4]\n  dense(2)\n}\n")
    done = verify(str(spec))
    assert done.returncode == 1
    assert "no `train` or `gan` section" in done.stderr


LOSS_HEADS = {
    "cross_entropy": "dense(5)",
    "nll": "dense(5) -> log_softmax",
    "mse": "dense(3)",
    "mae": "dense(3)",
    "huber": "dense(3)",
    "bce": "dense(1) -> sigmoid",
    "bce_with_logits": "dense(1)",
    "kl_div": "dense(5) -> log_softmax",
}


def test_every_loss_verifies(tmp_path: Path) -> None:
    """Loss values, gradients and 10 SGD steps agree for every loss of the language, with the
    global l1 and l2 penalties (verify draws targets that fit the loss: class ids, 0/1,
    distributions or real values)."""
    paths = []
    for loss, head in sorted(LOSS_HEADS.items()):
        classes = 2 if "bce" in loss else 5
        paths.append(tmp_path / f"{loss}.net")
        paths[-1].write_text(
            "model M {\n  input x: [6]\n  dense(8) -> tanh\n  " + head + "\n}\n"
            f"train M {{\n  data = synthetic(n=16, classes={classes})\n  loss = {loss}\n"
            "  optimizer = sgd(lr=0.1, momentum=0.9)\n  l1 = 1e-4\n  l2 = 1e-3\n}\n"
        )
    verify_all(paths)


SCHEDULES = [
    "step(every=2, gamma=0.5)",
    "cosine(min_lr=1e-4)",
    "exponential(gamma=0.9)",
    "warmup(epochs=2)",
]


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_every_schedule_gives_the_same_rates(schedule: str, tmp_path: Path) -> None:
    """The emitted train.py of each backend, run for 5 epochs: the learning rate logged for
    every epoch is the same (PyTorch's scheduler classes against Keras's closed forms)."""
    from specc.backends import get_backend
    from specc.tools import datasets
    from tests.emitted import compile_spec

    text = (
        "model M {\n  input x: [4]\n  dense(3)\n}\n"
        "train M {\n  data = synthetic(n=8, classes=3)\n  optimizer = sgd(lr=0.1)\n"
        f"  schedule = {schedule}\n  epochs = 5\n  batch = 8\n}}\n"
    )
    result = compile_spec(text)
    node = result.spec.model("M").input_nodes[0]
    arrays = datasets.load(result.spec.training.data, node.shape, node.op.dtype, seed=0)
    rates = {}
    for backend in ("torch", "keras"):
        folder = tmp_path / backend
        folder.mkdir()
        for name, body in get_backend(backend).emit(result.spec, text).items():
            (folder / name).write_text(body, encoding="utf-8")
        datasets.save_npz(arrays, folder / "data.npz")
        done = subprocess.run(
            [sys.executable, "train.py", "--out", "run", "--quiet", "--device", "cpu"],
            cwd=folder,
            capture_output=True,
            text=True,
            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        )
        assert done.returncode == 0, done.stderr[-3000:]
        lines = (folder / "run" / "metrics.jsonl").read_text().splitlines()
        rates[backend] = [json.loads(line)["lr"] for line in lines]
    assert len(rates["torch"]) == 5
    assert rates["torch"] == pytest.approx(rates["keras"], rel=1e-6)
    assert len(set(rates["torch"])) > 1  # the schedule does change the rate


def test_every_layer_of_the_catalogue_verifies(tmp_path: Path) -> None:
    """The specs that hold every layer kind (tests/layer_specs/), each model with a training
    section: inference, training mode, gradients and 10 steps agree."""
    paths = []
    for model in sorted(TRAINING):
        paths.append(tmp_path / f"{model}.net")
        paths[-1].write_text(trainable_spec(model))
    report = verify_all(paths)
    assert "first layer that diverges" not in report


def test_one_failing_spec_does_not_hide_the_others(tmp_path: Path) -> None:
    """Several specs in one call: each gets its own report; the exit code is 1 if any fails,
    and --json takes a single spec."""
    bad = tmp_path / "bad.net"
    bad.write_text("model A {\n  input x: [4]\n  dense(2)\n}\n")  # no training section
    done = verify(str(bad), str(ROOT / "specs" / "mlp.net"))
    assert done.returncode == 1
    assert "no `train` or `gan` section" in done.stderr
    assert "specs/mlp.net: 17 of 17 tensors agree" in done.stdout
    done = verify(str(bad), str(bad), "--json", str(tmp_path / "v.json"))
    assert done.returncode == 2 and "give one FILE" in done.stderr


def test_sequence_specs_verify() -> None:
    """The shipped sequence models (LSTM over digit rows, GRU on the adding problem, the
    forecaster, the character LSTM with per-step scores, the transformer encoder) in one call."""
    names = ["lstm_digits", "gru_adding", "forecast", "charlm", "transformer_digits"]
    verify_all([ROOT / "specs" / f"{name}.net" for name in names])
