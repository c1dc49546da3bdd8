"""Helpers for tests that train a shipped spec with `specc run` and read its run folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_shipped(name: str, backend: str, out: Path, epochs: int) -> dict:
    """`specc run specs/<name>.net` for `epochs` epochs: its stdout, summary.json, the lines
    of metrics.jsonl and the run folder."""
    done = subprocess.run(
        [sys.executable, "-m", "specc.cli", "run", str(ROOT / "specs" / f"{name}.net"),
         "--backend", backend, "--epochs", str(epochs), "--out", str(out), "--quiet"],
        capture_output=True, text=True, timeout=600,
        env={**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    (run,) = [p for p in out.iterdir() if p.is_dir()]
    lines = (run / "metrics.jsonl").read_text().splitlines()
    return {
        "stdout": done.stdout,
        "summary": json.loads((run / "summary.json").read_text()),
        "metrics": [json.loads(line) for line in lines],
        "run": run,
    }


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) from a PNG's header."""
    header = path.read_bytes()[16:24]
    return int.from_bytes(header[:4], "big"), int.from_bytes(header[4:], "big")


def resume_in_parts(run: dict) -> list[dict]:
    """The run's own train.py again, in a subfolder: stopped after the run's last epoch but
    one, then resumed; the metrics it ends with (for comparing with the whole run's)."""
    epochs = len(run["metrics"])
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    for extra in (["--stop-after", str(epochs - 1)], ["--resume"]):
        done = subprocess.run(
            [sys.executable, "train.py", "--out", "parts", "--epochs", str(epochs), "--quiet",
             "--init", "init.safetensors", *extra],
            capture_output=True, text=True, timeout=600, env=env, cwd=run["run"],
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
    lines = (run["run"] / "parts" / "metrics.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]
