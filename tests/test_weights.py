"""`specc weights convert`: PyTorch state dicts, Keras weights files, run checkpoints and the
canonical safetensors layout convert into each other without loss; a file that does not fit
the spec is refused with one paragraph, exit 2, and no output file."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from specc.cli import main
from tests.emitted import import_emitted

torch = pytest.importorskip("torch")
pytest.importorskip("safetensors")

ROOT = Path(__file__).resolve().parents[1]
LENET = str(ROOT / "specs" / "lenet5.net")
DCGAN = str(ROOT / "specs" / "dcgan.net")

SMALL = """
model Small {
  input image: [3, 8, 8]
  conv2d(4, 3, padding=1) -> batchnorm -> relu -> maxpool2d(2)
  flatten
  dense(6) -> batchnorm -> relu
  dense(3)
}
"""


def _keras() -> None:
    """Skip without Keras; found, not imported (conversions import it in their own process)."""
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if importlib.util.find_spec("keras") is None or importlib.util.find_spec("tensorflow") is None:
        pytest.skip("Keras is not installed")


def convert(*args: str) -> int:
    return main(["weights", "convert", *map(str, args)])


def _random_state(net: torch.nn.Module, seed: int = 0) -> dict[str, torch.Tensor]:
    """Random weights and batch-norm statistics (positive variances), not the initial ones."""
    gen = torch.Generator().manual_seed(seed)
    state = {}
    for key, value in net.state_dict().items():
        if not value.is_floating_point():
            state[key] = value.clone()
        elif key.endswith("running_var"):
            state[key] = torch.rand(value.shape, generator=gen) + 0.5
        else:
            state[key] = torch.randn(value.shape, generator=gen) * 0.5
    return state


def _torch_file(spec: str, folder: Path, model: str, *, is_path: bool, seed: int = 0):
    """A state dict of random weights for `model`, saved as folder/<model>.pt."""
    module = import_emitted("torch", spec, folder / "torch", is_path=is_path)
    net = getattr(module, model)()
    state = _random_state(net, seed)
    path = folder / f"{model}.pt"
    torch.save(state, path)
    return module, state, path


def _same(a: dict, b: dict) -> None:
    a = {k: v for k, v in a.items() if not k.endswith("num_batches_tracked")}
    b = {k: v for k, v in b.items() if not k.endswith("num_batches_tracked")}
    assert sorted(a) == sorted(b)
    for key in a:
        assert torch.equal(torch.as_tensor(a[key]), torch.as_tensor(b[key])), key


def _no_leftovers(folder: Path) -> None:
    assert not [p.name for p in folder.iterdir() if p.name.startswith(".")]


# ----- round trips ----------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["lenet5", "small"])
def test_round_trip_is_exact(name: str, tmp_path: Path, capsys) -> None:
    """torch -> canonical -> Keras .weights.h5 -> canonical -> torch gives the same bits."""
    _keras()
    from safetensors.torch import load_file

    spec, model = LENET, "LeNet5"
    if name == "small":
        (tmp_path / "small.net").write_text(SMALL)
        spec, model = str(tmp_path / "small.net"), "Small"
    module, state, pt = _torch_file(spec, tmp_path, model, is_path=True)
    first, h5 = tmp_path / "a.safetensors", tmp_path / "b.weights.h5"
    second, back = tmp_path / "c.safetensors", tmp_path / "d.pt"
    assert convert(spec, pt, first) == 0
    assert "wrote" in capsys.readouterr().out
    assert convert(spec, first, h5) == 0
    assert convert(spec, h5, second) == 0
    assert convert(spec, second, back) == 0
    net = getattr(module, model)()
    net.load_state_dict(state)
    _same(load_file(first), module.canonical_state(net))
    _same(load_file(first), load_file(second))
    _same(torch.load(back, weights_only=True), state)
    assert first.stat().st_mode & 0o777 == 0o666 & ~_umask()
    _no_leftovers(tmp_path)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def test_keras_model_files_and_direct_conversion(tmp_path: Path) -> None:
    """torch -> .keras and .keras -> torch in one command each (through canonical)."""
    _keras()
    (tmp_path / "small.net").write_text(SMALL)
    spec = str(tmp_path / "small.net")
    _, state, pt = _torch_file(spec, tmp_path, "Small", is_path=True)
    assert convert(spec, pt, tmp_path / "m.keras") == 0
    assert convert(spec, tmp_path / "m.keras", tmp_path / "back.pth") == 0
    _same(torch.load(tmp_path / "back.pth", weights_only=True), state)


def test_converted_keras_model_computes_the_same(tmp_path: Path) -> None:
    """A PyTorch state dict converted to Keras weights: the Keras model's outputs are the
    PyTorch model's (inference: running statistics, channels-first flatten order)."""
    _keras()
    (tmp_path / "small.net").write_text(SMALL)
    spec = str(tmp_path / "small.net")
    module, state, pt = _torch_file(spec, tmp_path, "Small", is_path=True, seed=3)
    out = tmp_path / "small.weights.h5"
    assert convert(spec, pt, out) == 0
    keras_module = import_emitted("keras", spec, tmp_path / "keras", is_path=True)
    keras_net = keras_module.MODELS["Small"]()
    keras_net.load_weights(str(out))
    net = module.Small()
    net.load_state_dict(state)
    net.eval()
    x = np.random.default_rng(0).standard_normal((4, 3, 8, 8)).astype(np.float32)
    with torch.no_grad():
        expected = net(torch.from_numpy(x)).numpy()
    got = np.asarray(keras_net(x, training=False))
    np.testing.assert_allclose(got, expected, atol=1e-5, rtol=0)


