"""`train` and `gan` sections -> typed training configs, checked against the models."""

from __future__ import annotations

import math
from typing import Any, get_args

from pydantic import BaseModel, ValidationError

from specc.diagnostics import Diagnostics, SpecError, did_you_mean
from specc.ir.net import Input, Net
from specc.ir.train_config import (
    AUGMENTS,
    CLASSIFICATION_LOSSES,
    DATASET_CLASSES,
    DATASET_SHAPES,
    DATASETS,
    FLOAT_DATASETS,
    INITS,
    LATENTS,
    LIKELIHOOD_LOSSES,
    LR_GROUPS,
    MIXING,
    NOISES,
    NORMALIZATIONS,
    OPTIMIZERS,
    PER_STEP_DATASETS,
    RECONSTRUCTION_LOSSES,
    REGRESSION_DATASETS,
    SCHEDULES,
    TOKEN_DATASETS,
    Gan,
    Supervised,
)
from specc.layers.base import fmt
from specc.passes.binding import _reason, bind_arguments
from specc.passes.latent import rbm_node, sample_node
from specc.passes.masking import input_padding, token_embeddings
from specc.passes.transfer import check_transfer
from specc.source import Span
from specc.syntax import ast
from specc.syntax.values import Call, Symbol, describe, evaluate, plain

# key -> table of callable kinds, for settings whose values are calls like `sgd(lr=0.1)`
_TABLES: dict[str, dict[str, type[BaseModel]]] = {
    "data": DATASETS,
    "optimizer": OPTIMIZERS,
    "g_optimizer": OPTIMIZERS,
    "d_optimizer": OPTIMIZERS,
    "schedule": SCHEDULES,
    "augment": AUGMENTS,
    "latent": LATENTS,
    "noise": NOISES,
    "normalize": NORMALIZATIONS,
    "init": INITS,
    "lr_groups": LR_GROUPS,
}
#: the settings whose value is a list of calls
_LISTS = ("augment", "lr_groups")
_LOGIT_LOSSES = ("cross_entropy", "bce_with_logits")
#: the `train` settings that the checks against the model read
#: (a failed `augment`, `noise`, `normalize`, ... is left at a default that no check reads)
_MODEL_CHECKED = {"data", "loss", "target"}
_SQUASHING = ("softmax", "sigmoid", "log_softmax")


def _call_config(key: str, value: Any, span: Span) -> Any:
    table = _TABLES[key.removeprefix("g_").removeprefix("d_")] if key in _TABLES else None
    if table is None:
        return plain(value)
    if isinstance(value, list):
        if key not in _LISTS:
            raise SpecError(
                "E0601",
                f"`{key}` takes one value, got {describe(value)}",
                span,
                help=f"write one of: {', '.join(table)}",
            )
        return [_call_config(key, v, span) for v in value]
    if isinstance(value, Symbol):
        value = Call(str(value), (), {}, span, span, (), {})
    if not isinstance(value, Call):
        raise SpecError(
            "E0601",
            f"`{key}` needs a call such as `{next(iter(table))}(...)`, got {describe(value)}",
            span,
            help=f"one of: {', '.join(table)}",
        )
    if value.name not in table:
        raise SpecError(
            "E0602",
            f"unknown {key.replace('_', ' ')} `{value.name}`",
            value.name_span,
            help=did_you_mean(value.name, table, f"{key} kinds"),
        )
    cls = table[value.name]
    fields = [f for f in cls.model_fields if f != "kind"]
    required = {f for f in fields if cls.model_fields[f].is_required()}
    sig = (
        f"{value.name}("
        + ", ".join(f if f in required else f"{f}={cls.model_fields[f].default}" for f in fields)
        + ")"
    )
    bound = bind_arguments(
        value.name,
        fields,
        fields,
        list(zip(value.args, value.arg_spans, strict=False)),
        {k: (v, value.kwarg_spans[k]) for k, v in value.kwargs.items()},
        value.span,
        sig,
        required,
    )
    data = {k: plain(v) for k, (v, _) in bound.items()}
    try:
        return cls(kind=value.name, **data)
    except ValidationError as err:
        first = err.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else ""
        bad, bad_span = bound.get(field, (None, value.span))
        raise SpecError(
            "E0603",
            f"invalid `{field}` for `{value.name}`: {_reason(first)}, got {describe(bad)}",
            bad_span,
            help=f"the signature is `{sig}`",
        ) from None


