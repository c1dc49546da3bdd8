"""The training runtime every backend's train.py imports (templates/common/runtime.py.j2):
data order, augmentation, progress, metrics log and run files, written once so that the
backends cannot drift apart. It is the same file, byte for byte, on every backend."""

from __future__ import annotations

from specc.backends.codefmt import format_code
from specc.backends.templating import render
from specc.ir.net import Spec
from specc.ir.train_config import Gan, Supervised


def runtime_module(spec: Spec) -> str:
    """runtime.py for the spec's training: supervised (`fit`) or adversarial (`fit_gan`)."""
    training = spec.training
    assert isinstance(training, (Supervised, Gan))
    supervised = training if isinstance(training, Supervised) else None
    gan = training if isinstance(training, Gan) else None
    return format_code(
        render(
            "common/runtime.py.j2",
            spec_path=spec.path,
            train=supervised,
            gan=gan,
            reconstructions=reconstruction_pictures(spec),
        )
    )


def reconstruction_pictures(spec: Spec) -> bool:
    """An autoencoder of images (one or three channels): its runs draw originals beside their
    reconstructions."""
    training = spec.training
    if not isinstance(training, Supervised) or training.target != "input":
        return False
    shape = spec.model(training.model).input_nodes[0].shape or ()
    return len(shape) == 3 and shape[0] in (1, 3)  # grayscale or RGB images
