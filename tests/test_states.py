"""Final and initial states of recurrent layers: `out, h, c = ... -> lstm(n)` and
`lstm(n, initial_state=[h, c])` (their numbers are verified in tests/test_verify.py's
catalogue: States, MaskedStates)."""

from __future__ import annotations

from specc.backends import get_backend
from specc.compiler import compile_source


def _check(body: str) -> list[tuple[str, str]]:
    result = compile_source(f"model M {{\n  input x: [5, 3]\n{body}\n}}\n", "t.net")
    return [(d.code, d.message) for d in result.diagnostics]


def test_states_are_nodes_after_their_layer() -> None:
    result = compile_source(
        "model M {\n  input x: [5, 3]\n  _, h, c = lstm(4)\n  x -> lstm(4, initial_state=[h, c])\n}"
    )
    net = result.spec.models[0]
    kinds = [(n.name, n.kind, n.inputs) for n in net.layers]
    assert kinds == [
        ("lstm_1", "lstm", ("x",)),
        ("lstm_1.h", "recurrent_state", ("lstm_1",)),
        ("lstm_1.c", "recurrent_state", ("lstm_1",)),
        ("lstm_2", "lstm", ("x", "lstm_1.h", "lstm_1.c")),
    ]
    assert net.node("lstm_1.c").shape == (4,)
    assert net.trainable == 2 * 4 * 4 * (3 + 4 + 1)  # states add no parameters


def test_discarded_values_are_not_bound_and_not_warned_about() -> None:
    assert _check("  _, h = gru(4)\n  x -> gru(4, initial_state=h)") == []
    assert _check("  out, _, c = lstm(4)\n  x -> lstm(4, initial_state=[out, c])") == []
    assert [c for c, _ in _check("  out, h = gru(4)\n  x -> gru(4)")] == ["W0401", "W0401"]


def test_one_mistake_gives_one_error() -> None:
    found = _check("  a = x -> bogus(3)\n  _, h = a -> gru(4)\n  x -> gru(4, initial_state=h)")
    assert [c for c, _ in found] == ["E0301"]


def test_states_given_inside_a_wrapper_are_pointed_to_the_wrapper() -> None:
    result = compile_source(
        "model M {\n  input x: [5, 3]\n  _, h = gru(4)\n"
        "  x -> bidirectional(gru(4, initial_state=h))\n}"
    )
    (error,) = result.diagnostics
    assert error.code == "E0304" and "bidirectional(lstm(n), initial_state=[...])" in error.help


SEQ2SEQ = """model Seq2Seq {
  input source: [6] int
  input target: [5] int
  _, h, c = source -> embedding(20, 8, mask_zero=true) -> lstm(16)
  target -> embedding(20, 8) -> lstm(16, return_sequences=true, initial_state=[h, c])
  dense(20)
}
"""


def test_the_emitted_code_reads_the_states_as_each_framework_gives_them() -> None:
    result = compile_source(SEQ2SEQ)
    assert result.ok and not result.diagnostics
    torch = get_backend("torch").emit(result.spec, SEQ2SEQ)["model.py"]
    # PyTorch: the final state (h, c) [directions, N, units], padded steps skipped
    assert "_, lstm_1_state = packed_rnn(self.lstm_1, x, source_mask)" in torch
    assert "lstm_1_c = lstm_1_state[1][0]" in torch
    assert "self.lstm_2(x, (lstm_1_h.unsqueeze(0), lstm_1_c.unsqueeze(0)))" in torch
    keras = get_backend("keras").emit(result.spec, SEQ2SEQ)["model.py"]
    # Keras: return_state=True gives [output, h, c]; the encoder's output is not kept
    assert "_, lstm_1_h, lstm_1_c = layers.LSTM(" in keras
    assert "return_state=True" in keras
    assert "(x, initial_state=[lstm_1_h, lstm_1_c])" in keras


def test_initial_state_is_an_argument_like_the_others() -> None:
    head = "  _, h = gru(4)\n  _, g = x -> gru(4)\n"
    twice = _check(head + "  x -> gru(4, initial_state=h, initial_state=g)")
    assert [c for c, _ in twice] == ["E0305"]
    after = _check(head + "  x -> gru(initial_state=h, 4)")
    assert [c for c, _ in after] == ["E0202"]
    empty = _check("  x -> gru(4, initial_state=[])")
    assert [c for c, _ in empty] == ["E0425"]


def test_an_underscore_is_never_bound() -> None:
    assert _check("  _ = x -> dense(4)\n  _, h = x -> gru(4)\n  x -> gru(4, initial_state=h)") == []
    found = _check("  _ = x -> dense(4)\n  concat(_, x)")
    assert [c for c, _ in found] == ["E0413"]
    # a failed pipeline does not leave `_` behind either (one mistake, one error)
    found = _check("  _, h = x -> gru(4) -> nosuchlayer\n  _, g = x -> gru(4)\n  g")
    assert [c for c, _ in found] == ["E0301"]


def test_names_that_meet_in_emitted_code_are_an_error() -> None:
    """`gru_1.h` (a state) and a layer named `gru_1_h` would be one Python variable."""
    found = _check(
        "  y = x -> flatten -> dense(4) as gru_1_h\n  _, h = x -> gru(4)\n  concat(h, y)"
    )
    assert [c for c, _ in found] == ["E0426"]
    assert "`gru_1.h` and `gru_1_h`" in found[0][1]
    block = compile_source(
        "block b() { dense(4) }\nmodel M {\n  input x: [4]\n"
        "  y = x -> dense(4) as b_1_dense_1\n  z = x -> b\n  concat(y, z)\n}\n"
    )
    assert [d.code for d in block.diagnostics] == ["E0426"]
