"""Every shipped sequence spec trained by `specc run` on both backends, as a user runs it
(issue 13). Prints figures; times nothing as a test.

    python benchmarks/bench_sequence_training.py [--specs lstm_digits,gru_adding,...]
        [--backends torch,keras]

For each spec and backend: the epochs run, the last epoch's training loss, the final test
loss and accuracy (classifiers) or test MSE (regressions), the whole process's seconds, and
the difference of the test figures across the backends (same seed, same canonical initial
weights, same data order). Each spec's target and baseline are printed beside it:
- lstm_digits, transformer_digits: test accuracy >= 97%;
- gru_adding: test MSE well below 1/6 ~ 0.167 (always answering 1);
- forecast: test MSE below that of repeating the window's last value (computed here);
- charlm: a falling loss (the first epoch's training loss is printed too).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
from benchlib import ROOT, SPECC, read_metrics, run

SPECS = ["lstm_digits", "transformer_digits", "gru_adding", "forecast", "charlm"]
TARGETS = {
    "lstm_digits": "test accuracy >= 0.97",
    "transformer_digits": "test accuracy >= 0.97",
    "gru_adding": "test MSE << 0.167 (always answering 1)",
    "charlm": "a falling loss",
}


def forecast_baseline() -> float:
    """Test MSE of repeating each window's last value, on the spec's own series."""
    sys.path.insert(0, str(ROOT))
    from specc.tools.datasets import series

    data = series(n=2000, window=32, period=25.0, noise=0.1, seed=0)
    return float(np.mean((data.x_test[:, -1, 0] - data.y_test[:, 0]) ** 2))


def train(spec: str, backend: str, parent: Path) -> dict:
    """`specc run` of one shipped spec: its summary and per-epoch metrics."""
    out = parent / f"{spec}-{backend}"
    seconds, _ = run(
        [SPECC, "run", f"specs/{spec}.net", "--backend", backend, "--out", str(out), "--quiet"]
    )
    (folder,) = [p for p in out.iterdir() if p.is_dir()]
    metrics = read_metrics(folder)
    summary = json.loads((folder / "summary.json").read_text())
    return {"seconds": seconds, "summary": summary, "metrics": metrics}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--specs", default=",".join(SPECS))
    parser.add_argument("--backends", default="torch,keras")
    args = parser.parse_args()
    specs, backends = args.specs.split(","), args.backends.split(",")
    targets = {**TARGETS, "forecast": f"test MSE < {forecast_baseline():.4f} (last value)"}
    parent = Path(tempfile.mkdtemp(prefix="specc-seq-"))
    try:
        header = "| spec | backend | epochs | first loss | last loss | test loss | test acc | s |"
        print(header)
        print("|" + "---|" * 8)
        for spec in specs:
            results = {b: train(spec, b, parent) for b in backends}
            for backend, r in results.items():
                s, m = r["summary"], r["metrics"]
                accuracy = f"{s['test_accuracy']:.4f}" if s["test_accuracy"] else "-"
                print(
                    f"| {spec} | {backend} | {s['epochs']} | {m[0]['loss']:.4f} | "
                    f"{m[-1]['loss']:.4f} | {s['test_loss']:.4f} | {accuracy} | "
                    f"{r['seconds']:.1f} |",
                    flush=True,
                )
            if len(results) == 2:
                a, b = (results[k]["summary"] for k in backends)
                print(
                    f"|   {spec}: target {targets[spec]}; across backends: test loss "
                    f"{abs(a['test_loss'] - b['test_loss']):.4f}, accuracy "
                    f"{abs(a['test_accuracy'] - b['test_accuracy']):.4f} |",
                    flush=True,
                )
    finally:
        shutil.rmtree(parent, ignore_errors=True)


if __name__ == "__main__":
    main()
