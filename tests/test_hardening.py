"""Hostile input, refused cleanly (issue 18): nested repeats bounded before they run, many
diagnostics kept linear and capped on screen, files that are no spec refused before reading,
spec paths and strings that cannot break emitted code or the terminal."""

from __future__ import annotations

import ast
import os
import random
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


#: spec names that Python, PyTorch or the emitted code itself also uses
HOSTILE = [
    "list", "list_", "list__", "x", "x_", "x__", "to", "train", "train_", "forward",
    "penalty", "cuda", "state_dict", "_modules", "__init__", "v__init__", "EPOCHS", "self",
    "model", "np", "torch", "F", "h", "eps", "dense_1", "dense_1_",
]  # fmt: skip


def _hostile_spec(rng: random.Random) -> str:
    """A model of dense layers and one `add` of every value nobody else reads, every name
    drawn from HOSTILE: which value each layer reads is random, so a name clash would change
    the dataflow."""
    names = rng.sample(HOSTILE, 6)
    source, layers = names[0], names[1:]
    model = rng.choice(["EPOCHS", "Training", "M", "RENAMES"])
    lines = [f"model {model} {{", f"  input {source}: [3]"]
    values, read = [source], set()
    for i, name in enumerate(layers):
        value = rng.choice(values)
        read.add(value)
        lines.append(f"  v{i} = {value} -> dense(3) as {name}")
        values.append(f"v{i}")
    leaves = [v for v in values[1:] if v not in read]
    lines.append(f"  add({', '.join(leaves)})" if len(leaves) > 1 else f"  {leaves[0]} -> relu")
    return "\n".join(lines) + "\n}\n"


def _reference(net, weights: dict, x):  # noqa: ANN001, ANN202
    """The IR's own meaning, in NumPy: dense layers, the add or relu, node by node."""
    import numpy as np

    values = {}
    for node in net.nodes:
        if node.kind == "input":
            values[node.name] = x
        elif node.kind == "dense":
            w, b = weights[f"{node.ident}.weight"], weights[f"{node.ident}.bias"]
            values[node.name] = values[node.inputs[0]] @ w.T + b
        elif node.kind == "relu":
            values[node.name] = np.maximum(values[node.inputs[0]], 0)
        else:
            values[node.name] = sum(values[i] for i in node.inputs)
    return values[net.output]


def test_any_names_keep_the_networks_parameters_and_dataflow(tmp_path: Path) -> None:
    """Property: for random sets of names that Python, PyTorch or the emitted files also
    use, the emitted models on both backends have the IR's parameters and compute the IR's
    function (canonical weights in, the NumPy reference out)."""
    import importlib.util

    import numpy as np
    from safetensors.numpy import save_file

    from specc.layers.canonical_init import canonical_init

    torch = pytest.importorskip("torch")
    pytest.importorskip("keras")
    rng = random.Random(18)
    x = np.random.default_rng(0).standard_normal((2, 3)).astype(np.float32)
    for case in range(12):
        text = _hostile_spec(rng)
        result = compile_source(text, f"case{case}.net")
        assert result.spec is not None, (text, [d.message for d in result.diagnostics])
        net = result.spec.models[0]
        weights = canonical_init(net, case)
        path = tmp_path / f"w{case}.safetensors"
        save_file(weights, str(path))
        expected = _reference(net, weights, x)
        for backend in ("torch", "keras"):
            folder = tmp_path / f"{backend}{case}"
            folder.mkdir()
            (folder / "model.py").write_text(
                get_backend(backend).emit(result.spec, text)["model.py"]
            )
            spec = importlib.util.spec_from_file_location(f"m_{backend}{case}", folder / "model.py")
            module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
            spec.loader.exec_module(module)  # type: ignore[union-attr]
            model = module.MODELS[net.name]()
            module.load_canonical(model, str(path))
            if backend == "torch":
                assert sum(p.numel() for p in model.parameters()) == net.trainable, text
                with torch.no_grad():
                    out = model(torch.from_numpy(x)).numpy()
            else:
                assert model.count_params() == net.trainable, text
                out = np.asarray(model(x))
            np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5, err_msg=text)


def test_model_classes_cannot_take_a_name_of_the_emitted_files() -> None:
    """Every capitalised module-level name of the emitted files (what a model's class could
    collide with: constants, helper classes, imported types) is reserved for them; a model
    named like one gets another class name."""
    from specc.backends.naming import EMITTED_NAMES, class_name

    found: set[str] = set()
    classes: set[str] = set()
    for path in (ROOT / "tests" / "golden").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in tree.body:
            if isinstance(node, (ast.ClassDef, ast.FunctionDef)):
                found.add(node.name)
            elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                found |= {t.id for t in targets if isinstance(t, ast.Name)}
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                found |= {(a.asname or a.name).split(".")[0] for a in node.names}
            if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "MODELS":
                classes |= {v.id for v in node.value.values if isinstance(v, ast.Name)}
    # and what the templates define at the top level, also for kinds no golden spec uses
    for template in (ROOT / "templates").rglob("*.j2"):
        text = template.read_text()
        found |= set(re.findall(r"^class ([A-Z]\w*)\(", text, re.M))
        found |= set(re.findall(r"^([A-Z][A-Za-z0-9_]*) ?[:=]", text, re.M))
    capitalised = {n for n in found if n[:1].isupper()} - classes
    assert sorted(capitalised - EMITTED_NAMES) == [], "add these to naming.EMITTED_NAMES"
    assert class_name("EPOCHS") == "EPOCHS_" and class_name("tensor") == "Tensor_"