# ----- run checkpoints ------------------------------------------------------------------------
def test_torch_checkpoints_of_runs(tmp_path: Path) -> None:
    """checkpoint.pt of a supervised run (`model`) and of a GAN run (`generator`,
    `discriminator`, chosen by --model)."""
    from safetensors.torch import load_file

    module, state, _ = _torch_file(LENET, tmp_path, "LeNet5", is_path=True)
    checkpoint = tmp_path / "checkpoint.pt"
    optimizer = torch.optim.Adam(module.LeNet5().parameters()).state_dict()
    torch.save(
        {"model": state, "optimizer": optimizer, "rng": torch.get_rng_state(), "epoch": 1},
        checkpoint,
    )
    assert convert(LENET, checkpoint, tmp_path / "w.safetensors") == 0
    net = module.LeNet5()
    net.load_state_dict(state)
    _same(load_file(tmp_path / "w.safetensors"), module.canonical_state(net))

    gan = import_emitted("torch", DCGAN, tmp_path / "gan", is_path=True)
    parts = {"generator": gan.Generator(), "discriminator": gan.Discriminator()}
    states = {role: _random_state(net, seed) for seed, (role, net) in enumerate(parts.items())}
    torch.save({**states, "epoch": 1, "history": []}, checkpoint)
    for model, role in (("Generator", "generator"), ("Discriminator", "discriminator")):
        out = tmp_path / f"{role}.safetensors"
        assert convert(DCGAN, checkpoint, out, "--model", model) == 0
        parts[role].load_state_dict(states[role])
        _same(load_file(out), gan.canonical_state(parts[role]))


def test_keras_checkpoint_of_a_gan_run(tmp_path: Path) -> None:
    """checkpoint.npz of a Keras GAN run: `generator.<i>` in the order of model.variables."""
    _keras()
    from safetensors.numpy import load_file

    module = import_emitted("keras", DCGAN, tmp_path / "keras", is_path=True)
    net = module.MODELS["Generator"]()
    rng = np.random.default_rng(0)
    for variable in net.variables:
        variable.assign(rng.uniform(0.5, 1.5, variable.shape).astype("float32"))
    arrays = {f"generator.{i}": v.numpy() for i, v in enumerate(net.variables)}
    arrays.update({"discriminator.0": np.zeros(3, "f4"), "epoch": np.array(1)})
    np.savez(tmp_path / "checkpoint.npz", **arrays)
    out = tmp_path / "g.safetensors"
    assert convert(DCGAN, tmp_path / "checkpoint.npz", out, "--model", "Generator") == 0
    expected = module.canonical_state(net)
    got = load_file(out)
    assert sorted(got) == sorted(expected)
    for key, value in expected.items():
        np.testing.assert_array_equal(got[key], value)


# ----- errors ---------------------------------------------------------------------------------
def _error(capsys, *args: str, code: int = 2) -> str:
    assert convert(*args) == code
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return err


def test_missing_input(tmp_path: Path, capsys) -> None:
    err = _error(capsys, LENET, tmp_path / "nope.pt", tmp_path / "w.safetensors")
    assert "no such file" in err and "nope.pt" in err
    assert not (tmp_path / "w.safetensors").exists()


def test_unknown_extension(tmp_path: Path, capsys) -> None:
    (tmp_path / "w.bin").write_bytes(b"")
    err = _error(capsys, LENET, tmp_path / "w.bin", tmp_path / "w.safetensors")
    assert "cannot tell the format" in err and "--from" in err
    err = _error(capsys, LENET, tmp_path / "w.bin", tmp_path / "w.h5", "--from", "torch")
    assert "cannot tell the format" in err and ".weights.h5" in err
    err = _error(capsys, LENET, tmp_path / "w.bin", tmp_path / "w.npz", "--from", "torch")
    assert "Keras writes weights to a file whose name ends in .weights.h5" in err


def test_canonical_to_canonical(tmp_path: Path, capsys) -> None:
    (tmp_path / "a.safetensors").write_bytes(b"")
    err = _error(capsys, LENET, tmp_path / "a.safetensors", tmp_path / "b.safetensors")
    assert "nothing to convert" in err


