"""The emitted Keras training code against idiomatic hand-written Keras
(benchmarks/handwritten/lenet5_keras.py). Prints figures; times nothing as a test.

    python benchmarks/bench_keras.py [--rounds 5] [--epochs 10] [--e2e-rounds 3] [--skip-e2e]

(a) Training-loop samples/s, emitted train.py / hand-written loop (a tf.function step with
    Keras's Adam and metrics, channels-last data), same model, data.npz, schedule, NumPy
    random-crop augmentation, batch and epochs: LeNet-5 on the digits (--epochs, default 10
    of the spec's 20; the median of the epochs' samples/s).
(b) Whole-process seconds of `specc run specs/lenet5.net --backend keras` (20 epochs) against
    a hand-written script that prepares the digits and trains the same way, and both test
    accuracies.
Each comparison runs in interleaved rounds (ABBA); the ratio is the median of the rounds'.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from benchlib import (
    HANDWRITTEN,
    ROOT,
    end_to_end,
    lenet_loop,
)

PY = sys.executable
SCRIPT = str(HANDWRITTEN / "lenet5_keras.py")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=10, help="LeNet-5 epochs for (a)")
    parser.add_argument("--skip-loop", action="store_true")
    parser.add_argument("--e2e-rounds", type=int, default=3)
    parser.add_argument("--skip-e2e", action="store_true")
    parser.add_argument("--work", default=str(ROOT / "runs" / "bench_keras"))
    args = parser.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    if not args.skip_loop:
        lenet_loop(work, args.rounds, args.epochs, "keras", SCRIPT)
    if not args.skip_e2e:
        end_to_end(work, args.e2e_rounds, "keras", [PY, SCRIPT])


if __name__ == "__main__":
    main()