def _settings(section: ast.SectionDef, allowed: list[str], diags: Diagnostics) -> dict[str, Any]:
    values: dict[str, Any] = {}
    spans: dict[str, Span] = {}
    for setting in section.settings:
        try:
            if setting.key not in allowed:
                raise SpecError(
                    "E0604",
                    f"`{section.kind}` has no setting `{setting.key}`",
                    setting.key_span,
                    label="unknown setting",
                    help=did_you_mean(setting.key, allowed, "settings"),
                )
            if setting.key in values:
                raise SpecError(
                    "E0605",
                    f"`{setting.key}` is set twice",
                    setting.key_span,
                    help="remove one of them",
                )
            value = evaluate(setting.value, {})
            if setting.key == "early_stopping":
                value = _early_stopping(value, setting.value.span)
            values[setting.key] = _call_config(setting.key, value, setting.value.span)
            spans[setting.key] = setting.value.span
        except SpecError as err:
            diags.add(err.diagnostic)
    values["__spans__"] = spans
    return values


def _early_stopping(value: Any, span: Span) -> Any:
    if value is False:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return {"patience": value}
    if isinstance(value, Call) and value.name == "early_stopping":
        if len(value.args) > 2:
            raise SpecError(
                "E0606",
                f"`early_stopping` takes at most 2 positional arguments, got {len(value.args)}",
                value.arg_spans[2],
                help="the signature is `early_stopping(patience=3, min_delta=0.0)`",
            )
        return {**dict(zip(("patience", "min_delta"), value.args, strict=False)), **value.kwargs}
    raise SpecError(
        "E0606",
        "`early_stopping` needs a patience in epochs",
        span,
        help="write `early_stopping = 3` or `early_stopping(patience=3)`",
    )


def _validated(
    cls: type[BaseModel], values: dict[str, Any], section: ast.SectionDef, diags: Diagnostics
) -> Any:
    spans: dict[str, Span] = values.pop("__spans__")
    try:
        return cls(**values)
    except ValidationError as err:
        for error in err.errors():
            key = str(error["loc"][0]) if error["loc"] else ""
            span = spans.get(key, section.name_span)
            if error.get("type") == "missing":
                diags.error(
                    "E0607",
                    f"`{section.kind} {section.name}` needs `{key}`",
                    section.name_span,
                    help=f"add `{key} = ...`",
                )
            else:
                reason = _reason(error)
                if _is_list_field(cls, key) and error.get("type") in (
                    "tuple_type",
                    "model_type",
                    "model_attributes_type",
                    "literal_error",
                    "union_tag_invalid",
                ):
                    reason = "must be a list"
                diags.error(
                    "E0603", f"invalid `{key}`: {reason}", span, help=_setting_help(cls, key)
                )
        return None


def _is_list_field(cls: type[BaseModel], key: str) -> bool:
    field = cls.model_fields.get(key)
    return field is not None and "tuple[" in str(field.annotation)


def _setting_help(cls: type[BaseModel], key: str) -> str:
    """A fix for a bad setting: its allowed values, or its type and default."""
    allowed = _allowed_values(cls, key)
    field = cls.model_fields.get(key)
    if _is_list_field(cls, key):
        example = {
            "metrics": "[accuracy]",
            "augment": "[random_flip, random_crop(4)]",
            "freeze": '["conv2d_1", "conv2d_2"]',
            "lr_groups": '[group("conv2d_*", 0.1)]',
        }
        return f"write a list, e.g. `{key} = {example.get(key, '[...]')}`"
    if allowed:
        return allowed
    if field is None:
        return "see docs/language.md for the settings"
    default = field.default
    if isinstance(default, bool):
        return f"write `true` or `false` (the default is `{str(default).lower()}`)"
    if isinstance(default, int) and default > 0:
        return f"write a positive integer (the default is {default})"
    if isinstance(default, int):
        return f"write a non-negative integer (the default is {default})"
    if isinstance(default, float) or default is None:
        return "write a positive number" if "gt=0" in repr(field.metadata) else "write a number"
    return "see docs/language.md for the settings"


def _allowed_values(cls: type[BaseModel], key: str) -> str:
    field = cls.model_fields.get(key)
    if field is None:
        return ""
    options = [a for a in _literals(field.annotation)]
    return ("one of: " + ", ".join(f"`{o}`" for o in options)) if options else ""


