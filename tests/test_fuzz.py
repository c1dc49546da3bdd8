"""Fuzzing the front end: mutated shipped specs must never crash `compile_source`.

Whatever the input, the compiler returns diagnostics; every error has a span and a help line."""

from __future__ import annotations

import random
import re
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from specc.compiler import compile_source

ROOT = Path(__file__).resolve().parents[1]
SPECS = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "specs").glob("*.net"))]
_TOKEN = re.compile(r"\s+|[A-Za-z_][A-Za-z0-9_]*|\d+\.?\d*(?:[eE]-?\d+)?|->|//|.", re.S)
_NUMBER = re.compile(r"\d+\.?\d*(?:[eE]-?\d+)?")
_WORD = re.compile(r"[A-Za-z_]\w*")
NUMBERS = [
    "0",
    "-1",
    "1",
    "2",
    "-0",
    "7",
    "1_000",
    "0.0",
    "3.5",
    "1e-9",
    "1e400",
    "2e-4",
    "-5",
    "99999999999999",
    "1099511627776",
    "9" * 40,
    "[]",
    "[0]",
    "[1, 2, 3, 4]",
    "[-1]",
    "true",
    '"x"',
    "same",
    "valid",
    "features",
    "(1 + 2) * 3",
    "4 // 0",
    "-(-3)",
]
PUNCT = list('{}()[],;=:->#"\\@$*/+.\n\t') + ["->", "//", "\n->", " as x", "input", "repeat 2 {"]


def mutate(text: str, rng: random.Random, steps: int) -> str:
    toks = _TOKEN.findall(text)
    for _ in range(steps):
        if not toks:
            toks = ["model"]
        i = rng.randrange(len(toks))
        r = rng.random()
        if r < 0.2:
            del toks[i]
        elif r < 0.32:
            toks.insert(i, toks[i])
        elif r < 0.44:
            j = rng.randrange(len(toks))
            toks[i], toks[j] = toks[j], toks[i]
        elif r < 0.56:
            toks.insert(i, rng.choice(PUNCT))
        elif r < 0.62:
            toks.insert(i, chr(rng.randrange(0, 0x3000)))
        elif r < 0.86:
            spots = [k for k, t in enumerate(toks) if _NUMBER.fullmatch(t)]
            if spots:
                toks[rng.choice(spots)] = rng.choice(NUMBERS)
        elif r < 0.95:
            spots = [k for k, t in enumerate(toks) if _WORD.fullmatch(t)]
            if spots:
                toks[rng.choice(spots)] = toks[rng.choice(spots)]
        else:  # deep nesting
            depth = rng.choice([3, 20, 63, 65, 200, 2000])
            opener, closer = rng.choice([("(", ")"), ("[", "]"), ("-", "")])
            toks.insert(i, opener * depth + "1" + closer * depth)
    return "".join(toks)


def check(text: str) -> None:
    result = compile_source(text, "fuzz.net")  # must not raise
    for d in result.diagnostics:
        if d.is_error:
            assert d.span is not None, (d, text)
            assert d.help.strip(), (d, text)
    if result.ok:
        assert result.spec is not None


@settings(max_examples=1500, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    spec=st.sampled_from(SPECS),
    seed=st.integers(min_value=0, max_value=2**32 - 1),
    steps=st.integers(min_value=1, max_value=6),
)
def test_mutated_specs_never_crash(spec: str, seed: int, steps: int) -> None:
    check(mutate(spec, random.Random(seed), steps))


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.text(alphabet=st.sampled_from(list('model{}()[],;=:-> \n#"x1.eIin_ab')), max_size=80))
def test_random_text_never_crashes(text: str) -> None:
    check(text)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    units=st.integers(min_value=-(2**45), max_value=2**45),
    kernel=st.integers(min_value=-3, max_value=300),
    stride=st.integers(min_value=-1, max_value=9),
    size=st.integers(min_value=0, max_value=300),
)
def test_random_numbers_in_layers(units: int, kernel: int, stride: int, size: int) -> None:
    check(
        f"model M {{\n  input x: [3, {size}, {size}]\n"
        f"  conv2d({units}, {kernel}, stride={stride}, padding=same) -> maxpool2d({kernel})\n"
        f"  flatten\n  dense({units})\n}}\n"
    )


def test_fixed_seed_mutations() -> None:
    """A reproducible sweep beside hypothesis's: the same 1,500 cases on every run."""
    rng = random.Random(1234)
    for _ in range(1500):
        check(mutate(rng.choice(SPECS), rng, rng.randint(1, 5)))
