"""Restricted Boltzmann machines (`rbm`, `cd_k`, `persistent`): the checks, CD-k's update
against a hand computation on both backends, and the shipped specs/rbm.net trained on both
backends (its numbers are verified in test_verify.py through the catalogue model
`Boltzmann`)."""

from __future__ import annotations

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
SPEC = (ROOT / "specs" / "rbm.net").read_text(encoding="utf-8")

SMALL = """model Small {
  input x: [6]
  rbm(4) as rbm
}

train Small {
  data       = npz("data.npz")
  target     = input
  cd_k       = 2
  persistent = PERSISTENT
  optimizer  = sgd(lr=0.1)
  batch      = 5
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


def test_the_shipped_rbm_checks() -> None:
    result = compile_source(SPEC, "rbm.net")
    assert result.ok and not result.diagnostics
    config = result.spec.training
    assert config.cd_k == 1 and config.persistent and config.data.scale == "binary"
    (net,) = result.spec.models
    assert net.trainable == 784 * 512 + 512 + 784


@pytest.mark.parametrize(
    ("old", "new", "code"),
    [
        ("  target     = input ", "  target     = labels ", "E0636"),
        ("  cd_k       = 1 ", "  loss = mse\n  cd_k = 1 ", "E0637"),
        ("scale=binary", "scale=standard", "E0639"),
        ("scale=binary", "scale=unit", None),  # grey values as probabilities
        ("  cd_k       = 1 ", "  cd_k       = 0 ", "E0603"),
        ("  rbm(512) as rbm", "  rbm(512) as rbm\n  dense(10)", "E0509"),
        ("  flatten\n", "", "E0501"),
        ("  seed       = 0", "  seed = 0\n  precision = bf16", "E0639"),
        ("  seed       = 0", "  seed = 0\n  compile = true", "E0639"),
        ("  seed       = 0", "  seed = 0\n  kl_weight = 2.0", "E0632"),
    ],
)
def test_rbm_mistakes_are_located(old: str, new: str, code: str | None) -> None:
    assert old in SPEC
    assert _codes(SPEC.replace(old, new)) == ([code] if code else [])


def test_contrastive_divergence_keys_need_an_rbm() -> None:
    text = (ROOT / "specs" / "autoencoder.net").read_text(encoding="utf-8")
    assert _codes(text.replace("  loss      = mse", "  loss = mse\n  cd_k = 3")) == ["E0638"]


def _sigmoid(a: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-a))


def _by_hand(w, b, c, v0, start, uniforms):
    """CD-k by hand: the chain from `start` with the given uniforms, the update of each
    weight (positive minus negative statistics, hidden probabilities, batch means), the
    figures' sums and the chain's end."""
    n, hidden = v0.shape[0], w.shape[0]
    v = start
    for step in range(uniforms.shape[1]):
        h = (uniforms[:, step, :hidden] < _sigmoid(v @ w.T + b)).astype(np.float32)
        v = (uniforms[:, step, hidden:] < _sigmoid(h @ w + c)).astype(np.float32)
    p0, pk = _sigmoid(v0 @ w.T + b), _sigmoid(v @ w.T + b)
    update = {
        "weight": (p0.T @ v0 - pk.T @ v) / n,
        "bias": (p0 - pk).mean(axis=0),
        "visible_bias": (v0 - v).mean(axis=0),
    }
    free_energy = -(v0 @ c) - np.log1p(np.exp(v0 @ w.T + b)).sum(axis=1)
    error = ((v0 - _sigmoid(p0 @ w + c)) ** 2).mean(axis=1)
    return update, np.array([error.sum(), free_energy.sum()]), v


@pytest.mark.parametrize("persistent", [False, True])
def test_the_objective_gives_the_cd_update(persistent: bool, tmp_path: Path) -> None:
    """Both backends' emitted Training: the gradient of the CD-k objective is minus CD-k's
    update computed by hand from the same weights, data and uniforms; the figures are the
    reconstruction error and free energy; persistent chains start at 0 and keep the end."""
    torch = pytest.importorskip("torch")
    tf = pytest.importorskip("tensorflow")
    text = SMALL.replace("PERSISTENT", str(persistent).lower())
    rng = np.random.default_rng(0)
    v0 = rng.integers(0, 2, (5, 6)).astype(np.float32)
    uniforms = rng.random((5, 2, 10)).astype(np.float32)
    grads, chains = {}, {}
    for backend in ("torch", "keras"):
        for name in ("model", "runtime", "optimizer"):  # train.py imports its own
            sys.modules.pop(name, None)
        models = import_emitted(backend, text, tmp_path / backend)
        train = load_module(tmp_path / backend / "train.py", f"rbm_train_{backend}_{persistent}")
        model = models.MODELS["Small"]()
        if backend == "torch":
            with torch.no_grad():  # weights large enough for the samples to matter
                model.rbm.weight.normal_(0.0, 1.0, generator=torch.Generator().manual_seed(1))
                model.rbm.bias.fill_(0.1)
                model.rbm.visible_bias.fill_(-0.2)
            models.save_canonical(model, str(tmp_path / "w.safetensors"))
            weights = {k: v.numpy() for k, v in models.canonical_state(model).items()}
            training = train.Training(model)
            loss, figures = training.objective(torch.from_numpy(v0), torch.from_numpy(uniforms))
            loss.backward()
            grads[backend] = {k: v.numpy() for k, v in models.canonical_grads(model).items()}
            if persistent:
                chains[backend] = training.chains[:5].numpy().copy()
        else:
            models.load_canonical(model, str(tmp_path / "w.safetensors"))
            training = train.Training(model)
            with tf.GradientTape() as tape:
                loss, figures = training.objective(tf.constant(v0), tf.constant(uniforms))
            layer = model.get_layer("rbm")
            kernel, bias, visible = tape.gradient(
                loss, [layer.kernel, layer.bias, layer.visible_bias]
            )
            grads[backend] = {
                "rbm.weight": np.asarray(kernel).T,
                "rbm.bias": np.asarray(bias),
                "rbm.visible_bias": np.asarray(visible),
            }
            if persistent:
                chains[backend] = np.asarray(training.chains)[:5]
        w, b, c = (weights[f"rbm.{k}"] for k in ("weight", "bias", "visible_bias"))
        start = np.zeros_like(v0) if persistent else v0
        update, sums, end = _by_hand(w, b, c, v0, start, uniforms)
        for key, value in update.items():
            np.testing.assert_allclose(
                grads[backend][f"rbm.{key}"], -value, rtol=1e-4, atol=1e-6, err_msg=backend
            )
        np.testing.assert_allclose(np.asarray(figures), sums, rtol=1e-5, err_msg=backend)
        if persistent:
            np.testing.assert_array_equal(chains[backend], end)
        assert float((update["weight"] ** 2).sum()) > 1e-4  # the update is not trivial


def _run(backend: str, out: Path) -> dict:
    result = run_shipped("rbm", backend, out, 2)
    assert "recon_error" in result["stdout"]
    return result


def test_the_rbm_trains_on_both_backends(tmp_path: Path) -> None:
    """Two epochs of specs/rbm.net: the reconstruction error falls; the first epoch is the
    same on PyTorch and Keras (the uniforms are drawn once, on the host, for both); later a
    sample can flip where a uniform meets its probability within float32 rounding, so the
    runs part slowly; the pictures; Gibbs samples with `specc sample`; each run's train.py
    resumed after epoch 1 ends alike on PyTorch (the chains are in the checkpoint; the
    Keras checkpoint's were checked by hand)."""
    torch_run = _run("torch", tmp_path / "torch")
    keras_run = _run("keras", tmp_path / "keras")
    for run in (torch_run, keras_run):
        errors = [r["test_recon_error"] for r in run["metrics"]]
        assert errors[-1] < 0.95 * errors[0], errors
        for r in run["metrics"]:
            assert r["test_loss"] == r["test_recon_error"] and r["free_energy"] < 0
        assert png_size(run["run"] / "reconstructions.png") == (8 * 30 + 2, 4 * 30 + 2)
        assert png_size(run["run"] / "samples.png") == (8 * 30 + 2, 4 * 30 + 2)
    first_torch, first_keras = torch_run["metrics"][0], keras_run["metrics"][0]
    for key in ("loss", "recon_error", "free_energy", "test_recon_error", "test_free_energy"):
        assert first_torch[key] == pytest.approx(first_keras[key], rel=1e-4), key
    last_torch, last_keras = torch_run["metrics"][-1], keras_run["metrics"][-1]
    assert last_torch["test_recon_error"] == pytest.approx(last_keras["test_recon_error"], rel=0.3)
    drawn = tmp_path / "drawn.png"
    sampled = subprocess.run(
        [sys.executable, "-m", "specc.cli", "sample", str(torch_run["run"]), "-n", "12",
         "-o", str(drawn)],
        capture_output=True, text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert sampled.returncode == 0, sampled.stderr[-3000:]
    assert "Gibbs samples" in sampled.stdout
    assert png_size(drawn) == (8 * 30 + 2, 4 * 30 + 2)  # 12 starts above their chains
    # the persistent chains come back with a resumed run, on both backends
    _resumes_where_it_stopped(torch_run)


def _resumes_where_it_stopped(run: dict) -> None:
    """The run's own train.py, stopped before its last epoch and resumed, ends as the whole
    run did: the checkpoint carries everything the last epoch needs."""
    resumed = resume_in_parts(run)
    assert len(resumed) == len(run["metrics"])
    for key in ("loss", "recon_error", "free_energy", "test_recon_error"):
        assert resumed[-1][key] == pytest.approx(run["metrics"][-1][key], rel=1e-6), key
