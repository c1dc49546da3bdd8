"""Helpers for tests that import emitted code."""

from __future__ import annotations

import importlib.util
import itertools
import sys
from pathlib import Path
from types import ModuleType

from specc.backends import get_backend
from specc.compiler import compile_file, compile_source

_counter = itertools.count()


def compile_spec(text_or_path: str, *, is_path: bool = False):
    result = compile_file(text_or_path) if is_path else compile_source(text_or_path, "test.net")
    assert result.spec is not None, [d.message for d in result.diagnostics]
    return result


def import_emitted(
    backend: str, spec_text_or_path: str, folder: Path, *, is_path: bool = False
) -> ModuleType:
    """Emit a spec's model.py into `folder` and import it under a unique module name."""
    result = compile_spec(spec_text_or_path, is_path=is_path)
    files = get_backend(backend).emit(result.spec, result.source.text)
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    name = f"emitted_{backend}_{next(_counter)}"
    spec = importlib.util.spec_from_file_location(name, folder / "model.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
