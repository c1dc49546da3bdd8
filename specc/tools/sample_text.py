"""`specc sample RUN_DIR` for a text run (one with vocab.json): character-level generation.

The run folder's own model.py is imported on the backend the run was trained with
(run.json's "backend"), through the documented interface of emitted code only:
`MODELS[name]()` and `load_canonical(model, "weights.safetensors")`. Everything before that
(the run folder, vocab.json, spec.net, the prime) is checked without importing torch or
tensorflow, and the framework is imported only then, inside `load_forward`.

Generation is autoregressive over the model's input length T. At each step the model gets
one window of T ids: the last T ids of the text so far. While the text is shorter than T,
the window holds the whole text followed by padding (copies of its first id) and the scores
are read at the last real character. For a causal model (unidirectional recurrent layers,
causal attention) the scores there do not depend on the padding at all, so the model sees
exactly what it saw in training at that position of a window: the first characters of a
window, from a fresh state. The first padded step checks this (the padding changed once);
a model that looks ahead gets a warning, since its text then depends on the padding.

Temperature t > 0: the scores divided by t, softmax in float64, one draw with numpy's
`default_rng(seed)` (one uniform number per character, against the cumulative
probabilities). t = 0: greedy, the argmax (the lowest id among ties); no random numbers."""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
DEFAULT_COUNT = 200
BACKENDS = ("torch", "keras")

#: ids [T] int64 -> scores [T, V] float64
Forward = Callable[[np.ndarray], np.ndarray]

_names = itertools.count()


