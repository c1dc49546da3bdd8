"""How long `specc check` takes.

(a) whole-process `specc check specs/vgg16.net` against `python -c pass` (median of 5);
(b) generated specs of 500, 5,000 and 50,000 layers, written out (dense/relu chains, no
    `repeat`): in-process `compile_source` time and whole-process `specc check` time.

    python benchmarks/bench_check.py
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from specc.compiler import compile_source

ROOT = Path(__file__).resolve().parents[1]
RUNS = 5


def wall(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=False, capture_output=True, cwd=ROOT)
    return time.perf_counter() - start


def median_wall(cmd: list[str], runs: int = RUNS) -> float:
    return statistics.median(wall(cmd) for _ in range(runs))


def chain(layers: int) -> str:
    lines = ["model Chain {", "  input x: [64]"]
    lines += [f"  dense({32 + i % 32}) -> relu" for i in range(layers // 2)]
    lines += ["}", ""]
    return "\n".join(lines)


def main() -> int:
    specc = [sys.executable, "-m", "specc.cli", "check"]
    base = median_wall([sys.executable, "-c", "pass"])
    vgg = median_wall([*specc, "specs/vgg16.net"])
    print(
        f"(a) specc check specs/vgg16.net: {vgg * 1000:.0f} ms; python -c pass: "
        f"{base * 1000:.0f} ms; ratio {vgg / base:.1f}x (median of {RUNS})"
    )
    print("(b) layers  in-process compile_source  whole-process specc check")
    with tempfile.TemporaryDirectory() as tmp:
        for layers in (500, 5_000, 50_000):
            text = chain(layers)
            compile_source(text)  # warm the parser cache
            runs = 3 if layers >= 50_000 else RUNS
            times = []
            for _ in range(runs):
                start = time.perf_counter()
                result = compile_source(text)
                times.append(time.perf_counter() - start)
            assert result.ok and len(result.spec.models[0].layers) == layers
            path = Path(tmp) / f"chain{layers}.net"
            path.write_text(text, encoding="utf-8")
            whole = median_wall([*specc, str(path)], runs)
            print(
                f"    {layers:>6,}  {statistics.median(times) * 1000:>10.0f} ms"
                f"             {whole * 1000:>10.0f} ms"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
