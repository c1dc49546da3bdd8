"""Golden diagnostics: each tests/errors/<case>.net renders exactly its <case>.stderr.

Regenerate with `python tests/regen_errors.py` after a deliberate change; never hand-edit."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

from specc.compiler import compile_source

ERRORS = Path(__file__).resolve().parent / "errors"
_spec = importlib.util.spec_from_file_location("regen_errors", ERRORS.parent / "regen_errors.py")
assert _spec is not None and _spec.loader is not None
regen = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(regen)

CASES = regen.cases()


def test_there_are_enough_cases() -> None:
    assert len(CASES) >= 25


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_rendered_diagnostics_match_golden(case: Path) -> None:
    golden = case.with_suffix(".stderr")
    assert golden.exists(), f"run `python tests/regen_errors.py` to create {golden.name}"
    assert regen.rendered(case) == golden.read_text(encoding="utf-8")


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_messages_read_well(case: Path) -> None:
    result = compile_source(case.read_text(encoding="utf-8"), case.name)
    assert result.diagnostics, "a broken spec must produce a diagnostic"
    for d in result.diagnostics:
        assert d.span is not None
        assert d.help, f"{d.code} has no help"
        assert d.message[0].islower() or d.message[0] == "`", d.message
        assert not d.message.endswith("."), d.message
        assert "Error" not in d.message and "Traceback" not in d.message
        assert re.fullmatch(r"[EW]\d{4}", d.code)
        assert "'" not in d.message.replace("'s ", ""), f"python quoting leaked: {d.message}"


def test_one_error_per_mistake() -> None:
    """Every case has one mistake and one error, except the case made of two."""
    for case in CASES:
        result = compile_source(case.read_text(encoding="utf-8"), case.name)
        errors = [d for d in result.diagnostics if d.is_error]
        expected = 2 if case.stem == "two_errors" else (0 if _is_warning_case(case) else 1)
        assert len(errors) == expected, (case.stem, [d.message for d in errors])


def _is_warning_case(case: Path) -> bool:
    return case.stem in {"softmax_before_cross_entropy", "unused_binding"}


def test_warning_cases_still_compile() -> None:
    for stem in ("softmax_before_cross_entropy", "unused_binding"):
        result = compile_source((ERRORS / f"{stem}.net").read_text(encoding="utf-8"))
        assert result.ok
        assert [d.severity.value for d in result.diagnostics] == ["warning"]
