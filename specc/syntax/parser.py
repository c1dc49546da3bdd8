"""Parsing: lark (LALR, contextual lexer) to the surface tree in specc.syntax.ast, with every parse
error turned into a diagnostic that names the place and what would fit there."""

from __future__ import annotations

import ast as pyast
from collections.abc import Iterator
from functools import cache

from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import (
    UnexpectedCharacters,
    UnexpectedEOF,
    UnexpectedInput,
    UnexpectedToken,
    VisitError,
)

from specc.diagnostics import Diagnostic, SpecError
from specc.resources import grammar_path
from specc.source import SourceFile, Span
from specc.syntax import ast

_OPEN = {"LPAR": "RPAR", "LSQB": "RSQB", "LBRACE": "RBRACE"}
_CLOSE = {v: k for k, v in _OPEN.items()}
# After these, a newline never ends a statement: the expression or pipeline goes on.
_CONTINUES = {"COMMA", "EQUAL", "PLUS", "MINUS", "STAR", "SLASH", "_ARROW", "LBRACE"}
_CHARS = {"LPAR": "(", "RPAR": ")", "LSQB": "[", "RSQB": "]", "LBRACE": "{", "RBRACE": "}"}
# Deeper nesting than this is never a real spec; bounding it keeps every later pass (which
# recurses over expressions) far from Python's recursion limit.
MAX_NESTING = 64


class _TooDeep(Exception):
    def __init__(self, token: Token) -> None:
        super().__init__("nested too deeply")
        self.token = token


class _Separators:
    """Post-lexer: folds newlines and `;` into `_SEP`, and drops those that cannot end a
    statement (inside brackets, after an operator). It never looks ahead: the contextual
    lexer lexes each token in the parser state that the previous one left."""

    always_accept = ("NL", "SEMI")

    def __init__(self) -> None:
        self.unclosed: list[Token] = []

    def process(self, stream: Iterator[Token]) -> Iterator[Token]:
        self.unclosed = []
        prev: Token | None = None
        minus_run = 0
        for tok in stream:
            kind = tok.type
            minus_run = minus_run + 1 if kind == "MINUS" else 0
            if len(self.unclosed) > MAX_NESTING or minus_run > MAX_NESTING:
                raise _TooDeep(tok)
            if kind in ("NL", "SEMI"):
                if prev is None or prev.type == "_SEP" or prev.type in _CONTINUES:
                    continue
                if any(t.type != "LBRACE" for t in self.unclosed):
                    continue
                tok = Token.new_borrow_pos("_SEP", tok.value, tok)
            elif kind in _OPEN:
                self.unclosed.append(tok)
            elif kind in _CLOSE and self.unclosed and self.unclosed[-1].type == _CLOSE[kind]:
                self.unclosed.pop()
            prev = tok
            yield tok


@cache
def _parser() -> Lark:
    return Lark(
        grammar_path().read_text(encoding="utf-8"),
        parser="lalr",
        lexer="contextual",
        propagate_positions=True,
        maybe_placeholders=True,
        postlex=_Separators(),
        cache=True,  # parse tables are pickled to a temp file: ~0.1 s less start-up
    )


def _terminal_text(name: str) -> str:
    """How a terminal is shown to users: as the characters it matches."""
    fixed = {
        "NAME": "a name",
        "INT": "an integer",
        "FLOAT": "a number",
        "STRING": "a string",
        "_SEP": "a new line",
        "$END": "the end of the file",
        "_ARROW": "`->`",
        "INPUT": "`input`",
    }
    if name in fixed:
        return fixed[name]
    for term in _parser().terminals:
        if term.name == name and term.pattern.type == "str":
            return f"`{term.pattern.value}`"
    return name.lower()


def _token_text(tok: Token) -> str:
    if tok.type == "$END":
        return "end of file"
    if tok.type == "_SEP":
        return "end of line" if tok.value != ";" else "`;`"
    return f"`{tok.value}`"


