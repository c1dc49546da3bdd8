"""One framework's half of `specc verify`, run in its own process:

    python -m specc.tools.verify_worker torch|keras|keras64 WORKDIR...

It imports the emitted model.py and train.py from WORKDIR/<framework> and drives them only
through their documented interface (model.py: `MODELS`, `canonical_state`,
`load_canonical`, and on PyTorch `canonical_grads`; train.py: `Training` - its objective
(with `output_mask` where the output is padded), `step`, `end_epoch`, `lr` - and a GAN
script's loss functions and optimizers), so what is
verified is what `specc run` trains. It loads the canonical initial weights and inputs that
specc.tools.verify wrote, and saves every compared tensor to WORKDIR/<framework>.npz. Images are
compared channels-first and weights in the canonical (PyTorch) layout."""

from __future__ import annotations

import gc
import json
import os
import sys
import traceback
import zlib
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from specc.backends.keras.keras_backend import node_output_layer
from specc.layers.layout import Layout
from specc.tools.emitted_code import load_module


# ----- random draws shared by both sides ------------------------------------------------------
class SharedMasks:
    """Dropout masks from one NumPy stream, the same on both sides: drawn per layer (by its
    canonical name) and per phase (`phase`, set before each forward pass), in the
    language's channels-first layout. The emitted dropout layers keep their own rate and
    training flag; only where the random bits come from changes, so dropout is compared at
    its real rate. Attention dropout too: both frameworks drop attention weights
    [N, heads, query steps, key steps] after the softmax; PyTorch does it inside its fused
    `scaled_dot_product_attention`, which the worker replaces (only where dropout is on,
    in training) by the same computation written out, fed with the shared mask."""

    def __init__(self, seed: int) -> None:
        self.seed, self.phase = seed, ""
        self.attention: str | None = None  # the attention layer running now (PyTorch)

    def scale(self, layer: str, shape: tuple[int, ...], rate: float) -> np.ndarray:
        """keep / (1 - rate), keep drawn with probability 1 - rate."""
        key = zlib.crc32(f"{self.phase}/{layer}".encode())
        keep = np.random.default_rng([self.seed, key]).random(shape) >= rate
        return keep / (1.0 - rate)

    def call(self, phase: str, model: Any, *args: Any, **kwargs: Any) -> Any:
        """`model(*args, **kwargs)` with this phase's masks (a GAN calls each model several
        times a step: each call gets its own masks, the same on both sides)."""
        self.phase = phase
        return model(*args, **kwargs)

    def install_torch(self, torch: Any) -> None:
        masks = self
        functional = torch.nn.functional
        fused = functional.scaled_dot_product_attention
        attention_forward = torch.nn.MultiheadAttention.forward

        def forward(module: Any, x: Any) -> Any:
            if not module.training or module.p == 0:
                return x
            name = getattr(module, "specc_layer", "")
            return x * torch.from_numpy(masks.scale(name, tuple(x.shape), module.p)).to(x.dtype)

        def attention(module: Any, *args: Any, **kwargs: Any) -> Any:
            masks.attention = getattr(module, "specc_layer", "")
            try:
                return attention_forward(module, *args, **kwargs)
            finally:
                masks.attention = None

        def sdpa(q, k, v, attn_mask=None, dropout_p=0.0, is_causal=False, **kw):  # noqa: ANN001
            if dropout_p == 0.0 or masks.attention is None:
                return fused(q, k, v, attn_mask, dropout_p, is_causal, **kw)
            scores = q @ k.transpose(-2, -1) * (kw.get("scale") or q.shape[-1] ** -0.5)
            if is_causal:
                blocked = torch.ones(scores.shape[-2:], dtype=torch.bool).triu(1)
                scores = scores.masked_fill(blocked, float("-inf"))
            if attn_mask is not None and attn_mask.dtype == torch.bool:
                scores = scores.masked_fill(~attn_mask, float("-inf"))  # True: takes part
            elif attn_mask is not None:
                scores = scores + attn_mask
            weights = torch.softmax(scores, dim=-1)
            drop = masks.scale(masks.attention, tuple(weights.shape), dropout_p)
            return (weights * torch.from_numpy(drop).to(weights.dtype)) @ v

        torch.nn.Dropout.forward = forward
        torch.nn.MultiheadAttention.forward = attention
        functional.scaled_dot_product_attention = sdpa

    @staticmethod
    def name_torch_layers(torch: Any, net: Any, renames: dict[str, str]) -> None:
        """Tell each dropout and attention module its canonical layer name (Keras layers
        know theirs)."""
        for attr, module in net.named_children():
            if isinstance(module, (torch.nn.Dropout, torch.nn.MultiheadAttention)):
                module.specc_layer = renames.get(attr, attr)

    @staticmethod
    def name_keras_layers(keras: Any, net: Any) -> None:
        """An attention layer's own dropout draws under the attention layer's name, on its
        weights [N, heads, query steps, key steps] as they are (not an image)."""
        for layer in net.layers:
            inner = getattr(layer, "_dropout_layer", None)
            if isinstance(layer, keras.layers.MultiHeadAttention) and inner is not None:
                inner.specc_layer = layer.name

    def install_keras(self, keras: Any) -> None:
        import tensorflow as tf

        masks = self

        def call(layer: Any, inputs: Any, training: bool = False) -> Any:
            if not training or layer.rate == 0:
                return inputs
            shape = tuple(inputs.shape)
            name = getattr(layer, "specc_layer", None)
            channels_last = name is None and Layout(len(shape) - 1).channels_first

            def draw() -> np.ndarray:
                canonical = (shape[0], shape[-1], *shape[1:-1]) if channels_last else shape
                scale = masks.scale(name or layer.name, canonical, layer.rate)
                scale = np.moveaxis(scale, 1, -1) if channels_last else scale
                return scale.astype(inputs.dtype.as_numpy_dtype)

            scale = tf.numpy_function(draw, [], inputs.dtype, stateful=True)
            return inputs * tf.reshape(scale, shape)

        keras.layers.Dropout.call = call


