"""The emitted PyTorch training code against idiomatic hand-written PyTorch
(benchmarks/handwritten/). Prints figures; times nothing as a test.

    python benchmarks/bench_torch.py [--rounds 5] [--epochs 10] [--vgg-rounds 3]
        [--e2e-rounds 3] [--skip-lenet] [--skip-vgg] [--skip-e2e] [--threads N]

(a) Training-loop samples/s, emitted train.py / hand-written loop, same model, data.npz,
    optimizer, schedule, augmentation, batch and epochs: LeNet-5 on the digits (--epochs,
    default 10 of the spec's 20; the median of the epochs' samples/s) and VGG-16 on synthetic
    3x224x224 data (--vgg-train samples, batch --vgg-batch, 2 epochs: the second epoch's
    loop, warm).
(b) Whole-process seconds of `specc run specs/lenet5.net` (20 epochs) against a hand-written
    script that prepares the digits and trains the same way, and both test accuracies.
Each comparison runs in interleaved rounds (ABBA); the ratio is the median of the rounds'.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from benchlib import (
    ENV,
    HANDWRITTEN,
    ROOT,
    compile_to,
    end_to_end,
    interleave,
    last_json,
    lenet_loop,
    read_metrics,
    report,
    run,
)

PY = sys.executable


def vgg_loop(work: Path, rounds: int, n_train: int, batch: int) -> float:
    folder = compile_to("specs/vgg16.net", "torch", work / "vgg16", data=False)
    rng = np.random.default_rng(0)
    np.savez(
        folder / "data.npz",
        x_train=rng.standard_normal((n_train, 3, 224, 224), dtype=np.float32),
        y_train=rng.integers(0, 1000, n_train),
        x_test=rng.standard_normal((1, 3, 224, 224), dtype=np.float32),
        y_test=rng.integers(0, 1000, 1),
    )
    common = ["--epochs", "2", "--batch", str(batch)]

    def emitted() -> list[float]:
        command = [PY, "train.py", "--data", "data.npz", "--out", "out", *common]
        run(command + ["--quiet", "--device", "cpu"], cwd=folder)
        return [n_train / read_metrics(folder / "out")[-1]["seconds"]]  # unrounded

    def handwritten() -> list[float]:
        script = str(HANDWRITTEN / "vgg16_torch.py")
        _, out = run([PY, script, "--data", str(folder / "data.npz"), *common])
        return last_json(out)["epoch_samples_per_s"][-1:]

    print(f"(a) VGG-16 training loop, {n_train} samples, batch {batch}, 2nd epoch", flush=True)
    a, b = interleave(rounds, emitted, handwritten)
    return report("VGG-16 loop", "samples/s", a, b, ">= 0.97", higher=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=10, help="LeNet-5 epochs for (a)")
    parser.add_argument("--vgg-train", type=int, default=4, help="VGG-16 training samples")
    parser.add_argument("--vgg-batch", type=int, default=2)
    parser.add_argument("--vgg-rounds", type=int, default=3)
    parser.add_argument("--skip-lenet", action="store_true")
    parser.add_argument("--skip-vgg", action="store_true")
    parser.add_argument("--e2e-rounds", type=int, default=3)
    parser.add_argument("--skip-e2e", action="store_true")
    parser.add_argument("--threads", type=int, help="OMP_NUM_THREADS for every process")
    parser.add_argument("--work", default=str(ROOT / "runs" / "bench_torch"))
    args = parser.parse_args()
    if args.threads:
        ENV["OMP_NUM_THREADS"] = str(args.threads)
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    if not args.skip_lenet:
        lenet_loop(work, args.rounds, args.epochs, "torch", str(HANDWRITTEN / "lenet5_torch.py"))
    if not args.skip_vgg:
        vgg_loop(work, args.vgg_rounds, args.vgg_train, args.vgg_batch)
    if not args.skip_e2e:
        end_to_end(work, args.e2e_rounds, "torch", [PY, str(HANDWRITTEN / "lenet5_torch.py")])


if __name__ == "__main__":
    main()
