"""Padding masks (`embedding(..., mask_zero=true)`): how the mask travels through a network,
what refuses it, and what each backend emits for it. Both backends computing the same on
right-padded batches is tests/test_verify.py's catalogue case (tests/layer_specs/masking.net)."""

from __future__ import annotations

import pytest

from specc.backends.keras.keras_backend import KerasBackend
from specc.backends.torch.torch_backend import TorchBackend
from specc.compiler import compile_source
from specc.passes.masking import mask_sources

SPEC = """
model M {
  input tokens: [9] int
  e = embedding(50, 8, mask_zero=true) -> dense(8) -> relu -> layernorm
  a = multihead_attention(e, e, heads=2, dim=8, causal=true)
  s = add(a, e) -> bidirectional(lstm(4, return_sequences=true))
  p = s -> global_maxpool1d
  q = s -> gru(3)
  concat(p, q) -> dense(2)
}
"""


def _net(text: str = SPEC):  # noqa: ANN202
    result = compile_source(text)
    assert result.ok, [d.message for d in result.diagnostics]
    assert result.spec is not None
    return result.spec.models[0]


def test_the_mask_passes_through_per_step_layers_and_stops_at_consumers() -> None:
    net = _net()
    sources = mask_sources(net)
    masked = {name for name, source in sources.items() if source == "embedding_1"}
    # dense, relu, layernorm, attention, add and a sequence-returning recurrent layer pass it
    assert masked == {
        "embedding_1",
        "dense_1",
        "relu_1",
        "layernorm_1",
        "multihead_attention_1",
        "add_1",
        "bidirectional_1",
    }
    # pooling and the last step do not: their outputs have no time axis
    assert sources["global_maxpool1d_1"] is None and sources["gru_1"] is None
    assert sources[net.output] is None


def test_an_unmasked_embedding_has_no_mask() -> None:
    net = _net(SPEC.replace(", mask_zero=true", ""))
    assert set(mask_sources(net).values()) == {None}


def test_a_padded_output_warns_that_the_loss_counts_padding() -> None:
    result = compile_source(
        "model M {\n  input t: [5] int\n  embedding(9, 4, mask_zero=true) -> gru(3, true)\n}\n"
    )
    assert result.ok
    assert [d.code for d in result.diagnostics] == ["W0501"]


@pytest.mark.parametrize(
    ("layer", "code"),
    [("flatten", "E0504"), ("conv1d(4, 3)", "E0504"), ("concat(x, x, axis=0)", "E0504")],
)
def test_layers_that_would_mix_padded_steps_refuse_a_mask(layer: str, code: str) -> None:
    text = (
        "model M {\n  input t: [6] int\n  x = embedding(9, 4, mask_zero=true)\n"
        f"  {layer} -> flatten -> dense(2)\n}}\n"
    )
    result = compile_source(text)
    assert not result.ok
    assert [d.code for d in result.diagnostics if d.is_error] == [code]


def test_the_torch_code_packs_and_masks() -> None:
    spec = compile_source(SPEC).spec
    assert spec is not None
    code = TorchBackend().emit(spec, SPEC)["model.py"]
    assert "tokens_mask = tokens != 0" in code
    assert "nn.utils.rnn.pack_padded_sequence(" in code  # the fused path, real steps only
    assert "packed_rnn(self.bidirectional_1, x, tokens_mask)" in code
    assert "key_padding_mask=~tokens_mask" in code
    assert "masked_max(" in code


def test_the_keras_code_hands_the_mask_over_explicitly() -> None:
    spec = compile_source(SPEC).spec
    assert spec is not None
    code = KerasBackend().emit(spec, SPEC)["model.py"]
    assert "tokens_mask = ops.not_equal(tokens, 0)" in code
    assert "mask_zero=False" in code  # no implicit propagation
    assert "zero_output_for_mask=True" in code
    assert "attention_mask=ops.expand_dims(tokens_mask, 1)" in code
    assert "query=ops.copy(" in code
    assert "MaskedMaxPool1D(" in code


def test_keras_softmax_on_a_padded_sequence_is_an_activation() -> None:
    """Keras's Softmax layer would take the sequence's mask [N, T] for one over [N, T, F]."""
    text = (
        "model M {\n  input t: [5] int\n"
        "  embedding(9, 4, mask_zero=true) -> lstm(3, true) -> softmax -> global_avgpool1d\n}\n"
    )
    spec = compile_source(text).spec
    assert spec is not None
    code = KerasBackend().emit(spec, text)["model.py"]
    assert 'layers.Activation("softmax", name="softmax_1")' in code