def _output_mask(training: Any, x: Any) -> tuple[Any, ...]:
    """The objective's mask argument where the model's output is a padded sequence."""
    return (training.output_mask(x),) if hasattr(training, "output_mask") else ()


def run_steps(
    training: Any,
    x: Any,
    y: Any,
    job: dict[str, Any],
    masks: SharedMasks,
    *noise: Any,
    state: Callable[[], dict[str, Any]],
) -> tuple[np.ndarray, dict[str, Any]]:
    """The emitted `Training.step` N times on one batch (with a latent's noise `noise`,
    where the model has one), with the schedule moving on every `steps_per_epoch` steps:
    the learning rate of each step, and the canonical tensors `state()` when frozen layers
    are unfrozen (after the steps if they never are; transfer learning)."""
    rates = []
    held: dict[str, Any] = {}
    for step in range(job["n_steps"]):
        masks.phase = f"step{step}"
        rates.append(training.lr)
        training.step(x, y, *noise)
        if (step + 1) % job["steps_per_epoch"] == 0:
            frozen = getattr(training, "frozen", False)
            training.end_epoch()
            if frozen and not training.frozen:  # the end of the frozen period
                held = {k: np.asarray(v).copy() for k, v in state().items()}
    if getattr(training, "frozen", False):
        held = {k: np.asarray(v).copy() for k, v in state().items()}
    return np.asarray(rates, np.float64), held


def held_weights(train: Any, held: dict[str, Any], renames: dict[str, str]) -> dict:
    """Transfer learning: the FROZEN layers' canonical tensors (weights and batch-norm
    statistics) at the end of their frozen period, under "held/"; verify checks them bit for
    bit against the start. `renames`: the model's attributes -> canonical names (PyTorch)."""
    frozen = {renames.get(name, name) for name in getattr(train, "FROZEN", ())}
    return {f"held/{k}": v for k, v in held.items() if k.split(".")[0] in frozen}