def _literals(annotation: Any) -> list[str]:
    out: list[str] = []
    for arg in get_args(annotation):
        if isinstance(arg, str):
            out.append(arg)
        else:
            out.extend(_literals(arg))
    return out


def build_training(
    doc: ast.Document, nets: dict[str, Net], failed_models: set[str], diags: Diagnostics
) -> Supervised | Gan | None:
    if not doc.sections:
        return None
    for extra in doc.sections[1:]:
        diags.error(
            "E0608",
            "a spec has one `train` or `gan` section",
            extra.span,
            help="move other training setups into their own spec files",
        )
    section = doc.sections[0]
    known = set(nets) | failed_models
    if section.kind == "train":
        allowed = [f for f in Supervised.model_fields if f not in ("kind", "model")]
        if section.name not in known:
            diags.error(
                "E0609",
                f"`train {section.name}`: no model `{section.name}`",
                section.name_span,
                help=did_you_mean(section.name, known, "models"),
            )
            return None
        values = _settings(section, allowed, diags)
        spans = dict(values["__spans__"])
        config = _validated(Supervised, {**values, "model": section.name}, section, diags)
        # a setting the model checks read that failed (its error is out) would be checked
        # as its default: one mistake, one error
        failed = {setting.key for setting in section.settings} - set(values)
        if config is not None and section.name in nets and not failed & _MODEL_CHECKED:
            _check_supervised(config, nets[section.name], spans, section, diags)
        return config
    allowed = [f for f in Gan.model_fields if f not in ("kind", "name")] + ["optimizer"]
    values = _settings(section, allowed, diags)
    spans = dict(values["__spans__"])
    for key in ("generator", "discriminator"):
        if key in values:
            name = values[key]
            if not isinstance(name, str) or name not in known:
                diags.error(
                    "E0609",
                    f"`{key}` must name a model, got {describe(name)}",
                    spans[key],
                    help=did_you_mean(str(name), known, "models"),
                )
                return None
    if "optimizer" in values:
        opt = values.pop("optimizer")
        values.setdefault("g_optimizer", opt)
        values.setdefault("d_optimizer", opt)
        spans.setdefault("g_optimizer", spans["optimizer"])
        spans.setdefault("d_optimizer", spans["optimizer"])
    config = _validated(Gan, {**values, "name": section.name}, section, diags)
    if config is not None and config.generator in nets and config.discriminator in nets:
        _check_gan(
            config, nets[config.generator], nets[config.discriminator], spans, section, diags
        )
    return config


def _sample_shape(data: Any, net: Net) -> tuple[int, ...] | None:
    if data.kind == "digits":
        return (data.size, data.size) if data.rows else (1, data.size, data.size)
    if data.kind == "mnist" and data.rows:
        return (28, 28)
    if data.kind == "adding":
        return (data.length, 2)
    if data.kind == "series":
        return (data.window, 1)
    if data.kind in ("text", "imdb"):
        return (data.length,)
    if data.kind == "copy_task":
        return (2 * data.length + data.delay,)
    if data.kind == "synthetic":
        return net.input_nodes[0].shape
    return DATASET_SHAPES.get(data.kind)


def _classes(data: Any) -> int | None:
    if data.kind == "synthetic":
        return data.classes
    if data.kind == "copy_task":
        return data.symbols + 2  # the blank, the symbols and the delimiter
    if getattr(data, "classes", None) is not None and data.kind != "synthetic":
        return len(data.classes)  # a class subset
    return DATASET_CLASSES.get(data.kind)


def _check_data(data: Any, net: Net, span: Span, diags: Diagnostics) -> None:
    if not _check_dtype(data, net, span, diags):
        return  # numbers for token ids or the reverse: the wrong data set, one error
    _check_tokens(data, net, span, diags)
    want = net.input_nodes[0].shape
    have = _sample_shape(data, net)
    if have is None or want is None or have == want:
        return
    fix = f"make the model's input {fmt(have)}"
    if len(want) == 3 and want[0] == 1 and want[1] == want[2] and data.kind == "digits":
        fix = f"use `digits(size={want[1]})`"
    if len(want) == 2 and want[0] == want[1] and data.kind == "digits":
        fix = f"read the images row by row: `digits(size={want[0]}, rows=true)`"
    if want == (28, 28) and data.kind == "mnist":
        fix = f'read the images row by row: `mnist(path="{data.path}", rows=true)`'
    diags.error(
        "E0610",
        f"`{data.kind}` gives samples {fmt(have)}, but `{net.name}` takes {fmt(want)}",
        span,
        label="data shape",
        help=fix,
    )


