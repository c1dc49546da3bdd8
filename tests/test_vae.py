"""Variational autoencoders (`gaussian_sample`, `kl_weight`, `kl_warmup`): the checks, the
negative ELBO against a hand computation on both backends, the decoder, and the shipped
specs/vae.net trained alike on both backends (its numbers are verified in test_verify.py
through the catalogue model `Latent`)."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from specc.compiler import compile_source
from specc.tools.emitted_code import load_module
from tests.emitted import import_emitted
from tests.shipped_runs import png_size, resume_in_parts, run_shipped

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = Path(__file__).resolve().parent.parent
SPEC = (ROOT / "specs" / "vae.net").read_text(encoding="utf-8")

SMALL = """model Small {
  input x: [6]
  h = x -> dense(5) -> tanh
  mean = h -> dense(2)
  log_var = h -> dense(2)
  z = gaussian_sample(mean, log_var) as latent
  z -> dense(6)
}

train Small {
  data      = npz("data.npz")
  target    = input
  loss      = LOSS
  kl_weight = 0.25
}
"""


@pytest.fixture(autouse=True)
def _forget_emitted_modules() -> Iterator[None]:
    """train.py imports `model`, `runtime` (and `optimizer`) by those names: a test that
    loads one leaves none behind for the next test's emitted code."""
    yield
    for name in ("model", "runtime", "optimizer"):
        sys.modules.pop(name, None)


def _codes(text: str) -> list[str]:
    return [d.code for d in compile_source(text, "t.net").diagnostics]


def test_the_shipped_vae_checks() -> None:
    result = compile_source(SPEC, "vae.net")
    assert result.ok and not result.diagnostics
    config = result.spec.training
    assert config.target == "input" and config.kl_weight == 1.0 and config.kl_warmup == 10
    assert not config.has_accuracy
    kinds = [n.kind for n in result.spec.models[0].layers]
    assert kinds.count("gaussian_sample") == 1


@pytest.mark.parametrize(
    ("old", "new", "code"),
    [
        ("loss      = bce_with_logits", "loss = huber", "E0634"),  # not a likelihood
        ("loss      = bce_with_logits", "loss = mse", None),  # Gaussian
        ("  target    = input", "", "E0633"),  # labels as the target
        ("log_var = h -> dense(2) as log_var", "log_var = h -> dense(3) as log_var", "E0501"),
        ("z -> decoder as decoder", "c = z -> decoder as decoder\n  add(c, image)", "E0508"),
        ("kl_warmup = 10", "kl_warmup = -1", "E0603"),
        (
            "  z -> decoder as decoder",
            "  d = z -> decoder as decoder\n  e = concat(mean, z)",
            "E0508",
        ),
        ("  z -> decoder as decoder", "", "E0508"),  # no decoder
        ("  seed      = 0", "  seed = 0\n  validation = 0.1", "E0643"),
    ],
)
def test_vae_mistakes_are_located(old: str, new: str, code: str | None) -> None:
    assert old in SPEC
    errors = [c for c in _codes(SPEC.replace(old, new)) if c.startswith("E")]
    assert errors == ([code] if code else [])


def test_a_kl_weight_needs_a_latent() -> None:
    text = (ROOT / "specs" / "autoencoder.net").read_text(encoding="utf-8")
    text = text.replace("  loss      = mse", "  loss = mse\n  kl_warmup = 3")
    assert _codes(text) == ["E0632"]


def _reference(x, mean, log_var, eps, output, loss: str) -> tuple[float, float, float]:
    """The negative ELBO's terms by hand, batch means: NLL, KL, and NLL + 0.25 * KL."""
    kl = 0.5 * (np.exp(log_var) + mean**2 - 1.0 - log_var).sum(axis=1)
    if loss == "bce_with_logits":
        p = 1 / (1 + np.exp(-output))
        nll = -(x * np.log(p) + (1 - x) * np.log(1 - p)).sum(axis=1)
    else:  # N(output, I)
        nll = 0.5 * ((x - output) ** 2).sum(axis=1) + 0.5 * x.shape[1] * math.log(2 * math.pi)
    return float(nll.mean()), float(kl.mean()), float((nll + 0.25 * kl).mean())