def data_pipeline(folder: Path, job: dict[str, Any]) -> dict[str, np.ndarray]:
    """The run's data order and augmentation, as this side's runtime.py makes them: both
    backends must see the same batches."""
    if not (folder / "runtime.py").exists():
        return {}
    runtime = load_module(folder / "runtime.py", "runtime")
    seed = job["seed"]
    out = {"data/order": np.asarray(runtime.epoch_order(seed, 1, 64), np.float64)}
    if job.get("augment_shape"):
        images = np.random.default_rng(seed).standard_normal(job["augment_shape"])
        images, rng = images.astype(np.float32), runtime.augment_rng(seed, 1)
        if hasattr(runtime, "augment"):
            images = runtime.augment(images, rng)
            out["data/augmented"] = np.asarray(images, np.float64)
        for name in ("mixup", "cutmix"):  # label mixing, after the images' transforms
            if hasattr(runtime, name):
                labels = np.arange(len(images)) % runtime.CLASSES
                alpha = job.get("mix_alpha") or 0.4
                images, mixed = getattr(runtime, name)(images, labels, alpha, rng)
                out.update({"data/mixed": np.asarray(images, np.float64)})
                out.update({"data/mixed_labels": np.asarray(mixed, np.float64)})
        if hasattr(runtime, "corrupt"):  # input noise, after any augmentation
            out["data/noisy"] = np.asarray(runtime.corrupt(images, rng), np.float64)
    return out


# ----- PyTorch --------------------------------------------------------------------------------
def _torch_intermediates(model: Any, inputs: list[Any], steps: list[dict[str, Any]]) -> dict:
    """Values of the forward pass's variables as each node is computed, read from the frame
    of `forward` with sys.settrace: the emitted code stays as it is."""
    captured: dict[str, Any] = {}
    state = {"k": 0, "seen": {}}
    # a variational autoencoder's forward ends in `self.decode(z)`: its frame too
    codes = {type(model).forward.__code__}
    if hasattr(type(model), "decode"):
        codes.add(type(model).decode.__code__)

    def scan(frame: Any) -> None:
        local = frame.f_locals
        while state["k"] < len(steps):
            step = steps[state["k"]]
            value = local.get(step["var"])
            if value is None:
                return
            # identity and dropout (rate 0 here) may hand back their input object itself
            if step["kind"] in ("identity", "dropout") or id(value) != state["seen"].get(
                step["var"]
            ):
                captured[step["node"]] = value.detach().numpy().copy()
                state["seen"][step["var"]] = id(value)
                state["k"] += 1
                continue
            return

    def tracer(frame: Any, event: str, arg: Any) -> Any:
        if frame.f_code not in codes:
            return None

        def local_trace(frame: Any, event: str, arg: Any) -> Any:
            if event in ("line", "return"):
                scan(frame)
            return local_trace

        state["seen"] = {k: id(v) for k, v in frame.f_locals.items()}
        return local_trace

    sys.settrace(tracer)
    try:
        model(*inputs)
    finally:
        sys.settrace(None)
    return captured


