"""Shape rules of every layer kind, edge cases included."""

from __future__ import annotations

import pytest

from specc.compiler import compile_source
from specc.ir.net import Net
from specc.layers import REGISTRY
from specc.layers.base import same_padding


def net_of(layer: str, shape: list[int], dtype: str = "") -> Net:
    text = f"model M {{\n  input x: {shape} {dtype}\n  {layer}\n}}\n"
    result = compile_source(text, "t.net")
    assert result.ok, [d.message for d in result.diagnostics]
    return result.spec.models[0]


def out(layer: str, shape: list[int], dtype: str = "") -> tuple[int, ...]:
    return net_of(layer, shape, dtype).output_shape


def fails(layer: str, shape: list[int], dtype: str = "") -> str:
    text = f"model M {{\n  input x: {shape} {dtype}\n  {layer}\n}}\n"
    result = compile_source(text, "t.net")
    errors = [d for d in result.diagnostics if d.is_error]
    assert errors, f"{layer} on {shape} should fail"
    return errors[0].message + " / " + errors[0].help


SHAPE_RULES = [
    ("flatten -> rbm(5)", [1, 4, 4], (5,)),
    ("m = dense(3)\n  v = x -> dense(3)\n  z = gaussian_sample(m, v)\n  z -> dense(4)", [6], (4,)),
    ("m = dense(3)\n  v = x -> dense(3)\n  gaussian_sample(m, v) -> dense(8)", [6], (8,)),
    ("conv2d(8, 3)", [3, 32, 32], (8, 30, 30)),
    ("conv2d(8, 3, padding=1)", [3, 32, 32], (8, 32, 32)),
    ("conv2d(8, 3, padding=same)", [3, 32, 32], (8, 32, 32)),
    ("conv2d(8, 3, padding=valid)", [3, 32, 32], (8, 30, 30)),
    ("conv2d(8, [3, 5], padding=[1, 2])", [3, 32, 32], (8, 32, 32)),
    ("conv2d(8, 3, stride=2)", [3, 32, 32], (8, 15, 15)),
    ("conv2d(8, 3, stride=2, padding=same)", [3, 32, 32], (8, 16, 16)),
    ("conv2d(8, 3, stride=2, padding=same)", [3, 33, 33], (8, 17, 17)),
    ("conv2d(8, 4, stride=2, padding=same)", [3, 7, 7], (8, 4, 4)),
    ("conv2d(8, 3, dilation=2)", [3, 32, 32], (8, 28, 28)),
    ("conv2d(8, 3, dilation=2, padding=same)", [3, 32, 32], (8, 32, 32)),
    ("conv2d(8, 3, groups=4)", [4, 8, 8], (8, 6, 6)),
    ("conv2d(64, 11, stride=4, padding=2)", [3, 224, 224], (64, 55, 55)),
    ("conv1d(16, 3)", [20, 8], (18, 16)),
    ("conv1d(16, 3, padding=same, stride=2)", [20, 8], (10, 16)),
    ("conv1d(16, 3, dilation=3)", [20, 8], (14, 16)),
    ("conv2d_transpose(4, 4, stride=2, padding=1)", [8, 7, 7], (4, 14, 14)),
    ("conv2d_transpose(4, 3, stride=2, padding=1, output_padding=1)", [8, 7, 7], (4, 14, 14)),
    ("conv2d_transpose(4, 3, stride=2, padding=1)", [8, 7, 7], (4, 13, 13)),
    ("conv2d_transpose(4, 3)", [8, 5, 5], (4, 7, 7)),
    ("maxpool2d(2)", [3, 32, 32], (3, 16, 16)),
    ("maxpool2d(2)", [3, 33, 33], (3, 16, 16)),
    ("maxpool2d(2, ceil=true)", [3, 33, 33], (3, 17, 17)),
    ("maxpool2d(3, stride=2)", [64, 55, 55], (64, 27, 27)),
    ("maxpool2d(3, stride=2, padding=1)", [64, 112, 112], (64, 56, 56)),
    ("maxpool2d(3, stride=2, ceil=true)", [64, 56, 56], (64, 28, 28)),
    ("maxpool2d(2, padding=same)", [3, 5, 5], (3, 3, 3)),
    ("avgpool2d(3, stride=1, padding=same)", [3, 5, 5], (3, 5, 5)),
    ("masking(-1.0)", [5, 3], (5, 3)),
    # final states, and initial states (an encoder's states start a decoder)
    (
        "_, h, c = lstm(6); x -> lstm(6, return_sequences=true, initial_state=[h, c])",
        [5, 4],
        (5, 6),
    ),
    ("out, h = gru(3); h", [5, 4], (3,)),
    ("_, fh, fc, bh, bc = bidirectional(lstm(3)); concat(fh, bc)", [5, 4], (6,)),
    ("_, h = rnn(3); x -> bidirectional(rnn(3), merge=sum, initial_state=[h, h])", [5, 4], (3,)),
    ("global_avgpool2d", [512, 7, 7], (512,)),
    ("global_maxpool2d", [512, 7, 7], (512,)),
    ("adaptive_avgpool2d([6, 6])", [256, 13, 13], (256, 6, 6)),
    ("adaptive_avgpool2d(1)", [256, 13, 13], (256, 1, 1)),
    ("upsample2d", [3, 4, 5], (3, 8, 10)),
    ("upsample2d([2, 3], mode=bilinear)", [3, 4, 5], (3, 8, 15)),
    ("zero_pad2d(1)", [3, 4, 5], (3, 6, 7)),
    ("zero_pad2d([1, 2])", [3, 4, 5], (3, 6, 9)),
    ("zero_pad2d([1, 0, 2, 0])", [3, 4, 5], (3, 5, 7)),
    ("dense(10)", [20], (10,)),
    ("dense(10)", [5, 20], (5, 10)),
    ("flatten", [16, 5, 5], (400,)),
    ("reshape([128, 7, 7])", [6272], (128, 7, 7)),
    ("reshape([-1, 7, 7])", [6272], (128, 7, 7)),
    ("reshape([4, -1])", [2, 3, 4], (4, 6)),
    ("identity", [3, 4], (3, 4)),
    ("dropout(0.2)", [10], (10,)),
    ("batchnorm", [3, 8, 8], (3, 8, 8)),
    ("batchnorm", [10], (10,)),
    ("layernorm", [5, 10], (5, 10)),
    ("layernorm", [10], (10,)),
    ("relu -> sigmoid -> tanh -> selu -> gelu -> silu -> softplus", [3, 4], (3, 4)),
    ("leaky_relu(0.2) -> elu(1.0) -> softmax -> log_softmax", [3, 4], (3, 4)),
    ("softmax(axis=0)", [3, 4], (3, 4)),
    ("softmax(axis=-1)", [3, 4], (3, 4)),
    ("rnn(8)", [5, 4], (8,)),
    ("lstm(8)", [5, 4], (8,)),
    ("lstm(8, return_sequences=true)", [5, 4], (5, 8)),
    ("gru(8, return_sequences=true)", [5, 4], (5, 8)),
    ("bidirectional(lstm(8))", [5, 4], (16,)),
    ("bidirectional(gru(8, return_sequences=true))", [5, 4], (5, 16)),
    ("bidirectional(gru(8, return_sequences=true), merge=sum)", [5, 4], (5, 8)),
    ("global_avgpool1d", [5, 4], (4,)),
    ("global_maxpool1d", [5, 4], (4,)),
    ("position_embedding", [5, 4], (5, 4)),
    ("sinusoidal_position", [5, 4], (5, 4)),
    ("multihead_attention(heads=4, dim=16)", [5, 16], (5, 16)),
    ("multihead_attention(2, 16)", [5, 16], (5, 16)),
    # volumes [C, D, H, W]: each spatial axis follows the 2-D rule
    ("conv3d(4, 3)", [2, 6, 8, 8], (4, 4, 6, 6)),
    ("conv3d(4, [1, 3, 3], stride=[1, 2, 2], padding=[0, 1, 1])", [2, 6, 8, 8], (4, 6, 4, 4)),
    ("conv3d(4, 3, stride=2, padding=same)", [2, 5, 8, 9], (4, 3, 4, 5)),
    ("conv3d(4, 3, dilation=2)", [2, 6, 8, 8], (4, 2, 4, 4)),
    ("conv3d_transpose(3, 4, stride=2, padding=1)", [4, 3, 4, 4], (3, 6, 8, 8)),
    ("conv3d_transpose(3, 3, stride=2, output_padding=1)", [4, 2, 2, 2], (3, 6, 6, 6)),
    ("maxpool3d(2)", [4, 5, 8, 8], (4, 2, 4, 4)),
    ("maxpool3d(2, ceil=true)", [4, 5, 8, 8], (4, 3, 4, 4)),
    ("maxpool3d(3, stride=2, padding=1)", [4, 3, 4, 4], (4, 2, 2, 2)),
    ("avgpool3d(3, stride=1, padding=same)", [4, 3, 4, 4], (4, 3, 4, 4)),
    ("avgpool3d([1, 2, 2])", [4, 3, 4, 6], (4, 3, 2, 3)),
    ("upsample3d", [2, 2, 3, 4], (2, 4, 6, 8)),
    ("upsample3d([1, 2, 3])", [2, 2, 3, 4], (2, 2, 6, 12)),
    ("zero_pad3d(1)", [2, 2, 3, 4], (2, 4, 5, 6)),
    ("zero_pad3d([1, 0, 2])", [2, 2, 3, 4], (2, 4, 3, 8)),
    ("zero_pad3d([1, 0, 0, 2, 1, 1])", [2, 2, 3, 4], (2, 3, 5, 6)),
    ("batchnorm", [3, 4, 8, 8], (3, 4, 8, 8)),
    ("flatten", [2, 3, 4, 5], (120,)),
    ("softmax(axis=features)", [3, 2, 2, 2], (3, 2, 2, 2)),
]
EMBEDDING = ("embedding(1000, 32)", [20], "int")


