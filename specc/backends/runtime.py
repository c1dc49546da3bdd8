"""The training runtime every backend's train.py imports (templates/common/runtime.py.j2):
data order, augmentation, progress, metrics log and run files, written once so that the
backends cannot drift apart. It is the same file, byte for byte, on every backend."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from specc.backends.codefmt import format_code
from specc.backends.templating import render
from specc.ir.net import Net, Spec
from specc.ir.train_config import Gan, Supervised
from specc.passes.latent import rbm_node, sample_node


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
            vae=vae_of(spec),
            rbm=rbm_of(spec),
            classes=spec.model(supervised.model).output_shape[-1] if supervised else 0,
            augment_plan=augment_plan(supervised) if supervised else [],
        )
    )


#: the geometric transforms: an affine map each, resampled by runtime.py's `warp`
WARPS = ("random_rotation", "random_translation", "random_zoom", "random_shear")


@dataclass(frozen=True)
class AugmentGroup:
    """Consecutive steps of `augment` that runtime.py applies as one: geometric transforms
    with one `fill` (`warp`: their maps composed, the images resampled once), else a
    single transform."""

    steps: tuple[Any, ...]
    warp: bool
    fill: str = ""


def augment_plan(config: Supervised) -> list[AugmentGroup]:
    """The image transforms of `config.augment` in order, consecutive geometric ones with
    the same fill grouped."""
    groups: list[AugmentGroup] = []
    for step in config.image_augment:
        last = groups[-1] if groups else None
        if step.kind in WARPS and last is not None and last.warp and last.fill == step.fill:
            groups[-1] = AugmentGroup((*last.steps, step), True, step.fill)
        elif step.kind in WARPS:
            groups.append(AugmentGroup((step,), True, step.fill))
        else:
            groups.append(AugmentGroup((step,), False))
    return groups


def soft_labels(config: Supervised, net: Net) -> bool:
    """The loss may get class probabilities [N, C] as targets: `mixup`/`cutmix` mixes the
    labels, or an npz file holds soft labels (`cross_entropy` on one class per sample)."""
    one_class = config.loss == "cross_entropy" and len(net.output_shape) == 1
    return config.mixing is not None or (one_class and config.data.kind == "npz")


def reconstruction_pictures(spec: Spec) -> bool:
    """An autoencoder of images (one or three channels): its runs draw originals beside their
    reconstructions."""
    training = spec.training
    if not isinstance(training, Supervised) or training.target != "input":
        return False
    shape = spec.model(training.model).input_nodes[0].shape or ()
    return len(shape) == 3 and shape[0] in (1, 3)  # grayscale or RGB images


@dataclass(frozen=True)
class Vae:
    """A variational autoencoder's training, as every backend's templates print it."""

    layer: str  # the `gaussian_sample` node's ident (its Keras layer name)
    latent_dim: int
    kl_weight: float
    kl_warmup: int
    #: "bernoulli" (bce, on probabilities), "bernoulli_logits" (bce_with_logits, on scores)
    #: or "gaussian" (mse: N(output, I))
    likelihood: str
    #: a Gaussian likelihood's constant per sample: 0.5 * values * log(2 pi)
    log_norm: float


def vae_of(spec: Spec) -> Vae | None:
    """The spec's training as a variational autoencoder: a model with a latent sample."""
    training = spec.training
    if not isinstance(training, Supervised):
        return None
    net = spec.model(training.model)
    sample = sample_node(net)
    if sample is None:
        return None
    likelihood = {"bce": "bernoulli", "bce_with_logits": "bernoulli_logits"}
    values = math.prod(net.output_shape)
    return Vae(
        layer=sample.ident,
        latent_dim=(sample.shape or (0,))[0],
        kl_weight=training.kl_weight,
        kl_warmup=training.kl_warmup,
        likelihood=likelihood.get(training.loss, "gaussian"),
        log_norm=0.5 * values * math.log(2 * math.pi),
    )


@dataclass(frozen=True)
class Rbm:
    """A restricted Boltzmann machine's training, as every backend's templates print it."""

    layer: str  # the `rbm` node's ident (its Keras layer name)
    visible: int
    hidden: int
    cd_k: int
    persistent: bool
    image: tuple[int, ...]  # the model's input shape: the visible units laid out


def rbm_of(spec: Spec) -> Rbm | None:
    """The spec's training as an RBM's: a model ending in an `rbm`."""
    training = spec.training
    if not isinstance(training, Supervised):
        return None
    net = spec.model(training.model)
    node = rbm_node(net)
    if node is None:
        return None
    return Rbm(
        layer=node.ident,
        visible=math.prod(net.node(node.inputs[0]).shape or ()),
        hidden=node.op.hidden,
        cd_k=training.cd_k,
        persistent=training.persistent,
        image=tuple(net.input_nodes[0].shape or ()),
    )