def run_torch(work: Path, job: dict[str, Any], dtype_name: str = "float32") -> dict:
    """Every compared tensor from PyTorch; run in float32, and again in float64 to measure
    how much of any difference float32 rounding alone explains."""
    import torch

    dtype = getattr(torch, dtype_name)
    torch.manual_seed(0)
    models = load_module(work / "torch" / "model.py", "verify_torch_model")
    out: dict[str, np.ndarray] = {}
    data = dict(np.load(work / "inputs.npz"))

    def build(name: str) -> Any:
        net = models.MODELS[name]()
        path = work / f"init_{name}.safetensors"
        if not path.exists():
            _write_init(net, models, path, job["seed"])
        models.load_canonical(net, str(path))
        SharedMasks.name_torch_layers(torch, net, getattr(models, "RENAMES", {}))
        return net.to(dtype)

    data = {k: v.astype(dtype_name) if v.dtype.kind == "f" else v for k, v in data.items()}
    if job["kind"] == "gan":
        return _torch_gan(torch, work, job, build, data)
    name = job["model"]
    x = torch.from_numpy(data["x"])
    y = torch.from_numpy(data["y"])
    # a latent's noise (a VAE), or the uniforms of the Gibbs steps (an RBM)
    key = "eps" if "eps" in data else "uniforms"
    noise = (torch.from_numpy(data[key]),) if key in data else ()
    chains = (len(x),) if "uniforms" in data else ()  # an RBM's persistent chains: one a sample
    train = load_module(work / "torch" / "train.py", "verify_torch_train")
    masks = SharedMasks(job["seed"])
    masks.install_torch(torch)
    out.update(data_pipeline(work / "torch", job))
    # the emitted initialisers, for their statistics (verify checks them against the docs)
    torch.manual_seed(job["seed"])
    for key, value in models.canonical_state(models.MODELS[name]()).items():
        out[f"init/{key}"] = value.numpy()
    for key, value in models.canonical_state(build(name)).items():
        out[f"start/{key}"] = value.numpy().astype(np.float32)
    # inference
    net = build(name).eval()
    with torch.no_grad():
        inter = _torch_intermediates(net, [x], job["steps"])
    for node, value in inter.items():
        out[f"forward/{node}"] = value
    # training mode: output, the emitted objective (loss and penalties), gradients, statistics
    net = build(name).train()
    training = train.Training(net, job["epochs"], "fp32", *chains)
    if hasattr(training, "train_mode"):  # frozen batch norms stay in inference mode
        training.train_mode()
    xg = x.clone().requires_grad_(x.is_floating_point())
    masks.phase = "train"
    if "uniforms" in data:  # an RBM: CD-k's objective reads the data and the uniforms
        loss, _ = training.objective(xg, *noise)
        logits = net(xg)
    else:
        logits = net(xg, *noise)
        loss, _ = training.objective(logits, y, *_output_mask(training, x))
    loss.backward()
    out["train/output"] = logits.detach().numpy()
    out["train/loss"] = np.asarray(loss.item(), np.float32)
    if xg.grad is not None:
        out["grad/input"] = xg.grad.numpy()
    for key, value in models.canonical_grads(net).items():
        out[f"grad/{key}"] = value.numpy().copy()
    for key, value in models.canonical_state(net).items():
        if "running" in key:
            out[f"stats/{key}"] = value.numpy().copy()
    # the emitted optimizer, schedule and clipping: N steps over short epochs
    net = build(name).train()
    training = train.Training(net, job["epochs"], "fp32", *chains)

    def state() -> dict[str, Any]:
        return {k: v.numpy() for k, v in models.canonical_state(net).items()}

    out["schedule/lr"], held = run_steps(training, x, y, job, masks, *noise, state=state)
    out.update(held_weights(train, held, getattr(models, "RENAMES", {})))
    for key, value in models.canonical_state(net).items():
        out[f"steps/{key}"] = value.numpy()
    return out


