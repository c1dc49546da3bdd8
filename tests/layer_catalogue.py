"""The layer catalogue's test specs (tests/layer_specs/*.net): models that hold every layer
kind between them. Each is compiled, emitted and pinned by golden files on both backends
(tests/test_golden.py), run on both backends (tests/test_keras_backend.py) and, where
`TRAINING` gives it a training section, verified (tests/test_verify.py).
tests/test_registry.py checks that every registered kind is covered by all of these."""

from __future__ import annotations

from pathlib import Path

FOLDER = Path(__file__).resolve().parent / "layer_specs"

#: model -> the training section verify gives it (models without one are checked forward only)
TRAINING = {
    "Images": "loss = mse\n  optimizer = adam(lr=1e-3)",
    "Pools": "loss = mse\n  optimizer = sgd(lr=0.05, momentum=0.9)",
    "Generator": "loss = mae\n  optimizer = rmsprop(lr=1e-3)",
    "Heads": "loss = cross_entropy\n  optimizer = sgd(lr=0.05)",
    "Sequences": "loss = huber\n  optimizer = adamw(lr=1e-3)",
    "Text": "loss = cross_entropy\n  optimizer = adagrad(lr=0.05)",
    "Tagger": "loss = cross_entropy\n  optimizer = adam(lr=1e-2)",
    "Encoder": "loss = cross_entropy\n  optimizer = adam(lr=1e-3)",
    "Volumes": "loss = cross_entropy\n  optimizer = sgd(lr=0.05, momentum=0.9)",
    "Masked": "loss = cross_entropy\n  optimizer = adam(lr=1e-2)",
    "States": "loss = cross_entropy\n  optimizer = rmsprop(lr=1e-2)",
    "MaskedStates": "loss = cross_entropy\n  optimizer = adam(lr=1e-2)",
    "MaskedCross": "loss = cross_entropy\n  optimizer = adamw(lr=1e-2)",
    "MaskedTagger": "loss = cross_entropy\n  optimizer = sgd(lr=0.5, momentum=0.9)",
    "MaskedSeries": "loss = mse\n  optimizer = adam(lr=1e-2)",
    "Latent": "target = input\n  loss = bce_with_logits\n  kl_weight = 0.5\n"
    "  kl_warmup = 2\n  optimizer = adam(lr=1e-2)",
    "Boltzmann": "target = input\n  cd_k = 2\n  persistent = true\n"
    "  optimizer = sgd(lr=0.1, momentum=0.5)",
}
#: model -> the `classes` of its synthetic data
CLASSES = {
    "Text": 3,
    "Volumes": 5,
    "Tagger": 5,
    "Encoder": 3,
    "Masked": 3,
    "States": 3,
    "MaskedStates": 3,
    "MaskedCross": 3,
    "MaskedTagger": 5,
}


def specs() -> list[Path]:
    return sorted(FOLDER.glob("*.net"))


def source(stem: str) -> str:
    return (FOLDER / f"{stem}.net").read_text(encoding="utf-8")


def model_source(stem: str) -> str:
    """A catalogue file's text, without its header comment."""
    lines = source(stem).splitlines(keepends=True)
    return "".join(line for line in lines if not line.startswith("#"))


def trainable_spec(model: str) -> str:
    """The catalogue file holding `model`, with a training section for it."""
    stem = next(p.stem for p in specs() if f"model {model} " in p.read_text(encoding="utf-8"))
    classes = CLASSES.get(model, 2)
    return (
        f"{source(stem)}\ntrain {model} {{\n  data = synthetic(n=16, classes={classes})\n"
        f"  {TRAINING[model]}\n}}\n"
    )