def _check_dtype(data: Any, net: Net, span: Span, diags: Diagnostics) -> bool:
    """E0623 where a data set's token ids meet a model taking numbers, or the reverse."""
    node = net.input_nodes[0]
    dtype = node.op.dtype if isinstance(node.op, Input) else "float"
    if data.kind in TOKEN_DATASETS and dtype != "int":
        diags.error(
            "E0623",
            f"`{data.kind}` gives token ids, but `{net.name}` takes numbers",
            span,
            label="data type",
            help="declare the input as `[T] int` and start the model with `embedding(vocab, dim)`",
        )
        return False
    if data.kind in FLOAT_DATASETS and dtype == "int":
        diags.error(
            "E0623",
            f"`{data.kind}` gives numbers, but `{net.name}` takes token ids",
            span,
            label="data type",
            help=f"declare the input without `int` (`input {node.name}: {fmt(node.shape or ())}`)",
        )
        return False
    return True


def _token_ids(data: Any) -> int | None:
    """How many token ids (0..n-1) a data set's samples use, where known before loading."""
    if data.kind == "copy_task":
        return data.symbols + 2  # the blank, the symbols and the delimiter
    if data.kind == "imdb":
        return data.vocab  # ids >= vocab became the out-of-vocabulary id
    return None


def _check_tokens(data: Any, net: Net, span: Span, diags: Diagnostics) -> None:
    """E0624 where the embedding reading the data set's token ids is too small for them;
    E0625 where `mask_zero=true` would read the data set's id 0 as trailing padding but it
    is not."""
    embeddings = token_embeddings(net)
    ids = _token_ids(data)
    for op in embeddings:
        vocab, dim = op.vocab, op.dim
        if ids is not None and vocab < ids:
            fix = f"use `embedding({ids}, {dim})`"
            if data.kind == "imdb" and vocab >= 4:
                fix += f", or keep the {vocab} most frequent words: `imdb(..., vocab={vocab})`"
            diags.error(
                "E0624",
                f"`{data.kind}` gives token ids 0..{ids - 1}, but `embedding({vocab}, {dim})` "
                f"in `{net.name}` takes ids below {vocab}",
                span,
                label="token ids",
                help=fix,
            )
            return
    if not any(op.mask_zero for op in embeddings):
        return
    if data.kind == "imdb" and data.padding == "pre":
        message = (
            '`imdb(padding="pre")` pads at the front, but `mask_zero=true` needs the padding '
            "after the real tokens"
        )
        fix = 'use `padding="post"` (the default)'
    elif data.kind == "copy_task":
        message = "`copy_task` uses id 0 for its blank steps, but `mask_zero=true` skips id 0"
        fix = "remove `mask_zero=true`: the copy task's sequences are not padded"
    elif data.kind == "text":
        message = "`text` gives id 0 to a character, but `mask_zero=true` skips id 0"
        fix = "remove `mask_zero=true`: text windows are not padded"
    else:
        return
    diags.error("E0625", message, span, label="padding", help=fix)


