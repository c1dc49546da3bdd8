"""Helpers shared by bench_torch.py and bench_keras.py: run processes, time them, read the
figures they leave behind, take medians over interleaved rounds."""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HANDWRITTEN = ROOT / "benchmarks" / "handwritten"
SPECC = str(Path(sys.executable).with_name("specc"))
ENV = {**os.environ, "PYTHONUNBUFFERED": "1", "TF_CPP_MIN_LOG_LEVEL": "2"}


def run(command: list[str], cwd: Path | str = ROOT) -> tuple[float, str]:
    """Wall seconds of the whole process, and its stdout; fails loudly on a non-zero exit."""
    t0 = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=ENV, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return seconds, done.stdout


def last_json(stdout: str) -> dict:
    """The last line of a hand-written script's output: its figures as JSON."""
    return json.loads(stdout.strip().splitlines()[-1])


def read_metrics(folder: Path) -> list[dict]:
    lines = (folder / "metrics.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def compile_to(spec: str, backend: str, folder: Path, data: bool = True) -> Path:
    shutil.rmtree(folder, ignore_errors=True)
    command = [SPECC, "compile", spec, "--backend", backend, "-o", str(folder)]
    run(command + (["--data"] if data else []))
    return folder


def specc_run(spec: str, backend: str, parent: Path) -> tuple[float, dict]:
    """Whole-process seconds of `specc run`, and the run's summary.json."""
    parent.mkdir(parents=True, exist_ok=True)
    before = set(parent.iterdir())
    seconds, _ = run([SPECC, "run", spec, "--backend", backend, "--out", str(parent), "--quiet"])
    (folder,) = set(parent.iterdir()) - before
    summary = json.loads((folder / "summary.json").read_text())
    shutil.rmtree(folder)
    return seconds, summary


def interleave(
    rounds: int, emitted: Callable[[], list[float]], handwritten: Callable[[], list[float]]
) -> tuple[list[list[float]], list[list[float]]]:
    """Alternate the two (ABBA order) so that both see the same background load. Each call
    returns its samples (the epochs' samples/s, or one whole-process time)."""
    a: list[list[float]] = []
    b: list[list[float]] = []
    for r in range(rounds):
        if r % 2 == 0:
            a.append(emitted())
            b.append(handwritten())
        else:
            b.append(handwritten())
            a.append(emitted())
        print(
            f"  round {r + 1}/{rounds}: emitted {_fmt(a[-1])}  hand-written {_fmt(b[-1])}",
            flush=True,
        )
    return a, b


def _fmt(values: list[float]) -> str:
    return " ".join(f"{v:.4g}" for v in values)


def report(
    name: str, unit: str, a: list[list[float]], b: list[list[float]], target: str, higher: bool
) -> float:
    """Print, over the rounds, the medians and the median of the per-round ratios a/b, where
    a round's figure is the median of its samples; then the same with each round's best
    sample (max when higher is better, else min), which load from other processes on the
    machine disturbs least. Returns the median ratio."""
    best = max if higher else min
    ratio = 0.0
    for label, pick in (("median", statistics.median), ("best", best)):
        xs, ys = [pick(v) for v in a], [pick(v) for v in b]
        ratios = [x / y for x, y in zip(xs, ys, strict=True)]
        if label == "median":
            ratio = statistics.median(ratios)
        print(
            f"{name} [{label} of each run]: emitted {statistics.median(xs):.4g} {unit}, "
            f"hand-written {statistics.median(ys):.4g} {unit}, ratio "
            f"{statistics.median(ratios):.3f} (rounds: {_fmt(ratios)}; target {target})",
            flush=True,
        )
    return ratio


def end_to_end(work: Path, rounds: int, backend: str, script: list[str]) -> None:
    """(b) of both benchmarks: whole-process seconds of `specc run specs/lenet5.net` against
    a hand-written script that prepares the digits and trains the same way; both accuracies."""
    accuracies: dict[str, list[float]] = {"specc": [], "hand": []}

    def emitted() -> list[float]:
        seconds, summary = specc_run("specs/lenet5.net", backend, work / "runs")
        accuracies["specc"].append(summary["test_accuracy"])
        return [seconds]

    def handwritten() -> list[float]:
        seconds, out = run(script)
        accuracies["hand"].append(last_json(out)["test_accuracy"])
        return [seconds]

    flag = "" if backend == "torch" else f" --backend {backend}"
    print(f"(b) whole process, LeNet-5, {backend}, 20 epochs (seconds)", flush=True)
    a, b = interleave(rounds, emitted, handwritten)
    report(f"specc run{flag} / hand-written", "s", a, b, "<= 1.2", higher=False)
    print(
        f"test accuracy: specc {statistics.median(accuracies['specc']):.4f}, hand-written "
        f"{statistics.median(accuracies['hand']):.4f} (target >= 0.98 for specc)",
        flush=True,
    )


def lenet_loop(work: Path, rounds: int, epochs: int, backend: str, script: str) -> float:
    """(a) of both benchmarks: training-loop samples/s of the emitted train.py against the
    hand-written `script`, LeNet-5 on the same data.npz; the median of the epochs' figures."""
    folder = compile_to("specs/lenet5.net", backend, work / "lenet5")
    python = sys.executable

    def emitted() -> list[float]:
        command = [python, "train.py", "--data", "data.npz", "--out", "out"]
        run(command + ["--epochs", str(epochs), "--quiet", "--device", "cpu"], cwd=folder)
        return [m["samples_per_s"] for m in read_metrics(folder / "out")]

    def handwritten() -> list[float]:
        command = [python, script, "--data", str(folder / "data.npz"), "--epochs", str(epochs)]
        _, out = run(command)
        return last_json(out)["epoch_samples_per_s"]

    print(f"(a) LeNet-5 training loop, {backend}, {epochs} epochs (samples/s)", flush=True)
    a, b = interleave(rounds, emitted, handwritten)
    return report("LeNet-5 loop", "samples/s", a, b, ">= 0.97", higher=True)


def train_shipped(spec: str, backend: str, parent: Path, epochs: int | None) -> dict:
    """One `specc run SPEC --backend BACKEND --quiet` into parent/backend: its metrics, the
    seconds it reports and the whole process's, and its run folder."""
    out = parent / backend
    out.mkdir(parents=True, exist_ok=True)
    command = [SPECC, "run", spec, "--backend", backend, "--out", str(out), "--quiet"]
    seconds, _ = run(command + (["--epochs", str(epochs)] if epochs else []))
    (folder,) = list(out.iterdir())
    summary = json.loads((folder / "summary.json").read_text())
    return {
        "backend": backend,
        "metrics": read_metrics(folder),
        "summary": summary,
        "train_seconds": summary["seconds"],
        "process_seconds": seconds,
        "folder": folder,
    }
