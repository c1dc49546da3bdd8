"""Diagnostics: an error code, a message, a span, a label and a suggested fix.

Rendered like rustc and Elm:

    lenet.net:7:3: error[E0301]: `dense` needs a flat input, got [16, 5, 5]
       |
     7 |   dense(120) -> relu
       |   ^^^^^^^^^^ input has shape [16, 5, 5]
       = help: add `flatten` before `dense`
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum

from specc.source import SourceFile, Span


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Diagnostic:
    """One problem found in a spec. `help` is the only place a fix is suggested."""

    code: str
    message: str
    span: Span | None = None
    label: str = ""
    help: str = ""
    severity: Severity = Severity.ERROR
    notes: tuple[str, ...] = ()

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def to_json(self, source: SourceFile | None = None) -> dict[str, object]:
        data: dict[str, object] = {
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
            "help": self.help or None,
        }
        if source is not None:
            data["file"] = source.path
        if self.span is not None:
            data["line"] = self.span.line
            data["column"] = self.span.column
        return data


class SpecError(Exception):
    """Raised by a pass for a single problem at a known place; collected as a diagnostic."""

    def __init__(
        self,
        code: str,
        message: str,
        span: Span | None = None,
        *,
        label: str = "",
        help: str = "",
    ) -> None:
        super().__init__(message)
        self.diagnostic = Diagnostic(code, message, span, label, help)


@dataclass
class Diagnostics:
    """Collects the diagnostics of one compilation, keeping one per place and code."""

    items: list[Diagnostic] = field(default_factory=list)
    _seen: set[tuple] = field(default_factory=set, repr=False)

    def add(self, diagnostic: Diagnostic) -> None:
        key = (diagnostic.code, diagnostic.span, diagnostic.message)
        if key not in self._seen:  # a set: checking N diagnostics stays linear
            self._seen.add(key)
            self.items.append(diagnostic)

    def error(self, code: str, message: str, span: Span | None = None, **kw: str) -> None:
        self.add(Diagnostic(code, message, span, **kw))

    def warning(self, code: str, message: str, span: Span | None = None, **kw: str) -> None:
        self.add(Diagnostic(code, message, span, severity=Severity.WARNING, **kw))

    def extend(self, diagnostics: Iterable[Diagnostic]) -> None:
        for d in diagnostics:
            self.add(d)

    @property
    def has_errors(self) -> bool:
        return any(d.is_error for d in self.items)

    def sorted(self) -> list[Diagnostic]:
        return sorted(
            self.items, key=lambda d: (d.span.start if d.span else -1, d.severity.value != "error")
        )


def suggest(word: str, candidates: Iterable[str]) -> str | None:
    """The closest candidate by edit distance, if it is close enough to be a likely typo."""
    matches = difflib.get_close_matches(word, sorted(set(candidates)), n=1, cutoff=0.6)
    return matches[0] if matches else None


def did_you_mean(word: str, candidates: Iterable[str], what: str) -> str:
    """A help line: a close match, or the list of what is allowed when it is short."""
    cands = sorted(set(candidates))
    best = suggest(word, cands)
    if best is not None:
        return f"did you mean `{best}`?"
    if len(cands) <= 12:
        return f"{what} are: " + ", ".join(f"`{c}`" for c in cands)
    return f"see docs/language.md for the {what}"


_MAX_LINE = 120
#: control characters (C0 but the tab, DEL, C1): shown escaped, never sent to the terminal
_CONTROL = {c: f"\\x{c:02x}" for c in (*range(0x09), *range(0x0A, 0x20), *range(0x7F, 0xA0))}


def printable(text: str) -> str:
    """`text` with control characters escaped (`\\x1b`): a spec's strings and lines cannot
    move the cursor, retitle the terminal or hide text."""
    return text.translate(_CONTROL)


def render(diagnostic: Diagnostic, source: SourceFile | None, *, color: bool = False) -> str:
    """Render one diagnostic as text: header, source line, underline, help."""
    sev = diagnostic.severity.value
    red, yellow, blue, bold, reset = (
        ("\x1b[31m", "\x1b[33m", "\x1b[34m", "\x1b[1m", "\x1b[0m") if color else ("",) * 5
    )
    tint = red if diagnostic.is_error else yellow
    where = source.path if source is not None else "<spec>"
    span = diagnostic.span
    if span is not None:
        where = f"{where}:{span.line}:{span.column}"
    message = printable(diagnostic.message)
    lines = [f"{bold}{where}: {tint}{sev}[{diagnostic.code}]{reset}{bold}: {message}{reset}"]
    if span is not None and source is not None:
        text = source.line_text(span.line)
        gutter = " " * len(str(span.line))
        column = span.column
        end_col = span.end_column if span.end_line == span.line else len(text) + 1
        if len(text) > _MAX_LINE:  # show a window of a very long line around the span
            first = max(0, column - 1 - _MAX_LINE // 4)
            last = min(len(text), first + _MAX_LINE)
            text = ("..." if first else "") + text[first:last] + ("..." if last < len(text) else "")
            shift = first - (3 if first else 0)
            column -= shift
            end_col = min(end_col - shift, len(text) + 1)
        width = max(1, len(printable(text[column - 1 : end_col - 1])))
        lead = "".join(c if c == "\t" else " " * len(printable(c)) for c in text[: column - 1])
        marker = f"{lead}{tint}{'^' * width}{reset}"
        if diagnostic.label:
            marker += f" {tint}{printable(diagnostic.label)}{reset}"
        lines += [
            f"{blue}{gutter} |{reset}",
            f"{blue}{span.line} |{reset} {printable(text)}",
            f"{blue}{gutter} |{reset} {marker}",
        ]
        pad = gutter
    else:
        pad = ""
    for note in diagnostic.notes:
        lines.append(f"{pad} = note: {printable(note)}")
    if diagnostic.help:
        lines.append(f"{pad} = {bold}help{reset}: {printable(diagnostic.help)}")
    return "\n".join(lines)


def render_all(diagnostics: Iterable[Diagnostic], source: SourceFile | None, **kw: bool) -> str:
    return "\n\n".join(render(d, source, **kw) for d in diagnostics)
