"""Autoencoders (`target = input`, `noise`): the checks, the data, and the shipped
specs/autoencoder.net trained on both backends (its numbers are verified in test_verify.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from specc.compiler import compile_source
from specc.tools import datasets
from tests.shipped_runs import png_size, run_shipped

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
    result = run_shipped("autoencoder", backend, out, 3)
    assert "accuracy" not in result["stdout"]  # the loss only
    return result


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
    # each run draws test images beside their reconstructions; `specc sample` draws more
    for run in (torch_run["run"], keras_run["run"]):
        assert png_size(run / "reconstructions.png") == (8 * 30 + 2, 4 * 30 + 2)
    drawn = tmp_path / "drawn.png"
    sampled = subprocess.run(
        [sys.executable, "-m", "specc.cli", "sample", str(keras_run["run"]), "-n", "12",
         "-o", str(drawn)],
        capture_output=True, text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert sampled.returncode == 0, sampled.stderr[-3000:]
    assert png_size(drawn) == (8 * 30 + 2, 4 * 30 + 2)  # 12 images: rows of 8, then of 4
    # the corrupted batches: a fifth of the pixels set to 0, the same on both backends
    sys.path.insert(0, str(torch_run["run"]))
    try:
        import runtime  # the emitted runtime.py of the PyTorch run

        images = np.ones((64, 1, 28, 28), np.float32)
        noisy = runtime.corrupt(images, runtime.augment_rng(0, 1))
        assert abs(float((noisy == 0).mean()) - 0.2) < 0.01
    finally:
        sys.path.remove(str(torch_run["run"]))
        sys.modules.pop("runtime", None)


ENCODER = """block encoder(code) {
  flatten
  dense(256) -> relu
  dense(code)
}

model Encoder {
  input image: [1, 28, 28]
  encoder(32) as encoder
}
"""


def test_the_trained_encoder_is_extracted_and_loads_alone(tmp_path: Path) -> None:
    """`specc weights extract` keeps the encoder's tensors of a trained autoencoder; a model
    holding only `encoder(32) as encoder` loads them on both backends and gives the codes the
    autoencoder's encoder gives."""
    import torch

    from tests.emitted import import_emitted

    out = tmp_path / "run"
    done = subprocess.run(
        [sys.executable, "-m", "specc.cli", "run", str(ROOT / "specs" / "autoencoder.net"),
         "--epochs", "1", "--out", str(out), "--quiet"],
        capture_output=True, text=True, timeout=600, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    (run,) = list(out.iterdir())
    spec_file = tmp_path / "autoencoder.net"
    spec_file.write_text(SPEC, encoding="utf-8")
    encoder_weights = tmp_path / "encoder.safetensors"
    extract = [sys.executable, "-m", "specc.cli", "weights", "extract", str(spec_file)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [*extract, str(run / "weights.safetensors"), str(encoder_weights), "--scope", "encoder"],
        capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "wrote 4 tensors of `encoder`" in done.stdout
    bad = subprocess.run(
        [*extract, str(run / "weights.safetensors"), str(tmp_path / "x.safetensors"),
         "--scope", "encodr"],
        capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip
    assert bad.returncode == 2 and "did you mean `encoder`?" in bad.stderr
    assert not (tmp_path / "x.safetensors").exists()

    images = datasets.load_digits(28, "unit").x_test[:8]
    ae = import_emitted("torch", SPEC, tmp_path / "ae")
    model = ae.Autoencoder()
    ae.load_canonical(model, str(run / "weights.safetensors"))
    with torch.no_grad():
        x = torch.from_numpy(images).flatten(1)
        codes = model.encoder_dense_2(torch.relu(model.encoder_dense_1(x))).numpy()
    torch_encoder = import_emitted("torch", ENCODER, tmp_path / "enc_torch")
    encoder = torch_encoder.Encoder()
    torch_encoder.load_canonical(encoder, str(encoder_weights))
    with torch.no_grad():
        np.testing.assert_allclose(encoder(torch.from_numpy(images)).numpy(), codes, atol=1e-5)
    keras_encoder = import_emitted("keras", ENCODER, tmp_path / "enc_keras")
    encoder = keras_encoder.MODELS["Encoder"]()
    keras_encoder.load_canonical(encoder, str(encoder_weights))
    np.testing.assert_allclose(np.asarray(encoder(images)), codes, atol=1e-5)


def test_noise_and_augmentation_for_a_reconstruction() -> None:
    """With `augment`, the target is the augmented clean batch (the model is not asked to
    undo a crop), and noise corrupts the input only; noise may not hide `masking` padding."""
    text = SPEC.replace(
        "  noise     = masking_noise(0.2)",
        "  noise = masking_noise(0.2)\n  augment = [random_flip]",
    )
    result = compile_source(text, "t.net")
    assert result.ok
    from specc.backends.runtime import runtime_module

    namespace: dict = {}
    exec(compile(runtime_module(result.spec), "runtime.py", "exec"), namespace)  # noqa: S102
    x = np.arange(2 * 1 * 2 * 3, dtype=np.float32).reshape(2, 1, 2, 3) + 1
    (xb, yb), *_ = namespace["batches"](x, x, 2, np.arange(2), np.random.default_rng(0))
    assert not np.shares_memory(xb, yb)
    assert sorted(yb.ravel()) == sorted(x.ravel())  # a flip of the clean batch
    assert ((xb == 0) | (xb == yb)).all() and (xb == 0).any()  # noise on the input only
    masked = (
        "model S {\n  input x: [6, 3]\n  masking(-1.0) -> lstm(4, return_sequences=true)"
        " -> dense(3)\n}\ntrain S {\n  data = synthetic(n=8)\n  target = input\n"
        "  noise = gaussian_noise(0.1)\n  loss = mse\n}\n"
    )
    assert _codes(masked) == ["E0631"]


@pytest.mark.parametrize("backend", ["torch", "keras"])
def test_a_padded_reconstruction_with_bce_compiles(backend: str) -> None:
    """Per-element bce over a padded output (reachable through `target = input`)."""
    from specc.backends import get_backend

    text = (
        "model S {\n  input x: [6, 3]\n  masking(0.0) -> lstm(5, return_sequences=true)"
        " -> dense(3) -> sigmoid\n}\ntrain S {\n  data = synthetic(n=8)\n  target = input\n"
        "  loss = bce\n}\n"
    )
    result = compile_source(text, "t.net")
    assert result.ok, [d.message for d in result.diagnostics]
    train = get_backend(backend).emit(result.spec, text)["train.py"]
    assert ("BCELoss(reduction=" in train) if backend == "torch" else ("log_q" in train)
    assert "xlogy" not in train  # not the KL formula


def test_pictures_only_for_grayscale_or_colour_images() -> None:
    from specc.backends.runtime import reconstruction_pictures

    def spec(shape: str) -> object:
        text = (
            f"model A {{\n  input v: {shape}\n  flatten -> dense(4) -> dense(32)"
            f" -> reshape({shape})\n}}\ntrain A {{\n  data = synthetic(n=8)\n"
            "  target = input\n  loss = mse\n}\n"
        )
        return compile_source(text, "t.net").spec

    assert reconstruction_pictures(spec("[2, 4, 4]")) is False
    assert reconstruction_pictures(spec("[1, 4, 8]")) is True
