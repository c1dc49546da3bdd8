"""Where the grammar and the templates live: beside the package in a checkout, inside it in a
wheel (the build copies them to specc/_bundled/)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


@cache
def root(name: str) -> Path:
    """The folder `grammar` or `templates`, from a checkout or an installed wheel."""
    for candidate in (_PACKAGE.parent / name, _PACKAGE / "_bundled" / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"specc installation is missing its `{name}/` folder")


def grammar_path() -> Path:
    return root("grammar") / "specc.lark"


def templates_dir() -> Path:
    return root("templates")
