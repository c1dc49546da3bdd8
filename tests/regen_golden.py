"""Rewrite the golden files of emitted code: `python tests/regen_golden.py`.

Never edit files under tests/golden/ by hand; a change to emitted code shows in their diff."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from specc.backends import BackendError, get_backend  # noqa: E402
from specc.compiler import compile_file  # noqa: E402

GOLDEN = ROOT / "tests" / "golden"
BACKENDS = ("torch", "keras")


def golden_specs() -> list[Path]:
    """The shipped specs and the layer catalogue's (tests/layer_specs/): every layer kind has
    golden code on every backend. A golden folder is named by its spec's file stem."""
    specs = sorted((ROOT / "specs").glob("*.net")) + sorted(
        (ROOT / "tests" / "layer_specs").glob("*.net")
    )
    stems = [p.stem for p in specs]
    assert len(set(stems)) == len(stems), f"two golden specs share a name: {stems}"
    return specs


def spec_of(stem: str) -> Path:
    return next(p for p in golden_specs() if p.stem == stem)


def emitted(backend: str, spec: Path) -> dict[str, str]:
    result = compile_file(str(spec.relative_to(ROOT)))
    assert result.spec is not None, spec
    try:
        return get_backend(backend).emit(result.spec, result.source.text)
    except BackendError as err:
        return {"error.txt": err.diagnostic.message + "\n"}


def main() -> None:
    for backend in BACKENDS:
        try:
            get_backend(backend)
        except Exception:  # a backend not built yet
            continue
        for spec in golden_specs():
            folder = GOLDEN / backend / spec.stem
            folder.mkdir(parents=True, exist_ok=True)
            for old in folder.iterdir():
                old.unlink()
            for name, text in emitted(backend, spec).items():
                (folder / name).write_text(text, encoding="utf-8")
            print(f"wrote {folder.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
