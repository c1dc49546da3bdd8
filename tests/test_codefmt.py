"""The small formatter that keeps emitted code within 88 columns."""

from specc.backends.codefmt import LIMIT, wrap_line


def test_short_lines_are_kept() -> None:
    assert wrap_line("    x = f(a, b)") == ["    x = f(a, b)"]


def test_a_long_comment_line_is_kept_whole() -> None:
    line = "    # " + "word " * 30
    assert wrap_line(line) == [line]


def test_a_trailing_comment_moves_above_its_code() -> None:
    code = "    y = call(" + ", ".join(f"argument_{i}" for i in range(3)) + ")"
    comment = "# " + "x" * (LIMIT - len(code))
    lines = wrap_line(f"{code}  {comment}")
    assert lines == [f"    {comment}", code]


def test_a_long_call_is_split_one_argument_a_line() -> None:
    arguments = [f"argument_number_{i}" for i in range(6)]
    lines = wrap_line("    value = function(" + ", ".join(arguments) + ")")
    assert lines == ["    value = function(", *(f"        {a}," for a in arguments), "    )"]


def test_a_long_import_takes_one_name_a_line() -> None:
    names = [f"name_number_{i}" for i in range(8)]
    lines = wrap_line("from module import " + ", ".join(names))
    assert lines == ["from module import (", *(f"    {n}," for n in names), ")"]