class SampleError(Exception):
    """A problem with the run folder or the options, in one line for the user."""

    def __init__(self, message: str, code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class TextRun:
    """What generation needs from a run folder, checked without importing a framework."""

    folder: Path
    backend: str
    model: str
    length: int  # T, the model's input length
    tokens: tuple[str, ...]  # token id i is tokens[i]
    probabilities: bool = False  # the model ends in softmax: its outputs are probabilities

    @property
    def weights(self) -> Path:
        return self.folder / "weights.safetensors"


def _read_json(path: Path, what: str) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SampleError(f"{path.parent} has no {path.name}; is it a run folder?") from None
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise SampleError(f"{path} is not valid JSON ({what}): {err}") from None


def read_vocab(path: Path) -> tuple[str, ...]:
    """vocab.json's tokens: `{"kind": "chars", "tokens": [...]}`, distinct single characters."""
    data = _read_json(path, "the run's vocabulary")
    bad = f"{path} is not a character vocabulary"
    if not isinstance(data, dict):
        raise SampleError(f'{bad}: expected an object {{"kind": "chars", "tokens": [...]}}')
    if data.get("kind") != "chars":
        raise SampleError(
            f"{bad}: its kind is {data.get('kind')!r}; `specc sample` generates text from "
            '"chars" vocabularies'
        )
    tokens = data.get("tokens")
    if not isinstance(tokens, list) or not tokens:
        raise SampleError(f'{bad}: "tokens" should be a non-empty list of characters')
    wrong = [t for t in tokens if not isinstance(t, str) or len(t) != 1]
    if wrong:
        raise SampleError(
            f'{bad}: "tokens" should hold single characters, not {", ".join(map(repr, wrong[:3]))}'
        )
    if len(set(tokens)) != len(tokens):
        twice = sorted({t for t in tokens if tokens.count(t) > 1})
        raise SampleError(f"{bad}: {', '.join(map(repr, twice))} appear more than once")
    return tuple(tokens)


def open_run(folder: str | Path) -> TextRun:
    """Check a text run folder: run.json, vocab.json, spec.net and weights.safetensors."""
    folder = Path(folder)
    if not folder.is_dir():
        raise SampleError(f"no such run folder: {folder}")
    meta = _read_json(folder / "run.json", "the run's record")
    backend = meta.get("backend") if isinstance(meta, dict) else None
    name = meta.get("model") if isinstance(meta, dict) else None
    if backend not in BACKENDS or not isinstance(name, str):
        raise SampleError(
            f'{folder}/run.json should name the run\'s "backend" (torch or keras) and "model"'
        )
    tokens = read_vocab(folder / "vocab.json")
    for needed in ("model.py", "spec.net"):
        if not (folder / needed).is_file():
            raise SampleError(f"{folder} is not a complete run folder (no {needed})")
    if not (folder / "weights.safetensors").is_file():
        raise SampleError(
            f"{folder} has no trained weights (weights.safetensors); finish (or resume) the "
            "run first"
        )

    from specc.compiler import compile_source

    spec_path = folder / "spec.net"
    result = compile_source(spec_path.read_text(encoding="utf-8"), str(spec_path))
    if not result.ok or result.spec is None:
        raise SampleError(f"{spec_path} does not compile any more; check it with `specc check`")
    try:
        net = result.spec.model(name)
    except KeyError:
        raise SampleError(f"{spec_path} has no model `{name}` (run.json's model)") from None
    inputs = net.input_nodes
    if len(inputs) != 1 or len(inputs[0].shape or ()) != 1 or inputs[0].op.dtype != "int":
        raise SampleError(
            f"model `{name}` should take one sequence of token ids `[T] int` to generate text"
        )
    (length,) = inputs[0].shape or (0,)
    out = net.output_shape
    if out != (length, len(tokens)):
        raise SampleError(
            f"model `{name}` returns {list(out)}, but generating text needs scores for each "
            f"step and each of vocab.json's {len(tokens)} characters: [{length}, {len(tokens)}]"
        )
    embeddings = [n.op.vocab for n in net.layers if n.kind == "embedding"]
    if embeddings and embeddings[0] < len(tokens):
        raise SampleError(
            f"model `{name}` embeds {embeddings[0]} token ids, fewer than vocab.json's "
            f"{len(tokens)} characters"
        )
    last = net.node(net.output).kind
    return TextRun(folder, backend, name, length, tokens, probabilities=last == "softmax")


def encode(run: TextRun, text: str) -> list[int]:
    """Token ids of `text`; an error naming the characters the vocabulary lacks."""
    index = {token: i for i, token in enumerate(run.tokens)}
    unknown = list(dict.fromkeys(c for c in text if c not in index))
    if unknown:
        raise SampleError(
            f"--prime has {len(unknown)} character{'s' if len(unknown) > 1 else ''} that "
            f"{run.folder}/vocab.json lacks: {', '.join(map(repr, unknown))}"
        )
    return [index[c] for c in text]


def default_prime(tokens: Sequence[str]) -> str:
    """A newline where the vocabulary has one, else its first token."""
    return "\n" if "\n" in tokens else tokens[0]


def choose(scores: np.ndarray, temperature: float, rng: np.random.Generator) -> int:
    """One token id from one step's scores (logits)."""
    scores = np.asarray(scores, dtype=np.float64)
    if not np.all(np.isfinite(scores)):
        raise SampleError("the model's scores are not finite (nan or inf)", EXIT_FAILED)
    if temperature == 0:
        return int(np.argmax(scores))
    z = scores / temperature
    z = np.exp(z - z.max())
    cumulative = np.cumsum(z / z.sum())
    drawn = int(np.searchsorted(cumulative, rng.random() * cumulative[-1], side="right"))
    return min(drawn, len(scores) - 1)


def window(ids: Sequence[int], length: int) -> tuple[np.ndarray, int]:
    """The model's input for the next step, and the position of its last real character:
    the last `length` ids, or all of them followed by copies of the first."""
    real = list(ids[-length:])
    x = np.full(length, real[0], dtype=np.int64)
    x[: len(real)] = real
    return x, len(real) - 1


def generate(
    forward: Forward,
    ids: Sequence[int],
    count: int,
    length: int,
    vocab_size: int,
    *,
    temperature: float = 1.0,
    seed: int = 0,
    probabilities: bool = False,
    warn: Callable[[str], None] | None = None,
) -> list[int]:
    """`count` new ids after `ids` (at least one), one forward pass each."""
    rng = np.random.default_rng(seed)
    ids = list(ids)
    probed = False
    for _ in range(count):
        x, last = window(ids, length)
        scores = forward(x)[last]
        if last < length - 1 and not probed and vocab_size > 1:
            probed = True
            other = x.copy()
            other[last + 1 :] = (x[0] + 1) % vocab_size
            if not np.allclose(forward(other)[last], scores, rtol=1e-4, atol=1e-5) and warn:
                warn(
                    f"the model's scores at a step depend on later steps (it is not causal), "
                    f"so text generated from fewer than {length} characters depends on the "
                    f"padding; give a --prime of at least {length} characters"
                )
        if probabilities:
            scores = np.log(np.maximum(np.asarray(scores, dtype=np.float64), 1e-300))
        ids.append(choose(scores, temperature, rng))
    return ids


# ----- the framework part: imported only here ------------------------------------------------
def load_forward(run: TextRun) -> Forward:
    """The trained model of the run folder on its own backend, as one forward pass in
    inference mode: ids [T] -> scores [T, V] (float64)."""
    from specc.tools.emitted_code import load_module

    if run.backend == "keras":
        os.environ.setdefault("KERAS_BACKEND", "tensorflow")
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    name = f"specc_sample_{run.backend}_model_{next(_names)}"
    try:
        module = load_module(run.folder / "model.py", name)
        net = module.MODELS[run.model]()
    except Exception as err:
        raise SampleError(
            f"{run.folder}/model.py cannot build `{run.model}`: {_first(err)}", EXIT_FAILED
        ) from None
    try:
        module.load_canonical(net, str(run.weights))
    except Exception as err:
        raise SampleError(
            f"{run.weights} does not fit model `{run.model}` ({_first(err)}); was it saved "
            "from another spec?"
        ) from None
    if run.backend == "torch":
        return _torch_forward(net)
    return _keras_forward(net)


def _first(err: BaseException) -> str:
    text = str(err).strip().strip("'\"")
    return text.splitlines()[0] if text else type(err).__name__


def _torch_forward(net: object) -> Forward:
    import torch

    assert isinstance(net, torch.nn.Module)
    net.eval()

    def forward(ids: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            out = net(torch.as_tensor(ids[None], dtype=torch.long))
        return out[0].double().cpu().numpy()

    return forward


def _keras_forward(net: object) -> Forward:
    import keras

    def forward(ids: np.ndarray) -> np.ndarray:
        with keras.device("cpu:0"):  # predict_on_batch: inference mode, traced once
            out = net.predict_on_batch(ids[None].astype(np.int32))  # type: ignore[attr-defined]
        return np.asarray(keras.ops.convert_to_numpy(out), dtype=np.float64)[0]

    return forward


# ----- the command ---------------------------------------------------------------------------
def sample_text(args: argparse.Namespace) -> int:
    """`specc sample RUN_DIR` on a text run: prints the prime and `-n` generated characters
    (and writes them to `-o FILE`, atomically)."""
    try:
        text = _sample(args)
    except SampleError as err:
        print(f"specc: error: {' '.join(str(err).split())}", file=sys.stderr)
        return err.code
    print(text)
    return EXIT_OK


def _sample(args: argparse.Namespace) -> str:
    count = DEFAULT_COUNT if args.n is None else args.n
    temperature = 1.0 if args.temperature is None else args.temperature
    seed = 0 if args.seed is None else args.seed
    if count < 1:
        raise SampleError("-n must be at least 1")
    if not math.isfinite(temperature) or temperature < 0:
        raise SampleError(
            f"--temperature must be a number >= 0 (0: always the likeliest), not {temperature}"
        )
    if seed < 0:
        raise SampleError("--seed must be at least 0")
    if getattr(args, "device", None) not in (None, "auto", "cpu"):
        raise SampleError("text generation runs on the CPU; --device is for GAN runs")
    run = open_run(args.run_dir)
    if args.prime == "":
        raise SampleError("--prime is empty; leave it out to start from a newline")
    prime = default_prime(run.tokens) if args.prime is None else args.prime
    ids = encode(run, prime)
    forward = load_forward(run)

    def warn(message: str) -> None:
        print(f"specc: warning: {message}", file=sys.stderr)

    try:
        out = generate(
            forward,
            ids,
            count,
            run.length,
            len(run.tokens),
            temperature=temperature,
            seed=seed,
            probabilities=run.probabilities,
            warn=warn,
        )
    except SampleError:
        raise
    except Exception as err:
        raise SampleError(
            f"generating with model `{run.model}` failed: {_first(err)}", EXIT_FAILED
        ) from None
    text = "".join(run.tokens[i] for i in out)
    if args.out:
        from specc.files import write_atomic

        try:
            write_atomic(args.out, text)
        except OSError as err:
            raise SampleError(f"cannot write {args.out}: {err.strerror or err}") from None
    return text
