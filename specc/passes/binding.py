"""Binding call arguments to a layer kind's typed fields, with diagnostics at the argument."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from specc.diagnostics import SpecError, did_you_mean
from specc.layers import REGISTRY, Op
from specc.source import Span
from specc.syntax.values import Call, describe, plain


def signature(cls: type[Op]) -> str:
    parts = []
    for name, field in cls.model_fields.items():
        if name == "op":
            continue
        if field.is_required():
            parts.append(name)
        else:
            parts.append(f"{name}={show_default(field.default)}")
    return f"{cls.model_fields['op'].default}(" + ", ".join(parts) + ")"


def show_default(value: Any) -> str:
    """A default as a spec would write it (an n-tuple of one value: that value)."""
    if value is None:
        return "auto"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple) and len(set(value)) == 1 and len(value) >= 2:
        return str(value[0])
    if isinstance(value, tuple):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return str(value)


def bind_arguments(
    what: str,
    fields: list[str],
    positional: list[str],
    args: list[tuple[Any, Span]],
    kwargs: dict[str, tuple[Any, Span]],
    call_span: Span,
    sig: str,
    required: set[str],
) -> dict[str, tuple[Any, Span]]:
    """Match positional and named arguments to field names; report misuse precisely."""
    bound: dict[str, tuple[Any, Span]] = {}
    if len(args) > len(positional):
        extra_span = args[len(positional)][1]
        raise SpecError(
            "E0303",
            f"`{what}` takes at most {len(positional)} positional argument"
            + ("s" if len(positional) != 1 else "")
            + f", got {len(args)}",
            extra_span,
            label="unexpected argument",
            help=f"the signature is `{sig}`",
        )
    for name, item in zip(positional, args, strict=False):
        bound[name] = item
    for name, item in kwargs.items():
        if name not in fields:
            help = did_you_mean(name, fields, "its arguments") + f" (signature: `{sig}`)"
            if name == "initial_state" and what in ("rnn", "lstm", "gru"):  # inside a wrapper
                help = (
                    "give the states to the wrapper, forward ones first: "
                    "`bidirectional(lstm(n), initial_state=[...])`"
                )
            raise SpecError(
                "E0304",
                f"`{what}` has no argument `{name}`",
                item[1],
                label="unknown argument",
                help=help,
            )
        if name in bound:
            raise SpecError(
                "E0305",
                f"argument `{name}` of `{what}` is given twice",
                item[1],
                help="remove the positional or the named one",
            )
        bound[name] = item
    missing = [f for f in fields if f in required and f not in bound]
    if missing:
        raise SpecError(
            "E0306",
            f"`{what}` needs argument `{missing[0]}`",
            call_span,
            label=f"missing `{missing[0]}`",
            help=f"the signature is `{sig}`",
        )
    return bound


def build_op(
    name: str,
    args: list[tuple[Any, Span]],
    kwargs: dict[str, tuple[Any, Span]],
    call_span: Span,
    params: tuple[str, ...] = (),
) -> Op:
    """A validated layer op from evaluated arguments."""
    cls = REGISTRY[name]
    sig = signature(cls)
    fields = cls.argument_names()
    required = {f for f in fields if cls.model_fields[f].is_required()}
    bound = bind_arguments(
        name, fields, cls.positional_names(), args, kwargs, call_span, sig, required
    )
    values: dict[str, Any] = {}
    for field, (value, _span) in bound.items():
        if isinstance(value, Call):
            if value.name not in REGISTRY:
                raise SpecError(
                    "E0301",
                    f"unknown layer `{value.name}`",
                    value.name_span,
                    help=did_you_mean(value.name, REGISTRY, "layers"),
                )
            inner = build_op(
                value.name,
                list(zip(value.args, value.arg_spans, strict=False)),
                {k: (v, value.kwarg_spans[k]) for k, v in value.kwargs.items()},
                value.span,
                params,
            )
            values[field] = inner
        else:
            values[field] = plain(value)
    try:
        return cls(op=name, **values)
    except ValidationError as err:
        first = err.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else ""
        value, span = bound.get(field, (None, call_span))
        reason = _reason(first)
        hint = f"the signature is `{sig}`"
        if isinstance(value, str) and params:
            close = did_you_mean(str(value), params, "block parameters")
            if close.startswith("did you mean"):
                hint = f"`{value}` is not a parameter of this block; {close}"
        raise SpecError(
            "E0307",
            f"invalid `{field}` for `{name}`: {reason}, got {describe(value)}",
            span,
            label=reason,
            help=hint,
        ) from None


def _reason(error: dict[str, Any]) -> str:
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        words = {
            "greater_than": "greater than",
            "greater_than_equal": "at least",
            "less_than": "less than",
            "less_than_equal": "at most",
        }[kind]
        bound = next(iter(ctx.values()), "")
        return f"must be {words} {bound}"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return "must be an integer"
    if kind in ("float_type", "float_parsing"):
        return "must be a number"
    if kind in ("bool_type", "bool_parsing"):
        return "must be `true` or `false`"
    if kind == "literal_error":
        expected = str(ctx.get("expected", "")).replace("'", "`")
        return f"must be one of {expected}"
    if kind == "too_short" and ctx.get("min_length") == 1:
        return "must not be empty"
    if kind in ("too_short", "too_long"):
        return "has the wrong number of items"
    if kind in ("tuple_type", "list_type"):
        return "must be a list"
    if kind == "value_error":
        return str(error.get("msg", "")).removeprefix("Value error, ")
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        tags = str(ctx.get("expected_tags", "")).replace("'", "`")
        return f"must be one of {tags}" if tags else "must be a layer call"
    if kind == "model_attributes_type" or kind == "model_type":
        return "must be a layer call"
    return str(error.get("msg", "is invalid")).lower()