def _write_init(net: Any, models: Any, path: Path, seed: int) -> None:
    """Canonical initial weights made with NumPy from the seed (not by either framework):
    weights U(+-1/sqrt(fan_in)), biases U(+-0.1), norm scales 1 + U(+-0.1), running means
    U(+-0.1) and variances 1 + U(0, 0.2), so every statistic is exercised. Parameters that
    the model keeps frozen (a recurrent layer's second bias) stay zero."""
    from safetensors.numpy import save_file

    rng = np.random.default_rng(seed)
    params = dict(net.named_parameters())
    arrays = {}
    for key, value in models.canonical_state(net).items():
        shape = tuple(value.shape)
        own = params.get(_own_key(models, key))
        if own is not None and not own.requires_grad:
            arrays[key] = np.zeros(shape, np.float32)
        elif len(shape) >= 2:
            bound = 1.0 / np.sqrt(max(1, int(np.prod(shape[1:]))))
            arrays[key] = rng.uniform(-bound, bound, shape).astype(np.float32)
        elif key.endswith("running_var"):
            arrays[key] = (1 + rng.uniform(0, 0.2, shape)).astype(np.float32)
        elif key.endswith(".weight"):
            arrays[key] = (1 + rng.uniform(-0.1, 0.1, shape)).astype(np.float32)
        else:
            arrays[key] = rng.uniform(-0.1, 0.1, shape).astype(np.float32)
    save_file(arrays, str(path))


def _own_key(models: Any, key: str) -> str:
    prefix, _, rest = key.partition(".")
    back = {v: k for k, v in getattr(models, "RENAMES", {}).items()}
    return f"{back.get(prefix, prefix)}.{rest}"


def _torch_gan(torch: Any, work: Path, job: dict, build: Any, data: dict) -> dict:
    train = load_module(work / "torch" / "train.py", "verify_torch_gan")
    gen, disc = build(job["generator"]).train(), build(job["discriminator"]).train()
    z, real = torch.from_numpy(data["z"]), torch.from_numpy(data["real"])
    g_opt, d_opt = train.optimizers(gen, disc)
    masks = SharedMasks(job["seed"])
    masks.install_torch(torch)
    out: dict[str, np.ndarray] = {}
    fake = masks.call("d/gen", gen, z)
    d_loss = train.d_loss_fn(
        masks.call("d/real", disc, real), masks.call("d/fake", disc, fake.detach())
    )
    d_opt.zero_grad()
    d_loss.backward()
    d_opt.step()
    out["gan/fake"] = fake.detach().numpy()
    out["gan/d_loss"] = np.asarray(d_loss.item(), np.float32)
    g_loss = train.g_loss_fn(masks.call("g/disc", disc, masks.call("g/gen", gen, z)))
    g_opt.zero_grad()
    g_loss.backward()
    g_opt.step()
    out["gan/g_loss"] = np.asarray(g_loss.item(), np.float32)
    models = sys.modules["verify_torch_model"]
    for tag, net in (("generator", gen), ("discriminator", disc)):
        for key, value in models.canonical_state(net).items():
            out[f"steps/{tag}.{key}"] = value.numpy()
    return out


# ----- Keras ----------------------------------------------------------------------------------
def _chw(value: np.ndarray) -> np.ndarray:
    """Images and volumes inside the Keras model are channels-last; verify compares them
    channels-first, as the language lays them out."""
    return np.moveaxis(value, -1, 1) if Layout(value.ndim - 1).channels_first else value