def _check_reconstruction(
    config: Supervised,
    net: Net,
    spans: dict[str, Span],
    section: ast.SectionDef,
    diags: Diagnostics,
) -> None:
    """`target = input` (an autoencoder): a reconstruction loss, and an output of the
    input's shape, for float samples."""
    node = net.input_nodes[0]
    target_span = spans.get("target", section.name_span)
    if node.op.dtype == "int":
        diags.error(
            "E0627",
            f"`target = input` reconstructs numbers, but `{net.name}` takes token ids",
            target_span,
            help="for token sequences, predict each next token with per-step scores and "
            "`cross_entropy` (the `text` data set)",
        )
        return
    if config.loss not in RECONSTRUCTION_LOSSES:
        diags.error(
            "E0628",
            f"`{config.loss}` compares class scores with labels; reconstructing the input "
            "compares value by value",
            spans.get("loss", section.name_span),
            help="use `mse` (or `mae`, `huber`), or `bce` on a sigmoid output in [0, 1]",
        )
        return
    scale = getattr(config.data, "scale", None)
    if config.loss in ("bce", "bce_with_logits") and scale == "standard":
        kind = config.data.kind
        diags.error(
            "E0630",
            f"`{config.loss}` compares the reconstruction with the input as probabilities, "
            f"but `{kind}` standardises its pixels (mean 0, std 1)",
            spans.get("data", section.name_span),
            label="pixels not in [0, 1]",
            help=f"write `{kind}(..., scale=unit)` for pixels in [0, 1], or use `mse`",
        )
        return
    have, want = net.output_shape, node.shape or ()
    if tuple(have) != tuple(want):
        diags.error(
            "E0629",
            f"`{net.name}` gives {fmt(have)}, but reconstructing its input needs {fmt(want)}",
            target_span,
            label="the input is the target",
            help=f"end the decoder with a layer giving {fmt(want)}, e.g. "
            f"`dense({math.prod(want)}) -> reshape({list(want)})`",
        )


def _check_rbm_training(
    config: Supervised,
    net: Net,
    spans: dict[str, Span],
    section: ast.SectionDef,
    diags: Diagnostics,
) -> None:
    """A model ending in `rbm` trains by contrastive divergence on its input (E0636): no
    `loss` (E0637), visible units in [0, 1] and no input noise (E0639)."""
    if config.target != "input":
        diags.error(
            "E0636",
            f"`{net.name}` is a restricted Boltzmann machine: it learns the distribution of "
            "its input, by contrastive divergence",
            spans.get("target", section.name_span),
            label="labels are the target",
            help="write `target = input`",
        )
        return
    if "loss" in spans:
        diags.error(
            "E0637",
            f"`{net.name}` trains by contrastive divergence; it takes no `loss`",
            spans["loss"],
            help="remove `loss`; `cd_k` sets the Gibbs steps and `persistent = true` keeps "
            "the chains across updates",
        )
    scale = getattr(config.data, "scale", None)
    if scale == "standard":
        kind = config.data.kind
        diags.error(
            "E0639",
            f"an RBM's visible units are 0 or 1, but `{kind}` standardises its pixels",
            spans.get("data", section.name_span),
            label="pixels not in [0, 1]",
            help=f"write `{kind}(..., scale=binary)` (or `scale=unit` for grey values as "
            "probabilities)",
        )
    if config.noise is not None:
        diags.error(
            "E0639",
            "contrastive divergence draws its own samples; `noise` would corrupt the data "
            "the RBM learns",
            spans.get("noise", section.name_span),
            help="remove `noise`",
        )
    if config.precision != "fp32" or config.compile:
        key = "precision" if config.precision != "fp32" else "compile"
        diags.error(
            "E0639",
            "an RBM trains in float32 and uncompiled: its Gibbs samples compare "
            "probabilities with uniform draws, which another precision (or a compiler's "
            "fused kernels) would round differently on each backend",
            spans.get(key, section.name_span),
            help=f"remove `{key}`",
        )


def _check_normalize(
    config: Supervised,
    net: Net,
    spans: dict[str, Span],
    section: ast.SectionDef,
    diags: Diagnostics,
) -> None:
    """`normalize = per_channel(...)`: images [C, H, W] with labels as the target, and a
    mean and std of one value per channel, both or neither (E0642)."""
    norm = config.normalize
    if norm is None:
        return
    shape = net.input_nodes[0].shape or ()
    span = spans.get("normalize", section.name_span)
    problem = None
    if len(shape) != 3 or net.input_nodes[0].op.dtype == "int":
        problem = (
            f"normalises the channels of images [C, H, W], but `{net.name}` takes {fmt(shape)}"
        )
    elif config.target != "labels":
        problem = "would change the input that the model reconstructs"
    elif (norm.mean is None) != (norm.std is None):
        problem = "needs both `mean` and `std`, or neither (the training split's)"
    elif norm.mean is not None and (len(norm.mean) != shape[0] or len(norm.std or ()) != shape[0]):
        problem = f"needs one mean and one std per channel, {shape[0]} of each"
    if problem is not None:
        diags.error(
            "E0642",
            f"`per_channel` {problem}",
            span,
            help="remove `normalize`, or give `per_channel(mean=[...], std=[...])` one value "
            "per channel",
        )


