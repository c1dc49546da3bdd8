"""Emitted code is pinned: every shipped spec against tests/golden/<backend>/<spec>/."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.regen_golden import GOLDEN, ROOT, emitted

CASES = sorted(
    (backend.name, spec.name)
    for backend in GOLDEN.iterdir()
    if backend.is_dir()
    for spec in backend.iterdir()
)


@pytest.mark.parametrize(("backend", "spec"), CASES)
def test_emitted_code_matches_golden(backend: str, spec: str) -> None:
    files = emitted(backend, ROOT / "specs" / f"{spec}.net")
    folder = GOLDEN / backend / spec
    expected = {p.name: p.read_text(encoding="utf-8") for p in folder.iterdir()}
    assert sorted(files) == sorted(expected)
    for name, text in files.items():
        assert text == expected[name], (
            f"{backend}/{spec}/{name} changed; if intended, run python tests/regen_golden.py"
        )


def test_emission_is_deterministic() -> None:
    first = emitted("torch", ROOT / "specs" / "resnet18.net")
    second = emitted("torch", ROOT / "specs" / "resnet18.net")
    assert first == second


@pytest.mark.skipif(
    shutil.which("ruff") is None and not (ROOT / ".venv/bin/ruff").exists(),
    reason="ruff is part of the test extra",
)
def test_golden_code_is_ruff_clean() -> None:
    ruff = shutil.which("ruff") or str(ROOT / ".venv/bin/ruff")
    py_files = [str(p) for p in GOLDEN.rglob("*.py")]
    assert py_files
    check = subprocess.run([ruff, "check", "--isolated", *py_files], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout
    fmt = subprocess.run(
        [ruff, "format", "--isolated", "--check", *py_files], capture_output=True, text=True
    )
    assert fmt.returncode == 0, fmt.stdout


def test_golden_files_exist_for_every_spec() -> None:
    specs = {p.stem for p in (ROOT / "specs").glob("*.net")}
    assert specs <= {p.name for p in (GOLDEN / "torch").iterdir()}
    assert Path(GOLDEN / "torch" / "lenet5" / "model.py").exists()
