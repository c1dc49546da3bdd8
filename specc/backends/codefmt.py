"""Line wrapping for emitted code, in the style `ruff format` produces, so emitted files pass
`ruff format --check` without running a formatter at compile time."""

from __future__ import annotations

LIMIT = 88


def _split_top_level(text: str) -> list[str]:
    parts, depth, start, quote = [], 0, 0, ""
    for i, ch in enumerate(text):
        if quote:
            if ch == quote and text[i - 1] != "\\":
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    tail = text[start:].strip()
    if tail:
        parts.append(tail)
    return parts


def _comment_split(line: str) -> tuple[str, str]:
    quote = ""
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch == "#":
            return line[:i].rstrip(), line[i:]
    return line, ""


def wrap_line(line: str) -> list[str]:
    if len(line) <= LIMIT:
        return [line]
    indent = line[: len(line) - len(line.lstrip())]
    code, comment = _comment_split(line)
    if comment and not code.strip():
        return [line]  # a comment line: its text is the template's to keep short
    if comment:
        if code.lstrip().startswith(")"):  # the last line of a call: inside its brackets
            indent += "    "
        if len(code) <= LIMIT:
            return [f"{indent}{comment}", code]
        return [f"{indent}{comment}", *wrap_line(code)]
    if code.startswith("from ") and " import " in code and "(" not in code:
        # ruff (isort) puts each name of a long import on its own line
        head, names = code.split(" import ", 1)
        body = [f"{indent}    {name.strip()}," for name in names.split(",")]
        return [f"{head} import (", *body, ")"]
    if not code.endswith(")") or "(" not in code:
        return [line]
    open_at = code.index("(")
    # find the matching paren of the first call
    depth = 0
    for i in range(open_at, len(code)):
        depth += code[i] == "("
        depth -= code[i] == ")"
        if depth == 0:
            break
    if i != len(code) - 1:
        return [line]
    head, inner = code[: open_at + 1], code[open_at + 1 : -1]
    inner_indent = indent + "    "
    one = f"{inner_indent}{inner}"
    if len(one) <= LIMIT and not inner.rstrip().endswith(","):
        return [head, one, f"{indent})"]
    args = _split_top_level(inner)
    out = [head]
    for arg in args:
        out.extend(wrap_line(f"{inner_indent}{arg},"))
    out.append(f"{indent})")
    return out


def format_code(text: str) -> str:
    lines: list[str] = []
    for line in text.split("\n"):
        lines.extend(wrap_line(line.rstrip()))
    return "\n".join(lines)
