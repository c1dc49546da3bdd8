"""GAN quality: train specs/dcgan.net, then let a LeNet-5 trained on the real digits classify
the generated samples. Prints the judge's test accuracy, the mean top-class confidence on
generated samples, the spread of predicted classes (a collapsed generator shows up as one
class) and the CPU time taken.

    python benchmarks/bench_gan.py [--backend torch|keras] [--epochs N] [--samples 1000]
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from specc.tools.emitted_code import load_module

ROOT = Path(__file__).resolve().parent.parent


def specc_run(spec: Path, out: Path, *extra: str) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    before = set(out.iterdir())
    subprocess.run(
        [sys.executable, "-m", "specc.cli", "run", str(spec), "--out", str(out), "--quiet", *extra],
        check=True,
        cwd=ROOT,
    )
    (run,) = set(out.iterdir()) - before
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", default="torch", choices=["torch", "keras"])
    parser.add_argument("--epochs", type=int, default=None, help="default: the spec's")
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--out", default=str(ROOT / "runs" / "bench_gan"))
    args = parser.parse_args()
    out = Path(args.out)

    began = time.perf_counter()
    extra = ["--backend", args.backend] + (["--epochs", str(args.epochs)] if args.epochs else [])
    gan_run = specc_run(ROOT / "specs" / "dcgan.net", out / "gan", *extra)
    gan_seconds = time.perf_counter() - began
    t0 = time.perf_counter()
    judge_run = specc_run(ROOT / "benchmarks" / "specs" / "digits28_classifier.net", out / "judge")
    judge_seconds = time.perf_counter() - t0
    judge_accuracy = json.loads((judge_run / "summary.json").read_text())["test_accuracy"]

    # The judge runs on PyTorch whatever the GAN's backend: weights are canonical.
    import torch

    from specc.ir.train_config import Digits
    from specc.tools import datasets

    judge_module = load_module(judge_run / "model.py", "judge_model")
    judge = judge_module.Judge().eval()
    judge_module.load_canonical(judge, str(judge_run / "weights.safetensors"))
    torch_gan = gan_run
    if args.backend != "torch":  # load the canonical generator into the PyTorch model
        subprocess.run(
            [
                sys.executable,
                "-m",
                "specc.cli",
                "compile",
                str(ROOT / "specs" / "dcgan.net"),
                "-o",
                str(out / "torch_models"),
            ],
            check=True,
            cwd=ROOT,
            capture_output=True,
        )
        torch_gan = out / "torch_models"
    models = load_module(torch_gan / "model.py", "gan_models")
    gen = models.Generator().eval()
    models.load_canonical(gen, str(gan_run / "generator.safetensors"))

    # Generated images live in [-1, 1]: map them back to the judge's normalised scale (the
    # inverse of the min-max scaling specc run applies to GAN data).
    real = datasets.load(Digits(size=28), (1, 28, 28))
    low, high = float(real.x_train.min()), float(real.x_train.max())
    torch.manual_seed(1)
    with torch.no_grad():
        fake = gen(torch.randn(args.samples, 100))
        normalised = (fake + 1) / 2 * (high - low) + low
        probs = torch.softmax(judge(normalised), dim=1).numpy()
        real_probs = torch.softmax(judge(torch.from_numpy(real.x_test)), dim=1).numpy()
    top = probs.max(axis=1)
    counts = np.bincount(probs.argmax(axis=1), minlength=10)
    share = counts / counts.sum()
    entropy = -sum(p * math.log(p) for p in share if p > 0) / math.log(10)
    metrics = [json.loads(x) for x in (gan_run / "metrics.jsonl").read_text().splitlines()]
    print(f"backend: {args.backend}; epochs: {len(metrics)}; samples judged: {args.samples}")
    print(f"GAN training: {gan_seconds:.1f} s on CPU; judge training: {judge_seconds:.1f} s")
    print(f"judge test accuracy on real digits: {judge_accuracy:.4f}")
    print(
        f"mean top-class confidence: generated {top.mean():.3f}, "
        f"real test digits {real_probs.max(axis=1).mean():.3f}"
    )
    print(
        "predicted classes of generated samples: "
        + " ".join(f"{d}:{c}" for d, c in enumerate(counts))
    )
    print(
        f"class spread (normalised entropy, 1 = uniform, 0 = one class): {entropy:.3f}; "
        f"largest class share {share.max():.3f}"
    )
    print(f"final grid: {sorted((gan_run / 'samples').glob('*.png'))[-1]}")


if __name__ == "__main__":
    main()