def _check_unit_range(
    config: Supervised,
    net: Net,
    spans: dict[str, Span],
    section: ast.SectionDef,
    diags: Diagnostics,
) -> None:
    """Brightness and contrast move pixels out of [0, 1], where a probability target (a
    `bce` reconstruction) or an RBM's visible units must stay (E0645); `rescale` scales
    numbers, not token ids (E0646)."""
    shifting = [
        s.kind for s in config.augment if s.kind in ("random_brightness", "random_contrast")
    ]
    in_unit_range = rbm_node(net) is not None or (
        config.target == "input" and config.loss in ("bce", "bce_with_logits")
    )
    if shifting and in_unit_range:
        diags.error(
            "E0645",
            f"`{shifting[0]}` moves pixels out of [0, 1], where "
            + ("an RBM's visible units" if rbm_node(net) is not None else "the `bce` target")
            + " must stay",
            spans.get("augment", section.name_span),
            help=f"remove `{shifting[0]}`, or reconstruct with `mse`",
        )
    rescale = getattr(config.data, "rescale", 1.0)
    if rescale != 1.0 and net.input_nodes[0].op.dtype == "int":
        diags.error(
            "E0646",
            f"`rescale` multiplies numbers, but `{net.name}` takes token ids",
            spans.get("data", section.name_span),
            help="remove `rescale`",
        )


def _check_mixing(
    config: Supervised,
    net: Net,
    spans: dict[str, Span],
    section: ast.SectionDef,
    diags: Diagnostics,
) -> None:
    """`mixup` and `cutmix` mix the labels: one of them, last in `augment` (E0640), for
    `cross_entropy` on one class per sample (E0641)."""
    mixing = [i for i, step in enumerate(config.augment) if step.kind in MIXING]
    if not mixing:
        return
    span = spans.get("augment", section.name_span)
    if len(mixing) > 1 or mixing[-1] != len(config.augment) - 1:
        diags.error(
            "E0640",
            "`mixup` and `cutmix` mix the labels as well as the images: one of them, last in "
            "`augment`",
            span,
            help="keep one, at the end of the list",
        )
        return
    out = net.output_shape
    if config.target != "labels" or config.loss != "cross_entropy" or len(out) != 1:
        kind = config.augment[-1].kind
        diags.error(
            "E0641",
            f"`{kind}` mixes class labels into class probabilities, which only "
            "`cross_entropy` on one class per sample takes",
            span,
            help=f"use `loss = cross_entropy` on class labels with an output [classes], or "
            f"remove `{kind}`",
        )


