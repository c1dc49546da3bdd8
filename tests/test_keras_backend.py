"""The Keras backend: emitted models build, agree with the IR, and compute what the PyTorch
backend's models compute on the same canonical weights."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from specc.backends import BackendError, get_backend
from tests.emitted import compile_spec, import_emitted
from tests.layer_catalogue import model_source

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
keras = pytest.importorskip("keras")
torch = pytest.importorskip("torch")

ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted(p.stem for p in (ROOT / "specs").glob("*.net"))
FAST = ["lenet5", "mlp", "resnet18"]
SLOW = ["alexnet", "vgg16"]


def _spec_path(name: str) -> str:
    return str(ROOT / "specs" / f"{name}.net")


def _emit(text_or_path: str, *, is_path: bool = False) -> dict[str, str]:
    result = compile_spec(text_or_path, is_path=is_path)
    return get_backend("keras").emit(result.spec, result.source.text)


@pytest.mark.parametrize("name", [s for s in SPECS if s != "dcgan"])
def test_shipped_spec_compiles(name: str) -> None:
    files = _emit(_spec_path(name), is_path=True)
    assert "model.py" in files and "train.py" in files


def test_dcgan_compiles_with_its_gan_trainer() -> None:
    files = _emit(_spec_path("dcgan"), is_path=True)
    assert set(files) == {"model.py", "runtime.py", "train.py"}


def _check_builds(name: str, tmp_path: Path) -> None:
    path = _spec_path(name)
    result = compile_spec(path, is_path=True)
    module = import_emitted("keras", path, tmp_path, is_path=True)
    for net in result.spec.models:
        model = module.MODELS[net.name]()
        assert model.count_params() == net.trainable + net.non_trainable
        trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
        assert trainable == net.trainable
        x = np.random.default_rng(0).standard_normal((2, *net.input_nodes[0].shape))
        y = model(x.astype(np.float32), training=False)
        assert tuple(y.shape) == (2, *net.output_shape)


@pytest.mark.parametrize("name", FAST)
def test_shipped_spec_builds(name: str, tmp_path: Path) -> None:
    _check_builds(name, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("name", SLOW)
def test_large_shipped_spec_builds(name: str, tmp_path: Path) -> None:
    _check_builds(name, tmp_path)


def test_dcgan_models_build(tmp_path: Path) -> None:
    _check_builds("dcgan", tmp_path)


# ----- equivalence with the PyTorch backend ------------------------------------------------
def _perturb(model: torch.nn.Module) -> None:
    """Move every weight and statistic away from its initial value, so that a transposed or
    misplaced tensor shows."""
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for p in model.parameters():
            if p.requires_grad:  # frozen: PyTorch's zero recurrent bias
                p.add_(0.05 * torch.randn(p.shape, generator=gen))
        for name, b in model.named_buffers():
            if name.endswith("running_mean"):
                b.copy_(0.1 * torch.randn(b.shape, generator=gen))
            elif name.endswith("running_var"):
                b.copy_(0.5 + torch.rand(b.shape, generator=gen))


def _inputs(net, batch: int = 2) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    out = []
    for node in net.input_nodes:
        if node.op.dtype == "int":
            out.append(rng.integers(0, 20, (batch, *node.shape)).astype(np.int64))
        else:
            out.append(rng.standard_normal((batch, *node.shape)).astype(np.float32))
    return out


def _max_difference(text_or_path: str, tmp_path: Path, *, is_path: bool = False) -> float:
    result = compile_spec(text_or_path, is_path=is_path)
    tmod = import_emitted("torch", text_or_path, tmp_path / "torch", is_path=is_path)
    kmod = import_emitted("keras", text_or_path, tmp_path / "keras", is_path=is_path)
    worst = 0.0
    for net in result.spec.models:
        tm = getattr(tmod, net.name)()
        _perturb(tm)
        tm.eval()
        weights = str(tmp_path / f"{net.name}.safetensors")
        tmod.save_canonical(tm, weights)
        km = kmod.MODELS[net.name]()
        kmod.load_canonical(km, weights)
        xs = _inputs(net)
        with torch.no_grad():
            yt = tm(*[torch.from_numpy(x) for x in xs]).numpy()
        keras_in = [x.astype(np.int32) if x.dtype == np.int64 else x for x in xs]
        yk = keras.ops.convert_to_numpy(
            km(keras_in[0] if len(xs) == 1 else keras_in, training=False)
        )
        assert yk.shape == yt.shape
        scale = max(1.0, float(np.abs(yt).max()))
        worst = max(worst, float(np.abs(yk - yt).max()) / scale)
        # and back: Keras's canonical file loads into PyTorch unchanged
        back = str(tmp_path / f"{net.name}.back.safetensors")
        kmod.save_canonical(km, back)
        tm2 = getattr(tmod, net.name)()
        tmod.load_canonical(tm2, back)
        for key, value in tmod.canonical_state(tm2).items():
            assert torch.equal(value, tmod.canonical_state(tm)[key]), key
    return worst


@pytest.mark.parametrize("name", FAST + ["dcgan"])
def test_shipped_spec_matches_torch(name: str, tmp_path: Path) -> None:
    diff = _max_difference(_spec_path(name), tmp_path, is_path=True)
    assert diff < 1e-5, diff


@pytest.mark.slow
@pytest.mark.parametrize("name", SLOW)
def test_large_shipped_spec_matches_torch(name: str, tmp_path: Path) -> None:
    diff = _max_difference(_spec_path(name), tmp_path, is_path=True)
    assert diff < 1e-5, diff


IMAGES = model_source("images")
SEQUENCES = model_source("sequences")
VOLUMES = model_source("volumes")


def test_image_layers_match_torch(tmp_path: Path) -> None:
    diff = _max_difference(IMAGES, tmp_path)
    assert diff < 1e-5, diff


def test_sequence_layers_match_torch(tmp_path: Path) -> None:
    diff = _max_difference(SEQUENCES, tmp_path)
    assert diff < 1e-5, diff


def test_volume_layers_match_torch(tmp_path: Path) -> None:
    diff = _max_difference(VOLUMES, tmp_path)
    assert diff < 1e-5, diff


# ----- what the backend refuses ------------------------------------------------------------
REFUSED = {  # layer -> (input size, words in the message)
    "avgpool2d(3, stride=2, padding=1)": (10, "avgpool2d"),
    "adaptive_avgpool2d([4, 4])": (9, "adaptive_avgpool2d"),
    "conv2d(4, 3, groups=2)": (9, "grouped"),
    "conv2d(4, 3, stride=2, dilation=2)": (9, "stride and a dilation"),
    "conv2d_transpose(4, 3, dilation=2)": (9, "dilation"),
    "avgpool2d(2, ceil=true)": (9, "ceil"),
}


@pytest.mark.parametrize("layer", sorted(REFUSED))
def test_unfaithful_layers_are_refused(layer: str) -> None:
    size, words = REFUSED[layer]
    text = f"model M {{\n  input image: [2, {size}, {size}]\n  {layer}\n}}\n"
    with pytest.raises(BackendError) as err:
        _emit(text)
    assert words in str(err.value)
    assert "the Keras backend cannot express" in str(err.value)


# ----- the emitted code is clean ---------------------------------------------------------------
def _ruff() -> str:
    ruff = Path(sys.executable).parent / "ruff"
    if not ruff.exists():
        pytest.skip("ruff is not installed")
    return str(ruff)


@pytest.mark.parametrize("source", [*SPECS, "IMAGES", "SEQUENCES"])
def test_emitted_code_is_ruff_clean(source: str, tmp_path: Path) -> None:
    if source in ("IMAGES", "SEQUENCES"):
        files = _emit(globals()[source])
    else:
        files = _emit(_spec_path(source), is_path=True)
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    ruff = _ruff()
    check = subprocess.run(
        [ruff, "check", "--isolated", str(tmp_path)], capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout
    fmt = subprocess.run(
        [ruff, "format", "--isolated", "--check", "--diff", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert fmt.returncode == 0, fmt.stdout


def test_penalties_become_regularizers(tmp_path: Path) -> None:
    module = import_emitted("keras", IMAGES, tmp_path)
    model = module.build_images()
    model(np.zeros((1, 3, 16, 16), np.float32))
    layer = model.get_layer("conv2d_2")
    assert layer.kernel_regularizer is not None
    assert len(model.losses) == 1


# ----- training ------------------------------------------------------------------------------
TRAIN_SPEC = """
model Small {
  input image: [1, 8, 8]
  conv2d(4, 3, padding=1, l2=0.001) -> batchnorm -> relu -> maxpool2d(2)
  flatten -> dropout(0.2) -> dense(10)
}
train Small {
  data      = digits(size=8)
  loss      = cross_entropy
  optimizer = %s
  schedule  = step(every=1, gamma=0.5)
  epochs    = 3
  batch     = 64
  clip_grad = 5.0
  l1        = 0.0001
  augment   = [random_crop(1), random_flip]
}
"""


def _write_run(tmp_path: Path, optimizer: str = "adam(lr=0.01)") -> Path:
    from specc.tools import datasets

    text = TRAIN_SPEC % optimizer
    result = compile_spec(text)
    files = get_backend("keras").emit(result.spec, result.source.text)
    tmp_path.mkdir(parents=True, exist_ok=True)
    for name, body in files.items():
        (tmp_path / name).write_text(body, encoding="utf-8")
    config = result.spec.training
    node = result.spec.model("Small").input_nodes[0]
    arrays = datasets.load(config.data, node.shape, node.op.dtype, seed=0)
    datasets.save_npz(arrays, tmp_path / "data.npz")
    return tmp_path


def _train(folder: Path, *extra: str) -> None:
    env = {**os.environ, "KERAS_BACKEND": "tensorflow", "TF_CPP_MIN_LOG_LEVEL": "2"}
    command = [sys.executable, "train.py", "--out", "run", "--quiet", "--device", "cpu", *extra]
    done = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]


def _metrics(folder: Path) -> list[dict]:
    import json

    lines = (folder / "run" / "metrics.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def test_train_writes_the_run_folder_and_resumes(tmp_path: Path) -> None:
    import json

    whole = _write_run(tmp_path / "whole")
    _train(whole)
    files = {p.name for p in (whole / "run").iterdir()}
    assert {"metrics.jsonl", "checkpoint.npz", "weights.safetensors", "summary.json"} <= files
    summary = json.loads((whole / "run" / "summary.json").read_text())
    assert summary["backend"] == "keras" and summary["epochs"] == 3
    records = _metrics(whole)
    assert [r["lr"] for r in records] == [0.01, 0.005, 0.0025]
    assert set(records[0]) == {
        "epoch",
        "loss",
        "accuracy",
        "test_loss",
        "test_accuracy",
        "lr",
        "seconds",
        "samples_per_s",
    }
    assert records[-1]["test_accuracy"] > 0.5

    parts = _write_run(tmp_path / "parts")
    _train(parts, "--stop-after", "1")
    assert len(_metrics(parts)) == 1
    _train(parts, "--resume")
    resumed = _metrics(parts)
    for a, b in zip(records, resumed, strict=True):
        assert abs(a["loss"] - b["loss"]) < 1e-6 and abs(a["test_loss"] - b["test_loss"]) < 1e-6

    # the trained weights load into the PyTorch model and give the same test loss
    tmod = import_emitted("torch", TRAIN_SPEC % "adam(lr=0.01)", tmp_path / "torch")
    model = tmod.Small()
    tmod.load_canonical(model, str(whole / "run" / "weights.safetensors"))
    model.eval()
    with np.load(whole / "data.npz") as data:
        x, y = torch.from_numpy(data["x_test"]), torch.from_numpy(data["y_test"])
    with torch.no_grad():
        loss = torch.nn.functional.cross_entropy(model(x), y).item()
    assert abs(loss - summary["test_loss"]) < 1e-4


OPTIMIZERS = {
    "sgd(lr=0.1, momentum=0.9, nesterov=true, weight_decay=0.01)": lambda p: torch.optim.SGD(
        p, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01
    ),
    "sgd(lr=0.1)": lambda p: torch.optim.SGD(p, lr=0.1),
    "adam(lr=0.01, weight_decay=0.01)": lambda p: torch.optim.Adam(p, lr=0.01, weight_decay=0.01),
    "adamw(lr=0.01, beta1=0.8)": lambda p: torch.optim.AdamW(
        p, lr=0.01, betas=(0.8, 0.999), weight_decay=0.01
    ),
    "rmsprop(lr=0.01, momentum=0.5, weight_decay=0.01)": lambda p: torch.optim.RMSprop(
        p, lr=0.01, momentum=0.5, weight_decay=0.01
    ),
    "adagrad(lr=0.1, weight_decay=0.01)": lambda p: torch.optim.Adagrad(
        p, lr=0.1, weight_decay=0.01
    ),
}


@pytest.mark.parametrize("spec", sorted(OPTIMIZERS))
def test_optimizer_follows_torch(spec: str, tmp_path: Path) -> None:
    import importlib.util

    import tensorflow as tf

    folder = _write_run(tmp_path, spec)
    # the emitted optimizer.py, which train.py imports: PyTorch's update written out
    loader = importlib.util.spec_from_file_location(
        f"optimizer_{id(tmp_path)}", folder / "optimizer.py"
    )
    optimizer = importlib.util.module_from_spec(loader)
    loader.loader.exec_module(optimizer)
    rng = np.random.default_rng(0)
    start = [rng.standard_normal((3, 4)).astype(np.float32), rng.standard_normal(4)]
    start = [a.astype(np.float32) for a in start]
    ours = [tf.Variable(a) for a in start]
    theirs = [torch.nn.Parameter(torch.from_numpy(a.copy())) for a in start]
    opt_k = optimizer.Optimizer(ours)
    opt_t = OPTIMIZERS[spec](theirs)
    for _ in range(8):
        grads = [rng.standard_normal(a.shape).astype(np.float32) for a in start]
        opt_k.apply([tf.constant(g) for g in grads])
        for p, g in zip(theirs, grads, strict=True):
            p.grad = torch.from_numpy(g)
        opt_t.step()
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(a.numpy(), b.detach().numpy(), rtol=1e-5, atol=1e-6)


HOSTILE = """
model Evil {
  input __import__: [4]
  dense(3) as self -> relu as layers
  dense(2) as keras -> identity as image_hwc -> dense(2) as MODELS
}
train Evil {
  data = npz(path="x\\"); import os; os.system('echo pwned') #")
  loss = mse
  optimizer = sgd(lr=0.1)
}
"""


def test_spec_cannot_inject_code(tmp_path: Path) -> None:
    import ast

    files = _emit(HOSTILE)
    for name, source in files.items():
        tree = ast.parse(source)
        calls = {
            node.func.attr
            for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
        }
        assert "system" not in calls, name
    module = import_emitted("keras", HOSTILE, tmp_path)
    model = module.MODELS["Evil"]()
    assert [layer.name for layer in model.layers][1:] == [
        "self",
        "layers",
        "keras",
        "image_hwc",
        "MODELS",
    ]
    assert tuple(model(np.zeros((2, 4), np.float32)).shape) == (2, 2)


STEP_SPEC = """
model Step {
  input image: [2, 9, 9]
  a = conv2d(4, 3, stride=2, padding=same) -> batchnorm -> gelu
  b = input -> maxpool2d(3, stride=2, padding=1) -> conv2d(4, 1, l2=0.01)
  concat(a, b) -> flatten -> dense(8) -> batchnorm -> leaky_relu(0.1) -> dense(3)
}
"""


def test_training_step_matches_torch(tmp_path: Path) -> None:
    """Training mode (batch statistics, running-statistics update) and gradients agree: one
    SGD step from the same weights lands on the same weights and statistics."""
    import tensorflow as tf

    result = compile_spec(STEP_SPEC)
    net = result.spec.models[0]
    tmod = import_emitted("torch", STEP_SPEC, tmp_path / "torch")
    kmod = import_emitted("keras", STEP_SPEC, tmp_path / "keras")
    tm = tmod.Step()
    _perturb(tm)
    tmod.save_canonical(tm, str(tmp_path / "w.safetensors"))
    km = kmod.MODELS["Step"]()
    kmod.load_canonical(km, str(tmp_path / "w.safetensors"))
    (x,) = _inputs(net, batch=5)
    y = np.array([0, 2, 1, 1, 0])

    tm.train()
    logits_t = tm(torch.from_numpy(x))
    loss_t = torch.nn.functional.cross_entropy(logits_t, torch.from_numpy(y))
    loss_t = loss_t + tm.penalty()
    tm.zero_grad()
    loss_t.backward()
    with torch.no_grad():
        for p in tm.parameters():
            if p.grad is not None:
                p -= 0.1 * p.grad

    with tf.GradientTape() as tape:
        logits_k = km(x, training=True)
        loss_k = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(y, logits_k))
        loss_k = loss_k + tf.add_n(km.losses)
    grads = tape.gradient(loss_k, km.trainable_variables)
    for v, g in zip(km.trainable_variables, grads, strict=True):
        v.assign_sub(0.1 * g)

    np.testing.assert_allclose(logits_k.numpy(), logits_t.detach().numpy(), atol=1e-5)
    assert abs(float(loss_k) - loss_t.item()) < 1e-5
    after_t = tmod.canonical_state(tm)
    after_k = kmod.canonical_state(km)
    assert set(after_t) == set(after_k)
    for key, value in after_t.items():
        np.testing.assert_allclose(after_k[key], value.numpy(), atol=1e-5, err_msg=key)