def _expected_list(expected: set[str]) -> str:
    names = sorted({_terminal_text(e) for e in expected if not e.startswith("__ANON")})
    if len(names) > 6:
        names = names[:6] + ["..."]
    return ", ".join(names)


def _syntax_diagnostic(err: UnexpectedInput, source: SourceFile, post: _Separators) -> Diagnostic:
    text = source.text
    if isinstance(err, UnexpectedCharacters):
        ch = text[err.pos_in_stream] if err.pos_in_stream < len(text) else ""
        span = source.span(err.pos_in_stream, err.pos_in_stream + 1)
        if not ch.isprintable() or ch.isspace():
            ch = f"U+{ord(ch):04X}" if ch else "end of file"
        inner = [t for t in post.unclosed if t.type != "LBRACE"]
        if ch == ">" and text[err.pos_in_stream - 1 : err.pos_in_stream] == "-" and inner:
            # `->` where only an expression fits: an argument list was left open.
            opener = inner[-1]
            close = _CHARS[_OPEN[opener.type]]
            return Diagnostic(
                "E0103",
                f"`{opener.value}` is never closed",
                source.span(opener.start_pos, opener.end_pos),
                "opened here",
                f"add `{close}` before `->`",
            )
        if ch == '"':
            return Diagnostic(
                "E0102",
                "unterminated string",
                span,
                "string starts here",
                'close the string with `"` on the same line',
            )
        return Diagnostic(
            "E0101",
            f"unexpected character `{ch}`",
            span,
            "not part of the language",
            "remove it; comments start with `#`",
        )
    if isinstance(err, UnexpectedEOF) or (
        isinstance(err, UnexpectedToken) and err.token.type == "$END"
    ):
        if post.unclosed:
            opener = post.unclosed[-1]
            span = source.span(opener.start_pos, opener.end_pos)
            close = _CHARS[_OPEN[opener.type]]
            return Diagnostic(
                "E0103",
                f"`{opener.value}` is never closed",
                span,
                "opened here",
                f"add `{close}` where it should end",
            )
        span = source.span(len(text), len(text))
        expected = getattr(err, "expected", set()) or set()
        return Diagnostic(
            "E0104", "unexpected end of file", span, "", f"expected {_expected_list(set(expected))}"
        )
    assert isinstance(err, UnexpectedToken)
    tok = err.token
    start = tok.start_pos if tok.start_pos is not None else len(text)
    end = tok.end_pos if tok.end_pos is not None else start + 1
    span = source.span(start, max(end, start + 1))
    expected = set(err.expected)
    message = f"unexpected {_token_text(tok)}"
    help_ = f"expected {_expected_list(expected)}"
    if tok.type in ("NAME", "INPUT") and "_ARROW" in expected:
        help_ = "join layers with `->`, or put them on separate lines"
    elif tok.type in ("RPAR", "RSQB", "RBRACE") and tok.type not in expected:
        help_ = f"remove this `{tok.value}`, or open it earlier"
    elif "COMMA" in expected and tok.type in ("INT", "FLOAT", "NAME", "STRING"):
        help_ = "separate arguments with `,`"
    elif tok.type == "EQUAL" and "_ARROW" in expected:
        help_ = "a binding is `name = pipeline`; the name must come first on the line"
    return Diagnostic("E0100", message, span, "here", help_)


def _span(source: SourceFile, meta_or_tok: object) -> Span:
    start = getattr(meta_or_tok, "start_pos", 0) or 0
    end = getattr(meta_or_tok, "end_pos", start) or start
    return source.span(start, end)


