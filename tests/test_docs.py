"""docs/language.md: every ```net example compiles, and every layer kind is documented."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from specc.compiler import compile_source
from specc.layers import REGISTRY

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "language.md"
TEXT = DOC.read_text(encoding="utf-8")
BLOCKS = re.findall(r"^```net( fragment)?\n(.*?)^```", TEXT, re.M | re.S)
EXAMPLES = [body for fragment, body in BLOCKS if not fragment]


def test_there_are_examples() -> None:
    assert len(EXAMPLES) >= 6


@pytest.mark.parametrize("example", EXAMPLES, ids=[f"example{i}" for i in range(len(EXAMPLES))])
def test_example_compiles(example: str) -> None:
    result = compile_source(example, "docs/language.md")
    errors = [f"{d.code} {d.message}" for d in result.diagnostics if d.is_error]
    assert not errors
    assert result.ok


def test_every_layer_is_documented() -> None:
    for op in REGISTRY:
        assert f"#### `{op}`" in TEXT, f"`{op}` is missing from docs/language.md"


def test_layer_tables_are_up_to_date() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "docs" / "gen_layers.py"), "--check"],
        capture_output=True, text=True, cwd=ROOT, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_documented_training_keys_exist() -> None:
    from specc.ir.train_config import Gan, Supervised

    for key in Supervised.model_fields:
        if key not in ("kind", "model"):
            assert f"`{key}`" in TEXT, key
    for key in Gan.model_fields:
        if key not in ("kind", "name"):
            assert f"`{key}`" in TEXT, key
