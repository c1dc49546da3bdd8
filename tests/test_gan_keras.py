"""GAN training end to end on the Keras backend: a short run per loss, grids, sampling, and
a resumed run that reproduces the uninterrupted one."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.emitted import import_emitted

pytest.importorskip("keras")
pytest.importorskip("tensorflow")

ROOT = Path(__file__).resolve().parent.parent
TINY = """
model G {
  input z: [16]
  dense(32 * 2 * 2) -> relu
  reshape([32, 2, 2])
  conv2d_transpose(8, 4, stride=2, padding=1) -> relu      # 4x4
  conv2d_transpose(1, 4, stride=2, padding=1) -> tanh      # 8x8
}
model D {
  input image: [1, 8, 8]
  conv2d(8, 4, stride=2, padding=1) -> leaky_relu(0.2)
  flatten
  dense(1)
}
gan Tiny {
  generator = G
  discriminator = D
  latent = LATENT
  data = digits(size=8)
  loss = LOSS
  optimizer = adam(lr=2e-4, beta1=0.5)
  d_steps = 2
  epochs = 2
  batch = 128
}
"""


def specc(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "specc.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def only_run(parent: Path) -> Path:
    (run,) = [p for p in parent.iterdir() if p.is_dir()]
    return run


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def _spec(tmp_path: Path, loss: str, latent: str) -> Path:
    spec = tmp_path / "tiny.net"
    spec.write_text(TINY.replace("LOSS", loss).replace("LATENT", latent))
    return spec


def _run(spec: Path, out: Path) -> Path:
    done = specc("run", str(spec), "--backend", "keras", "--out", str(out), "--quiet")
    assert done.returncode == 0, done.stderr
    return only_run(out)


def _records(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


@pytest.mark.parametrize(
    ("loss", "latent"),
    [("bce_with_logits", "normal(16)"), ("hinge", "uniform(16)"), ("wgan_gp", "normal(16)")],
)
def test_keras_gan_trains_samples_and_resumes(tmp_path: Path, loss: str, latent: str) -> None:
    spec = _spec(tmp_path, loss, latent)
    run = _run(spec, tmp_path / "runs")
    records = _records(run)
    assert [r["epoch"] for r in records] == [1, 2]
    for record in records:
        for key in ("d_loss", "g_loss", "d_real", "d_fake"):
            assert record[key] == record[key] and abs(record[key]) < 1e6  # finite
        assert record["seconds"] >= 0 and record["samples_per_s"] > 0
    grids = sorted((run / "samples").glob("*.png"))
    assert [g.name for g in grids] == ["epoch_001.png", "epoch_002.png"]
    assert _png_size(grids[0]) == (8 * 10 + 2, 8 * 10 + 2)
    for name in ("generator.safetensors", "discriminator.safetensors", "checkpoint.npz"):
        assert (run / name).is_file(), name
    summary = json.loads((run / "summary.json").read_text())
    assert summary["backend"] == "keras" and summary["epochs"] == 2
    assert not list(run.rglob("*.tmp"))

    # canonical layout: the PyTorch backend's generator loads the Keras weights
    if importlib.util.find_spec("torch") is not None:
        torch_model = import_emitted("torch", spec.read_text(), tmp_path / "torch")
        torch_model.load_canonical(torch_model.G(), str(run / "generator.safetensors"))

    drawn = tmp_path / "drawn.png"
    sampled = specc("sample", str(run), "-n", "16", "-o", str(drawn))
    assert sampled.returncode == 0, sampled.stderr
    assert _png_size(drawn) == (8 * 10 + 2, 2 * 10 + 2)

    if loss != "bce_with_logits":  # resuming is the same code for every loss; one suffices
        return
    # stop after the first epoch (as a crash would, after its checkpoint), then resume
    (run / "generator.safetensors").unlink()
    subprocess.run(
        [sys.executable, "train.py", "--out", ".", "--stop-after", "1", "--quiet"],
        cwd=run,
        check=True,
        capture_output=True,
    )
    assert len(_records(run)) == 1
    resumed = specc("run", str(spec), "--resume", str(run), "--quiet")
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming at epoch 2" in resumed.stdout
    last = _records(run)[-1]
    assert last["epoch"] == 2
    for key in ("d_loss", "g_loss", "d_real", "d_fake"):
        assert last[key] == pytest.approx(records[-1][key], rel=1e-5)
    assert (run / "generator.safetensors").is_file()


def test_emitted_gan_code_is_ruff_clean(tmp_path: Path) -> None:
    """Every branch of the template: each loss and latent, and two different optimizers."""
    from specc.backends import get_backend
    from tests.emitted import compile_spec

    ruff = Path(sys.executable).parent / "ruff"
    if not ruff.exists():
        pytest.skip("ruff is not installed")
    variants = {
        "bce": TINY.replace("LOSS", "bce_with_logits").replace("LATENT", "normal(16)"),
        "hinge": TINY.replace("LOSS", "hinge").replace("LATENT", "uniform(16)"),
        "wgan": TINY.replace("LOSS", "wgan_gp")
        .replace("LATENT", "normal(16)")
        .replace(
            "optimizer = adam(lr=2e-4, beta1=0.5)",
            "g_optimizer = adamw(lr=1e-4)\n  d_optimizer = rmsprop(lr=5e-5)\n  gp_weight = 5.0",
        ),
    }
    for name, text in variants.items():
        result = compile_spec(text)
        files = get_backend("keras").emit(result.spec, result.source.text)
        assert set(files) == {"model.py", "runtime.py", "train.py"}
        (tmp_path / name).mkdir()
        for file, code in files.items():
            (tmp_path / name / file).write_text(code, encoding="utf-8")
    assert "class GOptimizer" in (tmp_path / "wgan" / "train.py").read_text()
    check = subprocess.run(
        [str(ruff), "check", "--isolated", str(tmp_path)], capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout
    fmt = subprocess.run(
        [str(ruff), "format", "--isolated", "--check", "--diff", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert fmt.returncode == 0, fmt.stdout
