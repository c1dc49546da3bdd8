"""Transfer learning on the digits (issue 15): the README's table. For each backend and seed,
`specc run` of specs/digits_base.net (digits 0-4), then specs/transfer_digits.net (digits 5-9
from 5 samples each, starting from the base run's convolutions) and specs/scratch_digits.net
(the same network and samples from fresh weights); prints each run's test accuracy and the
mean gain of the transfer. Times nothing as a test.

    python benchmarks/bench_transfer.py [--backends torch keras] [--seeds 0 1 2]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import ROOT, SPECC, run  # noqa: E402

SPECS = ("digits_base", "transfer_digits", "scratch_digits")


def accuracy(folder: Path) -> float:
    (run_dir,) = [p for p in folder.iterdir() if p.is_dir()]
    return float(json.loads((run_dir / "summary.json").read_text())["test_accuracy"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backends", nargs="+", default=["torch", "keras"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    args = parser.parse_args()
    print("| backend | seed | source (0-4) | transferred (5-9) | from scratch (5-9) |")
    print("| --- | ---: | ---: | ---: | ---: |")
    gains: dict[str, list[float]] = {b: [] for b in args.backends}
    for backend in args.backends:
        for seed in args.seeds:
            with tempfile.TemporaryDirectory(prefix="bench-transfer-") as tmp:
                work = Path(tmp)  # the transfer spec reads runs/DigitsBase-* from here
                found = {}
                for name in SPECS:
                    # the source's run folder goes where the transfer's `init` glob looks
                    out = work / "runs" / ("" if name == "digits_base" else name)
                    spec = str(ROOT / "specs" / f"{name}.net")
                    command = [SPECC, "run", spec, "--backend", backend, "--seed", str(seed)]
                    run([*command, "--out", str(out), "--quiet"], cwd=work)
                    found[name] = _base(out) if name == "digits_base" else accuracy(out)
            gains[backend].append(found["transfer_digits"] - found["scratch_digits"])
            print(
                f"| {backend} | {seed} | {found['digits_base']:.4f} | "
                f"{found['transfer_digits']:.4f} | {found['scratch_digits']:.4f} |",
                flush=True,
            )
    for backend, values in gains.items():
        print(f"{backend}: transfer - scratch, mean over seeds {statistics.mean(values):+.4f}")


def _base(folder: Path) -> float:
    (run_dir,) = [p for p in folder.iterdir() if p.name.startswith("DigitsBase-")]
    return float(json.loads((run_dir / "summary.json").read_text())["test_accuracy"])


if __name__ == "__main__":
    main()
