"""`specc verify`: the same spec, the same canonical weights and inputs, on PyTorch and on
Keras, each in its own process (specc.tools.verify_worker); every output, intermediate layer,
loss, batch-norm statistic, gradient and the weights after N optimizer steps compared.

Both sides run the emitted code itself, through its documented interface (the workers
re-implement nothing): the model, and train.py's `Training` - the loss with its penalties,
the optimizer, the schedule and gradient clipping. Dropout runs at its real rate, with masks
drawn from one NumPy stream and fed to both sides. The N steps run on one fixed batch over
short epochs of STEPS_PER_EPOCH steps, so the schedule changes the rate on the way; they are
judged by the updates (weights after minus before, relative to the update's size), so a wrong
epsilon or momentum convention shows even on a small network. Each backend's own
initialisers are checked by the statistics of a freshly built model against the distribution
the layer kind documents (`canonical_params`); the data order and augmentation each side's
runtime.py produces are compared exactly. `--torch-dir`/`--keras-dir` verify given
emitted code (a user's edited copy) instead of compiling afresh.

Tolerances (float32): 1e-5 relative to the tensor's scale for outputs and gradients, 1e-4 for
weights after the steps. PyTorch also runs every phase in float64. Deep networks with
batch-norm amplify rounding in the backward pass (ResNet-18's float32 gradients are up to 10%
from its float64 ones at initialisation), so a tensor beyond the tolerance still agrees when
Keras's result is no further from PyTorch's float64 result than 4x PyTorch's own float32
rounding. When some tensors are still beyond both, Keras runs again entirely in float64 (model,
loss and optimizer): a gradient or trained weight on which the two frameworks then agree to a
tenth of the tolerance is the same computation rounded differently in float32 (ResNet-18's
first stage, where batch-norm's backward pass cancels most of the gradient; Keras's float32
result there is up to 1e-2 from the exact one, PyTorch's within 1e-5). Forward results are
never excused this way. The summary counts the tensors that pass on each kind of evidence."""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from specc.backends import BackendError
from specc.backends.base import UNUSED, plan_variables
from specc.backends.keras.keras_backend import KerasBackend
from specc.backends.torch.torch_backend import FORWARD_NAMES, TorchBackend
from specc.compiler import Result
from specc.diagnostics import render_all
from specc.files import write_atomic, write_tree
from specc.ir.net import Net, Spec
from specc.ir.train_config import Gan, Supervised
from specc.layers.base import Param
from specc.passes.latent import forward_order, rbm_node, sample_node
from specc.passes.masking import input_padding

TOLERANCE = {
    "forward": 1e-5,
    "train": 1e-5,
    "grad": 1e-5,
    "stats": 1e-5,
    "gan": 1e-5,
    "steps": 1e-4,
    "schedule": 1e-6,
    "data": 0.0,
}
#: verify's short epochs: the schedule moves on every this many steps
STEPS_PER_EPOCH = 2

#: Phases whose float32 rounding the backward pass can amplify (batch-norm's backward cancels
#: most of the gradient): there, float64 agreement settles a float32 difference. Forward
#: results agree to about 1e-6 on every spec; a difference there is never excused.
AMPLIFIED = ("grad", "steps")