def _check_supervised(
    config: Supervised,
    net: Net,
    spans: dict[str, Span],
    section: ast.SectionDef,
    diags: Diagnostics,
) -> None:
    if len(net.inputs) != 1:
        diags.error(
            "E0611",
            f"`train` needs a model with one input; `{net.name}` has {len(net.inputs)}",
            section.name_span,
            help="train a single-input model",
        )
        return
    data_span = spans.get("data", section.name_span)
    _check_data(config.data, net, data_span, diags)
    if config.augment and len(net.input_nodes[0].shape or ()) != 3:
        diags.error(
            "E0617",
            "`augment` works on images [C, H, W], but "
            f"`{net.name}` takes {fmt(net.input_nodes[0].shape or ())}",
            spans.get("augment", section.name_span),
            help="remove `augment`",
        )
    _check_mixing(config, net, spans, section, diags)
    _check_normalize(config, net, spans, section, diags)
    _check_unit_range(config, net, spans, section, diags)
    if config.tta and (len(net.input_nodes[0].shape or ()) != 3 or config.target != "labels"):
        diags.error(
            "E0644",
            "`tta` averages a classifier's scores over each image and its mirror; "
            f"`{net.name}` "
            + (
                "reconstructs its input"
                if config.target == "input"
                else f"takes {fmt(net.input_nodes[0].shape or ())}, not images [C, H, W]"
            ),
            spans.get("tta", section.name_span),
            help="remove `tta`",
        )
    if config.noise is not None and net.input_nodes[0].op.dtype == "int":
        diags.error(
            "E0626",
            f"`noise` corrupts numbers, but `{net.name}` takes token ids",
            spans.get("noise", section.name_span),
            help="remove `noise`",
        )
    padding = input_padding(net)
    if config.noise is not None and padding is not None and not padding.tokens:
        diags.error(
            "E0631",
            f"`noise` would change the padded steps that `masking({padding.value!r})` finds in "
            f"`{net.name}`'s input",
            spans.get("noise", section.name_span),
            help="remove `noise`, or pad the data and drop `masking`",
        )
    check_transfer(config, net, spans, section.name_span, diags)
    rbm, sample = rbm_node(net), sample_node(net)
    if rbm is not None and config.lr_groups:
        diags.error(
            "E0651",
            f"`lr_groups` sets learning rates per group of layers, but `{net.name}` trains one RBM",
            spans["lr_groups"],
            help="remove `lr_groups` and set the optimizer's `lr`",
        )
    for key in ("cd_k", "persistent"):
        if key in spans and rbm is None:
            diags.error(
                "E0638",
                f"`{key}` sets contrastive divergence, but `{net.name}` is no RBM",
                spans[key],
                label="no `rbm` in the model",
                help="remove it, or end the model with `rbm(hidden)`",
            )
    for key in ("kl_weight", "kl_warmup"):
        if key in spans and sample is None:
            diags.error(
                "E0632",
                f"`{key}` sets the weight of a KL term, but `{net.name}` has no latent",
                spans[key],
                label="no `gaussian_sample` in the model",
                help="remove it, or sample the latent with `z = gaussian_sample(mean, log_var)`",
            )
    if config.validation is not None and (rbm is not None or sample is not None):
        diags.error(
            "E0643",
            f"`validation` holds out samples for a loss and accuracy; `{net.name}` reports "
            + ("an ELBO" if sample is not None else "reconstruction errors and free energies"),
            spans["validation"],
            help="remove `validation`; the test split's figures are in metrics.jsonl",
        )
    if rbm is not None:
        _check_rbm_training(config, net, spans, section, diags)
        return
    if sample is not None and config.target != "input":
        diags.error(
            "E0633",
            f"`{net.name}` has a `gaussian_sample` latent: it trains as a variational "
            "autoencoder, whose target is its input",
            spans.get("target", section.name_span),
            label="labels are the target",
            help="write `target = input`",
        )
        return
    if sample is not None and config.loss not in LIKELIHOOD_LOSSES:
        diags.error(
            "E0634",
            f"a variational autoencoder's loss is a likelihood of the input; `{config.loss}` "
            "is not one",
            spans.get("loss", section.name_span),
            help="use `bce_with_logits` (Bernoulli, on scores), `bce` (Bernoulli, on a "
            "sigmoid output) or `mse` (Gaussian with unit variance)",
        )
        return
    if config.target == "input":
        _check_reconstruction(config, net, spans, section, diags)
        return
    out = net.output_shape
    loss_span = spans.get("loss", section.name_span)
    classes = _classes(config.data)
    per_step = config.loss in CLASSIFICATION_LOSSES and len(out) == 2
    if config.data.kind in PER_STEP_DATASETS and config.loss in CLASSIFICATION_LOSSES:
        steps = _sample_shape(config.data, net)
        fits = steps is not None and tuple(net.input_nodes[0].shape or ()) == steps
        # (a model whose input does not fit has its E0610 already: one error per mistake)
        if not per_step or (fits and out[0] != steps[0]):
            diags.error(
                "E0618",
                f"`{config.data.kind}` gives one class per time step, so the model must give "
                f"per-step scores [T, classes]; `{net.name}` gives {fmt(out)}",
                loss_span,
                help="end the model with a recurrent layer with `return_sequences=true` "
                "and `dense(classes)`",
            )
            return
    flat_output = config.loss in CLASSIFICATION_LOSSES + ("bce", "bce_with_logits")
    if flat_output and len(out) != 1 and not per_step:
        diags.error(
            "E0612",
            f"`{config.loss}` needs a flat output [classes] (or, for `cross_entropy` and `nll`, "
            f"per-step scores [T, classes]), but `{net.name}` gives {fmt(out)}",
            loss_span,
            help="end the model with `flatten` and `dense(classes)`",
        )
        return
    if config.loss in CLASSIFICATION_LOSSES and config.data.kind in REGRESSION_DATASETS:
        diags.error(
            "E0619",
            f"`{config.data.kind}` gives real-valued targets, but `{config.loss}` needs "
            "class labels",
            loss_span,
            help="use `mse`, `mae` or `huber`",
        )
        return
    if config.loss in CLASSIFICATION_LOSSES and classes is not None and out[-1] != classes:
        scores = f"{out[-1]} score" + ("s" if out[-1] != 1 else "")
        diags.error(
            "E0613",
            f"`{net.name}` gives {scores}, but `{config.data.kind}` has {classes} classes",
            loss_span,
            label="class count",
            help=f"end the model with `dense({classes})`",
        )
    if config.loss in ("bce", "bce_with_logits"):
        if out[0] != 1:
            diags.error(
                "E0614",
                f"`{config.loss}` needs one output per sample, got {fmt(out)}",
                loss_span,
                help="end the model with `dense(1)`",
            )
        elif classes is not None and classes != 2:
            diags.error(
                "E0615",
                f"`{config.loss}` is for two classes; `{config.data.kind}` has {classes}",
                loss_span,
                help="use `cross_entropy`",
            )
    if (
        config.loss not in CLASSIFICATION_LOSSES + ("bce", "bce_with_logits")
        and config.data.kind in DATASET_CLASSES
    ):
        diags.error(
            "E0616",
            f"`{config.loss}` needs regression targets, but "
            f"`{config.data.kind}` gives class labels",
            loss_span,
            help="use `cross_entropy`, or `npz(...)` with real-valued targets",
        )
    last = net.node(net.output).kind
    if config.loss in _LOGIT_LOSSES and last in _SQUASHING:
        diags.warning(
            "W0601",
            f"the model ends in `{last}`, but `{config.loss}` expects raw scores (logits)",
            net.node(net.output).span,
            label="applied twice",
            help=f"remove `{last}`; the loss applies it",
        )
    if config.loss == "nll" and last != "log_softmax":
        diags.warning(
            "W0602",
            "`nll` expects log-probabilities, but the model does not end in `log_softmax`",
            loss_span,
            help="use `cross_entropy` on raw scores",
        )
    for key in ("l1", "l2"):
        if getattr(config, key) and any(getattr(n.op, key, 0.0) for n in net.layers):
            diags.warning(
                "W0603",
                f"`{key}` is set for training and on layers; both apply",
                spans.get(key),
                help="keep one of them",
            )


