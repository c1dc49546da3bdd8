"""Autoencoders (`target = input`, `noise`): the checks, the data, and the shipped
specs/autoencoder.net trained on both backends (its numbers are verified in test_verify.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from specc.compiler import compile_source
from specc.tools import datasets

ROOT = Path(__file__).resolve().parent.parent
SPEC = (ROOT / "specs" / "autoencoder.net").read_text(encoding="utf-8")


def _codes(text: str) -> list[str]:
    return [d.code for d in compile_source(text, "t.net").diagnostics]


def test_the_shipped_autoencoder_checks() -> None:
    result = compile_source(SPEC, "autoencoder.net")
    assert result.ok and not result.diagnostics
    config = result.spec.training
    assert config.target == "input" and config.noise.rate == 0.2
    assert not config.has_accuracy  # a reconstruction has no accuracy
    names = [n.name for n in result.spec.models[0].layers]
    assert names[0].startswith("encoder.") and names[-1].startswith("decoder.")


@pytest.mark.parametrize(
    ("old", "new", "code"),
    [
        ("loss      = mse", "loss = cross_entropy", "E0628"),  # a classification loss
        ("reshape([1, 28, 28])", "reshape([28, 28])", "E0629"),  # not the input's shape
        ("loss      = mse", "loss = bce", None),  # bce on pixels in [0, 1]
        ("scale=unit", "scale=standard", None),  # mse on standardised pixels
        ("scale=unit)", ")\n  loss = bce", "E0630"),  # bce on standardised pixels
    ],
)
def test_reconstruction_mistakes_are_located(old: str, new: str, code: str | None) -> None:
    text = SPEC.replace(old, new)
    if "loss = bce" in new and "scale=standard" not in text:
        text = text.replace("loss      = mse\n", "")
    assert _codes(text) == ([code] if code else [])


def test_token_inputs_are_not_reconstructed_or_noised() -> None:
    text = (
        "model M {\n  input t: [5] int\n  embedding(9, 4)\n}\n"
        "train M {\n  data = synthetic(n=8, classes=4)\n  target = input\n"
        "  noise = gaussian_noise(0.1)\n  loss = mse\n}\n"
    )
    assert sorted(_codes(text)) == ["E0626", "E0627"]


def test_unit_scale_keeps_pixels_in_zero_one() -> None:
    unit = datasets.load_digits(28, "unit")
    standard = datasets.load_digits(28)
    assert unit.x_train.min() >= 0.0 and unit.x_train.max() <= 1.0
    assert abs(float(standard.x_train.mean())) < 1e-5
    np.testing.assert_array_equal(unit.y_test, standard.y_test)  # the same split


def test_bce_needs_inputs_in_zero_one() -> None:
    arrays = datasets.load_digits(8)
    with pytest.raises(datasets.DataError, match=r"as probabilities, .*scale=unit"):
        datasets.check_against_model(arrays, (1, 8, 8), (1, 8, 8), "bce", target_is_input=True)
    # labels are not read: digits' class labels do not fit a [1, 8, 8] output, and need not
    datasets.check_against_model(arrays, (1, 8, 8), (1, 8, 8), "mse", target_is_input=True)


def _run(backend: str, out: Path) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "specc.cli", "run", str(ROOT / "specs" / "autoencoder.net"),
         "--backend", backend, "--epochs", "3", "--out", str(out), "--quiet"],
        capture_output=True, text=True, timeout=600,
        env={**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "accuracy" not in done.stdout  # the loss only
    (run,) = [p for p in out.iterdir() if p.is_dir()]
    return {
        "summary": json.loads((run / "summary.json").read_text()),
        "metrics": [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()],
        "run": run,
    }


def test_the_autoencoder_trains_alike_on_both_backends(tmp_path: Path) -> None:
    """Three epochs of the denoising autoencoder: the reconstruction error falls below the
    mean image's, and the same seed gives the same losses on PyTorch and Keras (the noise is
    drawn once, on the host, for both)."""
    torch_run = _run("torch", tmp_path / "torch")
    keras_run = _run("keras", tmp_path / "keras")
    digits = datasets.load_digits(28, "unit")
    mean_image = float(((digits.x_test - digits.x_train.mean(0)) ** 2).mean())
    losses = [r["test_loss"] for r in torch_run["metrics"]]
    assert losses[-1] < losses[0] and losses[-1] < 0.8 * mean_image, (losses, mean_image)
    assert "test_accuracy" not in torch_run["summary"]
    for a, b in zip(torch_run["metrics"], keras_run["metrics"], strict=True):
        assert a["loss"] == pytest.approx(b["loss"], rel=1e-3)
        assert a["test_loss"] == pytest.approx(b["test_loss"], rel=1e-3)
    # the corrupted batches: a fifth of the pixels set to 0, the same on both backends
    sys.path.insert(0, str(torch_run["run"]))
    try:
        import runtime  # the emitted runtime.py of the PyTorch run

        images = np.ones((64, 1, 28, 28), np.float32)
        noisy = runtime.augment(images, runtime.augment_rng(0, 1))
        assert abs(float((noisy == 0).mean()) - 0.2) < 0.01
    finally:
        sys.path.remove(str(torch_run["run"]))
        sys.modules.pop("runtime", None)
