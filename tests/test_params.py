"""Parameter counts: the shipped specs match their papers' reference implementations, and every
layer kind matches PyTorch's count (checked against torch itself where it is installed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from specc.compiler import compile_source
from specc.ir.net import Net

ROOT = Path(__file__).resolve().parents[1]


def spec_models(name: str) -> dict[str, Net]:
    result = compile_source((ROOT / "specs" / name).read_text(encoding="utf-8"), name)
    assert result.ok and result.spec is not None
    return {m.name: m for m in result.spec.models}


@pytest.mark.parametrize(
    ("spec", "model", "trainable", "frozen"),
    [
        ("lenet5.net", "LeNet5", 61_706, 0),
        ("alexnet.net", "AlexNet", 61_100_840, 0),
        ("vgg16.net", "VGG16", 138_357_544, 0),
        ("resnet18.net", "ResNet18", 11_689_512, 9_600),
        ("mlp.net", "MLP", 101_770, 0),
    ],
)
def test_shipped_spec_totals(spec: str, model: str, trainable: int, frozen: int) -> None:
    net = spec_models(spec)[model]
    assert (net.trainable, net.non_trainable) == (trainable, frozen)


def test_dcgan_generator() -> None:
    net = spec_models("dcgan.net")["Generator"]
    # dense (no bias) + batchnorm + transposed conv (no bias) + batchnorm + transposed conv
    expected = 100 * 6272 + 2 * 6272 + 128 * 64 * 16 + 2 * 64 + (64 * 1 * 16 + 1)
    assert (net.trainable, net.non_trainable) == (expected, 2 * 6272 + 2 * 64)


def test_dcgan_discriminator() -> None:
    net = spec_models("dcgan.net")["Discriminator"]
    expected = (1 * 64 * 16 + 64) + (64 * 128 * 16) + 2 * 128 + (128 * 7 * 7 + 1)
    assert (net.trainable, net.non_trainable) == (expected, 2 * 128)


def test_lenet5_per_layer() -> None:
    net = spec_models("lenet5.net")["LeNet5"]
    counts = {n.name: n.trainable for n in net.layers if n.trainable}
    assert counts == {
        "conv2d_1": 156, "conv2d_2": 2_416, "dense_1": 48_120, "dense_2": 10_164, "dense_3": 850,
    }  # fmt: skip


def test_resnet18_per_layer() -> None:
    net = spec_models("resnet18.net")["ResNet18"]
    assert net.node("stem").trainable == 9_408
    assert net.node("down_1.conv2d_3").trainable == 8_192  # 1x1 projection, no bias
    assert (net.node("batchnorm_1").trainable, net.node("batchnorm_1").non_trainable) == (128, 128)
    assert net.node("fc").trainable == 513_000


def test_vgg16_per_layer() -> None:
    net = spec_models("vgg16.net")["VGG16"]
    assert net.node("vgg_stage_1.conv2d_1").trainable == 1_792
    assert net.node("vgg_stage_5.conv2d_3").trainable == 2_359_808
    assert net.node("dense_1").trainable == 102_764_544


# layer, input shape, input dtype, PyTorch module that holds the same weights, torch count
LAYERS = [
    ("dense(10)", [20], "", "nn.Linear(20, 10)", 210),
    ("dense(10, bias=false)", [20], "", "nn.Linear(20, 10, bias=False)", 200),
    ("conv2d(8, 3)", [3, 16, 16], "", "nn.Conv2d(3, 8, 3)", 224),
    ("conv2d(8, 3, groups=4)", [4, 8, 8], "", "nn.Conv2d(4, 8, 3, groups=4)", 80),
    ("conv2d(8, [3, 5])", [3, 16, 16], "", "nn.Conv2d(3, 8, (3, 5))", 368),
    ("conv1d(16, 3)", [20, 8], "", "nn.Conv1d(8, 16, 3)", 400),
    ("conv2d_transpose(4, 4, stride=2)", [8, 7, 7], "", "nn.ConvTranspose2d(8, 4, 4, 2)", 516),
    ("batchnorm", [6, 4, 4], "", "nn.BatchNorm2d(6)", 12),
    ("batchnorm", [6], "", "nn.BatchNorm1d(6)", 12),
    ("layernorm", [5, 6], "", "nn.LayerNorm(6)", 12),
    ("embedding(100, 8)", [5], "int", "nn.Embedding(100, 8)", 800),
    ("gru(8)", [5, 4], "", "nn.GRU(4, 8, batch_first=True)", 336),
    ("multihead_attention(heads=2, dim=8)", [5, 8], "", "nn.MultiheadAttention(8, 2)", 288),
]  # fmt: skip


@pytest.mark.parametrize(("layer", "shape", "dtype", "module", "count"), LAYERS)
def test_layer_counts_match_pytorch(
    layer: str, shape: list[int], dtype: str, module: str, count: int
) -> None:
    r = compile_source(f"model M {{\n input x: {shape} {dtype}\n {layer}\n}}")
    assert r.ok, [d.message for d in r.diagnostics]
    assert r.spec.models[0].layers[0].trainable == count


def test_recurrent_counts_use_one_bias_per_gate_for_rnn_and_lstm() -> None:
    """rnn and lstm count one bias vector per gate block (Keras's layout; PyTorch keeps two
    that sum to it, see docs/language.md); gru counts PyTorch's two (reset-after form)."""
    f, u = 4, 8
    for layer, gates, biases in [("rnn", 1, 1), ("lstm", 4, 1), ("gru", 3, 2)]:
        r = compile_source(f"model M {{\n input x: [5, {f}]\n {layer}({u})\n}}")
        assert r.spec.models[0].layers[0].trainable == gates * u * (f + u) + biases * gates * u
    r = compile_source(f"model M {{\n input x: [5, {f}]\n bidirectional(lstm({u}))\n}}")
    assert r.spec.models[0].layers[0].trainable == 2 * (4 * u * (f + u) + 4 * u)


def test_parameter_free_layers() -> None:
    r = compile_source(
        "model M {\n input x: [3, 8, 8]\n relu -> maxpool2d(2) -> dropout(0.1) -> upsample2d"
        " -> zero_pad2d(1) -> global_avgpool2d -> softmax\n}"
    )
    assert r.spec.models[0].trainable == 0


def test_counts_against_torch() -> None:
    torch = pytest.importorskip("torch")
    nn = torch.nn
    for layer, _shape, _dtype, module, count in LAYERS:
        got = sum(p.numel() for p in eval(module, {"nn": nn}).parameters())  # noqa: S307
        assert got == count, (layer, module)