@pytest.mark.parametrize(("layer", "shape", "expected"), SHAPE_RULES)
def test_shape_rule(layer: str, shape: list[int], expected: tuple[int, ...]) -> None:
    assert out(layer, shape) == expected


def test_embedding_takes_token_ids() -> None:
    assert out(*EMBEDDING) == (20, 32)


def test_same_padding_is_tensorflows_extra_after() -> None:
    assert same_padding(32, 3, 2) == (0, 1)  # out 16: 15*2 + 3 - 32 = 1 -> after
    assert same_padding(33, 3, 2) == (1, 1)
    assert same_padding(7, 4, 2) == (1, 2)
    assert same_padding(32, 3, 1) == (1, 1)
    assert same_padding(32, 3, 1, dilation=2) == (2, 2)
    assert same_padding(5, 1, 2) == (0, 0)


def test_conv_pads_resolve_per_axis() -> None:
    r = compile_source("model M {\n input x: [3, 32, 31]\n conv2d(4, 3, stride=2, padding=same)\n}")
    node = r.spec.models[0].layers[0]
    assert node.op.pads((3, 32, 31)) == ((0, 1), (1, 1))
    assert node.shape == (4, 16, 16)


MERGE_SPEC = "model M {{\n input x: [4, 8, 8]\n a = conv2d(2, 1)\n b = x -> conv2d(3, 1)\n {}\n}}"
MERGES = [
    ("concat(a, b)", (5, 8, 8)),
    ("concat(a, b, axis=features)", (5, 8, 8)),
    ("concat(a, b, axis=0)", (5, 8, 8)),
    ("concat(a, a, axis=2)", (2, 8, 16)),
    ("concat(a, a, axis=-1)", (2, 8, 16)),
    ("multiply(a, a)", (2, 8, 8)),
    ("add(a, a, a)", (2, 8, 8)),
]


