"""`specc run` end to end on the PyTorch backend: real training, run folders, resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")
ROOT = Path(__file__).resolve().parent.parent
SPECC = [sys.executable, "-m", "specc.cli"]


def specc(*args: str, cwd: Path | None = None, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*SPECC, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=timeout,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def only_run(parent: Path) -> Path:
    (run,) = [p for p in parent.iterdir() if p.is_dir()]
    return run


@pytest.mark.parametrize("backend", ["torch", "keras"])
def test_lenet5_trains_on_digits(tmp_path: Path, backend: str) -> None:
    if backend == "keras":
        pytest.importorskip("keras")
    done = specc(
        "run",
        str(ROOT / "specs" / "lenet5.net"),
        "--backend",
        backend,
        "--out",
        str(tmp_path),
        "--quiet",
    )
    assert done.returncode == 0, done.stderr
    run = only_run(tmp_path)
    summary = json.loads((run / "summary.json").read_text())
    assert summary["test_accuracy"] >= 0.95, summary
    for name in (
        "spec.net",
        "model.py",
        "train.py",
        "data.npz",
        "run.json",
        "metrics.jsonl",
        "weights.safetensors",
    ):
        assert (run / name).is_file(), name
    assert summary["backend"] == backend
    assert list(run.glob("checkpoint.*"))  # .pt (PyTorch) or .npz (Keras)
    lines = (run / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == 20
    record = json.loads(lines[-1])
    assert {"epoch", "loss", "accuracy", "test_loss", "test_accuracy", "samples_per_s"} <= set(
        record
    )
    assert "test_accuracy" in done.stdout
    assert not list(run.glob("*.tmp"))


RESUMABLE = """
model Small {
  input image: [1, 8, 8]
  flatten
  dense(32) -> relu -> dropout(0.3)
  dense(10)
}
train Small {
  data = digits(size=8)
  loss = cross_entropy
  optimizer = sgd(lr=0.05, momentum=0.9)
  schedule = step(every=2, gamma=0.5)
  epochs = 6
  batch = 16
  augment = [random_crop(1)]
}
"""


def _weights(path: Path) -> dict[str, np.ndarray]:
    from safetensors.numpy import load_file

    return load_file(str(path))


def test_resume_after_kill_ends_with_the_same_weights(tmp_path: Path) -> None:
    spec = tmp_path / "small.net"
    spec.write_text(RESUMABLE)
    whole = specc("run", str(spec), "--out", str(tmp_path / "whole"), "--quiet")
    assert whole.returncode == 0, whole.stderr
    reference = _weights(only_run(tmp_path / "whole") / "weights.safetensors")

    # Start the same run, kill it hard once two epochs are checkpointed, then resume.
    process = subprocess.Popen(
        [*SPECC, "run", str(spec), "--out", str(tmp_path / "killed"), "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        start_new_session=True,
    )
    deadline = time.monotonic() + 300
    metrics = None
    while time.monotonic() < deadline:
        runs = list((tmp_path / "killed").glob("*/metrics.jsonl"))
        if runs and len(runs[0].read_text().splitlines()) >= 2:
            metrics = runs[0]
            break
        time.sleep(0.02)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert metrics is not None, "the run never reached epoch 2"
    run = metrics.parent
    finished = len(metrics.read_text().splitlines())
    assert finished < 6 or (run / "weights.safetensors").exists()
    if (run / "weights.safetensors").exists():
        pytest.skip("the run finished before it could be killed")
    resumed = specc("run", str(spec), "--resume", str(run), "--quiet")
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming at epoch" in resumed.stdout
    after = _weights(run / "weights.safetensors")
    assert sorted(after) == sorted(reference)
    for key in reference:
        np.testing.assert_array_equal(after[key], reference[key], err_msg=key)
    assert len((run / "metrics.jsonl").read_text().splitlines()) == 6


@pytest.mark.parametrize("backend", ["torch", "keras"])
def test_early_stopping_stops_a_resumed_run_where_a_whole_one_stops(
    tmp_path: Path, backend: str
) -> None:
    """No test loss improves by 100: the first epoch sets the best, the next two are stale,
    so the run stops after epoch 3 of 6. A run stopped after epoch 2 and resumed counts the
    stale epochs from its history and stops after epoch 3 too."""
    spec = tmp_path / "early.net"
    spec.write_text(
        RESUMABLE.replace(
            "epochs = 6", "epochs = 6\n  early_stopping = early_stopping(patience=2, min_delta=100)"
        )
    )
    folder = tmp_path / "code"
    done = specc("compile", str(spec), "--backend", backend, "-o", str(folder), "--data")
    assert done.returncode == 0, done.stderr

    def train(*args: str) -> subprocess.CompletedProcess:
        command = [sys.executable, "train.py", "--quiet", *args]
        return subprocess.run(command, cwd=folder, capture_output=True, text=True, timeout=300)

    whole = train("--out", "whole")
    assert whole.returncode == 0, whole.stderr
    assert "early stop: no improvement for 2 epochs" in whole.stdout
    assert len((folder / "whole" / "metrics.jsonl").read_text().splitlines()) == 3
    assert json.loads((folder / "whole" / "summary.json").read_text())["epochs"] == 3

    first = train("--out", "parts", "--stop-after", "2")
    assert first.returncode == 0, first.stderr
    assert not (folder / "parts" / "summary.json").exists()
    resumed = train("--out", "parts", "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert "early stop" in resumed.stdout
    assert (folder / "parts" / "metrics.jsonl").read_text().count("\n") == 3
    assert json.loads((folder / "parts" / "summary.json").read_text())["epochs"] == 3


def test_run_reports_data_that_does_not_fit(tmp_path: Path) -> None:
    data = tmp_path / "d.npz"
    np.savez(
        data,
        x_train=np.zeros((10, 1, 9, 9), np.float32),
        y_train=np.zeros(10, np.int64),
        x_test=np.zeros((4, 1, 9, 9), np.float32),
        y_test=np.zeros(4, np.int64),
    )
    spec = tmp_path / "s.net"
    spec.write_text(RESUMABLE.replace("digits(size=8)", f'npz("{data}")'))
    done = specc("run", str(spec), "--out", str(tmp_path / "runs"))
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "[1, 8, 8]" in done.stderr
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_run_needs_a_training_section(tmp_path: Path) -> None:
    spec = tmp_path / "s.net"
    spec.write_text("model A {\n  input x: [4]\n  dense(2)\n}\n")
    done = specc("run", str(spec), "--out", str(tmp_path))
    assert done.returncode == 1
    assert "no `train` or `gan` section" in done.stderr


def test_resume_of_a_folder_that_is_not_a_run(tmp_path: Path) -> None:
    done = specc("run", str(ROOT / "specs" / "lenet5.net"), "--resume", str(tmp_path))
    assert done.returncode == 2
    assert "not a run folder" in done.stderr


def test_compile_with_data_gives_a_standalone_training_folder(tmp_path: Path) -> None:
    spec = tmp_path / "small.net"
    spec.write_text(RESUMABLE.replace("epochs = 6", "epochs = 1"))
    out = tmp_path / "out"
    done = specc("compile", str(spec), "-o", str(out), "--data")
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "data.npz",
        "model.py",
        "runtime.py",
        "train.py",
    ]
    trained = subprocess.run(
        [sys.executable, "train.py", "--out", "run", "--quiet"],
        cwd=out,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert trained.returncode == 0, trained.stderr
    assert (out / "run" / "weights.safetensors").exists()


VALIDATION = """model M {
  input image: [1, 8, 8]
  flatten -> dense(32) -> relu
  dense(10)
}
train M {
  data = digits
  optimizer = adam(lr=1e-2)
  epochs = 6
  validation = 0.2
  early_stopping = early_stopping(patience=1, min_delta=100.0)
}
"""


def test_validation_is_held_out_and_watched(tmp_path: Path) -> None:
    """`validation = 0.2`: a fifth of the training split is held out (the same samples each
    epoch, from the seed), each epoch reports val_loss and val_accuracy, and early stopping
    watches the validation loss (no epoch improves it by 100: the run stops after epoch 2)."""
    spec = tmp_path / "val.net"
    spec.write_text(VALIDATION)
    done = specc("run", str(spec), "--out", str(tmp_path / "runs"), "--quiet")
    assert done.returncode == 0, done.stderr
    (run,) = (tmp_path / "runs").iterdir()
    metrics = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert len(metrics) == 2 and "early stop" in done.stdout
    for record in metrics:
        assert {"val_loss", "val_accuracy", "test_loss", "test_accuracy"} <= set(record)
    sys.path.insert(0, str(run))
    try:
        import runtime  # the run's own runtime.py

        with np.load(run / "data.npz") as data:
            arrays = tuple(data[k] for k in ("x_train", "y_train", "x_test", "y_test"))
        x_train, _, x_val, _ = runtime.training_split(arrays, 0)
        again = runtime.training_split(arrays, 0)
        assert len(x_val) == round(0.2 * len(arrays[0])) and len(x_train) + len(x_val) == len(
            arrays[0]
        )
        np.testing.assert_array_equal(again[2], x_val)
        held = {row.tobytes() for row in x_val}
        assert not any(row.tobytes() in held for row in x_train)
    finally:
        sys.path.remove(str(run))
        sys.modules.pop("runtime", None)
