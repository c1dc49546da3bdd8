"""GAN training end to end on the PyTorch backend: a short run, grids, resume, sampling."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.test_run import ROOT, only_run, specc

pytest.importorskip("torch")

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


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


@pytest.mark.parametrize(
    ("loss", "latent"),
    [("bce_with_logits", "normal(16)"), ("hinge", "uniform(16)"), ("wgan_gp", "normal(16)")],
)
def test_gan_trains_and_writes_grids(tmp_path: Path, loss: str, latent: str) -> None:
    spec = tmp_path / "tiny.net"
    spec.write_text(TINY.replace("LOSS", loss).replace("LATENT", latent))
    done = specc("run", str(spec), "--out", str(tmp_path / "runs"), "--quiet")
    assert done.returncode == 0, done.stderr
    run = only_run(tmp_path / "runs")
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in records] == [1, 2]
    for record in records:
        for key in ("d_loss", "g_loss", "d_real", "d_fake"):
            assert record[key] == record[key] and abs(record[key]) < 1e6  # finite
    grids = sorted((run / "samples").glob("*.png"))
    assert [g.name for g in grids] == ["epoch_001.png", "epoch_002.png"]
    assert _png_size(grids[0]) == (8 * 10 + 2, 8 * 10 + 2)
    assert (run / "generator.safetensors").exists()

    drawn = tmp_path / "drawn.png"
    sampled = specc("sample", str(run), "-n", "16", "-o", str(drawn))
    assert sampled.returncode == 0, sampled.stderr
    assert _png_size(drawn) == (8 * 10 + 2, 2 * 10 + 2)


def test_gan_resume(tmp_path: Path) -> None:
    spec = tmp_path / "tiny.net"
    spec.write_text(TINY.replace("LOSS", "bce_with_logits").replace("LATENT", "normal(16)"))
    whole = specc("run", str(spec), "--out", str(tmp_path / "whole"), "--quiet")
    assert whole.returncode == 0, whole.stderr
    reference = json.loads(
        (only_run(tmp_path / "whole") / "metrics.jsonl").read_text().splitlines()[-1]
    )
    # stop after the first epoch (as a crash would, after its checkpoint), then resume
    first = specc("run", str(spec), "--out", str(tmp_path / "part"), "--quiet")
    assert first.returncode == 0
    run = only_run(tmp_path / "part")
    (run / "generator.safetensors").unlink()
    import subprocess
    import sys

    subprocess.run(
        [sys.executable, "train.py", "--out", ".", "--stop-after", "1", "--quiet"],
        cwd=run,
        check=True,
        capture_output=True,
    )
    resumed = specc("run", str(spec), "--resume", str(run), "--quiet")
    assert resumed.returncode == 0, resumed.stderr
    last = json.loads((run / "metrics.jsonl").read_text().splitlines()[-1])
    assert last["epoch"] == 2
    for key in ("d_loss", "g_loss"):
        assert last[key] == pytest.approx(reference[key], rel=1e-5)


def test_sample_needs_a_trained_generator(tmp_path: Path) -> None:
    done = specc("sample", str(tmp_path))
    assert done.returncode == 2
    assert "not a run folder" in done.stderr
    assert ROOT.exists()
