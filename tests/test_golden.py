"""Emitted code is pinned: every shipped spec and layer-catalogue spec (tests/layer_specs/)
against tests/golden/<backend>/<spec>/."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from specc.backends import get_backend
from specc.compiler import compile_file
from tests.regen_golden import BACKENDS, GOLDEN, ROOT, emitted, golden_specs, spec_of

CASES = sorted(
    (backend.name, spec.name)
    for backend in GOLDEN.iterdir()
    if backend.is_dir()
    for spec in backend.iterdir()
)


@pytest.mark.parametrize(("backend", "spec"), CASES)
def test_emitted_code_matches_golden(backend: str, spec: str) -> None:
    files = emitted(backend, spec_of(spec))
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


# `specc compile` of several specs in one process: argv is OUT BACKEND/SPEC...
EMIT_ALL = """
import sys
from specc.cli import main
out = sys.argv[1]
for case in sys.argv[2:]:
    backend, spec = case.split("/")
    argv = ["compile", f"specs/{spec}.net", "--backend", backend, "-o", f"{out}/{case}"]
    assert main(argv) == 0, argv
"""


def test_emission_does_not_depend_on_the_hash_seed(tmp_path: Path) -> None:
    """The order of sets of strings changes with PYTHONHASHSEED from one process to the next;
    the emitted files must not."""
    cases = [
        f"{backend}/{spec}" for backend in BACKENDS for spec in ("lenet5", "dcgan", "resnet18")
    ]
    trees = []
    for seed in ("0", "12345"):
        out = tmp_path / seed
        proc = subprocess.run(
            [sys.executable, "-c", EMIT_ALL, str(out), *cases],
            cwd=ROOT,
            env={**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)},
            capture_output=True,
            text=True,
        )
        assert proc.returncode == 0, proc.stderr
        files = sorted(p for p in out.rglob("*") if p.is_file())
        trees.append({p.relative_to(out).as_posix(): p.read_bytes() for p in files})
    first, second = trees
    assert {name.rpartition("/")[0] for name in first} == set(cases)
    assert sorted(first) == sorted(second)
    assert [name for name in sorted(first) if first[name] != second[name]] == []


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
    specs = {p.stem for p in golden_specs()}
    for backend in BACKENDS:
        folders = {p.name for p in (GOLDEN / backend).iterdir()}
        assert sorted(specs - folders) == [], f"specs without golden code for {backend}"
        assert sorted(folders - specs) == [], f"golden folders of no spec for {backend}"
        for stem in specs:
            assert (GOLDEN / backend / stem / "model.py").exists(), (backend, stem)


def _with_long_names(text: str) -> str:
    """The spec with every model named 40 characters longer: the lines that carry a model's
    name (class and builder names, imports, summaries) must still wrap as ruff wraps them."""
    names = re.findall(r"^model (\w+)", text, re.M)
    for name in sorted(names, key=len, reverse=True):
        long = name + "Named" + "X" * 35
        text = re.sub(rf"\b{name}\b", long, text)
    return text


@pytest.mark.skipif(
    shutil.which("ruff") is None and not (ROOT / ".venv/bin/ruff").exists(),
    reason="ruff is part of the test extra",
)
def test_emitted_code_with_long_names_is_ruff_formatted(tmp_path: Path) -> None:
    """specc/backends/codefmt.py wraps lines itself (no formatter runs at compile time, so
    emitted code never depends on which ruff is installed): beyond the goldens, its output
    must be what `ruff format` writes on code whose lines are all pushed past the limit."""
    ruff = shutil.which("ruff") or str(ROOT / ".venv/bin/ruff")
    for spec in golden_specs():
        source = tmp_path / spec.name
        source.write_text(_with_long_names(spec.read_text(encoding="utf-8")), encoding="utf-8")
        for backend in BACKENDS:
            result = compile_file(str(source))
            assert result.spec is not None, (spec, result.diagnostics)
            for name, body in get_backend(backend).emit(result.spec, result.source.text).items():
                (tmp_path / f"{backend}_{spec.stem}_{name}").write_text(body, encoding="utf-8")
    py_files = [str(p) for p in tmp_path.glob("*.py")]
    assert len(py_files) > 2 * len(golden_specs())
    check = subprocess.run([ruff, "check", "--isolated", *py_files], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout
    fmt = subprocess.run(
        [ruff, "format", "--isolated", "--diff", *py_files], capture_output=True, text=True
    )
    assert fmt.returncode == 0, fmt.stdout[-6000:] + fmt.stderr[-2000:]
