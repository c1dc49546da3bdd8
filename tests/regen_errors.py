"""Rewrite tests/errors/<case>.stderr from tests/errors/<case>.net.

The .stderr files are golden outputs: never edit them by hand. Run

    python tests/regen_errors.py

after a deliberate change to a message, and review the diff."""

from __future__ import annotations

import sys
from pathlib import Path

from specc.compiler import compile_source
from specc.diagnostics import render_all

ERRORS = Path(__file__).resolve().parent / "errors"


def rendered(case: Path) -> str:
    """What `specc check` prints for one broken spec, without color."""
    text = case.read_text(encoding="utf-8")
    result = compile_source(text, f"{case.name}")
    return render_all(result.diagnostics, result.source, color=False) + "\n"


def cases() -> list[Path]:
    return sorted(ERRORS.glob("*.net"))


def main() -> int:
    for case in cases():
        case.with_suffix(".stderr").write_text(rendered(case), encoding="utf-8")
    for stale in ERRORS.glob("*.stderr"):
        if not stale.with_suffix(".net").exists():
            stale.unlink()
    print(f"wrote {len(cases())} files to {ERRORS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