@pytest.mark.parametrize("loss", ["bce_with_logits", "mse"])
def test_the_negative_elbo_is_computed_as_written(loss: str, tmp_path: Path) -> None:
    """Both backends' emitted Training: the objective (KL weighted by kl_weight), the
    evaluation (weight 1) and the sums of the two terms equal a NumPy computation from the
    same weights, input and noise; the sample is mean + exp(log_var / 2) * eps."""
    torch = pytest.importorskip("torch")
    tf = pytest.importorskip("tensorflow")
    text = SMALL.replace("LOSS", loss)
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, (4, 6)).astype(np.float32)
    eps = rng.standard_normal((4, 2)).astype(np.float32)
    results = {}
    for backend in ("torch", "keras"):
        for name in ("model", "runtime", "optimizer"):  # train.py imports its own
            sys.modules.pop(name, None)
        models = import_emitted(backend, text, tmp_path / backend)
        train = load_module(tmp_path / backend / "train.py", f"vae_train_{backend}_{loss}")
        if backend == "torch":
            torch.manual_seed(0)
            model = models.MODELS["Small"]()
            models.save_canonical(model, str(tmp_path / "w.safetensors"))
            weights = {k: v.numpy() for k, v in models.canonical_state(model).items()}
            training = train.Training(model)
            output = model(torch.from_numpy(x), torch.from_numpy(eps))
            objective, sums = training.objective(output, torch.from_numpy(x))
            negative_elbo, _ = training.evaluate(
                torch.from_numpy(x), torch.from_numpy(x), torch.from_numpy(eps)
            )
            assert tuple(model.latent.kl.shape) == (4,)  # the layer keeps the KL per sample
            results[backend] = (objective.item(), sums.numpy(), negative_elbo.item())
        else:
            model = models.MODELS["Small"]()
            models.load_canonical(model, str(tmp_path / "w.safetensors"))
            training = train.Training(model)
            output = model([x, eps], training=True)
            objective, sums = training.objective(output, tf.constant(x))
            negative_elbo, _ = training.evaluate(x, x, eps)
            results[backend] = (float(objective), np.asarray(sums), float(negative_elbo))
    h = np.tanh(x @ weights["dense_1.weight"].T + weights["dense_1.bias"])
    mean = h @ weights["dense_2.weight"].T + weights["dense_2.bias"]
    log_var = h @ weights["dense_3.weight"].T + weights["dense_3.bias"]
    z = mean + np.exp(0.5 * log_var) * eps
    output = z @ weights["dense_4.weight"].T + weights["dense_4.bias"]
    nll, kl, objective = _reference(x, mean, log_var, eps, output, loss)
    for backend, (got_objective, got_sums, got_elbo) in results.items():
        assert got_objective == pytest.approx(objective, rel=1e-5), backend
        assert got_sums / 4 == pytest.approx([nll, kl], rel=1e-5), backend
        assert got_elbo == pytest.approx(nll + kl, rel=1e-5), backend  # unweighted