def run_keras(work: Path, job: dict[str, Any], dtype_name: str = "float32") -> dict:
    """Every compared tensor from Keras, in float32; or in float64 (the whole model, its loss
    and optimizer), which specc.tools.verify asks for when float32 results differ beyond tolerance:
    in float64 the two frameworks must agree almost exactly if they compute the same."""
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras
    import tensorflow as tf

    keras.config.set_floatx(dtype_name)
    models = load_module(work / "keras" / "model.py", "verify_keras_model")
    data = dict(np.load(work / "inputs.npz"))
    data = {k: v.astype(dtype_name) if v.dtype.kind == "f" else v for k, v in data.items()}

    def build(name: str) -> Any:
        net = models.MODELS[name]()
        models.load_canonical(net, str(work / f"init_{name}.safetensors"))
        SharedMasks.name_keras_layers(keras, net)
        return net

    if job["kind"] == "gan":
        return _keras_gan(tf, work, job, build, data)
    out: dict[str, np.ndarray] = {}
    name = job["model"]
    x, y = tf.constant(data["x"]), tf.constant(data["y"])
    # a latent's noise (a VAE), or the uniforms of the Gibbs steps (an RBM)
    key = "eps" if "eps" in data else "uniforms"
    noise = (tf.constant(data[key]),) if key in data else ()
    chains = (len(data["x"]),) if "uniforms" in data else ()  # an RBM's persistent chains
    net = build(name)
    layer_names = [layer.name for layer in net.layers]
    layer_of = {s["node"]: node_output_layer(layer_names, s["ident"]) for s in job["steps"]}
    output_of = {s["node"]: s.get("output", 0) for s in job["steps"]}
    names = [node for node, layer in layer_of.items() if layer is not None]

    def value(node: str) -> Any:
        out = net.get_layer(layer_of[node]).output
        # a recurrent layer with `return_state=True`: the output, then the final states
        return out[output_of[node]] if isinstance(out, (list, tuple)) else out

    probe = keras.Model(net.inputs, [value(n) for n in names])
    # inference: a latent gives its mean (no noise)
    values = probe([x, None] if "eps" in data else x, training=False)
    values = values if isinstance(values, (list, tuple)) else [values]
    for node, value in zip(names, values, strict=True):
        out[f"forward/{node}"] = _chw(np.asarray(value))
    del probe, values, net  # each phase builds its own model: free the last one's memory
    gc.collect()
    train = load_module(work / "keras" / "train.py", "verify_keras_train")
    masks = SharedMasks(job["seed"])
    masks.install_keras(keras)
    out.update(data_pipeline(work / "keras", job))
    keras.utils.set_random_seed(job["seed"])
    for key, value in models.canonical_state(models.MODELS[name]()).items():
        out[f"init/{key}"] = value

    # training mode: output, the emitted objective (loss and penalties), gradients, statistics
    net = build(name)
    training = train.Training(net, job["epochs"], "fp32", *chains)
    variables = net.trainable_variables
    xin = tf.Variable(x) if x.dtype.is_floating else x
    masks.phase = "train"
    with tf.GradientTape() as tape:
        if "uniforms" in data:  # an RBM: CD-k's objective reads the data and the uniforms
            loss, _ = training.objective(xin, *noise)
            logits = net(xin, training=True)
        else:
            logits = net([xin, *noise] if noise else xin, training=True)
            loss, _ = training.objective(logits, y, *_output_mask(training, x))
    watched = [*variables, xin] if x.dtype.is_floating else list(variables)
    grads = tape.gradient(loss, watched)
    out["train/output"] = np.asarray(logits)
    out["train/loss"] = np.asarray(float(loss), np.float32)
    if x.dtype.is_floating:
        out["grad/input"] = np.asarray(grads[-1])
    stats = models.canonical_state(net)
    for key, value in stats.items():
        if "running" in key:
            out[f"stats/{key}"] = value
    # gradients in the canonical layout: put them in the variables, read them back
    saved = [np.asarray(v.numpy()) for v in variables]
    for v, g in zip(variables, grads[: len(variables)], strict=True):
        v.assign(tf.zeros_like(v) if g is None else tf.convert_to_tensor(g))
    for key, value in models.canonical_state(net).items():
        if "running" not in key:
            out[f"grad/{key}"] = value
    del net, training, tape, grads, saved, variables, watched, logits, stats
    gc.collect()
    # the emitted optimizer, schedule and clipping: N steps over short epochs
    net = build(name)
    training = train.Training(net, job["epochs"], "fp32", *chains)
    state = partial(models.canonical_state, net)
    out["schedule/lr"], held = run_steps(training, x, y, job, masks, *noise, state=state)
    out.update(held_weights(train, held, getattr(models, "RENAMES", {})))
    for key, value in models.canonical_state(net).items():
        out[f"steps/{key}"] = value
    return out


