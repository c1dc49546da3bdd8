"""specs/vae.net trained by `specc run` on both backends (issue 14, quality bar).
Prints figures; times nothing as a test.

    python benchmarks/bench_vae.py [--backends torch,keras] [--epochs N] [--threads N]
        [--keep DIR]

For each backend, one `specc run specs/vae.net --backend <backend> --quiet` (a dense VAE
with a 2-D latent, Bernoulli likelihood on digits at 28x28, KL warmed up over 10 epochs):
the test ELBO (nats per image) after the first epoch, the tenth (warm-up done) and the last;
the last epoch's test NLL and KL; the seconds. Against it, from the run's own data.npz: the
test NLL of a model that ignores its input, independent Bernoulli pixels with the training
split's mean image as probabilities (what a VAE whose latent carries nothing reaches: KL
0), and the floor no model passes, the test pixels' own entropy.
Targets: the test ELBO rising over the epochs after the warm-up, and well above that
baseline. Then the two backends' epoch-by-epoch figures side by side (same seed, same
canonical initial weights, same data order and the same latents' noise, drawn on the host).
Look at each run's samples.png and latent_map.png (--keep DIR keeps them).
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
    return train_shipped("specs/vae.net", backend, parent, epochs)


def bernoulli_nll(x: np.ndarray, p: np.ndarray) -> float:
    """The mean over images of the Bernoulli NLL of pixels `x` (in [0, 1]) under `p`."""
    p = np.clip(p, 1e-7, 1 - 1e-7)
    nll = -(x * np.log(p) + (1 - x) * np.log(1 - p))
    return float(nll.reshape(len(x), -1).sum(axis=1).mean())


def baselines(folder: Path) -> tuple[float, float]:
    """The test NLL (nats per image) of independent Bernoulli pixels with the training
    split's mean as probabilities, and the floor no model passes: the pixels' own entropy
    (the digits' pixels are grey, not 0 or 1)."""
    with np.load(folder / "data.npz") as data:
        x_train, x_test = data["x_train"], data["x_test"]
    return bernoulli_nll(x_test, x_train.mean(axis=0, keepdims=True)), bernoulli_nll(x_test, x_test)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backends", default=",".join(BACKENDS))
    parser.add_argument("--epochs", type=int, help="instead of the spec's 60")
    parser.add_argument("--threads", type=int, help="OMP/TF intra-op threads for every run")
    parser.add_argument("--keep", help="keep the run folders here")
    args = parser.parse_args()
    if args.threads:
        ENV.update(OMP_NUM_THREADS=str(args.threads), TF_NUM_INTRAOP_THREADS=str(args.threads))
    parent = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench_vae_"))
    try:
        results = [train(b, parent, args.epochs) for b in args.backends.split(",")]
        baseline, floor = baselines(results[0]["folder"])
        print("| backend | epochs | test ELBO: epoch 1 / 10 / last | last test NLL / KL | "
              "rising after warm-up | mean-image NLL | training s | process s |")  # fmt: skip
        print("| --- | ---: | ---: | ---: | --- | ---: | ---: | ---: |")
        for r in results:
            m = r["metrics"]
            elbo = [e["test_elbo"] for e in m]
            tenth = elbo[min(9, len(elbo) - 1)]
            rising = elbo[-1] > tenth
            print(
                f"| {r['backend']} | {len(m)} | {elbo[0]:.1f} / {tenth:.1f} / {elbo[-1]:.1f} | "
                f"{m[-1]['test_nll']:.1f} / {m[-1]['test_kl']:.2f} | "
                f"{'yes' if rising else 'NO'} | {baseline:.1f} | {r['train_seconds']:.1f} | "
                f"{r['process_seconds']:.1f} |"
            )
        if len(results) == 2:
            a, b = (r["metrics"] for r in results)
            keys = ("loss", "test_nll", "test_kl", "test_elbo")
            worst = max(
                abs(x[key] - y[key]) / max(abs(x[key]), 1e-12)
                for x, y in zip(a, b, strict=True)
                for key in keys
            )
            print(f"largest relative difference of an epoch's figure across backends: {worst:.2g}")
            print(f"last test ELBO: {a[-1]['test_elbo']:.3f} and {b[-1]['test_elbo']:.3f}")
        print(f"the test pixels' own entropy (the NLL floor): {floor:.1f} nats per image")
    finally:
        if not args.keep:
            shutil.rmtree(parent, ignore_errors=True)


if __name__ == "__main__":
    main()