def test_the_decoder_and_the_mean_in_inference(tmp_path: Path) -> None:
    """`decoder(model)` maps latents to outputs with the model's weights; in inference mode
    without noise the model decodes the posterior's mean, on both backends."""
    torch = pytest.importorskip("torch")
    text = SMALL.replace("LOSS", "mse")
    x = np.random.default_rng(1).uniform(0, 1, (3, 6)).astype(np.float32)
    z = np.random.default_rng(2).standard_normal((5, 2)).astype(np.float32)
    tm = import_emitted("torch", text, tmp_path / "torch")
    km = import_emitted("keras", text, tmp_path / "keras")
    model = tm.MODELS["Small"]().eval()
    tm.save_canonical(model, str(tmp_path / "w.safetensors"))
    kmodel = km.MODELS["Small"]()
    km.load_canonical(kmodel, str(tmp_path / "w.safetensors"))
    with torch.no_grad():
        t_decoded = tm.decoder(model)(torch.from_numpy(z)).numpy()
        t_out = model(torch.from_numpy(x)).numpy()
        h = torch.tanh(model.dense_1(torch.from_numpy(x)))
        t_mean_decoded = model.decode(model.dense_2(h)).numpy()
    k_decoded = np.asarray(km.decoder(kmodel)(z))
    k_out = np.asarray(kmodel([x, None], training=False))
    np.testing.assert_allclose(t_decoded, k_decoded, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(t_out, t_mean_decoded, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(t_out, k_out, rtol=1e-5, atol=1e-6)


def _run(backend: str, out: Path) -> dict:
    result = run_shipped("vae", backend, out, 2)
    assert "elbo" in result["stdout"]
    return result


def test_the_vae_trains_alike_on_both_backends(tmp_path: Path) -> None:
    """Two epochs of specs/vae.net: the ELBO and its terms per epoch on train and test,
    the KL weight warming up, the test ELBO rising, the same figures on PyTorch and Keras
    (the latents' noise is drawn once, on the host, for both); the pictures; samples from
    the prior with `specc sample`; the Keras run's train.py resumed after epoch 1 ends
    alike (its KL weight a variable restored from the checkpoint)."""
    torch_run = _run("torch", tmp_path / "torch")
    keras_run = _run("keras", tmp_path / "keras")
    metrics = torch_run["metrics"]
    assert [r["kl_weight"] for r in metrics] == [0.0, 0.1]
    for r in metrics:
        assert r["elbo"] == pytest.approx(-(r["nll"] + r["kl"]))
        assert r["test_elbo"] == pytest.approx(-(r["test_nll"] + r["test_kl"]))
        assert r["loss"] == pytest.approx(r["nll"] + r["kl_weight"] * r["kl"], rel=1e-3)
        assert r["kl"] > 0 and r["test_kl"] > 0
    assert metrics[-1]["test_elbo"] > metrics[0]["test_elbo"]
    keys = ("loss", "nll", "kl", "test_loss", "test_nll", "test_kl")
    for a, b in zip(metrics, keras_run["metrics"], strict=True):
        for key in keys:
            assert a[key] == pytest.approx(b[key], rel=1e-3), key
    assert torch_run["summary"]["test_elbo"] == pytest.approx(metrics[-1]["test_elbo"])
    for run in (torch_run["run"], keras_run["run"]):
        assert png_size(run / "reconstructions.png") == (8 * 30 + 2, 4 * 30 + 2)
        assert png_size(run / "samples.png") == (8 * 30 + 2, 8 * 30 + 2)
        assert png_size(run / "latent_map.png") == (12 * 30 + 2, 12 * 30 + 2)
    drawn = tmp_path / "drawn.png"
    sampled = subprocess.run(
        [sys.executable, "-m", "specc.cli", "sample", str(torch_run["run"]), "-n", "12",
         "-o", str(drawn)],
        capture_output=True, text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert sampled.returncode == 0, sampled.stderr[-3000:]
    assert "samples from the prior" in sampled.stdout
    assert png_size(drawn) == (8 * 30 + 2, 2 * 30 + 2)
    # the KL warm-up's epoch comes back with a resumed run, on both backends
    _resumes_where_it_stopped(keras_run)


def _resumes_where_it_stopped(run: dict) -> None:
    """The run's own train.py, stopped before its last epoch and resumed, ends as the whole
    run did: the checkpoint carries everything the last epoch needs."""
    resumed = resume_in_parts(run)
    assert len(resumed) == len(run["metrics"])
    for key in ("loss", "nll", "kl", "test_loss"):
        assert resumed[-1][key] == pytest.approx(run["metrics"][-1][key], rel=1e-6), key