def _keras_gan(tf: Any, work: Path, job: dict, build: Any, data: dict) -> dict:
    train = load_module(work / "keras" / "train.py", "verify_keras_gan")
    models = sys.modules["verify_keras_model"]
    gen, disc = build(job["generator"]), build(job["discriminator"])
    z, real = tf.constant(data["z"]), tf.constant(data["real"])
    g_vars, d_vars = gen.trainable_variables, disc.trainable_variables
    g_opt = getattr(train, "GOptimizer", getattr(train, "Optimizer", None))(g_vars)
    d_opt = getattr(train, "DOptimizer", getattr(train, "Optimizer", None))(d_vars)
    masks = SharedMasks(job["seed"])
    masks.install_keras(sys.modules["keras"])
    out: dict[str, np.ndarray] = {}
    with tf.GradientTape() as tape:
        fake = masks.call("d/gen", gen, z, training=True)
        d_loss = train.d_loss_fn(
            masks.call("d/real", disc, real, training=True),
            masks.call("d/fake", disc, tf.stop_gradient(fake), training=True),
        )
    d_opt.apply(tape.gradient(d_loss, d_vars))
    out["gan/fake"] = np.asarray(fake)
    out["gan/d_loss"] = np.asarray(float(d_loss), np.float32)
    with tf.GradientTape() as tape:
        fake = masks.call("g/gen", gen, z, training=True)
        g_loss = train.g_loss_fn(masks.call("g/disc", disc, fake, training=True))
    g_opt.apply(tape.gradient(g_loss, g_vars))
    out["gan/g_loss"] = np.asarray(float(g_loss), np.float32)
    for tag, net in (("generator", gen), ("discriminator", disc)):
        for key, value in models.canonical_state(net).items():
            out[f"steps/{tag}.{key}"] = value
    return out


def run_case(framework: str, work: Path) -> None:
    job = json.loads((work / "job.json").read_text())
    if framework in os.environ.get("SPECC_VERIFY_TAMPER", "").split(","):  # tests: a fault
        job["tamper"] = os.environ.get("SPECC_VERIFY_TAMPER_KEY", "")
    if framework == "torch":
        result = run_torch(work, job)
        reference = run_torch(work, job, "float64")
        result.update({f"f64:{k}": v for k, v in reference.items()})
    elif framework == "keras":
        result = run_keras(work, job)
    else:
        assert framework == "keras64", framework
        result = run_keras(work, job, "float64")
    tamper = job.get("tamper")
    if tamper:  # "name" (an intermediate output) or "phase/name"
        phase, _, name = tamper.rpartition("/")
        key = next(k for k in result if k.startswith(f"{phase or 'forward'}/") and name in k)
        result[key] = result[key] + 1e-2 * max(float(np.abs(result[key]).max()), 1e-6)
    np.savez(work / f"{framework}.npz", **result)


def main() -> None:
    """Each folder is one case; a case that fails leaves `<framework>.error` (the last lines
    of its traceback) and the others go on. The emitted modules of one case are forgotten
    before the next (they share the names `model` and `train`)."""
    framework, works = sys.argv[1], [Path(p) for p in sys.argv[2:]]
    path, modules = list(sys.path), set(sys.modules)
    for work in works:
        try:
            run_case(framework, work)
        except Exception:  # noqa: BLE001 - reported per case, with its traceback
            lines = traceback.format_exc().strip().splitlines()
            (work / f"{framework}.error").write_text("\n".join(lines[-12:]) + "\n")
        finally:
            sys.path[:] = path
            for name in set(sys.modules) - modules:
                if name in ("model", "train", "runtime", "optimizer") or name.startswith("verify_"):
                    del sys.modules[name]
            if framework != "torch":
                import keras

                keras.backend.clear_session()


if __name__ == "__main__":
    main()
