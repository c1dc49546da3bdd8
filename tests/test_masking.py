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


_PADDED_LOSS = """
import json, sys
import numpy as np
sys.path.insert(0, sys.argv[1])
import model, train
backend = sys.argv[2]
x = np.array([[3, 4, 5, 0, 0], [1, 2, 7, 8, 0]])
real = x != 0
rng = np.random.default_rng(0)
out = rng.standard_normal((2, 5, 4)).astype("float32")
y = rng.integers(0, 4, (2, 5))
noisy_out, noisy_y = out.copy(), y.copy()  # anything at the padded steps
noisy_out[~real] = 50 * rng.standard_normal((int((~real).sum()), 4))
noisy_y[~real] = (y[~real] + 1) % 4
training = train.Training(model.MODELS["Tagger"]())
figures = []
for o, t in ((out, y), (noisy_out, noisy_y)):
    if backend == "torch":
        import torch
        o, t, xs = torch.from_numpy(o), torch.from_numpy(t), torch.from_numpy(x)
    else:
        xs = x
    loss, correct = training.objective(o, t, training.output_mask(xs))
    figures += [float(loss), float(correct)]
print(json.dumps(figures))
"""


@pytest.mark.parametrize("backend", ["torch", "keras"])
def test_a_padded_output_is_trained_on_its_real_steps_only(backend: str, tmp_path) -> None:
    """Per-step losses and accuracy over a padded output skip its padded steps: the mean
    over the batch's real steps, whatever the output and labels there."""
    import json
    import subprocess
    import sys

    import numpy as np

    from specc.backends import get_backend

    spec = (
        "model Tagger {\n  input t: [5] int\n  embedding(9, 4, mask_zero=true) -> "
        "gru(4, return_sequences=true)\n}\n"
        "train Tagger {\n  data = synthetic(n=8, classes=4)\n  loss = cross_entropy\n}\n"
    )
    result = compile_source(spec)
    assert result.ok and not result.diagnostics  # no warning: nothing is counted wrongly
    for name, text in get_backend(backend).emit(result.spec, spec).items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    (tmp_path / "check.py").write_text(_PADDED_LOSS, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, str(tmp_path / "check.py"), str(tmp_path), backend],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    loss, correct, noisy_loss, noisy_correct = json.loads(proc.stdout.strip().splitlines()[-1])
    # by hand: cross-entropy averaged over the 7 real steps; each sample's fraction right
    x = np.array([[3, 4, 5, 0, 0], [1, 2, 7, 8, 0]])
    rng = np.random.default_rng(0)
    out = rng.standard_normal((2, 5, 4)).astype("float32").astype(np.float64)
    y = rng.integers(0, 4, (2, 5))
    log_p = out - np.log(np.exp(out).sum(-1, keepdims=True))
    picked = np.take_along_axis(log_p, y[..., None], -1)[..., 0]
    real = x != 0
    assert loss == pytest.approx(-picked[real].mean(), rel=1e-5)
    hits = out.argmax(-1) == y
    assert correct == pytest.approx(sum(hits[i][real[i]].mean() for i in range(2)), rel=1e-6)
    assert (noisy_loss, noisy_correct) == pytest.approx((loss, correct), rel=1e-6)


@pytest.mark.parametrize("backend", ["torch", "keras"])
@pytest.mark.parametrize("loss", ["cross_entropy", "nll", "mse", "huber", "kl_div"])
def test_padded_training_code_is_ruff_clean(backend: str, loss: str, tmp_path) -> None:
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    from specc.backends import get_backend

    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    spec = (
        "model Tagger {\n  input t: [5] int\n  embedding(9, 4, mask_zero=true) -> "
        "gru(4, return_sequences=true)\n}\n"
        f"train Tagger {{\n  data = synthetic(n=8, classes=4)\n  loss = {loss}\n}}\n"
    )
    result = compile_source(spec)
    assert result.ok
    for name, text in get_backend(backend).emit(result.spec, spec).items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    for args in (["check"], ["format", "--check", "--diff"]):
        proc = subprocess.run(
            [ruff, *args, "--isolated", str(tmp_path)], capture_output=True, text=True
        )
        assert proc.returncode == 0, proc.stdout