def test_several_models_need_model(tmp_path: Path, capsys) -> None:
    (tmp_path / "g.safetensors").write_bytes(b"")
    err = _error(capsys, DCGAN, tmp_path / "g.safetensors", tmp_path / "g.pt")
    assert "--model" in err and "`Generator`" in err and "`Discriminator`" in err
    err = _error(capsys, DCGAN, tmp_path / "g.safetensors", tmp_path / "g.pt", "--model", "Gen")
    assert "no model `Gen`" in err and "`Generator`" in err
    assert not (tmp_path / "g.pt").exists()


def test_shape_mismatch_is_refused(tmp_path: Path, capsys) -> None:
    """LeNet-5's weights for a spec whose last layer is wider: refused, named, no OUT."""
    _, _, pt = _torch_file(LENET, tmp_path, "LeNet5", is_path=True)
    wider = tmp_path / "wider.net"
    model_only = Path(LENET).read_text().split("\ntrain")[0]  # no class count to match
    wider.write_text(model_only.replace("dense(10)", "dense(12)"))
    out = tmp_path / "w.safetensors"
    err = _error(capsys, wider, pt, out)
    assert f"{pt} does not fit model `LeNet5`" in err
    assert "dense_3.weight is [10, 84] in the file, [12, 84] in the model" in err
    assert not out.exists()
    _no_leftovers(tmp_path)
    # canonical weights of another model: missing and unknown tensors are named
    assert convert(LENET, pt, out) == 0
    capsys.readouterr()
    err = _error(capsys, DCGAN, out, tmp_path / "g.pt", "--model", "Generator")
    assert "lacks" in err and "tensors the model does not" in err
    assert not (tmp_path / "g.pt").exists()


def test_keras_file_with_extra_layers_is_refused(tmp_path: Path, capsys) -> None:
    """Keras itself would load such a file silently, ignoring the weights the model lacks."""
    _keras()
    _, _, pt = _torch_file(LENET, tmp_path, "LeNet5", is_path=True)
    h5 = tmp_path / "lenet.weights.h5"
    assert convert(LENET, pt, h5) == 0
    capsys.readouterr()
    shorter = tmp_path / "shorter.net"
    shorter.write_text(Path(LENET).read_text().replace("dense(84) -> relu\n", ""))
    err = _error(capsys, shorter, h5, tmp_path / "x.pt")
    assert "does not fit model `LeNet5`" in err
    assert not (tmp_path / "x.pt").exists()
    _no_leftovers(tmp_path)


def test_unreadable_files(tmp_path: Path, capsys) -> None:
    text = tmp_path / "notes.pt"
    text.write_text("not weights\n")
    err = _error(capsys, LENET, text, tmp_path / "w.safetensors")
    assert "notes.pt is not a file written by torch.save" in err
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"\xff" * 64)
    err = _error(capsys, LENET, junk, tmp_path / "w.pt")
    assert "junk.safetensors is not a safetensors file" in err
    torch.save({"epoch": 3}, tmp_path / "other.pt")
    err = _error(capsys, LENET, tmp_path / "other.pt", tmp_path / "w.safetensors")
    assert "holds no PyTorch state dict" in err and "epoch" in err
    assert not (tmp_path / "w.safetensors").exists() and not (tmp_path / "w.pt").exists()


def test_framework_not_installed(tmp_path: Path, capsys, monkeypatch) -> None:
    import specc.tools.weights

    monkeypatch.setattr(specc.tools.weights, "_installed", lambda module: module != "tensorflow")
    (tmp_path / "w.pt").write_bytes(b"")
    err = _error(capsys, LENET, tmp_path / "w.pt", tmp_path / "w.weights.h5")
    assert "needs tensorflow, which is not installed" in err and "specc[keras]" in err


def test_worker_failure_shows_one_line() -> None:
    from specc.tools.weights import _failure

    done = subprocess.CompletedProcess(
        [], 1, "", 'Traceback (most recent call last):\n  File "x"\nValueError: bad thing\n'
    )
    assert (
        _failure(done, "keras") == "the Keras step of the conversion failed: ValueError: bad thing"
    )
    done = subprocess.CompletedProcess([], 2, "", "noise\nspecc-weights: error: x.pt is bad\n")
    assert _failure(done, "torch") == "x.pt is bad"


def test_spec_errors_exit_1(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "bad.net"
    bad.write_text("model M {\n  input x: [1, 4, 4]\n  dense(3)\n}\n")
    (tmp_path / "w.pt").write_bytes(b"")
    assert convert(bad, tmp_path / "w.pt", tmp_path / "w.safetensors") == 1
    assert "error[" in capsys.readouterr().err


def test_specc_never_imports_the_frameworks(tmp_path: Path) -> None:
    _, _, pt = _torch_file(LENET, tmp_path, "LeNet5", is_path=True)
    code = (
        "import sys; from specc.cli import main; "
        f"code = main(['weights', 'convert', {LENET!r}, {str(pt)!r}, "
        f"{str(tmp_path / 'w.safetensors')!r}]); "
        "print(code, 'torch' in sys.modules, 'tensorflow' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert done.stdout.split()[-3:] == ["0", "False", "False"], done.stdout + done.stderr
