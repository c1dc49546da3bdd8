"""Expansion: models, blocks and repeats -> flat lists of nodes with deterministic names.

Names: each scope (a model or a block instance) counts layers per kind, `conv2d_1`,
`conv2d_2`, ...; a block instance is a scope named `block_k` (or its `as` name), so layers
inside it are `vgg_stage_2.conv2d_1`. `as NAME` names a layer or block explicitly."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from specc.diagnostics import Diagnostics, SpecError, did_you_mean
from specc.ir.net import Input, Node
from specc.layers import REGISTRY
from specc.layers.layout import MAX_RANK
from specc.layers.sequence import RecurrentState, is_recurrent
from specc.passes.binding import build_op
from specc.source import Span
from specc.syntax import ast
from specc.syntax.values import Symbol, evaluate

MAX_NODES = 200_000
POISON = "\0failed"  # the value of a statement that failed: what follows it is skipped
MAX_DEPTH = 64
_RESERVED = {"input"}
DISCARD = "_"  # `out, _, c = ...`: a value not bound


@dataclass
class RawNet:
    name: str
    nodes: list[Node]
    inputs: list[str]
    output: str | None
    span: Span


@dataclass
class _Scope:
    prefix: str
    env: dict[str, Any]  # block parameters
    values: dict[str, str] = field(default_factory=dict)  # binding -> node name
    value_spans: dict[str, Span] = field(default_factory=dict)
    used: set[str] = field(default_factory=set)
    input_value: str | None = None  # what `input` means here
    counters: Counter[str] = field(default_factory=Counter)
    taken: set[str] = field(default_factory=set)
    current: str | None = None

    def fresh(self, kind: str) -> str:
        while True:
            self.counters[kind] += 1
            local = f"{kind}_{self.counters[kind]}"
            if local not in self.taken:
                self.taken.add(local)
                return self.prefix + local


class Expander:
    def __init__(self, doc: ast.Document, diagnostics: Diagnostics) -> None:
        self.doc = doc
        self.diags = diagnostics
        self.blocks: dict[str, ast.BlockDef] = {}
        self.model_names = {m.name for m in doc.models}
        for block in doc.blocks:
            if block.name in self.blocks:
                diagnostics.error(
                    "E0401",
                    f"block `{block.name}` is defined twice",
                    block.name_span,
                    help="rename one of them",
                )
            elif block.name in REGISTRY:
                diagnostics.error(
                    "E0402",
                    f"block `{block.name}` has the name of a layer",
                    block.name_span,
                    help="choose another name for the block",
                )
            else:
                self.blocks[block.name] = block
            seen: set[str] = set()
            for param in block.params:
                if param.name in seen:
                    diagnostics.error(
                        "E0401",
                        f"parameter `{param.name}` of block `{block.name}` is defined twice",
                        param.span,
                        help="rename one of them",
                    )
                seen.add(param.name)
        self.nodes: list[Node] = []
        self.stack: list[str] = []
        #: the product of the counts of the repeats being expanded: bounds the work of nested
        #: repeats, also of bodies that make no layers
        self.repeats = 1

    # ----- models ------------------------------------------------------------------------
    def expand_model(self, model: ast.ModelDef) -> RawNet | None:
        self.nodes = []
        self.idents: dict[str, str] = {}  # a node's name in emitted code -> the node
        scope = _Scope(prefix="", env={})
        inputs: list[str] = []
        failed = self._run_body(model.body, scope, inputs, top=True)
        if not inputs and not failed:
            self.diags.error(
                "E0403",
                f"model `{model.name}` has no input",
                model.name_span,
                help="declare one first: `input x: [1, 28, 28]`",
            )
            return None
        if failed:
            return None
        self._warn_unused(scope)
        if scope.current is None or scope.current in inputs:
            self.diags.error(
                "E0404",
                f"model `{model.name}` has no layers",
                model.name_span,
                help="add layers after the input",
            )
            return None
        return RawNet(model.name, self.nodes, inputs, scope.current, model.span)

    def _warn_unused(self, scope: _Scope) -> None:
        for name, node in scope.values.items():
            if name not in scope.used and node != scope.current and name not in _RESERVED:
                self.diags.warning(
                    "W0401",
                    f"`{name}` is bound but never used",
                    scope.value_spans.get(name),
                    label="unused",
                    help="use it in a merge, or remove the binding",
                )

    def _run_body(
        self,
        body: tuple[ast.Statement, ...],
        scope: _Scope,
        inputs: list[str] | None,
        top: bool = False,
    ) -> bool:
        """Expand statements; report each failing statement and go on. True if any failed."""
        failed = False
        for stmt in body:
            try:
                self._statement(stmt, scope, inputs)
            except SpecError as err:
                self.diags.add(err.diagnostic)
                failed = True
                # What depends on a failed statement is skipped (one mistake, one error);
                # independent statements are still checked.
                scope.current = POISON
                if isinstance(stmt, ast.Pipeline) and stmt.target:
                    for name in (stmt.target, *(n for n, _ in stmt.states)):
                        if name != DISCARD:
                            scope.values.setdefault(name, POISON)
        return failed

    def _statement(self, stmt: ast.Statement, scope: _Scope, inputs: list[str] | None) -> None:
        if isinstance(stmt, ast.InputDecl):
            self._input(stmt, scope, inputs)
        elif isinstance(stmt, ast.Repeat):
            count = evaluate(stmt.count, scope.env)
            if not isinstance(count, int) or isinstance(count, bool) or count < 0:
                raise SpecError(
                    "E0405",
                    "`repeat` needs a non-negative integer count",
                    stmt.count.span,
                    help="write e.g. `repeat 3 { ... }`",
                )
            factor = self.repeats * count
            if factor * max(1, len(stmt.body)) + len(self.nodes) > MAX_NODES:
                what = (
                    f"inside other repeats, `repeat {count}` runs its body {factor:,} times"
                    if factor > count
                    else f"`repeat {count}` makes too many layers"
                )
                raise SpecError(
                    "E0406",
                    what,
                    stmt.count.span,
                    help=f"a model may have {MAX_NODES:,} layers and repeat statements",
                )
            outer, self.repeats = self.repeats, factor
            try:
                for _ in range(count):
                    for inner in stmt.body:
                        self._statement(inner, scope, inputs)
            finally:
                self.repeats = outer
        else:
            self._pipeline(stmt, scope)

    def _input(self, stmt: ast.InputDecl, scope: _Scope, inputs: list[str] | None) -> None:
        if inputs is None:
            raise SpecError(
                "E0407",
                "a block cannot declare inputs",
                stmt.span,
                help="inside a block, `input` names the block's input",
            )
        dims = evaluate(stmt.dims, scope.env)
        if not dims or not all(
            isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in dims
        ):
            raise SpecError(
                "E0408",
                "input dimensions must be positive integers",
                stmt.dims.span,
                help="write e.g. `[1, 28, 28]` (no batch axis)",
            )
        if len(dims) > MAX_RANK:
            raise SpecError(
                "E0408",
                f"inputs have at most {MAX_RANK} dimensions, got {len(dims)}",
                stmt.dims.span,
                help="volumes are [C, D, H, W], images [C, H, W], sequences [T, F]",
            )
        if stmt.dtype not in (None, "int", "float"):
            raise SpecError(
                "E0409",
                f"unknown input type `{stmt.dtype}`",
                stmt.dtype_span,
                help="write `int` for token ids, or nothing for floats",
            )
        if stmt.name in scope.values:
            raise SpecError(
                "E0410",
                f"`{stmt.name}` is already defined",
                stmt.name_span,
                help="give the input another name",
            )
        if stmt.name in _RESERVED:
            raise SpecError(
                "E0411",
                "`input` cannot name an input",
                stmt.name_span,
                help="choose a name such as `image` or `x`",
            )
        node = Node(
            name=stmt.name, op=Input(dims=tuple(dims), dtype=stmt.dtype or "float"), span=stmt.span
        )
        scope.taken.add(stmt.name)
        self._add(node)
        inputs.append(stmt.name)
        scope.values[stmt.name] = stmt.name
        scope.used.add(stmt.name)
        scope.current = stmt.name
        scope.input_value = stmt.name if len(inputs) == 1 else None

    # ----- pipelines -----------------------------------------------------------------------
    def _reference(self, name: str, span: Span, scope: _Scope) -> str:
        if name == "input":
            if scope.input_value is None:
                raise SpecError(
                    "E0412",
                    "`input` is ambiguous: this model has several inputs",
                    span,
                    help="name the input you mean",
                )
            return scope.input_value
        if name in scope.values:
            scope.used.add(name)
            return scope.values[name]
        raise SpecError(
            "E0413",
            f"`{name}` is not defined",
            span,
            label="unknown name",
            help=did_you_mean(name, list(scope.values) + ["input"], "names defined here"),
        )

    def _pipeline(self, stmt: ast.Pipeline, scope: _Scope) -> None:
        current = scope.current
        for index, stage in enumerate(stmt.stages):
            is_ref = (
                stage.args is None
                and (stage.name in scope.values or stage.name == "input")
                and stage.name not in REGISTRY
                and stage.name not in self.blocks
            )
            if is_ref:
                if index:
                    raise SpecError(
                        "E0414",
                        f"`{stage.name}` is a value, not a layer",
                        stage.span,
                        help=f"start a new statement with it: `{stage.name} -> ...`",
                    )
                current = self._reference(stage.name, stage.span, scope)
                continue
            if current is None:
                raise SpecError(
                    "E0415",
                    "no input before this layer",
                    stage.span,
                    help="declare an input first: `input x: [1, 28, 28]`",
                )
            current = self._stage(stage, scope, current)
        if stmt.target is not None:
            if stmt.target in _RESERVED or stmt.target in REGISTRY or stmt.target in self.blocks:
                raise SpecError(
                    "E0416",
                    f"`{stmt.target}` cannot be used as a name",
                    stmt.target_span,
                    help="it names a layer, block or the input",
                )
            if stmt.target in scope.values and stmt.target != DISCARD:
                raise SpecError(
                    "E0410",
                    f"`{stmt.target}` is already defined",
                    stmt.target_span,
                    help="choose another name",
                )
            if stmt.target != DISCARD:  # `_` names nothing: the value is not bound
                scope.values[stmt.target] = current
                if stmt.target_span is not None:
                    scope.value_spans[stmt.target] = stmt.target_span
        if stmt.states:
            self._bind_states(stmt, scope, current)
        scope.current = current

    def _bind_states(self, stmt: ast.Pipeline, scope: _Scope, current: str) -> None:
        """`out, h, c = ... -> lstm(...)`: the names after the first are the recurrent
        layer's final states, each a `recurrent_state` node reading the layer."""
        if current == POISON:  # the pipeline failed already: its values are skipped
            for name, _span in stmt.states:
                if name != DISCARD:
                    scope.values.setdefault(name, POISON)
            return
        last = stmt.stages[-1]
        node = self.nodes[-1] if self.nodes and self.nodes[-1].name == current else None
        if node is None or not is_recurrent(node.op):
            what = f"`{last.name}`" if last.args is not None or last.name in REGISTRY else "a name"
            raise SpecError(
                "E0423",
                f"only a recurrent layer gives several values; {what} gives one",
                stmt.states[0][1],
                label="a second name",
                help="bind one name, or end the pipeline with `lstm`, `gru`, `rnn` or "
                "`bidirectional` to bind its final states too",
            )
        states = node.op.states()
        values = ["output", *states]
        if len(stmt.states) != len(states):
            raise SpecError(
                "E0424",
                f"`{node.kind}` gives {len(values)} values ({', '.join(values)}); "
                f"{1 + len(stmt.states)} names are bound",
                _names_span(stmt),
                label=f"{1 + len(stmt.states)} names",
                help=f"write `{', '.join(['out', *states])} = ...` (`_` for a value you do "
                "not need)",
            )
        units = node.op.layer.units if node.kind == "bidirectional" else node.op.units
        for index, ((name, span), state) in enumerate(zip(stmt.states, states, strict=True)):
            if name == DISCARD:
                continue
            if name in _RESERVED or name in REGISTRY or name in self.blocks:
                raise SpecError(
                    "E0416", f"`{name}` cannot be used as a name", span,
                    help="it names a layer, block or the input",
                )  # fmt: skip
            if name in scope.values:
                raise SpecError(
                    "E0410", f"`{name}` is already defined", span, help="choose another name"
                )
            op = RecurrentState(index=index, state=state, units=units)
            state_node = Node(name=f"{current}.{state}", op=op, inputs=(current,), span=span)
            self._add(state_node)
            scope.values[name] = state_node.name
            scope.value_spans[name] = span

    def _stage(self, stage: ast.Stage, scope: _Scope, current: str) -> str:
        if stage.name in self.blocks:
            return self._block_call(stage, scope, current)
        if stage.name not in REGISTRY:
            known = list(REGISTRY) + list(self.blocks)
            if stage.name in self.model_names:
                raise SpecError(
                    "E0302",
                    f"model `{stage.name}` cannot be used as a layer",
                    stage.name_span,
                    help="define a `block` to reuse layers",
                )
            raise SpecError(
                "E0301",
                f"unknown layer `{stage.name}`",
                stage.name_span,
                label="not a layer or block",
                help=did_you_mean(stage.name, known, "layers"),
            )
        cls = REGISTRY[stage.name]
        if cls.internal:
            raise SpecError(
                "E0301",
                f"`{stage.name}` is not called by name",
                stage.name_span,
                help="bind a recurrent layer's final states: `out, h, c = ... -> lstm(...)`",
            )
        args: list[tuple[Any, Span]] = []
        kwargs: dict[str, tuple[Any, Span]] = {}
        inputs: list[str] = []
        states: list[str] | None = None
        for arg in stage.args or ():
            if arg.name == "initial_state" and is_recurrent(cls):
                if states is not None:
                    raise SpecError(
                        "E0305",
                        "argument `initial_state` is given twice",
                        arg.span,
                        help="remove one of them",
                    )
                states = self._initial_states(arg, scope)
                continue
            if arg.name is None and (kwargs or states is not None):
                raise SpecError(
                    "E0202",
                    "positional argument after a named one",
                    arg.span,
                    help="put positional arguments first",
                )
            takes_names = cls.arity != "one" and not args
            if (
                arg.name is None
                and takes_names
                and isinstance(arg.value, ast.Word)
                and arg.value.name not in scope.env
            ):
                inputs.append(self._reference(arg.value.name, arg.value.span, scope))
                continue
            value = evaluate(arg.value, scope.env)
            if arg.name is None:
                args.append((value, arg.span))
            elif arg.name in kwargs:
                raise SpecError(
                    "E0305",
                    f"argument `{arg.name}` is given twice",
                    arg.span,
                    help="remove one of them",
                )
            else:
                kwargs[arg.name] = (value, arg.span)
        if cls.arity == "many" and len(inputs) < 2:
            raise SpecError(
                "E0417",
                f"`{stage.name}` needs two or more named inputs",
                stage.span,
                help=f"bind the branches to names and write `{stage.name}(a, b)`",
            )
        if cls.arity == "two" and len(inputs) != 2:
            raise SpecError(
                "E0417",
                f"`{stage.name}` takes two named inputs, got {len(inputs)}",
                stage.span,
                help=f"bind the two heads to names and write `{stage.name}(mean, log_var)`",
            )
        if cls.arity == "one_or_two" and len(inputs) > 2:
            raise SpecError(
                "E0417",
                f"`{stage.name}` takes one or two inputs",
                stage.span,
                help="give (query) or (query, key_value)",
            )
        for arg_value, arg_span in args:
            if isinstance(arg_value, Symbol) and cls.arity in ("many", "two"):
                raise SpecError(
                    "E0413",
                    f"`{arg_value}` is not defined",
                    arg_span,
                    help="merge inputs must be bound names",
                )
        op = build_op(stage.name, args, kwargs, stage.span, tuple(scope.env))
        states = states or []
        if POISON in inputs or POISON in states or current == POISON:
            return POISON
        name = self._name(stage, scope)
        inputs = [*(inputs or [current]), *states]
        node = Node(name=name, op=op, inputs=tuple(inputs), span=stage.span)
        if len(self.nodes) >= MAX_NODES:
            raise SpecError(
                "E0406",
                "the model has too many layers",
                stage.span,
                help=f"a model may have {MAX_NODES} layers",
            )
        self._add(node)
        return name

    def _add(self, node: Node) -> None:
        """Append a node whose name stays its own in emitted code, where dots become
        underscores (`b_1.dense_1` and `b_1_dense_1` would be one variable)."""
        other = self.idents.get(node.ident)
        if other is not None:
            raise SpecError(
                "E0426",
                f"`{node.name}` and `{other}` would share the name `{node.ident}` in the emitted "
                "code (dots become underscores)",
                node.span,
                help="rename one of them with `as`",
            )
        self.idents[node.ident] = node.name
        self.nodes.append(node)

    def _initial_states(self, arg: ast.Arg, scope: _Scope) -> list[str]:
        """`initial_state=h` or `initial_state=[h, c]`: bound names, the layer's extra
        inputs after its sequence."""
        value = arg.value
        words = value.items if isinstance(value, ast.ListValue) else (value,)
        if not words:
            raise SpecError(
                "E0425",
                "`initial_state` needs the states' names",
                value.span,
                help="write `initial_state=[h, c]` for an LSTM, `initial_state=h` otherwise, "
                "or leave it out to start from zeros",
            )
        names = []
        for word in words:
            if not isinstance(word, ast.Word) or word.name in scope.env:
                raise SpecError(
                    "E0425",
                    "`initial_state` takes bound names",
                    word.span,
                    help="bind the states first (`_, h, c = ... -> lstm(...)`) and write "
                    "`initial_state=[h, c]`",
                )
            names.append(self._reference(word.name, word.span, scope))
        return names

    def _name(self, stage: ast.Stage, scope: _Scope) -> str:
        if stage.alias is None:
            return scope.fresh(stage.name)
        if stage.alias in scope.taken:
            raise SpecError(
                "E0418",
                f"the name `{stage.alias}` is already used in this scope",
                stage.alias_span,
                help="choose another name",
            )
        scope.taken.add(stage.alias)
        return scope.prefix + stage.alias

    def _block_call(self, stage: ast.Stage, scope: _Scope, current: str) -> str:
        block = self.blocks[stage.name]
        if current == POISON:
            return POISON
        if block.name in self.stack:
            raise SpecError(
                "E0419",
                f"block `{block.name}` uses itself",
                stage.span,
                help="blocks cannot be recursive; use `repeat`",
            )
        if len(self.stack) >= MAX_DEPTH:
            raise SpecError(
                "E0419",
                "blocks are nested too deeply",
                stage.span,
                help=f"at most {MAX_DEPTH} levels",
            )
        names = [p.name for p in block.params]
        required = {p.name for p in block.params if p.default is None}
        sig = (
            f"{block.name}("
            + ", ".join(p.name if p.default is None else f"{p.name}=..." for p in block.params)
            + ")"
        )
        from specc.passes.binding import bind_arguments

        args: list[tuple[Any, Span]] = []
        kwargs: dict[str, tuple[Any, Span]] = {}
        for arg in stage.args or ():
            value = evaluate(arg.value, scope.env)
            if arg.name is None:
                if kwargs:
                    raise SpecError(
                        "E0202",
                        "positional argument after a named one",
                        arg.span,
                        help="put positional arguments first",
                    )
                args.append((value, arg.span))
            else:
                kwargs[arg.name] = (value, arg.span)
        bound = bind_arguments(block.name, names, names, args, kwargs, stage.span, sig, required)
        env: dict[str, Any] = {}
        for param in block.params:
            if param.name in bound:
                env[param.name] = bound[param.name][0]
            else:
                assert param.default is not None
                env[param.name] = evaluate(param.default, env)
        instance = self._name(stage, scope)
        inner = _Scope(prefix=instance + ".", env=env, input_value=current, current=current)
        self.stack.append(block.name)
        try:
            for stmt in block.body:
                self._statement(stmt, inner, None)
        finally:
            self.stack.pop()
        self._warn_unused(inner)
        if inner.current == current:
            raise SpecError(
                "E0420",
                f"block `{block.name}` has no layers",
                stage.span,
                help="add layers to the block",
            )
        assert inner.current is not None
        return inner.current


def _names_span(stmt: ast.Pipeline) -> Span | None:
    """From the first bound name to the last of `a, b, c = ...`."""
    first, last = stmt.target_span, stmt.states[-1][1]
    if first is None:
        return last
    return first.model_copy(
        update={"end": last.end, "end_line": last.end_line, "end_column": last.end_column}
    )