class _Build(Transformer):
    """lark tree -> specc.syntax.ast, carrying spans."""

    def __init__(self, source: SourceFile) -> None:
        super().__init__()
        self.s = source

    def sp(self, x: object) -> Span:
        return _span(self.s, x)

    # values
    def int(self, children: list[Token]) -> ast.Literal:
        (tok,) = children
        digits = tok.replace("_", "")
        if len(digits.lstrip("0")) > 18:  # int() refuses huge literals; nothing needs them
            raise SpecError(
                "E0204",
                "number too large",
                self.sp(tok),
                label="more than 2^40",
                help="layer sizes and counts must be below 2^40",
            )
        return ast.Literal(int(digits), self.sp(tok))

    def float(self, children: list[Token]) -> ast.Literal:
        (tok,) = children
        return ast.Literal(float(tok), self.sp(tok))

    def string(self, children: list[Token]) -> ast.Literal:
        (tok,) = children
        try:
            value = pyast.literal_eval(str(tok))
        except (ValueError, SyntaxError) as exc:
            raise SpecError(
                "E0105", "invalid escape in string", self.sp(tok), help='use `\\\\`, `\\"` or `\\n`'
            ) from exc
        return ast.Literal(value, self.sp(tok))

    def word(self, children: list[Token]) -> ast.Word:
        (tok,) = children
        return ast.Word(str(tok), self.sp(tok))

    @v_args(meta=True)
    def true(self, meta: object, children: list) -> ast.Literal:
        return ast.Literal(True, self.sp(meta))

    @v_args(meta=True)
    def false(self, meta: object, children: list) -> ast.Literal:
        return ast.Literal(False, self.sp(meta))

    @v_args(meta=True)
    def list(self, meta: object, children: list) -> ast.ListValue:
        items = tuple(c for c in children if c is not None)
        return ast.ListValue(items, self.sp(meta))

    def _bin(op: str):  # noqa: N805 - a factory used in the class body
        @v_args(meta=True)
        def build(self: _Build, meta: object, children: list) -> ast.BinOp:
            left, right = children
            return ast.BinOp(op, left, right, self.sp(meta))

        return build

    add = _bin("+")
    sub = _bin("-")
    mul = _bin("*")
    floordiv = _bin("//")
    truediv = _bin("/")

    @v_args(meta=True)
    def neg(self, meta: object, children: list) -> ast.Neg:
        return ast.Neg(children[0], self.sp(meta))

    @v_args(meta=True)
    def kwarg(self, meta: object, children: list) -> ast.Arg:
        name, value = children
        return ast.Arg(str(name), value, self.sp(meta), self.sp(name))

    def args(self, children: list) -> tuple[ast.Arg, ...]:
        out = []
        for c in children:
            if c is None:
                continue
            out.append(c if isinstance(c, ast.Arg) else ast.Arg(None, c, c.span))
        return tuple(out)

    @v_args(meta=True)
    def call_value(self, meta: object, children: list) -> ast.CallValue:
        name, args = children
        return ast.CallValue(str(name), args or (), self.sp(meta), self.sp(name))

    # statements
    @v_args(meta=True)
    def call(self, meta: object, children: list) -> tuple:
        name, args = children
        has_parens = self.s.text[meta.end_pos - 1 : meta.end_pos] == ")"
        return (name, (args or ()) if has_parens else None, self.sp(meta))

    @v_args(meta=True)
    def stage(self, meta: object, children: list) -> ast.Stage:
        (name, args, call_span), alias = children
        return ast.Stage(
            str(name),
            args,
            str(alias) if alias is not None else None,
            self.sp(meta),
            self.sp(name),
            self.sp(alias) if alias is not None else None,
        )

    def input_ref(self, children: list) -> ast.Stage:
        (tok,) = children
        return ast.Stage("input", None, None, self.sp(tok), self.sp(tok))

    @v_args(meta=True)
    def pipeline(self, meta: object, children: list) -> ast.Pipeline:
        return ast.Pipeline(tuple(children), self.sp(meta))

    @v_args(meta=True)
    def binding(self, meta: object, children: list) -> ast.Pipeline:
        *names, pipe = children
        name, states = names[0], tuple((str(n), self.sp(n)) for n in names[1:])
        return ast.Pipeline(pipe.stages, self.sp(meta), str(name), self.sp(name), states)

    @v_args(meta=True)
    def input_decl(self, meta: object, children: list) -> ast.InputDecl:
        name, dims, dtype = children
        return ast.InputDecl(
            str(name),
            dims,
            str(dtype) if dtype is not None else None,
            self.sp(meta),
            self.sp(name),
            self.sp(dtype) if dtype is not None else None,
        )

    def body(self, children: list) -> tuple:
        return tuple(children)

    @v_args(meta=True)
    def repeat(self, meta: object, children: list) -> ast.Repeat:
        count, body = children
        return ast.Repeat(count, body, self.sp(meta))

    @v_args(meta=True)
    def param(self, meta: object, children: list) -> ast.Param:
        name, default = children
        return ast.Param(str(name), default, self.sp(meta))

    def params(self, children: list) -> tuple:
        return tuple(c for c in children if c is not None)

    @v_args(meta=True)
    def model(self, meta: object, children: list) -> ast.ModelDef:
        name, body = children
        return ast.ModelDef(str(name), body, self.sp(meta), self.sp(name))

    @v_args(meta=True)
    def block_def(self, meta: object, children: list) -> ast.BlockDef:
        name, params, body = children
        return ast.BlockDef(str(name), params or (), body, self.sp(meta), self.sp(name))

    @v_args(meta=True)
    def setting(self, meta: object, children: list) -> ast.Setting:
        key, value = children
        return ast.Setting(str(key), value, self.sp(meta), self.sp(key))

    def settings(self, children: list) -> tuple:
        return tuple(children)

    def _section(kind: str):  # noqa: N805
        @v_args(meta=True)
        def build(self: _Build, meta: object, children: list) -> ast.SectionDef:
            name, settings = children
            return ast.SectionDef(kind, str(name), settings, self.sp(meta), self.sp(name))

        return build

    train = _section("train")
    gan = _section("gan")

    def start(self, children: list) -> ast.Document:
        return ast.Document(
            models=tuple(c for c in children if isinstance(c, ast.ModelDef)),
            blocks=tuple(c for c in children if isinstance(c, ast.BlockDef)),
            sections=tuple(c for c in children if isinstance(c, ast.SectionDef)),
        )