@dataclass
class Row:
    phase: str
    name: str
    shape: tuple[int, ...]
    max_abs: float
    max_rel: float
    base_tolerance: float
    #: how far PyTorch's own float32 result is from its float64 result, relative to scale
    float32_noise: float = 0.0
    #: how far Keras's float32 result is from PyTorch's float64 result, relative to scale
    keras_error: float = float("inf")
    #: how far Keras in float64 is from PyTorch in float64, relative to scale (measured only
    #: for tensors that the float32 comparison cannot settle)
    float64_error: float | None = None

    @property
    def tolerance(self) -> float:
        return self.base_tolerance

    @property
    def within_float32_noise(self) -> bool:
        """Keras is no further from the exact (float64) result than four times PyTorch's own
        float32 rounding: the backends agree as well as float32 allows."""
        return self.keras_error <= max(4 * self.float32_noise, self.base_tolerance)

    @property
    def agrees_in_float64(self) -> bool:
        """A gradient or trained weight on which both frameworks, run entirely in float64,
        agree to a tenth of the tolerance: they compute the same function, and the float32
        difference is rounding amplified by the backward pass."""
        return (
            self.phase in AMPLIFIED
            and self.float64_error is not None
            and self.float64_error <= self.base_tolerance / 10
        )

    @property
    def ok(self) -> bool:
        return (
            self.max_rel <= self.base_tolerance
            or self.within_float32_noise
            or self.agrees_in_float64
        )


def _steps(net: Net) -> list[dict[str, Any]]:
    net = forward_order(net)  # in the order, and with the variables, of the PyTorch code
    variables = plan_variables(net, reserved=FORWARD_NAMES)
    steps = []
    for n in net.layers:
        if variables.of(n.name) == UNUSED:  # read by no one (only the layer's states are)
            continue
        step = {
            "node": n.name,
            "var": variables.of(n.name),
            "kind": n.kind,
            "ident": n.ident,
            "shape": list(n.shape or ()),
            "output": 0,  # which of its Keras layer's outputs
        }
        if n.kind == "recurrent_state":  # a Keras layer's output after its sequence
            step.update(ident=net.node(n.inputs[0]).ident, output=1 + n.op.index)
        steps.append(step)
    return steps


def _inputs(spec: Spec, batch: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed + 1)
    config = spec.training
    if isinstance(config, Gan):
        gen, disc = spec.model(config.generator), spec.model(config.discriminator)
        real_shape = disc.input_nodes[0].shape or ()
        return {
            "z": rng.standard_normal((batch, *(gen.input_nodes[0].shape or ()))).astype("f4"),
            "real": rng.uniform(-1, 1, (batch, *real_shape)).astype("f4"),
        }
    assert isinstance(config, Supervised)
    net = spec.model(config.model)
    node = net.input_nodes[0]
    shape = (batch, *(node.shape or ()))
    padding = input_padding(net)
    if node.op.dtype == "int" and padding is not None:
        x = _padded_tokens(rng, net, shape)
    elif padding is not None:  # `masking(value)`: trailing steps of `value`
        x = rng.standard_normal(shape).astype(np.float32)
        x[_padded_tokens(rng, net, shape[:2]) == 0] = padding.value
    elif node.op.dtype == "int":
        vocab = min((n.op.vocab for n in net.layers if n.kind == "embedding"), default=10)
        x = rng.integers(0, vocab, shape).astype(np.int64)
    else:
        x = rng.standard_normal(shape).astype(np.float32)
    out = net.output_shape
    rbm = rbm_node(net)
    if rbm is not None:  # binary visible units, and the uniforms of the Gibbs steps
        x = rng.integers(0, 2, shape).astype(np.float32)
        units = rbm.op.hidden + math.prod(shape[1:])
        uniforms = rng.random((batch, config.cd_k, units)).astype(np.float32)
        return {"x": x, "y": x.copy(), "uniforms": uniforms}
    if config.target == "input":  # an autoencoder: the input (in [0, 1]) is the target
        if padding is None:
            x = rng.uniform(0.0, 1.0, shape).astype(np.float32)
        sample = sample_node(net)
        if sample is None:
            return {"x": x, "y": x.copy()}
        # a variational autoencoder: the latent's noise, fed to both sides
        eps = rng.standard_normal((batch, *(sample.shape or ()))).astype(np.float32)
        return {"x": x, "y": x.copy(), "eps": eps}
    if config.mixing is not None:  # mixed labels: class probabilities [N, C]
        y = rng.dirichlet(np.ones(out[-1]), batch).astype(np.float32)
    elif config.loss in ("cross_entropy", "nll"):
        # one class per sample [C], or per time step [T, C]
        y = rng.integers(0, out[-1], (batch, *out[:-1])).astype(np.int64)
    elif config.loss in ("bce", "bce_with_logits"):
        y = rng.integers(0, 2, batch).astype(np.int64)
    elif config.loss == "kl_div":
        logits = rng.standard_normal((batch, *out))
        y = (np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)).astype(np.float32)
    else:
        y = rng.standard_normal((batch, *out)).astype(np.float32)
    return {"x": x, "y": y}


