"""specs/autoencoder.net trained by `specc run` on both backends (issue 14, quality bar).
Prints figures; times nothing as a test.

    python benchmarks/bench_autoencoder.py [--backends torch,keras] [--epochs N]
        [--threads N] [--keep DIR]

For each backend, one `specc run specs/autoencoder.net --backend <backend> --quiet` (a
denoising dense autoencoder, code of 32, MSE on pixels in [0, 1]): the first and last epochs'
training loss, the test reconstruction MSE (the test loss: clean test images), and the
seconds. Against it, from the run's own data.npz: the test MSE of predicting the training
mean image for every test image, and of predicting zeros. Target: the reconstruction MSE well
below (here: under a fifth of) the mean image's. Then the two backends' epoch-by-epoch losses
side by side (same seed, same canonical initial weights, same data order and noise): they
differ by floating-point rounding and each framework's kernels only.
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
    return train_shipped("specs/autoencoder.net", backend, parent, epochs)


def baselines(folder: Path) -> dict[str, float]:
    with np.load(folder / "data.npz") as data:
        x_train, x_test = data["x_train"], data["x_test"]
    mean = x_train.mean(axis=0, keepdims=True)
    return {
        "mean image": float(np.mean((x_test - mean) ** 2)),
        "zeros": float(np.mean(x_test**2)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backends", default=",".join(BACKENDS))
    parser.add_argument("--epochs", type=int, help="instead of the spec's 30")
    parser.add_argument("--threads", type=int, help="OMP/TF intra-op threads for every run")
    parser.add_argument("--keep", help="keep the run folders here")
    args = parser.parse_args()
    if args.threads:
        ENV.update(OMP_NUM_THREADS=str(args.threads), TF_NUM_INTRAOP_THREADS=str(args.threads))
    parent = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench_ae_"))
    try:
        results = [train(b, parent, args.epochs) for b in args.backends.split(",")]
        base = baselines(results[0]["folder"])
        print("| backend | epochs | first / last training loss | test MSE | mean image | "
              "ratio | target (< 0.2) | training s | process s |")  # fmt: skip
        print("| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: |")
        for r in results:
            m = r["metrics"]
            ratio = r["summary"]["test_loss"] / base["mean image"]
            print(
                f"| {r['backend']} | {len(m)} | {m[0]['loss']:.4f} / {m[-1]['loss']:.4f} | "
                f"{r['summary']['test_loss']:.5f} | {base['mean image']:.5f} | {ratio:.3f} | "
                f"{'met' if ratio < 0.2 else 'MISSED'} | {r['train_seconds']:.1f} | "
                f"{r['process_seconds']:.1f} |"
            )
        print(f"baselines on the test split: {base}")
        if len(results) == 2:
            a, b = (r["metrics"] for r in results)
            worst = max(
                abs(x[key] - y[key]) / max(abs(x[key]), 1e-12)
                for x, y in zip(a, b, strict=True)
                for key in ("loss", "test_loss")
            )
            print(f"largest relative difference of an epoch's loss across backends: {worst:.2g}")
    finally:
        if not args.keep:
            shutil.rmtree(parent, ignore_errors=True)


if __name__ == "__main__":
    main()
