"""Transfer learning: starting weights by layer name (`init`), frozen layers and batch norms
(`freeze`, `unfreeze`), learning rates per group (`lr_groups`), and the few-shot split
(`per_class`), on both backends."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file, save_file

from specc.compiler import compile_source
from specc.ir.train_config import Digits
from specc.layers.canonical_init import canonical_init
from specc.passes.transfer import matches, selected
from specc.tools import datasets
from specc.tools.transfer_init import InitError, build_init

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}

CNN = """
model {name} {{
  input image: [1, 8, 8]
  conv2d(8, 3, padding=same, bias=false) -> batchnorm -> relu
  conv2d(8, 3, padding=same) -> relu -> maxpool2d(2)
  flatten
  dense(16) -> relu
  dense({classes}) as head
}}
"""


def net_of(text: str, name: str):  # noqa: ANN201
    result = compile_source(text, "t.net")
    assert result.spec is not None, result.diagnostics
    return result.spec.model(name)


def source_run(folder: Path, classes: int = 10, seed: int = 7) -> dict[str, np.ndarray]:
    """A run folder of a trained `Base` (its weights: a canonical draw from `seed`)."""
    folder.mkdir(parents=True)
    weights = canonical_init(net_of(CNN.format(name="Base", classes=classes), "Base"), seed)
    save_file(weights, str(folder / "weights.safetensors"))
    return weights


def test_patterns_name_layers_block_instances_and_globs() -> None:
    assert matches("conv2d_1", "conv2d_*") and matches("encoder.dense_1", "encoder")
    assert matches("encoder.dense_1", "encoder.dense_?") and not matches("dense_1", "dense")
    net = net_of(CNN.format(name="M", classes=5), "M")
    # layers without weights (relu, pooling) are never selected
    assert [n.name for n in selected(net, ("*_1",))] == ["conv2d_1", "batchnorm_1", "dense_1"]


def test_per_class_keeps_that_many_training_samples_of_each_class() -> None:
    config = Digits(classes=(5, 6, 7, 8, 9), per_class=4)
    arrays = datasets.load(config, (1, 8, 8), "float", output_shape=(5,))
    assert np.bincount(arrays.y_train).tolist() == [4] * 5
    whole = datasets.load(Digits(classes=(5, 6, 7, 8, 9)), (1, 8, 8), "float", output_shape=(5,))
    assert len(arrays.y_test) == len(whole.y_test)  # the test split stays whole
    again = datasets.load(config, (1, 8, 8), "float", output_shape=(5,))
    assert np.array_equal(arrays.x_train, again.x_train)  # the same samples every time


def test_init_takes_matching_layers_and_lists_what_does_not_fit(tmp_path: Path) -> None:
    source = source_run(tmp_path / "runs" / "Base-1")
    net = net_of(CNN.format(name="M", classes=5), "M")
    fresh = canonical_init(net, 0)
    from specc.ir.train_config import InitWeights

    # the head has another shape: named, both shapes, and the fix
    with pytest.raises(InitError) as err:
        build_init(net, InitWeights(path=str(tmp_path / "runs" / "Base-*")), fresh)
    message = str(err.value)
    assert "head.weight is [10, 16] in the source, [5, 16] in `M`" in message
    assert 'skip = ["head"]' in message
    # skipping it: every other layer from the source, the head fresh
    init = build_init(
        net, InitWeights(path=str(tmp_path / "runs" / "Base-*"), skip=("head",)), fresh
    )
    assert init.loaded == ["conv2d_1", "batchnorm_1", "conv2d_2", "dense_1"]
    assert init.fresh == ["head"]
    assert np.array_equal(init.tensors["conv2d_2.weight"], source["conv2d_2.weight"])
    assert np.array_equal(
        init.tensors["batchnorm_1.running_var"], source["batchnorm_1.running_var"]
    )
    assert np.array_equal(init.tensors["head.weight"], fresh["head.weight"])
    # `layers`: exactly those
    chosen = InitWeights(path=str(tmp_path / "runs" / "Base-1"), layers=("conv2d_*",))
    assert build_init(net, chosen, fresh).loaded == ["conv2d_1", "conv2d_2"]


def test_init_source_problems_are_explained(tmp_path: Path) -> None:
    from specc.ir.train_config import InitWeights

    net = net_of(CNN.format(name="M", classes=10), "M")
    fresh = canonical_init(net, 0)
    cases = {
        str(tmp_path / "none-*"): "nothing matches it",
        str(tmp_path / "missing"): "no such file or folder",
    }
    (tmp_path / "unfinished").mkdir()
    cases[str(tmp_path / "unfinished")] = "has no weights.safetensors yet"
    (tmp_path / "w.pt").write_bytes(b"")
    cases[str(tmp_path / "w.pt")] = "specc weights convert"
    for path, why in cases.items():
        with pytest.raises(InitError, match=re.escape(why)):
            build_init(net, InitWeights(path=path), fresh)
    # a glob picks the newest run that holds weights
    old = source_run(tmp_path / "runs" / "Base-a", seed=1)
    new = source_run(tmp_path / "runs" / "Base-b", seed=2)
    os.utime(tmp_path / "runs" / "Base-a", (1e9, 1e9))
    os.utime(tmp_path / "runs" / "Base-b", (2e9, 2e9))
    init = build_init(net, InitWeights(path=str(tmp_path / "runs" / "Base-*")), fresh)
    assert np.array_equal(init.tensors["head.bias"], new["head.bias"])
    assert not np.array_equal(init.tensors["head.bias"], old["head.bias"])


def test_summary_counts_frozen_parameters_apart() -> None:
    text = CNN.format(name="M", classes=5) + (
        "train M {\n  data = digits(classes=[5, 6, 7, 8, 9])\n"
        '  freeze = ["conv2d_*", "batchnorm_1"]\n  unfreeze = 2\n'
        '  lr_groups = [group("dense_1", 0.5)]\n}\n'
    )
    from specc.tools.summary import summary_json, summary_table, transfer_in

    spec = compile_source(text, "t.net").spec
    assert spec is not None
    net = spec.model("M")
    table = summary_table(net, transfer_in(spec, net))
    frozen = 72 + 16 + 584  # two convolutions (the first without bias) and a scale and shift
    assert re.search(rf"^    frozen until epoch 2: +{frozen:,}$", table, re.M), table
    assert re.search(rf"^    training: +{net.trainable - frozen:,}$", table, re.M), table
    assert re.search(r"conv2d_1 .* frozen$", table, re.M)
    assert re.search(r"dense_1 .* lr x0\.5$", table, re.M)
    model = summary_json(spec)["models"][0]
    assert model["frozen"] == frozen and model["unfreeze"] == 2


def _run(spec: Path, backend: str, out: Path, *extra: str) -> Path:
    done = subprocess.run(
        [sys.executable, "-m", "specc.cli", "run", str(spec), "--backend", backend,
         "--out", str(out), "--quiet", *extra],
        capture_output=True, text=True, timeout=600, env=ENV, cwd=out.parent,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    (run,) = [p for p in out.iterdir() if p.is_dir()]
    return run


def test_frozen_layers_keep_the_source_weights_and_both_backends_agree(tmp_path: Path) -> None:
    """A real run on each backend: the source's layers loaded by name, frozen for an epoch
    (batch norm in inference mode), then trained at their group's rate; the two backends end
    with the same weights. A PyTorch run that never unfreezes keeps them bit for bit."""
    source = source_run(tmp_path / "runs" / "Base-1")
    train = (
        "train M {{\n  data = digits(classes=[5, 6, 7, 8, 9], per_class=6)\n"
        '  init = weights("runs/Base-*", skip=["head"])\n'
        '  freeze = ["conv2d_*", "batchnorm_1"]\n{unfreeze}'
        '  lr_groups = [group(["conv2d_*", "batchnorm_1"], 0.1)]\n'
        "  optimizer = sgd(lr=0.05, momentum=0.9)\n  schedule = cosine(min_lr=1e-3)\n"
        "  epochs = 2\n  batch = 8\n}}\n"
    )
    held = tmp_path / "held.net"
    held.write_text(CNN.format(name="M", classes=5) + train.format(unfreeze=""))
    run = _run(held, "torch", tmp_path / "held")
    about = json.loads((run / "run.json").read_text())["init"]
    assert about["loaded"] == ["conv2d_1", "batchnorm_1", "conv2d_2", "dense_1"]
    assert about["fresh"] == ["head"]
    trained = load_file(str(run / "weights.safetensors"))
    for key in ("conv2d_1.weight", "conv2d_2.bias", "batchnorm_1.running_mean"):
        assert np.array_equal(trained[key], source[key]), key  # frozen: bit for bit
    assert not np.allclose(trained["dense_1.weight"], source["dense_1.weight"])

    both = tmp_path / "both.net"
    both.write_text(CNN.format(name="M", classes=5) + train.format(unfreeze="  unfreeze = 1\n"))
    runs = {b: _run(both, b, tmp_path / b) for b in ("torch", "keras")}
    weights = {b: load_file(str(r / "weights.safetensors")) for b, r in runs.items()}
    for key, value in weights["torch"].items():
        assert not np.array_equal(value, source[key]) or key.startswith("head"), key
        scale = max(float(np.abs(value).max()), 1e-3)
        assert np.abs(value - weights["keras"][key]).max() / scale < 1e-4, key


OPTIMIZERS = [
    ("sgd(lr=0.1, momentum=0.9, nesterov=true, weight_decay=1e-3)", "step(every=2, gamma=0.5)"),
    ("adam(lr=1e-2, weight_decay=1e-2)", "cosine(min_lr=1e-3)"),
    ("adamw(lr=1e-2)", "warmup(epochs=2)"),
    ("rmsprop(lr=1e-3, momentum=0.5)", "exponential(gamma=0.8)"),
    ("adagrad(lr=1e-2)", "cosine(min_lr=1e-3)"),
]


def test_freezing_and_groups_verify_with_every_optimizer(tmp_path: Path) -> None:
    """verify's 10 steps (2 an epoch) unfreeze after 4: frozen weights and batch-norm
    statistics bit for bit unchanged on both backends until then, every update (per group,
    under each schedule) the same on both."""
    paths = []
    for i, (optimizer, schedule) in enumerate(OPTIMIZERS):
        paths.append(tmp_path / f"transfer_{i}.net")
        paths[-1].write_text(
            # `filter`: PyTorch's attribute is `filter_`; its l2 penalty stays in the loss
            CNN.format(name="M", classes=5).replace("dense(16)", "dense(16, l2=1e-3) as filter")
            + "train M {\n  data = digits(classes=[5, 6, 7, 8, 9])\n"
            + '  freeze = ["conv2d_1", "batchnorm_1", "filter"]\n  unfreeze = 2\n'
            + '  lr_groups = [group("conv2d_*", 0.1), group("filter", 0.5)]\n'
            + f"  optimizer = {optimizer}\n  schedule = {schedule}\n  epochs = 6\n}}\n"
        )
    done = subprocess.run(
        [sys.executable, "-m", "specc.cli", "verify", *map(str, paths)],
        capture_output=True, text=True, timeout=900, env=ENV,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-3000:]
    # conv2d_1's weight, batchnorm_1's four tensors and filter's two, per side
    held = re.findall(r"frozen layers \(transfer learning\): (\d+) of (\d+) tensors", done.stdout)
    assert held == [("14", "14")] * len(paths), done.stdout
    for path in paths:
        match = re.search(
            rf"^{re.escape(str(path))}: (\d+) of (\d+) tensors agree$", done.stdout, re.M
        )
        assert match and match[1] == match[2], done.stdout


def test_train_py_init_lists_the_weights_that_do_not_fit(tmp_path: Path) -> None:
    """`train.py --init` with another model's weights: the tensors that differ, named with
    their shapes, and the fix; no traceback."""
    source_run(tmp_path / "base")
    spec = tmp_path / "m.net"
    spec.write_text(
        CNN.format(name="M", classes=5) + "train M {\n  data = digits(classes=[5, 6, 7, 8, 9])\n}\n"
    )
    out = tmp_path / "code"
    subprocess.run(
        [sys.executable, "-m", "specc.cli", "compile", str(spec), "--backend", "torch",
         "-o", str(out)],
        check=True, capture_output=True, env=ENV,
    )  # fmt: skip
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((4, 1, 8, 8)).astype(np.float32), np.arange(4) % 5
    np.savez(out / "data.npz", x_train=x, y_train=y, x_test=x, y_test=y)
    done = subprocess.run(
        [sys.executable, "train.py", "--init", str(tmp_path / "base" / "weights.safetensors"),
         "--out", "run", "--data", "data.npz"],
        capture_output=True, text=True, cwd=out, env=ENV, timeout=300,
    )  # fmt: skip
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert "head.weight is [10, 16], the model's is [5, 16]" in done.stderr
    assert "init = weights(...)" in done.stderr
    (out / "bad.safetensors").write_bytes(b"\xff" * 64)
    for path, why in (("bad.safetensors", "cannot read bad.safetensors"), ("none", "cannot read")):
        done = subprocess.run(
            [sys.executable, "train.py", "--init", path, "--out", "run", "--data", "data.npz"],
            capture_output=True, text=True, cwd=out, env=ENV, timeout=300,
        )  # fmt: skip
        assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
        assert why in done.stderr, done.stderr
