"""Hostile input, refused cleanly (issue 18): nested repeats bounded before they run, many
diagnostics kept linear and capped on screen, files that are no spec refused before reading,
spec paths and strings that cannot break emitted code or the terminal."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from specc.backends import get_backend
from specc.compiler import MAX_SPEC_BYTES, SpecFileError, compile_file, compile_source, read_spec
from specc.diagnostics import Diagnostic, Diagnostics, printable, render

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
SMALL = (
    "model M {\n  input x: [4]\n  dense(2)\n}\ntrain M {\n  data = synthetic(n=8, classes=2)\n}\n"
)


@pytest.mark.parametrize(
    "body",
    [
        "repeat 100000 { repeat 100000 { input } }",  # 82 bytes that ran for hours
        "repeat 199999 { repeat 199999 { } }",  # bodies that make no layers count too
        "repeat 1000 { repeat 1000 { repeat 1000 { dense(4) } } }",
    ],
)
def test_nested_repeats_are_bounded_before_they_run(body: str) -> None:
    result = compile_source(f"model M {{\n  input x: [4]\n  {body}\n}}\n", "t.net")
    (error,) = [d for d in result.diagnostics if d.code == "E0406"]
    assert "inside other repeats" in error.message and "times" in error.message
    ok = compile_source("model M {\n  input x: [4]\n  repeat 3 { repeat 4 { dense(4) } }\n}\n")
    assert ok.ok and len(ok.spec.models[0].layers) == 12  # type: ignore[union-attr]


def test_diagnostics_are_kept_once_per_place_and_capped_on_screen(tmp_path: Path) -> None:
    diags = Diagnostics()
    for _ in range(3):
        diags.add(Diagnostic("E0001", "same", None))
    diags.add(Diagnostic("E0001", "other", None))
    assert [d.message for d in diags.items] == ["same", "other"]
    spec = tmp_path / "many.net"
    lines = "".join(f"  bogus{i % 7}(3)\n" for i in range(120))
    spec.write_text(f"model M {{\n  input x: [4]\n{lines}}}\n")
    done = subprocess.run(
        [sys.executable, "-m", "specc.cli", "check", str(spec)],
        capture_output=True, text=True, env=ENV, timeout=120,
    )  # fmt: skip
    assert done.returncode == 1
    assert done.stderr.count("error[E") == 50, done.stderr[-500:]
    assert "... and 70 more diagnostics" in done.stderr
    assert done.stderr.rstrip().endswith("120 errors")


def test_files_that_are_no_spec_are_refused_before_reading(tmp_path: Path) -> None:
    with pytest.raises(SpecFileError, match="not a regular file"):
        read_spec("/dev/zero")  # would grow to gigabytes if read
    with pytest.raises(IsADirectoryError):
        read_spec(str(tmp_path))
    fifo = tmp_path / "pipe.net"
    os.mkfifo(fifo)
    with pytest.raises(SpecFileError, match="not a regular file"):
        read_spec(str(fifo))  # would block forever if opened
    big = tmp_path / "big.net"
    big.write_text("#" * (MAX_SPEC_BYTES + 1))
    with pytest.raises(SpecFileError, match="a spec may be at most 4 MiB"):
        read_spec(str(big))
    bom = tmp_path / "bom.net"
    bom.write_bytes(b"\xef\xbb\xbf" + SMALL.encode())
    assert compile_file(str(bom)).ok
    done = subprocess.run(
        [sys.executable, "-m", "specc.cli", "check", "/dev/zero"],
        capture_output=True, text=True, env=ENV, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "/dev/zero is not a regular file" in done.stderr


@pytest.mark.parametrize(
    "name",
    [
        'a"""b.net',
        "C:\\Users\\me.net",
        "x\\N{y}\\u12\\x4.net",
        "q'\"\\'.net",
        'e"""\nimport os\n"""',
    ],
)
def test_hostile_spec_paths_cannot_break_emitted_code(name: str) -> None:
    """The path reaches emitted docstrings escaped: every file parses, and nothing is placed
    as a statement (a crafted name cannot import anything)."""
    result = compile_source(SMALL, name)
    assert result.spec is not None
    for backend in ("torch", "keras"):
        for file, text in get_backend(backend).emit(result.spec, SMALL).items():
            if not file.endswith(".py"):
                continue
            tree = ast.parse(text, file)  # a SyntaxError fails the test
            # the path is data: the module's docstring holds it exactly, escapes undone
            assert name in (ast.get_docstring(tree, clean=False) or ""), (backend, file)


