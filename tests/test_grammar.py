"""The surface syntax: statements, separators, continuation lines, comments and values."""

from __future__ import annotations

import pytest

from specc.diagnostics import SpecError
from specc.source import SourceFile
from specc.syntax import ast
from specc.syntax.parser import parse, syntax_diagnostic


def doc(text: str) -> ast.Document:
    return parse(SourceFile("t.net", text))


def body(text: str) -> tuple[ast.Statement, ...]:
    return doc("model M {\n" + text + "\n}\n").models[0].body


def error(text: str):
    with pytest.raises(SpecError) as info:
        doc(text)
    return syntax_diagnostic(info.value)


def expr(text: str) -> ast.Expr:
    (stmt,) = body(f"dense({text})")
    assert isinstance(stmt, ast.Pipeline)
    (arg,) = stmt.stages[0].args or ()
    return arg.value


def test_empty_file_parses_to_empty_document() -> None:
    assert doc("") == ast.Document()
    assert doc("\n\n# only a comment\n") == ast.Document()


def test_model_with_input_and_pipeline() -> None:
    stmts = body("input x: [1, 28, 28]\nflatten -> dense(10)")
    decl, pipe = stmts
    assert isinstance(decl, ast.InputDecl) and decl.name == "x" and decl.dtype is None
    assert [i.value for i in decl.dims.items] == [1, 28, 28]
    assert isinstance(pipe, ast.Pipeline)
    assert [s.name for s in pipe.stages] == ["flatten", "dense"]
    assert pipe.stages[0].args is None  # no parentheses
    assert pipe.stages[1].args is not None


def test_int_input() -> None:
    (decl,) = body("input tokens: [20] int")
    assert isinstance(decl, ast.InputDecl) and decl.dtype == "int"


def test_semicolons_separate_statements() -> None:
    assert len(body("relu; relu; relu")) == 3
    assert len(body("relu;\n;relu;")) == 2


def test_newlines_separate_statements() -> None:
    assert len(body("relu\n\n\nrelu")) == 2


def test_continuation_line_starting_with_arrow() -> None:
    (pipe,) = body("dense(4)\n    -> relu\n    # a comment between\n    -> dense(2)")
    assert isinstance(pipe, ast.Pipeline)
    assert [s.name for s in pipe.stages] == ["dense", "relu", "dense"]


def test_line_ending_with_arrow_continues() -> None:
    (pipe,) = body("dense(4) ->\n relu")
    assert [s.name for s in pipe.stages] == ["dense", "relu"]


def test_newlines_inside_brackets_are_ignored() -> None:
    (pipe,) = body("conv2d(\n  8,\n  3\n)")
    assert len(pipe.stages[0].args) == 2


def test_comments_are_ignored() -> None:
    stmts = body("# first\nrelu  # after\n# last")
    assert len(stmts) == 1


def test_crlf_line_endings() -> None:
    d = doc("model M {\r\n  input x: [4]\r\n  dense(2)\r\n}\r\n")
    assert len(d.models[0].body) == 2


def test_arithmetic_precedence() -> None:
    e = expr("1 + 2 * 3")
    assert isinstance(e, ast.BinOp) and e.op == "+"
    assert isinstance(e.right, ast.BinOp) and e.right.op == "*"
    e = expr("(1 + 2) * 3")
    assert isinstance(e, ast.BinOp) and e.op == "*"
    e = expr("c // 2 - 1")
    assert e.op == "-" and e.left.op == "//"
    e = expr("-c")
    assert isinstance(e, ast.Neg)


def test_numbers() -> None:
    assert expr("1_000").value == 1000
    assert expr("2e-4").value == pytest.approx(2e-4)
    assert expr("0.5").value == 0.5
    assert expr(".5").value == 0.5
    assert expr("3E2").value == 300.0


def test_booleans_strings_lists_words() -> None:
    assert expr("true").value is True and expr("false").value is False
    assert expr('"a \\"b\\""').value == 'a "b"'
    lst = expr("[1, [2, 3], ]")
    assert isinstance(lst, ast.ListValue) and len(lst.items) == 2
    assert isinstance(expr("same"), ast.Word)


def test_keyword_arguments_and_trailing_comma() -> None:
    (pipe,) = body("conv2d(8, 3, stride=2, padding=same,)")
    args = pipe.stages[0].args
    assert [a.name for a in args] == [None, None, "stride", "padding"]


def test_call_values() -> None:
    e = expr("lstm(32, return_sequences=true)")
    assert isinstance(e, ast.CallValue) and e.name == "lstm" and len(e.args) == 2


def test_bindings_and_sources() -> None:
    a, b = body("a = dense(4) -> relu\nb = input -> dense(4)")
    assert a.target == "a" and [s.name for s in a.stages] == ["dense", "relu"]
    assert b.target == "b" and b.stages[0].name == "input"


def test_as_names() -> None:
    (pipe,) = body("conv2d(64, 7) as stem -> relu")
    assert pipe.stages[0].alias == "stem" and pipe.stages[1].alias is None


def test_repeat() -> None:
    (rep,) = body("repeat 3 { dense(4); relu }")
    assert isinstance(rep, ast.Repeat) and len(rep.body) == 2
    assert rep.count.value == 3


def test_block_with_defaults() -> None:
    d = doc("block b(c, stride=1, width=c * 2,) {\n dense(c)\n}\n")
    (blk,) = d.blocks
    assert [p.name for p in blk.params] == ["c", "stride", "width"]
    assert blk.params[0].default is None and blk.params[1].default.value == 1
    assert isinstance(blk.params[2].default, ast.BinOp)


def test_block_without_params() -> None:
    (blk,) = doc("block b() { relu }").blocks
    assert blk.params == ()


def test_train_and_gan_sections() -> None:
    d = doc("train M {\n data = digits(size=32)\n epochs = 3\n}\ngan G { latent = normal(8) }")
    train, gan = d.sections
    assert train.kind == "train" and [s.key for s in train.settings] == ["data", "epochs"]
    assert gan.kind == "gan" and gan.settings[0].key == "latent"


def test_spans_are_one_based() -> None:
    (decl, pipe) = body("input x: [4]\n  dense(2)")
    assert decl.span.line == 2 and decl.span.column == 1
    assert pipe.stages[0].name_span.line == 3 and pipe.stages[0].name_span.column == 3


@pytest.mark.parametrize(
    ("text", "code", "line", "col"),
    [
        ("model M {\n input x: [4]\n", "E0103", 1, 9),
        ("model M {\n dense(2 -> relu\n}", "E0103", 2, 7),
        ("model M {\n dense(8) relu\n}", "E0100", 2, 11),
        ("model M {\n relu $\n}", "E0101", 2, 7),
        ('model M {\n dense("8)\n}', "E0102", 2, 8),
        ("model M {\n dense(8))\n}", "E0100", 2, 10),
        ('model M {\n dense("\\x")\n}', "E0105", 2, 8),
        ("model M {\n dense(" + "[" * 100 + ")\n}", "E0106", 2, 71),
        ("model M {\n dense(" + "9" * 5000 + ")\n}", "E0204", 2, 8),
    ],
)
def test_syntax_errors_point_at_the_mistake(text: str, code: str, line: int, col: int) -> None:
    d = error(text)
    assert (d.code, d.span.line, d.span.column) == (code, line, col)
    assert d.help


def test_missing_comma_help() -> None:
    assert error("model M {\n conv2d(8 3)\n}").help == "separate arguments with `,`"


def test_terminals_are_shown_as_users_write_them() -> None:
    d = error("model M {\n input x [4]\n}")
    assert "`:`" in d.help
