"""`specc sample RUN_DIR` on a text run (one with vocab.json): the same text on both backends,
greedy generation against an independent argmax chain, and clean errors."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import save_file

from specc.cli import main
from specc.compiler import compile_source
from specc.layers.canonical_init import canonical_init
from specc.tools import sample_text

pytest.importorskip("torch")
pytest.importorskip("keras")

ROOT = Path(__file__).resolve().parents[1]
T = 16
TOKENS = ["\n", " ", *"abcdefghij", "."]
SPEC = f"""model CharLM {{
  input chars: [{T}] int
  embedding({len(TOKENS)}, 8) -> lstm(24, return_sequences=true) -> dense({len(TOKENS)})
}}
"""
BIDIRECTIONAL = """model Bi {
  input chars: [8] int
  embedding(4, 4) -> bidirectional(lstm(4, return_sequences=true)) -> dense(4)
}
"""


def make_run(folder: Path, spec: str, backend: str, model: str, tokens: list[str]) -> Path:
    """A run folder as `specc run` leaves it for a text data set, with untrained weights."""
    folder.mkdir(parents=True)
    (folder / "spec.net").write_text(spec, encoding="utf-8")
    assert main(["compile", str(folder / "spec.net"), "--backend", backend, "-o", str(folder)]) == 0
    result = compile_source(spec, "spec.net")
    assert result.spec is not None
    weights = canonical_init(result.spec.model(model), 7)
    save_file(weights, str(folder / "weights.safetensors"))
    (folder / "vocab.json").write_text(json.dumps({"kind": "chars", "tokens": tokens}))
    (folder / "run.json").write_text(json.dumps({"backend": backend, "model": model}))
    return folder


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("text-runs")
    return {b: make_run(base / b, SPEC, b, "CharLM", TOKENS) for b in ("torch", "keras")}


def sample(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["sample", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_both_backends_generate_the_same_text(
    runs: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    texts = {}
    for backend, folder in runs.items():
        code, out, err = sample(capsys, str(folder), "-n", "120", "--prime", "ab c", "--seed", "5")
        assert code == 0, err
        texts[backend] = out
    assert texts["torch"] == texts["keras"]
    text = texts["torch"]
    assert text.startswith("ab c") and text.endswith("\n")
    assert len(text) == 4 + 120 + 1  # the prime, -n characters, print's newline
    assert set(text) <= set(TOKENS)
    # the draws are random: another seed, another text; the same seed, the same text
    code, other, _ = sample(capsys, str(runs["torch"]), "-n", "120", "--prime", "ab c")
    assert code == 0 and other != text
    code, again, _ = sample(capsys, str(runs["torch"]), "-n", "120", "--prime", "ab c")
    assert again == other

    # the scores themselves agree across backends, on a full window
    x = np.random.default_rng(0).integers(0, len(TOKENS), T)
    torch_scores, keras_scores = (
        sample_text.load_forward(sample_text.open_run(runs[b]))(x) for b in ("torch", "keras")
    )
    assert torch_scores.shape == (T, len(TOKENS))
    np.testing.assert_allclose(keras_scores, torch_scores, atol=1e-5)


def _torch_model(folder: Path):
    spec = importlib.util.spec_from_file_location("charlm_reference_model", folder / "model.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    net = module.MODELS["CharLM"]()
    module.load_canonical(net, str(folder / "weights.safetensors"))
    return net.eval()


def test_near_zero_temperature_is_the_argmax_chain(
    runs: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    import torch

    net = _torch_model(runs["torch"])
    prime, count = "ab", 40
    ids = [TOKENS.index(c) for c in prime]
    for _ in range(count):
        # no padding at all: the causal model sees just the text so far (its last T ids)
        with torch.inference_mode():
            scores = net(torch.tensor([ids[-T:]]))[0, -1]
        ids.append(int(scores.argmax()))
    expected = "".join(TOKENS[i] for i in ids) + "\n"
    assert len(set(expected)) > 2  # not a trivial chain

    for folder, temperature in (
        (runs["torch"], "1e-9"),
        (runs["torch"], "0"),
        (runs["keras"], "0"),
    ):
        code, out, err = sample(
            capsys, str(folder), "-n", str(count), "--prime", prime, "--temperature", temperature
        )
        assert code == 0, err
        assert out == expected, (folder.name, temperature)
    # a warm temperature draws something else
    code, out, _ = sample(capsys, str(runs["torch"]), "-n", str(count), "--prime", prime)
    assert code == 0 and out != expected


def test_default_prime_and_out_file(
    runs: dict[str, Path], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "text.txt"
    code, out, err = sample(capsys, str(runs["torch"]), "-n", "30", "-o", str(target))
    assert code == 0, err
    assert out.startswith("\n") and len(out) == 1 + 30 + 1  # default prime: a newline
    assert target.read_text(encoding="utf-8") == out[:-1]
    assert not [p for p in tmp_path.iterdir() if p.name != "text.txt"]  # no temporary left


def test_unknown_prime_characters_are_named(
    runs: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = sample(capsys, str(runs["torch"]), "--prime", "abZ cé Z")
    assert code == 2 and out == ""
    assert err.startswith("specc: error: --prime has 2 characters")
    assert "'Z', 'é'" in err and "vocab.json" in err
    assert err.count("\n") == 1


@pytest.fixture()
def broken(runs: dict[str, Path], tmp_path: Path) -> Path:
    folder = tmp_path / "run"
    shutil.copytree(runs["torch"], folder)
    return folder


def _vocab(folder: Path, data: object) -> None:
    (folder / "vocab.json").write_text(json.dumps(data))


CASES = {
    "no weights": (
        lambda f: (f / "weights.safetensors").unlink(),
        [],
        "finish (or resume) the run first",
    ),
    "vocab not json": (
        lambda f: (f / "vocab.json").write_text("{tokens"),
        [],
        "vocab.json is not valid JSON",
    ),
    "vocab kind": (lambda f: _vocab(f, {"kind": "words", "tokens": TOKENS}), [], "kind is 'words'"),
    "vocab tokens": (
        lambda f: _vocab(f, {"kind": "chars", "tokens": ["ab", *TOKENS[1:]]}),
        [],
        "single characters",
    ),
    "vocab twice": (
        lambda f: _vocab(f, {"kind": "chars", "tokens": ["a", *TOKENS[1:]]}),
        [],
        "'a' appear more than once",
    ),
    "vocab size": (
        lambda f: _vocab(f, {"kind": "chars", "tokens": TOKENS[:5]}),
        [],
        "of vocab.json's 5 characters: [16, 5]",
    ),
    "run.json": (lambda f: (f / "run.json").unlink(), [], "has no run.json"),
    "backend": (
        lambda f: (f / "run.json").write_text('{"backend": "jax", "model": "CharLM"}'),
        [],
        '"backend" (torch or keras)',
    ),
    "model": (
        lambda f: (f / "run.json").write_text('{"backend": "torch", "model": "Other"}'),
        [],
        "no model `Other`",
    ),
    "weights of another spec": (
        lambda f: save_file(
            {"dense_1.weight": np.zeros((3, 3), np.float32)}, str(f / "weights.safetensors")
        ),
        [],
        "does not fit model `CharLM`",
    ),
    "temperature": (
        lambda f: None,
        ["--temperature", "-0.5"],
        "--temperature must be a number >= 0",
    ),
    "infinite temperature": (lambda f: None, ["--temperature", "inf"], "--temperature must"),
    "n": (lambda f: None, ["-n", "0"], "-n must be at least 1"),
    "seed": (lambda f: None, ["--seed", "-1"], "--seed must be at least 0"),
    "empty prime": (lambda f: None, ["--prime", ""], "--prime is empty"),
    "device": (lambda f: None, ["--device", "cuda"], "runs on the CPU"),
    "out is a folder": (lambda f: None, ["-n", "2", "-o", "."], "cannot write ."),
}


@pytest.mark.parametrize("case", list(CASES))
def test_errors_are_one_line(broken: Path, capsys: pytest.CaptureFixture[str], case: str) -> None:
    spoil, flags, message = CASES[case]
    spoil(broken)
    code, out, err = sample(capsys, str(broken), *flags)
    assert code != 0 and out == ""
    assert err.startswith("specc: error: ") and err.count("\n") == 1, err
    assert message in err


def test_gan_runs_refuse_text_options(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "train.py").write_text("")
    code, out, err = sample(capsys, str(tmp_path), "--temperature", "0.5")
    assert code == 2 and "--temperature: only for text runs" in err
    # no vocab.json and no generator: the GAN sampler's own message, as before
    code, out, err = sample(capsys, str(tmp_path))
    assert code == 2 and "no trained generator" in err


def test_a_model_that_looks_ahead_is_warned_about(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = make_run(tmp_path / "bi", BIDIRECTIONAL, "torch", "Bi", list("abcd"))
    capsys.readouterr()  # what `specc compile` printed
    code, out, err = sample(capsys, str(folder), "-n", "12")
    assert code == 0 and out.startswith("a") and len(out) == 1 + 12 + 1  # prime: first token
    assert "is not causal" in err and "--prime of at least 8 characters" in err
    code, out, err = sample(capsys, str(folder), "-n", "12", "--prime", "abcdabcd")
    assert code == 0 and "warning" not in err  # a full window: no padding, no warning


def test_no_framework_before_generation(runs: dict[str, Path]) -> None:
    """The checks before generation (and importing the module) load neither framework."""
    code = (
        "import sys\n"
        "from specc.cli import main\n"
        f"assert main(['sample', {str(runs['torch'])!r}, '--prime', 'Z']) == 2\n"
        "assert not {'torch', 'tensorflow', 'keras'} & set(sys.modules), sorted(sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert done.returncode == 0, done.stderr