def test_control_characters_in_a_spec_are_shown_escaped() -> None:
    text = 'model M {\n  input x: [4]\n  dense(4) -> gelu(approximate="\x1b]0;title\x07")\n}\n'
    result = compile_source(text, "t.net")
    shown = "\n".join(render(d, result.source) for d in result.diagnostics)
    assert result.diagnostics and "\x1b" not in shown and "\x07" not in shown
    assert "\\x1b]0;title\\x07" in shown
    assert printable("tab\tkept") == "tab\tkept"
    # the carets stay under the argument, the escapes counted in their width
    lines = shown.splitlines()
    source_line = next(line for line in lines if "gelu(" in line)
    caret = lines[lines.index(source_line) + 1]
    argument = 'approximate="\\x1b]0;title\\x07"'
    assert caret.index("^") == source_line.index(argument)
    assert caret.count("^") == len(argument)


def test_bad_npz_files_are_explained(tmp_path: Path) -> None:
    import numpy as np

    from specc.tools.datasets import DataError, load_npz

    good = tmp_path / "good.npz"
    x = np.zeros((4, 2), np.float32)
    np.savez(good, x_train=x, y_train=np.arange(4), x_test=x, y_test=np.arange(4))
    (tmp_path / "trunc.npz").write_bytes(good.read_bytes()[:300])
    np.save(tmp_path / "one.npy", x)
    (tmp_path / "garbage.npz").write_bytes(bytes(range(256)))
    objects = np.array([[1], "a"], dtype=object)
    np.savez(tmp_path / "objects.npz", x_train=objects, y_train=x, x_test=x, y_test=x)
    cases = {
        tmp_path / "trunc.npz": "truncated or damaged",
        tmp_path / "one.npy": "is an .npy file",
        tmp_path / "garbage.npz": "not an .npz (zip) file",
        tmp_path: "is a folder",
        Path("/dev/null"): "not a regular file",
        tmp_path / "objects.npz": "object arrays are never loaded",
    }
    for path, why in cases.items():
        with pytest.raises(DataError, match=re.escape(why)) as err:
            load_npz(path)
        assert "allow_pickle" not in str(err.value)
    assert len(load_npz(good).x_train) == 4


def test_a_crafted_cifar_batch_cannot_run_code(tmp_path: Path) -> None:
    """A batch that names a function to call (here os.system) is refused before it runs."""
    import pickle

    from specc.tools.datasets import CIFAR10_FILES, DataError, load_cifar10

    marker = tmp_path / "ran"

    class Payload:
        def __reduce__(self) -> tuple:
            return (os.system, (f"touch {marker}",))

    import numpy as np

    for name in CIFAR10_FILES:
        batch = {b"data": np.zeros((2, 3072), np.uint8), b"labels": [0, 1]}
        (tmp_path / name).write_bytes(pickle.dumps(batch))
    assert len(load_cifar10(tmp_path).y_train) == 10  # real batches still load
    (tmp_path / CIFAR10_FILES[0]).write_bytes(pickle.dumps({b"data": Payload()}))
    with pytest.raises(DataError, match="refers to posix.system") as err:
        load_cifar10(tmp_path)
    assert "could run code" in str(err.value)
    assert not marker.exists()
