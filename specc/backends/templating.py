"""The one jinja2 environment: strict (a misspelled variable is an error, not ''), no
autoescaping (we emit Python, and every spec value reaches it through `repr`)."""

from __future__ import annotations

from functools import cache

import jinja2

from specc.resources import templates_dir


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.filters["py"] = py_literal
    env.filters["doc"] = doc_text
    return env


def doc_text(value: object) -> str:
    """Text for inside an emitted docstring (a spec's path): backslashes, quotes and control
    characters escaped, so that no path (`C:\\Users\\me.net`, a name with three quotes) can
    end the docstring or make an invalid escape."""
    text = repr(str(value))[1:-1]  # escapes backslashes, control characters, one quote kind
    return text.replace('"', '\\"')


def py_literal(value: object) -> str:
    """A Python literal for a validated spec value: only numbers, booleans, None, strings
    and tuples, lists and dicts of them can be rendered, each through repr."""
    if isinstance(value, str):
        text = repr(value)
        if "'" not in value and '"' not in value:
            text = '"' + text[1:-1] + '"'  # ruff's preferred quotes; same escapes
        return text
    if value is None or isinstance(value, (bool, int)):
        return repr(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return f'float("{value}")'
        return repr(value)
    if isinstance(value, tuple):
        inner = ", ".join(py_literal(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, list):
        return "[" + ", ".join(py_literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{py_literal(k)}: {py_literal(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"cannot render {type(value).__name__} as a literal")


def render(template: str, **context: object) -> str:
    return environment().get_template(template).render(**context)