def test_concat_axis() -> None:
    for call, expected in MERGES:
        r = compile_source(MERGE_SPEC.format(call))
        assert r.ok and r.spec.models[0].output_shape == expected, call


def test_concat_on_sequences_uses_the_last_axis() -> None:
    r = compile_source("model M {\n input x: [5, 4]\n a = dense(3)\n concat(a, x)\n}")
    assert r.spec.models[0].output_shape == (5, 7)


@pytest.mark.parametrize(
    ("layer", "shape", "fragment"),
    [
        ("dense(10)", [3, 8, 8], "add `flatten`"),
        ("conv2d(4, 9)", [1, 8, 8], "does not fit"),
        ("conv2d(4, 3)", [8, 8], "image"),
        ("conv2d(4, 3, groups=3)", [4, 8, 8], "groups"),
        ("conv1d(4, 3)", [3, 8, 8], "sequence"),
        ("maxpool2d(2, padding=2)", [1, 8, 8], "half the kernel"),
        ("conv2d_transpose(4, 3, stride=2, output_padding=2)", [1, 4, 4], "output_padding"),
        ("reshape([5, -1])", [12], "cannot make"),
        ("reshape([-1, -1])", [12], "at most one -1"),
        ("reshape([5, 3])", [12], "needs 15 elements"),
        ("lstm(4)", [10], "sequence"),
        ("masking", [10], "embedding(vocab, dim, mask_zero=true)"),
        ("masking(1e999)", [5, 3], "finite"),
        ("_, h = gru(4); x -> lstm(4, initial_state=h)", [5, 3], "starts from 2 states (h, c)"),
        ("_, h = gru(4); x -> lstm(4, initial_state=h)", [5, 3], "write `initial_state=[h, c]`"),
        (
            "_, h = gru(3); x -> gru(4, initial_state=h)",
            [5, 3],
            "`h` must be [4] (one value per unit); got [3]",
        ),
        (
            "_, h = gru(4); x -> bidirectional(gru(4), initial_state=h)",
            [5, 3],
            "forward_h, backward_h",
        ),
        ("a, b = dense(4)", [5, 3], "only a recurrent layer gives several values"),
        ("a, b = lstm(4)", [5, 3], "gives 3 values (output, h, c); 2 names"),
        ("a, b, c, d = gru(4)", [5, 3], "write `out, h = ...`"),
        ("gru(4, initial_state=3)", [5, 3], "takes bound names"),
        ('recurrent_state(0, "h", 3)', [5, 3], "not called by name"),
        ("multihead_attention(heads=3, dim=16)", [5, 16], "not divisible"),
        ("multihead_attention(heads=4, dim=8)", [5, 16], "needs 8 features per time step"),
        ("global_avgpool1d", [3, 8, 8], "a sequence [T, F] (time steps, features)"),
        ("sinusoidal_position", [5, 7], "even"),
        ("batchnorm", [5, 4], "layernorm"),
        ("layernorm", [3, 4, 4], "batchnorm"),
        ("softmax(axis=3)", [3, 4], "out of range"),
        ("embedding(10, 4)", [5], "token ids"),
        ("conv3d(4, 3)", [3, 8, 8], "needs a volume [C, D, H, W], got [3, 8, 8]"),
        ("conv2d(4, 3)", [3, 4, 8, 8], "needs an image [C, H, W], got [3, 4, 8, 8]"),
        ("maxpool3d(2)", [8, 8], "volumes are [channels, depth, height, width]"),
        ("dense(4)", [3, 4, 8, 8], "got the volume [3, 4, 8, 8] / add `flatten`"),
        ("avgpool3d(3, padding=1)", [2, 2, 4, 4], "does not fit the input [2, 2, 4, 4]"),
        ("maxpool3d([2, 2])", [2, 4, 4, 4], "list of three integers"),
        ("zero_pad3d([1, 2])", [2, 4, 4, 4], "[front, back, top, bottom, left, right]"),
        ("upsample3d(mode=bilinear)", [2, 4, 4, 4], "mode"),
    ],
)
def test_shape_errors(layer: str, shape: list[int], fragment: str) -> None:
    assert fragment in fails(layer, shape)


def test_float_layers_refuse_token_ids() -> None:
    assert "token ids" in fails("dense(3)", [5], "int")


def test_every_registered_op_is_covered_here() -> None:
    """Every layer kind is a node of some shape-rule case above (a name that only appears in
    this file's text, as `relu` does in `leaky_relu`, does not count)."""
    nets = [net_of(layer, shape) for layer, shape, _ in SHAPE_RULES] + [net_of(*EMBEDDING)]
    nets += [compile_source(MERGE_SPEC.format(call)).spec.models[0] for call, _ in MERGES]
    covered = {node.kind for net in nets for node in net.layers}
    assert sorted(set(REGISTRY) - covered) == []
