"""The PyTorch backend: emitted models build, run, and agree with the IR."""

from __future__ import annotations

from pathlib import Path

import pytest

from specc.backends import get_backend
from specc.layers.canonical_init import canonical_init
from specc.tools.verify import _steps
from specc.tools.verify_worker import _torch_intermediates
from tests.emitted import compile_spec, import_emitted

torch = pytest.importorskip("torch")
ROOT = Path(__file__).resolve().parent.parent

FAST = ["lenet5", "mlp", "resnet18"]
SLOW = ["alexnet", "vgg16"]


def _check_spec(name: str, tmp_path: Path) -> None:
    path = str(ROOT / "specs" / f"{name}.net")
    result = compile_spec(path, is_path=True)
    module = import_emitted("torch", path, tmp_path, is_path=True)
    for net in result.spec.models:
        model = getattr(module, net.name)()
        params = list(model.parameters())
        trainable = sum(p.numel() for p in params if p.requires_grad)
        buffers = sum(
            b.numel() for n, b in model.named_buffers() if not n.endswith("num_batches_tracked")
        )
        assert trainable == net.trainable
        assert buffers + sum(p.numel() for p in params if not p.requires_grad) == net.non_trainable
        model.eval()
        x = torch.randn(2, *net.input_nodes[0].shape)
        with torch.no_grad():
            y = model(x)
        assert tuple(y.shape) == (2, *net.output_shape)


@pytest.mark.parametrize("name", FAST)
def test_shipped_spec_builds_and_runs(name: str, tmp_path: Path) -> None:
    _check_spec(name, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("name", SLOW)
def test_large_shipped_spec_builds_and_runs(name: str, tmp_path: Path) -> None:
    _check_spec(name, tmp_path)


def test_dcgan_models_build(tmp_path: Path) -> None:
    _check_spec("dcgan", tmp_path)


CATALOGUE = """
model Everything {
  input image: [3, 16, 16]
  a = conv2d(8, 3, stride=2, padding=same) -> batchnorm -> leaky_relu(0.2)
  b = input -> conv2d(8, 4, stride=2, padding=same, dilation=1) -> elu(0.5)
  concat(a, b) -> maxpool2d(3, stride=2, padding=same) -> gelu
  c = conv2d_transpose(4, 4, stride=2, padding=1, output_padding=0) -> silu
  d = c -> zero_pad2d([1, 1, 2, 0]) -> avgpool2d(3, stride=1) -> selu
  e = c -> upsample2d(2) -> maxpool2d(2, ceil=true) -> avgpool2d(3, stride=1, padding=1)
      -> softplus
  add(d, e) -> adaptive_avgpool2d([2, 2]) -> sigmoid -> flatten -> dropout(0.0)
  dense(12) -> layernorm -> tanh -> reshape([3, 4])
  conv1d(6, 2, padding=same) -> multihead_attention(heads=2, dim=6)
  f = lstm(5, return_sequences=true)
  g = f -> gru(5, return_sequences=true)
  multiply(f, g) -> bidirectional(rnn(4)) -> identity -> softmax
}
"""


def test_every_layer_kind_runs(tmp_path: Path) -> None:
    result = compile_spec(CATALOGUE)
    net = result.spec.models[0]
    module = import_emitted("torch", CATALOGUE, tmp_path)
    model = module.Everything().eval()
    x = torch.randn(3, 3, 16, 16)
    with torch.no_grad():
        y = model(x)
        # every node's value in `forward`, read as specc verify reads it
        values = _torch_intermediates(model, [x], _steps(net))
    assert tuple(y.shape) == (3, *net.output_shape)
    assert sum(p.numel() for p in model.parameters() if p.requires_grad) == net.trainable
    # every intermediate shape matches the IR
    assert {name: v.shape for name, v in values.items()} == {
        node.name: (3, *node.shape) for node in net.layers
    }


def test_embedding_input_is_int(tmp_path: Path) -> None:
    text = """
model Text {
  input tokens: [7] int
  embedding(50, 8) -> lstm(6) -> dense(3)
}"""
    module = import_emitted("torch", text, tmp_path)
    y = module.Text()(torch.randint(0, 50, (2, 7)))
    assert tuple(y.shape) == (2, 3)


def test_canonical_weights_round_trip(tmp_path: Path) -> None:
    path = str(ROOT / "specs" / "resnet18.net")
    net = compile_spec(path, is_path=True).spec.model("ResNet18")
    module = import_emitted("torch", path, tmp_path, is_path=True)
    first, second = module.ResNet18().eval(), module.ResNet18().eval()
    module.save_canonical(first, str(tmp_path / "w.safetensors"))
    module.load_canonical(second, str(tmp_path / "w.safetensors"))
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        assert torch.equal(first(x), second(x))
    # the canonical layout: the spec's layer names, PyTorch's parameter names and shapes, no
    # num_batches_tracked; the same keys and shapes that specc's own initial weights have
    layout = {key: tuple(value.shape) for key, value in module.canonical_state(first).items()}
    assert layout == {key: value.shape for key, value in canonical_init(net, 0).items()}
    assert layout["stem.weight"] == (64, 3, 7, 7)
    assert layout["down_1_conv2d_3.weight"] == (128, 64, 1, 1)  # the first projected shortcut


HOSTILE = """
model Evil {
  input __import__: [4]
  dense(3) as self -> relu as forward
  dense(2) as torch
}
train Evil {
  data = npz(path="x\\"); import os; os.system('echo pwned') #")
  loss = mse
  optimizer = sgd(lr=0.1)
}
"""


def test_spec_cannot_inject_code(tmp_path: Path) -> None:
    result = compile_spec(HOSTILE)
    files = get_backend("torch").emit(result.spec, result.source.text)
    import ast

    for name, source in files.items():
        tree = ast.parse(source)  # still valid Python
        # the payload reaches no code: outside strings and comments, nothing is named `system`
        names = {
            node.id if isinstance(node, ast.Name) else node.attr
            for node in ast.walk(tree)
            if isinstance(node, ast.Name | ast.Attribute)
        }
        assert "system" not in names, name
    module = import_emitted("torch", HOSTILE, tmp_path)
    model = module.Evil()
    y = model(torch.randn(2, 4))
    assert tuple(y.shape) == (2, 2)
