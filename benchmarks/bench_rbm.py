"""specs/rbm.net trained by `specc run` on both backends (issue 14, quality bar).
Prints figures; times nothing as a test.

    python benchmarks/bench_rbm.py [--backends torch,keras] [--epochs N] [--threads N]
        [--keep DIR]

For each backend, one `specc run specs/rbm.net --backend <backend> --quiet` (a Bernoulli RBM,
784 visible and 512 hidden units, persistent CD-1 on the binarised digits at 28x28): the test
reconstruction error (each image's mean squared difference from p(v | p(h | v))) after the
first epoch, the tenth and the last; the last epoch's mean free energy on train and test
(a test free energy far above the training one is overfitting); the seconds. Against it,
from the run's own data.npz: the test error of predicting the training split's mean image.
Targets: the reconstruction error falling, and well below the mean image's. Then the two
backends side by side: the same seed, canonical initial weights, data order and uniforms
(drawn on the host), so the first epoch agrees to float32 rounding; after it, a sample
flips on one backend where a uniform meets its probability within rounding, and the runs
part. Look at each run's samples.png (--keep DIR keeps them): Gibbs chains of 1000 steps.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

import numpy as np
from benchlib import ENV, train_shipped

BACKENDS = ["torch", "keras"]


def train(backend: str, parent: Path, epochs: int | None) -> dict:
    return train_shipped("specs/rbm.net", backend, parent, epochs)


def mean_image_error(folder: Path) -> float:
    """The test images' mean squared difference from the training split's mean image."""
    with np.load(folder / "data.npz") as data:
        x_train, x_test = data["x_train"], data["x_test"]
    return float(np.mean((x_test - x_train.mean(axis=0, keepdims=True)) ** 2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backends", default=",".join(BACKENDS))
    parser.add_argument("--epochs", type=int, help="instead of the spec's 50")
    parser.add_argument("--threads", type=int, help="OMP/TF intra-op threads for every run")
    parser.add_argument("--keep", help="keep the run folders here")
    args = parser.parse_args()
    if args.threads:
        ENV.update(OMP_NUM_THREADS=str(args.threads), TF_NUM_INTRAOP_THREADS=str(args.threads))
    parent = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench_rbm_"))
    try:
        results = [train(b, parent, args.epochs) for b in args.backends.split(",")]
        baseline = mean_image_error(results[0]["folder"])
        print("| backend | epochs | test reconstruction error: epoch 1 / 10 / last | "
              "free energy: train / test | mean image's error | ratio | training s | "
              "process s |")  # fmt: skip
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for r in results:
            m = r["metrics"]
            errors = [e["test_recon_error"] for e in m]
            tenth = errors[min(9, len(errors) - 1)]
            print(
                f"| {r['backend']} | {len(m)} | {errors[0]:.4f} / {tenth:.4f} / "
                f"{errors[-1]:.4f} | {m[-1]['free_energy']:.1f} / {m[-1]['test_free_energy']:.1f}"
                f" | {baseline:.4f} | {errors[-1] / baseline:.3f} | {r['train_seconds']:.1f} | "
                f"{r['process_seconds']:.1f} |"
            )
        if len(results) == 2:
            a, b = (r["metrics"] for r in results)
            keys = ("loss", "recon_error", "free_energy", "test_recon_error", "test_free_energy")
            first = max(abs(a[0][k] - b[0][k]) / max(abs(a[0][k]), 1e-12) for k in keys)
            print(f"largest relative difference of the first epoch's figures: {first:.2g}")
            last = abs(a[-1]["test_recon_error"] - b[-1]["test_recon_error"])
            print(f"last test reconstruction errors differ by {last:.4f}")
    finally:
        if not args.keep:
            shutil.rmtree(parent, ignore_errors=True)


if __name__ == "__main__":
    main()