def _padded_tokens(rng: np.random.Generator, net: Net, shape: tuple[int, ...]) -> np.ndarray:
    """Token ids 1..vocab-1, right-padded with 0 to lengths from the whole T down to 1
    across the batch, so masking is exercised at every length, one step included."""
    vocab = min((n.op.vocab for n in net.layers if n.kind == "embedding"), default=10)
    x = rng.integers(1, max(vocab, 2), shape).astype(np.int64)
    batch, steps = shape[0], shape[1]
    for row in range(batch):
        length = steps - (row * (steps - 1)) // max(batch - 1, 1)
        x[row, length:] = 0
    return x


def _job(spec: Spec, steps: int, seed: int) -> dict[str, Any]:
    config = spec.training
    if isinstance(config, Gan):
        return {
            "kind": "gan",
            "seed": seed,
            "generator": config.generator,
            "discriminator": config.discriminator,
        }
    assert isinstance(config, Supervised)
    return {
        "kind": "supervised",
        "seed": seed,
        "model": config.model,
        "steps": _steps(spec.model(config.model)),
        "n_steps": steps,
        # a batch of 8 samples for the augmentation and noise check (when the spec has them)
        "augment_shape": [8, *(spec.model(config.model).input_nodes[0].shape or ())]
        if config.transforms_input
        else None,
        # mixup's or cutmix's alpha, for the mixed batch
        "mix_alpha": config.mixing.alpha if config.mixing else None,
        "steps_per_epoch": STEPS_PER_EPOCH,
        "epochs": max(1, -(-steps // STEPS_PER_EPOCH)),
    }


def compare(
    torch_out: dict[str, np.ndarray], keras_out: dict[str, np.ndarray], order: list[str]
) -> tuple[list[Row], list[str]]:
    rows: list[Row] = []
    missing: list[str] = []
    keys = [k for k in torch_out if not k.startswith(("f64:", "init/", "start/", "held/"))]
    for key in sorted(keys, key=lambda k: (order.index(k) if k in order else len(order), k)):
        if key not in keras_out:
            missing.append(key)
            continue
        ref, other = torch_out[key].astype(np.float64), keras_out[key].astype(np.float64)
        phase, _, name = key.partition("/")
        start = torch_out.get(f"start/{name}")
        if phase == "steps" and start is not None and start.shape == ref.shape:
            # judged by the update (after - before), relative to the update's size: a wrong
            # epsilon or momentum convention shows even where the weights barely move
            ref, other = ref - start, other - start
        if ref.shape != other.shape:
            rows.append(Row(phase, name, ref.shape, float("inf"), float("inf"), TOLERANCE[phase]))
            continue
        diff = float(np.abs(ref - other).max()) if ref.size else 0.0
        scale = max(float(np.abs(ref).max()) if ref.size else 0.0, 1e-6)
        noise, keras_error = 0.0, float("inf")
        exact = torch_out.get(f"f64:{key}")
        if exact is not None and exact.shape == ref.shape and ref.size:
            exact = exact.astype(np.float64)
            if phase == "steps" and start is not None and start.shape == exact.shape:
                exact = exact - start
            noise = float(np.abs(ref - exact).max()) / scale
            keras_error = float(np.abs(other - exact).max()) / scale
        rows.append(
            Row(phase, name, ref.shape, diff, diff / scale, TOLERANCE[phase], noise, keras_error)
        )
    return rows, missing


def add_float64(
    rows: list[Row], torch_out: dict[str, np.ndarray], keras64: dict[str, np.ndarray]
) -> None:
    """For each row the float32 comparison does not settle: the float64 difference."""
    for row in rows:
        if row.ok:
            continue
        key = f"{row.phase}/{row.name}"
        exact, other = torch_out.get(f"f64:{key}"), keras64.get(key)
        if exact is None or other is None or exact.shape != other.shape or not exact.size:
            continue
        exact, other = exact.astype(np.float64), other.astype(np.float64)
        start = torch_out.get(f"start/{row.name}")
        if row.phase == "steps" and start is not None and start.shape == exact.shape:
            exact, other = exact - start, other - start
        scale = max(float(np.abs(exact).max()), 1e-6)
        row.float64_error = float(np.abs(exact - other).max()) / scale


@dataclass
class FrozenCheck:
    """A frozen layer's tensor (transfer learning) on one backend: its largest change over
    the frozen period of the optimizer steps, which must be exactly zero."""

    side: str
    name: str
    change: float

    @property
    def ok(self) -> bool:
        return self.change == 0.0


def check_frozen(sides: dict[str, dict[str, np.ndarray]]) -> list[FrozenCheck]:
    """Each side's frozen tensors ("held/", at the end of the frozen period) against the
    start (PyTorch's canonical initial weights, which both sides load)."""
    start = {k.partition("/")[2]: v for k, v in sides["PyTorch"].items() if k[:6] == "start/"}
    checks = []
    for side, out in sides.items():
        for key, value in out.items():
            if key.startswith("held/") and key[5:] in start:
                before = start[key[5:]].astype(np.float64)
                change = float(np.abs(value.astype(np.float64) - before).max(initial=0.0))
                checks.append(FrozenCheck(side, key[5:], change))
    return checks


@dataclass
class InitCheck:
    """One tensor as a backend's own initialiser drew it, against its documented
    distribution (the layer kind's `canonical_params`)."""

    side: str
    name: str
    expected: str
    problem: str  # "" when the statistics fit

    @property
    def ok(self) -> bool:
        return not self.problem


def _init_problem(value: np.ndarray, param: Param) -> str:
    """Why `value` cannot be a draw from `param`'s distribution ("" when it can). Bounds are
    five standard errors wide: a correct initialiser fails about once in a million."""
    v = value.astype(np.float64).ravel()
    n = v.size
    if param.init in ("zeros", "ones"):
        want = 0.0 if param.init == "zeros" else 1.0
        worst = float(np.abs(v - want).max()) if n else 0.0
        return "" if worst == 0 else f"differs from {want:g} by up to {worst:.3g}"
    if param.init == "uniform":
        sigma, kurtosis, top = param.bound / np.sqrt(3), 1.8, float(np.abs(v).max())
        if top > param.bound * (1 + 1e-6):
            return f"|w| reaches {top:.4g}, beyond the bound {param.bound:.4g}"
        if top < param.bound * 1e-6 ** (1 / n):
            return f"|w| stays below {top:.4g}, well inside the bound {param.bound:.4g}"
    else:
        sigma, kurtosis = param.bound, 3.0
    std, mean = float(v.std()), float(v.mean())
    if abs(std / sigma - 1) > 5 * np.sqrt((kurtosis - 1) / (4 * n)):
        return f"standard deviation {std:.4g}, expected {sigma:.4g}"
    if abs(mean) > 5 * sigma / np.sqrt(n):
        return f"mean {mean:.4g}, expected 0 (within {5 * sigma / np.sqrt(n):.2g})"
    return ""


def _describe(param: Param) -> str:
    if param.init == "uniform":
        return f"U(±{param.bound:.4g})"
    if param.init == "normal":
        return f"N(0, {param.bound:.4g}²)"
    return param.init


def check_initialisers(net: Net, outputs: dict[str, dict[str, np.ndarray]]) -> list[InitCheck]:
    checks = []
    for node in net.layers:
        inputs = [net.node(i).shape or () for i in node.inputs]
        for param in node.op.canonical_params(inputs):
            key = f"{node.ident}.{param.name}"
            for side, out in outputs.items():
                value = out.get(f"init/{key}")
                if value is None:
                    problem = "missing from the freshly built model"
                elif tuple(value.shape) != tuple(param.shape):
                    problem = f"shape {list(value.shape)}, expected {list(param.shape)}"
                else:
                    problem = _init_problem(value, param)
                checks.append(InitCheck(side, key, _describe(param), problem))
    return checks


def _run_worker(framework: str, works: list[Path]) -> bool:
    """Run one framework's worker over the cases' folders; False (after printing why) when
    the worker itself failed. A failure of one case is left in its folder (see _read)."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONHASHSEED": "0"}
    done = subprocess.run(
        [sys.executable, "-m", "specc.tools.verify_worker", framework, *map(str, works)],
        capture_output=True,
        text=True,
        env=env,
    )
    if done.returncode != 0:
        why = done.stderr[-3000:].strip()
        if done.returncode < 0:  # killed by a signal: say which, and what it usually means
            name = signal.Signals(-done.returncode).name
            hint = " (most often the machine ran out of memory)" if name == "SIGKILL" else ""
            why = f"{why}\nthe worker process was killed by {name}{hint}".strip()
        print(
            f"specc: error: the {_SIDE.get(framework, framework)} side of verify failed:\n{why}",
            file=sys.stderr,
        )
        return False
    return True


_SIDE = {"torch": "PyTorch", "keras": "Keras", "keras64": "Keras (float64)"}


def _read(framework: str, case: _Case) -> dict[str, np.ndarray] | None:
    """One worker's tensors for a case; None (after printing why) when that case failed."""
    path = case.work / f"{framework}.npz"
    if path.exists():
        return dict(np.load(path))
    error = case.work / f"{framework}.error"
    why = error.read_text() if error.exists() else "no result was written"
    print(
        f"specc: error: the {_SIDE.get(framework, framework)} side of verify failed on "
        f"{case.spec.path}:\n{why}",
        file=sys.stderr,
    )
    return None


@dataclass
class _Case:
    """One spec being verified, in its own folder of the shared work folder."""

    spec: Spec
    work: Path
    job: dict[str, Any]
    rows: list[Row] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    inits: list[InitCheck] = field(default_factory=list)
    frozen: list[FrozenCheck] = field(default_factory=list)
    torch_out: dict[str, np.ndarray] = field(default_factory=dict)


def _prepare(result: Result, work: Path, args: argparse.Namespace, index: int) -> _Case | None:
    spec = result.spec
    assert spec is not None
    if spec.training is None:
        print(
            f"specc: error: {spec.path} has no `train` or `gan` section to verify", file=sys.stderr
        )
        return None
    # dropout runs at its rate everywhere: the worker feeds both sides the same masks
    try:
        torch_files = TorchBackend().emit(spec, result.source.text)
        keras_files = KerasBackend().emit(spec, result.source.text)
    except BackendError as err:
        print(render_all([err.diagnostic], result.source), file=sys.stderr)
        return None
    for side, files in (("torch", torch_files), ("keras", keras_files)):
        given = (getattr(args, f"{side}_dir", None) or [None] * (index + 1))[index]
        if given:  # the user's emitted code, as it is (a model edited by hand, say)
            if not (Path(given) / "model.py").is_file():
                print(f"specc: error: --{side}-dir {given} has no model.py", file=sys.stderr)
                return None
            shutil.copytree(
                given,
                work / side,
                ignore=shutil.ignore_patterns("run", "runs", "__pycache__", "*.npz"),
            )
        else:
            write_tree(work / side, files)
    np.savez(work / "inputs.npz", **_inputs(spec, args.batch, args.seed))
    job = _job(spec, args.steps, args.seed)
    (work / "job.json").write_text(json.dumps(job))
    return _Case(spec, work, job)


def run_verify(results: list[Result], args: argparse.Namespace) -> int:
    """Verify each spec; one worker process per framework serves them all (imports of
    PyTorch and TensorFlow take most of a small spec's time)."""
    code = 0
    with tempfile.TemporaryDirectory(prefix="specc-verify-") as tmp:
        cases: list[_Case] = []
        for i, result in enumerate(results):
            case = _prepare(result, Path(tmp) / str(i), args, i)
            if case is None:
                code = 1
            else:
                cases.append(case)
        for framework in ("torch", "keras"):  # torch first: it writes the initial weights
            if cases and not _run_worker(framework, [c.work for c in cases]):
                return 1
        done: list[_Case] = []
        for case in cases:
            outputs = [_read(framework, case) for framework in ("torch", "keras")]
            if outputs[0] is None or outputs[1] is None:
                code = 1
                continue
            order = [f"forward/{s['node']}" for s in case.job.get("steps", [])]
            case.rows, case.missing = compare(outputs[0], outputs[1], order)
            if isinstance(case.spec.training, Supervised):
                net = case.spec.model(case.spec.training.model)
                sides = {"PyTorch": outputs[0], "Keras": outputs[1]}
                case.inits = check_initialisers(net, sides)
                case.frozen = check_frozen(sides)
            case.torch_out = outputs[0]
            done.append(case)
        # Float32 cannot settle some tensors: run Keras in float64 too, against PyTorch's.
        unsettled = [c for c in done if not all(r.ok for r in c.rows)]
        if unsettled and not _run_worker("keras64", [c.work for c in unsettled]):
            unsettled = []  # the float32 report stands, and says which tensors differ
        for case in unsettled:
            keras64 = _read("keras64", case)
            if keras64 is not None:
                add_float64(case.rows, case.torch_out, keras64)
        for n, case in enumerate(done):
            if n:
                print()
            report(case.rows, case.missing, case.spec, args, case.inits, case.frozen)
            checks = [*case.rows, *case.inits, *case.frozen]
            if not all(c.ok for c in checks):
                code = 1
    return code


def _differ(n: int) -> str:
    return "1 tensor differs" if n == 1 else f"{n} tensors differ"


def report(
    rows: list[Row],
    missing: list[str],
    spec: Spec,
    args: argparse.Namespace,
    inits: list[InitCheck] | None = None,
    frozen: list[FrozenCheck] | None = None,
) -> None:
    inits, frozen = inits or [], frozen or []
    titles = {
        "forward": "inference: every layer's output",
        "train": "training mode: output and loss",
        "stats": "batch-norm running statistics after one training step",
        "grad": "gradients (weights and input)",
        "gan": "one discriminator and one generator step",
        "steps": f"updates over {args.steps} optimizer steps, {STEPS_PER_EPOCH} an epoch",
        "schedule": "the learning rate at each step",
        "data": "the data order and augmentation of a run (runtime.py), exactly",
    }
    width = max([len(r.name) for r in rows] + [6])
    for phase in ("forward", "train", "stats", "grad", "gan", "steps", "schedule", "data"):
        chosen = [r for r in rows if r.phase == phase]
        if not chosen:
            continue
        worst = max(chosen, key=lambda r: r.max_rel)
        print(f"{titles[phase]} (tolerance {TOLERANCE[phase]:g} relative to scale):")
        print(f"  {'tensor'.ljust(width)}  {'shape':<18} {'max abs':>10} {'max rel':>10}")
        for r in chosen:
            flag = "" if r.ok else "  <-- beyond tolerance"
            print(
                f"  {r.name.ljust(width)}  {str(list(r.shape)):<18} {r.max_abs:10.2e} "
                f"{r.max_rel:10.2e}{flag}"
            )
        print(f"  largest: {worst.name} {worst.max_rel:.2e}\n")
    noisy = [r for r in rows if r.ok and r.max_rel > r.base_tolerance]
    by_noise = [r for r in noisy if r.within_float32_noise]
    if by_noise:
        print(
            f"{_differ(len(by_noise))} by more than the stated tolerance, but Keras is "
            "no further from PyTorch's float64 result than 4x PyTorch's own float32 rounding: "
            "float32 cannot do better on this network."
        )
    by_float64 = [r for r in noisy if not r.within_float32_noise]
    if by_float64:
        worst = max(by_float64, key=lambda r: r.float64_error or 0.0)
        print(
            f"{_differ(len(by_float64))} in float32 beyond both, but with both "
            f"frameworks in float64 they agree to {worst.float64_error:.1e} relative (largest, "
            f"{worst.phase} {worst.name}): the same computation, rounded differently in "
            "float32. Their float32 differences are in the table."
        )
    unsettled = [
        r
        for r in rows
        if not r.ok and r.float64_error is not None and r.float64_error > r.base_tolerance / 10
    ]
    if unsettled:
        worst = max(unsettled, key=lambda r: r.float64_error or 0.0)
        print(
            f"in float64 too, {_differ(len(unsettled))} beyond a tenth of the tolerance "
            f"(largest {worst.float64_error:.1e}, {worst.phase} {worst.name}): the backends "
            "do not compute the same thing there."
        )
    diverged = [r for r in rows if r.phase == "forward" and not r.ok]
    if diverged:
        print(f"first layer that diverges: `{diverged[0].name}`")
    bad = [r for r in rows if not r.ok]
    if missing:
        print(f"not compared (no counterpart on Keras): {len(missing)} tensors")
    wrong = [c for c in inits if not c.ok]
    if inits:
        print(
            f"initial weights from each backend's own initialisers: {len(inits) - len(wrong)} "
            f"of {len(inits)} fit their documented distribution"
        )
        for c in wrong:
            print(f"  {c.side} {c.name} (documented {c.expected}): {c.problem}")
    moved = [c for c in frozen if not c.ok]
    if frozen:
        sides = sorted({c.side for c in frozen}, reverse=True)
        print(
            f"frozen layers (transfer learning): {len(frozen) - len(moved)} of {len(frozen)} "
            f"tensors unchanged bit for bit over the frozen steps ({' and '.join(sides)})"
        )
        for c in moved:
            print(f"  {c.side} {c.name} moved by up to {c.change:.3g}")
    print(
        f"{spec.path}: {len(rows) - len(bad)} of {len(rows)} tensors agree"
        + ("" if not bad else f"; {len(bad)} beyond tolerance")
        + ("" if not wrong else f"; {len(wrong)} initialisers off their distribution")
        + ("" if not moved else f"; {len(moved)} frozen tensors moved")
    )
    if args.json:
        data = {
            "spec": spec.path,
            "seed": args.seed,
            "steps": args.steps,
            "batch": args.batch,
            "ok": not bad and not wrong and not moved,
            "first_divergence": diverged[0].name if diverged else None,
            "tensors": [
                {
                    "phase": r.phase,
                    "name": r.name,
                    "shape": list(r.shape),
                    "max_abs": r.max_abs,
                    "max_rel": r.max_rel,
                    "tolerance": r.tolerance,
                    "float32_noise": r.float32_noise,
                    "float64_difference": r.float64_error,
                    "ok": r.ok,
                }
                for r in rows
            ],
            "not_compared": missing,
            "initialisers": [
                {"side": c.side, "name": c.name, "expected": c.expected, "problem": c.problem}
                for c in inits
            ],
            "frozen": [{"side": c.side, "name": c.name, "change": c.change} for c in frozen],
        }
        write_atomic(args.json, json.dumps(data, indent=2) + "\n")
