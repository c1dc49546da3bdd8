"""What augmentation costs (issue 15): each transform of the emitted runtime.py alone, and
LeNet-5 trained with and without augmentation. Prints figures; times nothing as a test.

    python benchmarks/bench_augment.py [--backend torch] [--epochs 3] [--threads N]

1. Each transform on batches of 128 images, [1, 28, 28] and [3, 32, 32]: samples per second
   on one core (NumPy on the host, as runtime.py runs it between the training steps).
2. `specc run` of specs/lenet5.net without augmentation and with `augment =
   [random_rotation(10), random_translation(0.1), random_erasing()]`: training samples per
   second from each run's summary, and their ratio (the target: augmentation is not the
   bottleneck, the ratio stays near 1).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
from benchlib import ENV, ROOT, SPECC, run

from specc.backends import get_backend
from specc.compiler import compile_source

TRANSFORMS = [
    "random_flip",
    "random_crop(4)",
    "random_crop(4, fill=reflect)",
    "random_rotation(15)",
    "random_translation(0.1)",
    "random_zoom(0.1)",
    "random_shear(10)",
    "random_brightness(0.2)",
    "random_contrast(0.2)",
    "random_erasing()",
]
SPEC = """model M {{
  input image: {shape}
  flatten -> dense(2)
}}
train M {{
  data = synthetic(n=8, classes=2)
  augment = [{augment}]
}}
"""
AUGMENT = "random_rotation(10), random_translation(0.1), random_erasing()"


def runtime_with(augment: str, shape: list[int], folder: Path):
    result = compile_source(SPEC.format(shape=shape, augment=augment), "bench.net")
    assert result.spec is not None
    path = folder / "runtime.py"
    path.write_text(get_backend("torch").emit(result.spec, result.source.text)["runtime.py"])
    spec = importlib.util.spec_from_file_location(f"rt_{abs(hash(augment))}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def transform_rates(folder: Path) -> None:
    print("| transform | [1, 28, 28] samples/s | [3, 32, 32] samples/s |")
    print("| --- | ---: | ---: |")
    for augment in TRANSFORMS:
        rates = []
        for shape in ([1, 28, 28], [3, 32, 32]):
            runtime = runtime_with(augment, shape, folder)
            images = np.random.default_rng(0).standard_normal((128, *shape)).astype(np.float32)
            rng = runtime.augment_rng(0, 1)
            runtime.augment(images, rng)  # warm-up
            t0, rounds = time.perf_counter(), 20
            for _ in range(rounds):
                runtime.augment(images, rng)
            rates.append(128 * rounds / (time.perf_counter() - t0))
        print(f"| `{augment}` | {rates[0]:,.0f} | {rates[1]:,.0f} |")


def training_rates(backend: str, epochs: int, folder: Path) -> None:
    lines = (ROOT / "specs" / "lenet5.net").read_text(encoding="utf-8").splitlines()
    plain = folder / "lenet5_plain.net"
    plain.write_text("\n".join(line for line in lines if "augment" not in line) + "\n")
    augmented = folder / "lenet5_augmented.net"
    changed = [f"  augment   = [{AUGMENT}]" if "augment" in line else line for line in lines]
    augmented.write_text("\n".join(changed) + "\n")
    rates = {}
    for name, path in (("plain", plain), ("augmented", augmented)):
        out = folder / name.replace(" ", "_")
        command = [SPECC, "run", str(path), "--backend", backend, "--epochs", str(epochs)]
        run([*command, "--out", str(out), "--quiet"])
        (run_dir,) = list(out.iterdir())
        summary = json.loads((run_dir / "summary.json").read_text())
        rates[name] = summary["samples_per_s"]
    print(f"LeNet-5 on {backend}, {epochs} epochs: {rates['plain']:,.0f} samples/s without "
          f"augmentation, {rates['augmented']:,.0f} with [{AUGMENT}]: ratio "
          f"{rates['augmented'] / rates['plain']:.3f}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", default="torch")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--threads", type=int, help="OMP/TF intra-op threads for the runs")
    args = parser.parse_args()
    if args.threads:
        ENV.update(OMP_NUM_THREADS=str(args.threads), TF_NUM_INTRAOP_THREADS=str(args.threads))
    folder = Path(tempfile.mkdtemp(prefix="bench_augment_"))
    try:
        transform_rates(folder)
        training_rates(args.backend, args.epochs, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
