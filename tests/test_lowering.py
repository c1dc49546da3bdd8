"""Expansion: deterministic names, blocks, repeat, merges, multi-input models, `input`."""

from __future__ import annotations

from pathlib import Path

from specc.compiler import compile_source
from specc.ir.net import Net

ROOT = Path(__file__).resolve().parents[1]


def net(text: str, name: str | None = None) -> Net:
    result = compile_source(text, "t.net")
    assert result.ok, [d.message for d in result.diagnostics]
    assert result.spec is not None
    return result.spec.model(name) if name else result.spec.models[0]


def names(n: Net) -> list[str]:
    return [x.name for x in n.nodes]


def test_names_count_per_kind_in_a_scope() -> None:
    n = net("model M {\n input x: [4]\n dense(4) -> relu\n dense(4) -> relu\n dense(2)\n}")
    assert names(n) == ["x", "dense_1", "relu_1", "dense_2", "relu_2", "dense_3"]
    assert n.output == "dense_3"


def test_vgg16_names_are_hierarchical() -> None:
    n = net((ROOT / "specs/vgg16.net").read_text())
    got = names(n)
    assert got[:6] == [
        "image", "vgg_stage_1.conv2d_1", "vgg_stage_1.relu_1", "vgg_stage_1.conv2d_2",
        "vgg_stage_1.relu_2", "vgg_stage_1.maxpool2d_1",
    ]  # fmt: skip
    assert "vgg_stage_2.conv2d_1" in got and "vgg_stage_5.conv2d_3" in got
    assert got[-1] == "dense_3"


def test_names_are_deterministic() -> None:
    text = (ROOT / "specs/resnet18.net").read_text()
    assert names(net(text)) == names(net(text))


def test_as_names_a_layer_and_a_block() -> None:
    n = net(
        "block b(c) { dense(c) -> relu }\n"
        "model M {\n input x: [4]\n dense(4) as stem -> b(3) as head\n}"
    )
    assert names(n) == ["x", "stem", "head.dense_1", "head.relu_1"]


def test_block_parameters_defaults_and_arithmetic() -> None:
    n = net(
        "block wide(c, k=2, width=c * k + 1) { dense(width) }\n"
        "model M {\n input x: [4]\n wide(3); wide(3, k=3); wide(c=1, width=5)\n}"
    )
    assert [x.op.units for x in n.layers] == [7, 10, 5]


def test_repeat_expands_the_body() -> None:
    n = net("model M {\n input x: [4]\n repeat 3 { dense(4) -> relu }\n repeat 0 { tanh }\n}")
    assert names(n)[1:] == ["dense_1", "relu_1", "dense_2", "relu_2", "dense_3", "relu_3"]


def test_repeat_count_from_a_parameter() -> None:
    n = net("block s(k) { repeat k * 2 { relu } }\nmodel M {\n input x: [4]\n s(2)\n}")
    assert len(n.layers) == 4


def test_statements_continue_from_the_previous_result() -> None:
    n = net("model M {\n input x: [4]\n a = dense(8)\n relu\n}")
    assert n.node("relu_1").inputs == ("dense_1",)


def test_merges_take_named_inputs() -> None:
    n = net(
        "model M {\n input x: [4]\n a = dense(4)\n b = x -> dense(4)\n add(a, b)\n"
        " concat(a, b, x)\n}"
    )
    assert n.node("add_1").inputs == ("dense_1", "dense_2")
    assert n.node("concat_1").inputs == ("dense_1", "dense_2", "x")
    assert n.output_shape == (12,)


def test_input_inside_a_block_is_the_block_input() -> None:
    n = net(
        "block res(c) {\n main = dense(c) -> relu\n add(main, input)\n}\n"
        "model M {\n input x: [4]\n dense(4)\n res(4)\n}"
    )
    assert n.node("res_1.add_1").inputs == ("res_1.relu_1", "dense_1")


def test_input_in_a_model_is_its_single_input() -> None:
    n = net("model M {\n input x: [4]\n a = dense(4)\n b = input -> dense(4)\n add(a, b)\n}")
    assert n.node("dense_2").inputs == ("x",)


def test_multi_input_model() -> None:
    n = net(
        "model M {\n input a: [4]\n input b: [6]\n"
        " left = a -> dense(8)\n right = b -> dense(8)\n multiply(left, right) -> dense(1)\n}"
    )
    assert n.inputs == ("a", "b")
    assert n.node("multiply_1").inputs == ("dense_1", "dense_2")


def test_input_is_ambiguous_with_two_inputs() -> None:
    r = compile_source("model M {\n input a: [4]\n input b: [4]\n input -> relu\n}")
    assert [d.code for d in r.diagnostics] == ["E0412"]


def test_cross_attention_takes_two_names() -> None:
    n = net(
        "model M {\n input q: [5, 8]\n input kv: [7, 8]\n"
        " multihead_attention(q, kv, heads=2, dim=8)\n}"
    )
    assert n.node("multihead_attention_1").inputs == ("q", "kv")
    assert n.output_shape == (5, 8)


def test_nested_blocks() -> None:
    n = net(
        "block inner(c) { dense(c) }\nblock outer(c) { inner(c); inner(c * 2) }\n"
        "model M {\n input x: [4]\n outer(2)\n}"
    )
    assert names(n)[1:] == ["outer_1.inner_1.dense_1", "outer_1.inner_2.dense_1"]


def test_block_params_do_not_leak_into_enumerations() -> None:
    n = net(
        "block c2(same) { conv2d(same, 3, padding=1) }\n"
        "model M {\n input x: [1, 8, 8]\n c2(4) -> conv2d(2, 3, padding=same)\n}"
    )
    assert n.output_shape == (2, 8, 8)


def test_several_models_and_blocks_in_one_file() -> None:
    r = compile_source((ROOT / "specs/dcgan.net").read_text())
    assert r.ok and [m.name for m in r.spec.models] == ["Generator", "Discriminator"]


def test_unused_binding_warns_but_compiles() -> None:
    r = compile_source("model M {\n input x: [4]\n s = dense(4)\n x -> dense(2)\n}")
    assert r.ok and [d.code for d in r.diagnostics] == ["W0401"]


def test_independent_errors_are_all_reported() -> None:
    r = compile_source("model M {\n input x: [4]\n foo\n a = x -> bar\n b = x -> dense(2)\n}")
    assert sorted(d.code for d in r.diagnostics if d.is_error) == ["E0301", "E0301"]


def test_what_depends_on_an_error_is_skipped() -> None:
    r = compile_source("model M {\n input x: [1, 8, 8]\n dense(4)\n dense(4)\n relu\n}")
    assert [d.code for d in r.diagnostics] == ["E0501"]