def parse(source: SourceFile) -> ast.Document:
    """Parse a spec. Raises SpecError (with one diagnostic) on a syntax error."""
    parser = _parser()
    post = parser.options.postlex
    try:
        tree: Tree = parser.parse(source.text)
    except UnexpectedInput as err:
        raise SpecError("E0100", "syntax error") from _wrap(_syntax_diagnostic(err, source, post))
    except _TooDeep as err:
        tok = err.token
        raise SpecError(
            "E0106",
            "the spec is nested too deeply",
            _span(source, tok),
            label=f"more than {MAX_NESTING} levels",
            help="split the expression into smaller parts",
        ) from None
    except RecursionError as err:
        raise SpecError(
            "E0106",
            "the spec is nested too deeply",
            source.span(0, 0),
            help="split the expression into smaller parts",
        ) from err
    try:
        return _Build(source).transform(tree)
    except VisitError as err:
        if isinstance(err.orig_exc, SpecError):
            raise err.orig_exc from None
        raise
    except RecursionError as err:
        raise SpecError(
            "E0106",
            "the spec is nested too deeply",
            source.span(0, 0),
            help="split the expression into smaller parts",
        ) from err


class _Wrapped(Exception):
    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


def _wrap(diagnostic: Diagnostic) -> _Wrapped:
    return _Wrapped(diagnostic)


def syntax_diagnostic(exc: SpecError) -> Diagnostic:
    """The diagnostic of a parse failure (the precise one when parse() attached it)."""
    cause = exc.__cause__
    if isinstance(cause, _Wrapped):
        return cause.diagnostic
    return exc.diagnostic
