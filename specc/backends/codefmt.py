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
    trailing = ""
    if code.endswith(","):  # an argument or element line inside brackets already split
        code, trailing = code[:-1], ","
    assign = code.find(" = ")
    # the brackets that end the line split (a chain's last call, as ruff splits it); in
    # `a, (h, _) = call(...)`, the value's, never the targets'
    open_at = _last_group(code)
    if open_at is None or (assign > 0 and open_at < assign):
        return [line]
    if assign > 0 and not trailing and open_at + 1 > LIMIT:
        # not even `target = call(` fits: the value goes in brackets of its own
        target, value = code[: assign + 3], code[assign + 3 :]
        return [f"{target}(", *wrap_line(f"{indent}    {value}"), f"{indent})"]
    head, inner, close = code[: open_at + 1], code[open_at + 1 : -1], code[-1]
    inner_indent = indent + "    "
    one = f"{inner_indent}{inner}"
    if len(one) <= LIMIT and not inner.rstrip().endswith(","):
        return [head, one, f"{indent}{close}{trailing}"]
    args = _split_top_level(inner)
    out = [head]
    for arg in args:
        out.extend(wrap_line(f"{inner_indent}{arg},"))
    out.append(f"{indent}{close}{trailing}")
    return out


def _last_group(code: str) -> int | None:
    """Where the bracket that closes the line (`)` or `]`) opens, outside string literals;
    None if the line does not end with one."""
    quote, stack, opener = "", [], None
    for i, ch in enumerate(code):
        if quote:
            if ch == quote and code[i - 1] != "\\":
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch in "([{":
            stack.append(i)
        elif ch in ")]}" and stack:
            opener = stack.pop()
    if not code or code[-1] not in ")]" or quote or stack:
        return None
    return opener


def format_code(text: str) -> str:
    lines: list[str] = []
    for line in text.split("\n"):
        lines.extend(wrap_line(line.rstrip()))
    return "\n".join(lines)
