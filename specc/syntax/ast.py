"""The surface syntax tree: what the parser saw, before blocks and repeats are expanded."""

from __future__ import annotations

from dataclasses import dataclass, field

from specc.source import Span


# ----- values -------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Literal:
    value: int | float | bool | str
    span: Span


@dataclass(frozen=True, slots=True)
class Word:
    """A bare word: an enumeration value (`same`), a name, or a parameter."""

    name: str
    span: Span


@dataclass(frozen=True, slots=True)
class ListValue:
    items: tuple[Expr, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class BinOp:
    op: str  # one of + - * // /
    left: Expr
    right: Expr
    span: Span


@dataclass(frozen=True, slots=True)
class Neg:
    operand: Expr
    span: Span


@dataclass(frozen=True, slots=True)
class Arg:
    """A call argument; `name` is None for a positional one."""

    name: str | None
    value: Expr
    span: Span
    name_span: Span | None = None


@dataclass(frozen=True, slots=True)
class CallValue:
    """`sgd(lr=0.1)`, `digits(size=32)`, `lstm(32)` as a value."""

    name: str
    args: tuple[Arg, ...]
    span: Span
    name_span: Span


Expr = Literal | Word | ListValue | BinOp | Neg | CallValue


# ----- statements ---------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Stage:
    """One element of a pipeline: a layer or block call, or a reference to a value."""

    name: str
    args: tuple[Arg, ...] | None  # None when written without parentheses
    alias: str | None
    span: Span
    name_span: Span
    alias_span: Span | None = None


@dataclass(frozen=True, slots=True)
class Pipeline:
    stages: tuple[Stage, ...]
    span: Span
    target: str | None = None
    target_span: Span | None = None
    #: `out, h, c = ... -> lstm(...)`: the names after the first, bound to the final states
    states: tuple[tuple[str, Span], ...] = ()


@dataclass(frozen=True, slots=True)
class InputDecl:
    name: str
    dims: ListValue
    dtype: str | None
    span: Span
    name_span: Span
    dtype_span: Span | None = None


@dataclass(frozen=True, slots=True)
class Repeat:
    count: Expr
    body: tuple[Statement, ...]
    span: Span


Statement = Pipeline | InputDecl | Repeat


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    default: Expr | None
    span: Span


@dataclass(frozen=True, slots=True)
class ModelDef:
    name: str
    body: tuple[Statement, ...]
    span: Span
    name_span: Span


@dataclass(frozen=True, slots=True)
class BlockDef:
    name: str
    params: tuple[Param, ...]
    body: tuple[Statement, ...]
    span: Span
    name_span: Span


@dataclass(frozen=True, slots=True)
class Setting:
    key: str
    value: Expr
    span: Span
    key_span: Span


@dataclass(frozen=True, slots=True)
class SectionDef:
    """A `train` or `gan` section."""

    kind: str
    name: str
    settings: tuple[Setting, ...]
    span: Span
    name_span: Span


@dataclass(frozen=True, slots=True)
class Document:
    models: tuple[ModelDef, ...] = ()
    blocks: tuple[BlockDef, ...] = ()
    sections: tuple[SectionDef, ...] = ()
    order: tuple[str, ...] = field(default=())