def _check_gan(
    config: Gan,
    gen: Net,
    disc: Net,
    spans: dict[str, Span],
    section: ast.SectionDef,
    diags: Diagnostics,
) -> None:
    latent_span = spans.get("latent", section.name_span)
    for net in (gen, disc):
        node = sample_node(net) or rbm_node(net)
        if node is not None:
            what = "a variational autoencoder" if node.kind == "gaussian_sample" else "an RBM"
            diags.error(
                "E0635",
                f"a GAN's `{net.name}` cannot hold a `{node.kind}` layer",
                node.span,
                help=f"train it with `train` and `target = input` ({what})",
            )
            return
    g_in = gen.input_nodes[0].shape
    if len(gen.inputs) != 1 or g_in != (config.latent.dim,):
        diags.error(
            "E0620",
            f"`latent` gives vectors [{config.latent.dim}], but `{gen.name}` "
            f"takes {fmt(g_in or ())}",
            latent_span,
            help=f"use `{config.latent.kind}({(g_in or (0,))[0]})`",
        )
    d_in = disc.input_nodes[0].shape
    if gen.output_shape != d_in:
        diags.error(
            "E0621",
            f"`{gen.name}` makes {fmt(gen.output_shape)}, but `{disc.name}` "
            f"takes {fmt(d_in or ())}",
            spans.get("generator", section.name_span),
            help="make the generator's output shape the discriminator's input shape",
        )
    if disc.output_shape != (1,):
        diags.error(
            "E0622",
            f"`{disc.name}` must give one score per sample, got {fmt(disc.output_shape)}",
            spans.get("discriminator", section.name_span),
            help="end the discriminator with `dense(1)`",
        )
    _check_data(config.data, disc, spans.get("data", section.name_span), diags)
    last = disc.node(disc.output).kind
    if last in _SQUASHING:
        diags.warning(
            "W0601",
            f"the discriminator ends in `{last}`, but GAN losses expect raw scores",
            disc.node(disc.output).span,
            help=f"remove `{last}`",
        )
