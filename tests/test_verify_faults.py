"""Planted faults: realistic cross-framework bugs written into emitted code, one per copy;
`specc verify --torch-dir/--keras-dir` must catch every one (and never crash on one).

Each fault is a text substitution in one emitted file; the test first checks that the text
is there (so a template change cannot make a fault vacuous), then verifies all the faulty
copies in one call (one worker process per framework) and expects each to fail."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from specc.backends import get_backend
from tests.emitted import compile_spec
from tests.test_verify import verify

pytest.importorskip("torch")
pytest.importorskip("keras")

ADAM = """
model Net {
  input x: [12]
  dense(16) -> tanh -> dropout(0.5)
  dense(4)
}
train Net {
  data = synthetic(n=16, classes=4)
  loss = cross_entropy
  optimizer = adam(lr=1e-2)
  schedule = step(every=1, gamma=0.5)
  clip_grad = 0.05
  l2 = 1e-2
}
"""
SGD = ADAM.replace("adam(lr=1e-2)", "sgd(lr=0.1, momentum=0.9)")
LOGITS = (
    ADAM.replace("dense(4)\n", "dense(1)\n")
    .replace("loss = cross_entropy", "loss = bce_with_logits")
    .replace("classes=4", "classes=2")
)

IMAGES = """
model Img {
  input image: [1, 8, 8]
  conv2d(2, 3) -> relu -> flatten
  dense(3)
}
train Img {
  data = synthetic(n=16, classes=3)
  loss = cross_entropy
  optimizer = sgd(lr=0.1)
  augment = [random_crop(1), random_flip, random_rotation(20), random_erasing(), mixup]
}
"""

GAN = """
model G {
  input z: [4]
  dense(12) -> relu -> dropout(0.25)
  dense(6) -> tanh
}
model D {
  input x: [6]
  dense(8) -> leaky_relu(0.2) -> dropout(0.4)
  dense(1)
}
gan Pair {
  generator = G
  discriminator = D
  latent = normal(4)
  data = synthetic(n=16)
  loss = bce_with_logits
  optimizer = adam(lr=1e-2, beta1=0.5)
}
"""

ATTENTION = """
model Att {
  input x: [6, 8]
  a = multihead_attention(heads=2, dim=8, dropout=0.3)
  a -> multihead_attention(heads=2, dim=8, dropout=0.5, causal=true)
  global_avgpool1d
  dense(3)
}
train Att {
  data = synthetic(n=16, classes=3)
  loss = cross_entropy
  optimizer = adam(lr=1e-2)
}
"""

VAE = """
model Vae {
  input x: [6]
  h = x -> dense(8) -> tanh
  mean = h -> dense(2)
  log_var = h -> dense(2)
  z = gaussian_sample(mean, log_var)
  z -> dense(6)
}
train Vae {
  data = synthetic(n=16)
  target = input
  loss = bce_with_logits
  kl_weight = 0.5
  kl_warmup = 3
  optimizer = adam(lr=1e-2)
}
"""

#: name -> (spec, backend, file, text in the emitted file, what the fault writes instead)
FAULTS = {
    "keras VAE KL without its half": (
        VAE,
        "keras",
        "model.py",
        "self.kl = 0.5 * ops.sum(",
        "self.kl = ops.sum(",
    ),
    "torch VAE warm-up one epoch ahead": (
        VAE,
        "torch",
        "train.py",
        "min(1.0, self.epoch / KL_WARMUP)",
        "min(1.0, (self.epoch + 1) / KL_WARMUP)",
    ),
    "torch VAE sample with the variance": (
        VAE,
        "torch",
        "model.py",
        "mean + torch.exp(0.5 * log_var) * eps",
        "mean + torch.exp(log_var) * eps",
    ),
    "torch label smoothing": (
        ADAM,
        "torch",
        "train.py",
        "nn.CrossEntropyLoss()",
        "nn.CrossEntropyLoss(label_smoothing=0.1)",
    ),
    "torch Adam betas swapped": (
        ADAM,
        "torch",
        "train.py",
        "betas=(0.9, 0.999)",
        "betas=(0.999, 0.9)",
    ),
    "torch Adam eps 1e-7": (ADAM, "torch", "train.py", "eps=1e-08", "eps=1e-07"),
    "torch SGD dampening": (SGD, "torch", "train.py", "dampening=0.0", "dampening=0.5"),
    "torch clip by value": (
        ADAM,
        "torch",
        "train.py",
        "nn.utils.clip_grad_norm_(",
        "nn.utils.clip_grad_value_(",
    ),
    "torch global L2 on biases": (ADAM, "torch", "train.py", "if p.dim() > 1", "if p.dim() >= 1"),
    "torch BCELoss for logits": (
        LOGITS,
        "torch",
        "train.py",
        "nn.BCEWithLogitsLoss()",
        "nn.BCELoss()",
    ),
    "torch dropout rate halved": (
        ADAM,
        "torch",
        "model.py",
        "nn.Dropout(p=0.5)",
        "nn.Dropout(p=0.25)",
    ),
    "torch schedule one epoch ahead": (
        ADAM,
        "torch",
        "train.py",
        "self.optimizer, step_size=1, gamma=0.5\n        )\n",
        "self.optimizer, step_size=1, gamma=0.5\n        )\n        self.scheduler.step()\n",
    ),
    "keras Adam eps inside the root": (
        ADAM,
        "keras",
        "optimizer.py",
        "tf.sqrt(v) / root2 + self.EPS",
        "tf.sqrt(v / root2**2 + self.EPS)",
    ),
    "keras Adam eps 1e-7": (ADAM, "keras", "optimizer.py", "EPS = 1e-08", "EPS = 1e-07"),
    "keras momentum convention": (
        SGD,
        "keras",
        "optimizer.py",
        "buf.assign(self.MOMENTUM * buf + g)",
        "buf.assign(self.MOMENTUM * buf + lr * g)",
    ),
    "keras schedule one epoch ahead": (
        ADAM,
        "keras",
        "train.py",
        "learning_rate(0, epochs)",
        "learning_rate(1, epochs)",
    ),
    "keras default initialiser": (
        ADAM,
        "keras",
        "model.py",
        "kernel_initializer=uniform(12)",
        'kernel_initializer="glorot_uniform"',
    ),
    "keras global L2 on biases": (
        ADAM,
        "keras",
        "train.py",
        'if len(v.shape) > 1 and not v.path.endswith("bias")',
        "",
    ),
    "keras dropout rate halved": (
        ADAM,
        "keras",
        "model.py",
        "Dropout(rate=0.5",
        "Dropout(rate=0.25",
    ),
    "keras GAN discriminator dropout rate halved": (
        GAN,
        "keras",
        "model.py",
        "Dropout(rate=0.4",
        "Dropout(rate=0.2",
    ),
    "torch GAN generator dropout missing": (
        GAN,
        "torch",
        "model.py",
        "nn.Dropout(p=0.25)",
        "nn.Identity()",
    ),
    "torch attention dropout rate halved": (
        ATTENTION,
        "torch",
        "model.py",
        "dropout=0.5, batch_first=True",
        "dropout=0.25, batch_first=True",
    ),
    "keras random-crop offset off by one": (
        IMAGES,
        "keras",
        "runtime.py",
        "rows = rng.integers(0, 2 * pad + 1, n)",
        "rows = rng.integers(0, 2 * pad, n)",
    ),
    "keras rotation turned the other way": (
        IMAGES,
        "keras",
        "runtime.py",
        "affine(np.cos(t), -np.sin(t), np.sin(t), np.cos(t))",
        "affine(np.cos(t), np.sin(t), -np.sin(t), np.cos(t))",
    ),
    "torch erasing one row short": (
        IMAGES,
        "torch",
        "runtime.py",
        "(rows < (tops + heights)[:, None])",
        "(rows < (tops + heights - 1)[:, None])",
    ),
    "keras mixup weights swapped": (
        IMAGES,
        "keras",
        "runtime.py",
        "mixed = lam * images + (1 - lam) * images[other]",
        "mixed = (1 - lam) * images + lam * images[other]",
    ),
    "torch mixed labels read as class ids": (
        IMAGES,
        "torch",
        "train.py",
        "target.argmax(dim=1)).sum()\n            return loss, correct",
        "target.argmax(dim=1)).sum()\n            return loss * 1.01, correct",
    ),
    "keras data order": (
        IMAGES,
        "keras",
        "runtime.py",
        "default_rng(seed + epoch)",
        "default_rng(seed + epoch + 1)",
    ),
}


def _emit(text: str, backend: str, folder: Path) -> None:
    result = compile_spec(text)
    folder.mkdir(parents=True)
    for name, body in get_backend(backend).emit(result.spec, text).items():
        (folder / name).write_text(body, encoding="utf-8")


def test_verify_catches_every_planted_fault(tmp_path: Path) -> None:
    files, torch_dirs, keras_dirs = [], [], []
    for i, (name, (text, backend, file, good, bad)) in enumerate(sorted(FAULTS.items())):
        case = tmp_path / f"fault{i}"
        spec = case / "spec.net"
        case.mkdir()
        spec.write_text(text, encoding="utf-8")
        for side in ("torch", "keras"):
            _emit(text, side, case / side)
        target = case / backend / file
        code = target.read_text(encoding="utf-8")
        assert good in code, f"{name}: `{good}` is no longer in the emitted {backend} {file}"
        target.write_text(code.replace(good, bad), encoding="utf-8")
        files.append(str(spec))
        torch_dirs += ["--torch-dir", str(case / "torch")]
        keras_dirs += ["--keras-dir", str(case / "keras")]
    done = verify(*files, *torch_dirs, *keras_dirs)
    assert done.returncode == 1
    assert "Traceback" not in done.stdout
    missed = []
    for name, spec in zip(sorted(FAULTS), files, strict=True):
        agreed = re.search(rf"^{re.escape(spec)}: (\d+) of (\d+) tensors agree$", done.stdout, re.M)
        if agreed:  # every tensor agreed and no initialiser was off: the fault went unseen
            missed.append(name)
    assert missed == [], done.stdout[-4000:] + done.stderr[-2000:]


def test_unchanged_emitted_code_verifies(tmp_path: Path) -> None:
    """The same specs, their emitted code given unchanged: verify passes (the faults above
    are what fails)."""
    files, dirs = [], []
    for i, text in enumerate((ADAM, SGD, LOGITS, IMAGES, GAN, ATTENTION, VAE)):
        case = tmp_path / f"clean{i}"
        case.mkdir()
        (case / "spec.net").write_text(text, encoding="utf-8")
        for side in ("torch", "keras"):
            _emit(text, side, case / side)
            dirs += [f"--{side}-dir", str(case / side)]
        files.append(str(case / "spec.net"))
    done = verify(*files, *dirs)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
