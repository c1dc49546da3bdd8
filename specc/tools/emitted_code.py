"""Importing emitted code (model.py, train.py) from a folder, for the worker processes of
`specc verify` and `specc weights convert`."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType


def load_module(path: str | Path, name: str) -> ModuleType:
    """Import the file at `path` as module `name`; its folder goes first on sys.path, so that
    train.py's `from model import ...` finds the model.py beside it."""
    sys.path.insert(0, str(Path(path).parent))
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
