"""The PyTorch backend's training view-model: the loss, optimizer and schedule expressions
that templates/torch/train.py.j2 and gan.py.j2 print."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from specc.backends.runtime import rbm_of, reconstruction_pictures, soft_labels, vae_of
from specc.backends.templating import py_literal as lit
from specc.ir.net import Spec
from specc.ir.train_config import Gan, Supervised
from specc.passes.masking import Padding, output_mask
from specc.passes.transfer import Transfer, transfer_of

if TYPE_CHECKING:
    from specc.backends.torch.torch_backend import Model


def supervised_context(spec: Spec, config: Supervised, models: list[Model]) -> dict[str, Any]:
    """What templates/torch/train.py.j2 prints for a supervised run."""
    net = spec.model(config.model)
    model = next(m for m in models if m.name == config.model)
    padding = output_mask(net)
    padded = padding is not None
    # padded outputs: a loss per element, so that the padded steps are left out of the mean
    vae = vae_of(spec)
    # a variational autoencoder's likelihood sums its per-element terms over each sample
    loss_code = (_PER_ELEMENT if padded or vae else _LOSSES)[config.loss]
    transfer = _attributes(transfer_of(net, config), model.renames)
    grouped = transfer is not None and bool(transfer.lr_scales)
    return {
        "train": config,
        "model": model,
        "padded": padded,
        # the mask of a batch's output, from its input `x`: True at the real steps
        "output_mask_code": _mask_code(padding, "x") if padding is not None else "",
        "loss_code": loss_code,
        "optimizer_code": _optimizer(
            config.optimizer, "param_groups(model)" if grouped else "model.parameters()"
        ),
        # transfer learning: frozen layers, learning rates per group of layers
        "transfer": transfer,
        "frozen_norms": tuple(
            attr
            for n, attr in ((n, _attr(n.ident, model.renames)) for n in net.layers)
            if n.kind == "batchnorm" and transfer and attr in transfer.frozen
        ),
        "schedule_code": _schedule(config.schedule),
        "classification": config.loss in ("cross_entropy", "nll"),
        # class probabilities [N, C] as targets: mixed labels, or soft labels from a file
        "soft_labels": soft_labels(config, net),
        # 0/1 labels (an autoencoder's bce compares with the input instead)
        "binary": config.loss in ("bce", "bce_with_logits") and config.target == "labels",
        # class scores per time step [T, C], one label per step
        "per_step": config.loss in ("cross_entropy", "nll") and len(net.output_shape) == 2,
        "int_input": net.input_nodes[0].op.dtype == "int",
        # an image autoencoder: `--sample N` and each run draw reconstructions
        "reconstructions": reconstruction_pictures(spec),
        "global_l1": config.l1,
        "global_l2": config.l2,
        "vae": vae,
        "rbm": rbm_of(spec),
    }


def _attr(ident: str, renames: dict[str, str]) -> str:
    """The model's attribute of the layer with canonical name `ident` (a name that Python
    or the module reserves gets a trailing underscore: `filter` -> `filter_`)."""
    return next((attr for attr, canonical in renames.items() if canonical == ident), ident)


def _attributes(transfer: Transfer | None, renames: dict[str, str]) -> Transfer | None:
    """`transfer` with the layers named by the model's attributes, as train.py finds them."""
    if transfer is None:
        return None
    return dataclasses.replace(
        transfer,
        frozen=tuple(_attr(i, renames) for i in transfer.frozen),
        lr_scales={_attr(i, renames): s for i, s in transfer.lr_scales.items()},
    )


def _mask_code(padding: Padding, x: str) -> str:
    if padding.tokens:
        return f"{x} != 0"
    return f"({x} != {lit(padding.value)}).any(dim=-1)"  # steps of features all `value`


def gan_context(config: Gan, models: list[Model]) -> dict[str, Any]:
    """What templates/torch/gan.py.j2 prints for adversarial training."""
    by_name = {m.name: m for m in models}
    return {
        "gan": config,
        "generator": by_name[config.generator],
        "discriminator": by_name[config.discriminator],
        "g_optimizer_code": _optimizer(config.g_optimizer, "gen.parameters()"),
        "d_optimizer_code": _optimizer(config.d_optimizer, "disc.parameters()"),
    }


#: each loss per element, for padded outputs (their padded steps are left out of the mean)
_PER_ELEMENT = {
    "cross_entropy": 'nn.CrossEntropyLoss(reduction="none")',
    "nll": 'nn.NLLLoss(reduction="none")',
    "mse": 'nn.MSELoss(reduction="none")',
    "mae": 'nn.L1Loss(reduction="none")',
    "bce": 'nn.BCELoss(reduction="none")',
    "bce_with_logits": 'nn.BCEWithLogitsLoss(reduction="none")',
    "kl_div": 'nn.KLDivLoss(reduction="none")',
    "huber": 'nn.HuberLoss(delta=1.0, reduction="none")',
}
_LOSSES = {
    "cross_entropy": "nn.CrossEntropyLoss()",
    "nll": "nn.NLLLoss()",
    "mse": "nn.MSELoss()",
    "mae": "nn.L1Loss()",
    "bce": "nn.BCELoss()",
    "bce_with_logits": "nn.BCEWithLogitsLoss()",
    "kl_div": 'nn.KLDivLoss(reduction="batchmean")',
    "huber": "nn.HuberLoss(delta=1.0)",
}


def _optimizer(opt: Any, p: str = "model.parameters()") -> str:
    if opt.kind == "sgd":
        return (
            f"torch.optim.SGD({p}, lr={lit(opt.lr)}, momentum={lit(opt.momentum)}, "
            f"dampening=0.0, nesterov={lit(opt.nesterov)}, weight_decay={lit(opt.weight_decay)})"
        )
    if opt.kind in ("adam", "adamw"):
        cls = "Adam" if opt.kind == "adam" else "AdamW"
        return (
            f"torch.optim.{cls}({p}, lr={lit(opt.lr)}, betas={lit((opt.beta1, opt.beta2))}, "
            f"eps={lit(opt.eps)}, weight_decay={lit(opt.weight_decay)})"
        )
    if opt.kind == "rmsprop":
        return (
            f"torch.optim.RMSprop({p}, lr={lit(opt.lr)}, alpha={lit(opt.alpha)}, "
            f"eps={lit(opt.eps)}, momentum={lit(opt.momentum)}, "
            f"weight_decay={lit(opt.weight_decay)})"
        )
    return (
        f"torch.optim.Adagrad({p}, lr={lit(opt.lr)}, eps={lit(opt.eps)}, "
        f"weight_decay={lit(opt.weight_decay)})"
    )


def _schedule(schedule: Any) -> str | None:
    if schedule is None:
        return None
    s = "torch.optim.lr_scheduler"
    optimizer = "self.optimizer"
    if schedule.kind == "step":
        return f"{s}.StepLR({optimizer}, step_size={schedule.every}, gamma={lit(schedule.gamma)})"
    if schedule.kind == "cosine":
        return f"{s}.CosineAnnealingLR({optimizer}, T_max=epochs, eta_min={lit(schedule.min_lr)})"
    if schedule.kind == "exponential":
        return f"{s}.ExponentialLR({optimizer}, gamma={lit(schedule.gamma)})"
    w = schedule.epochs
    return f"{s}.LambdaLR({optimizer}, lambda epoch: min(1.0, (epoch + 1) / {w + 1}))"
