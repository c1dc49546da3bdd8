"""The Keras backend's training view-model: what templates/keras/train.py.j2 and gan.py.j2
print besides the model."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from specc.backends.runtime import rbm_of, reconstruction_pictures, soft_labels, vae_of
from specc.backends.templating import py_literal as lit
from specc.ir.net import Spec
from specc.ir.train_config import Gan, Supervised
from specc.passes.masking import Padding, output_mask
from specc.passes.transfer import transfer_of

if TYPE_CHECKING:
    from specc.backends.keras.keras_backend import Model


#: PyTorch's class name of each optimizer, for the emitted optimizer.py's docstring
OPTIMIZER_NAMES = {
    "sgd": "SGD",
    "adam": "Adam",
    "adamw": "AdamW",
    "rmsprop": "RMSprop",
    "adagrad": "Adagrad",
}


def supervised_context(spec: Spec, config: Supervised) -> dict[str, Any]:
    """What templates/keras/train.py.j2 prints for a supervised run."""
    net = spec.model(config.model)
    padding = output_mask(net)
    return {
        "train": config,
        "opt": config.optimizer,
        "opt_name": OPTIMIZER_NAMES[config.optimizer.kind],
        "schedule": config.schedule,
        "classification": config.loss in ("cross_entropy", "nll"),
        # class probabilities [N, C] as targets: mixed labels, or soft labels from a file
        "soft_labels": soft_labels(config, net),
        # 0/1 labels (an autoencoder's bce compares with the input instead)
        "binary": config.loss in ("bce", "bce_with_logits") and config.target == "labels",
        # class scores per time step [T, C], one label per step
        "per_step": config.loss in ("cross_entropy", "nll") and len(net.output_shape) == 2,
        # a padded sequence out: the loss and metrics skip its padded steps
        "padded": padding is not None,
        # the mask of a batch's output, from its input `x`: True at the real steps
        "output_mask_code": _mask_code(padding, "x") if padding is not None else "",
        "int_input": net.input_nodes[0].op.dtype == "int",
        # an image autoencoder: `--sample N` and each run draw reconstructions
        "reconstructions": reconstruction_pictures(spec),
        "global_l1": config.l1,
        "global_l2": config.l2,
        "pi": math.pi,
        "vae": vae_of(spec),
        "rbm": rbm_of(spec),
        # transfer learning: frozen layers, learning rates per group of layers
        "transfer": transfer_of(net, config),
    }


def _mask_code(padding: Padding, x: str) -> str:
    if padding.tokens:
        return f"tf.not_equal({x}, 0)"
    # steps whose features all equal `value`
    return f"tf.reduce_any(tf.not_equal({x}, {lit(padding.value)}), axis=-1)"


def gan_context(models: list[Model], config: Gan) -> dict[str, Any]:
    """What templates/keras/gan.py.j2 prints for adversarial training."""
    by_name = {m.name: m for m in models}
    generator, discriminator = by_name[config.generator], by_name[config.discriminator]
    names = sorted({generator.builder, discriminator.builder})
    names += ["load_canonical", "save_canonical"]
    model_import = f"from model import {', '.join(names)}"  # codefmt wraps a long one
    shared = config.g_optimizer == config.d_optimizer
    return {
        "gan": config,
        "generator": generator,
        "discriminator": discriminator,
        "model_import": model_import,
        "g_opt": config.g_optimizer,
        "d_opt": config.d_optimizer,
        # one optimizer class (and learning rate) when both networks use the same one
        "shared_optimizer": shared,
    }
