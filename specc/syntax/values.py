"""Evaluating spec values: literals, lists, words, calls and integer arithmetic.

Nothing is ever evaluated as Python: this is a tiny interpreter over specc.syntax.ast."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from specc.diagnostics import SpecError
from specc.source import Span
from specc.syntax import ast

MAX_INT = 2**40  # far beyond any real layer size; keeps arithmetic and shapes bounded


@dataclass(frozen=True)
class Call:
    """A call used as a value: `sgd(lr=0.1)`, `digits(size=32)`, `lstm(32)`."""

    name: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    span: Span
    name_span: Span
    arg_spans: tuple[Span, ...]
    kwarg_spans: dict[str, Span]


class Symbol(str):
    """A bare word that is not a parameter: an enumeration value such as `same`."""


def evaluate(expr: ast.Expr, env: Mapping[str, Any]) -> Any:
    """The value of an expression; `env` maps block parameters to their values."""
    if isinstance(expr, ast.Literal):
        return _check_int(expr.value, expr.span)
    if isinstance(expr, ast.Word):
        if expr.name in env:
            return env[expr.name]
        return Symbol(expr.name)
    if isinstance(expr, ast.ListValue):
        return [evaluate(item, env) for item in expr.items]
    if isinstance(expr, ast.Neg):
        value = evaluate(expr.operand, env)
        if not _is_number(value):
            raise SpecError(
                "E0201",
                f"cannot negate {describe(value)}",
                expr.span,
                help="`-` applies to numbers",
            )
        return -value
    if isinstance(expr, ast.BinOp):
        return _binop(expr, evaluate(expr.left, env), evaluate(expr.right, env))
    if isinstance(expr, ast.CallValue):
        args, kwargs, arg_spans, kwarg_spans = [], {}, [], {}
        for arg in expr.args:
            value = evaluate(arg.value, env)
            if arg.name is None:
                if kwargs:
                    raise SpecError(
                        "E0202",
                        "positional argument after a named one",
                        arg.span,
                        help="put positional arguments first",
                    )
                args.append(value)
                arg_spans.append(arg.span)
            else:
                if arg.name in kwargs:
                    raise SpecError(
                        "E0203",
                        f"argument `{arg.name}` is given twice",
                        arg.span,
                        help="remove one of them",
                    )
                kwargs[arg.name] = value
                kwarg_spans[arg.name] = arg.span
        return Call(
            expr.name, tuple(args), kwargs, expr.span, expr.name_span, tuple(arg_spans), kwarg_spans
        )
    raise AssertionError(f"unknown expression {expr!r}")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_int(value: Any, span: Span) -> Any:
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_INT:
        raise SpecError(
            "E0204",
            "number too large",
            span,
            label="more than 2^40",
            help="layer sizes and counts must be below 2^40",
        )
    if isinstance(value, float) and value != value or value in (float("inf"), float("-inf")):
        raise SpecError("E0204", "number is not finite", span, help="write a finite number")
    return value


def _binop(expr: ast.BinOp, left: Any, right: Any) -> Any:
    if not (_is_number(left) and _is_number(right)):
        bad = expr.left if not _is_number(left) else expr.right
        value = left if not _is_number(left) else right
        hint = ""
        if isinstance(value, Symbol):
            hint = f"`{value}` is not a parameter of this block"
        raise SpecError(
            "E0201",
            f"`{expr.op}` needs numbers, got {describe(value)}",
            bad.span,
            help=hint or "arithmetic works on numbers and block parameters",
        )
    if expr.op in ("//", "/") and right == 0:
        raise SpecError("E0205", "division by zero", expr.span, help="divide by a non-zero number")
    if expr.op == "//":
        if isinstance(left, float) or isinstance(right, float):
            raise SpecError("E0201", "`//` needs integers", expr.span, help="use `/` for numbers")
        result: Any = left // right
    elif expr.op == "/":
        result = left / right
    elif expr.op == "+":
        result = left + right
    elif expr.op == "-":
        result = left - right
    else:
        result = left * right
    return _check_int(result, expr.span)


def describe(value: Any) -> str:
    """A value as users wrote it, for messages."""
    if isinstance(value, bool):
        return "`true`" if value else "`false`"
    if isinstance(value, Symbol):
        return f"the word `{value}`"
    if isinstance(value, str):
        return f'the string "{value}"'
    if isinstance(value, Call):
        return f"the call `{value.name}(...)`"
    if isinstance(value, list):
        return f"the list `{spelled(value)}`"
    return f"`{value}`"


def spelled(value: Any) -> str:
    """A value spelled as it would be written in a spec."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Symbol):
        return str(value)
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, Call):
        return f"{value.name}(...)"
    if isinstance(value, list):
        return "[" + ", ".join(spelled(v) for v in value) + "]"
    return str(value)


def plain(value: Any) -> Any:
    """Strip Symbol to str recursively (for validation by pydantic)."""
    if isinstance(value, Symbol):
        return str(value)
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value
