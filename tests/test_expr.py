"""Size expressions: parsing, symbolic evaluation, bounds; never Python's eval."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from archdraw.expr import ExprError, evaluate, names, parse
from archdraw.ir import Size, Sym


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("3", 3),
        ("2 + 3 * 4", 14),
        ("(2 + 3) * 4", 20),
        ("17 // 5", 3),
        ("17 % 5", 2),
        ("2 ** 3 ** 2", 512),
        ("-4 + 10", 6),
    ],
)
def test_integer_arithmetic(text: str, value: int) -> None:
    assert evaluate(parse(text), {}) == value


def test_symbolic_names_stay_in_text() -> None:
    env: dict[str, Size] = {"H": Sym("H", 256), "width": 64}
    assert evaluate(parse("width * 4"), env) == 256
    assert evaluate(parse("H // 2"), env) == Sym("H//2", 128)
    assert evaluate(parse("(H + width) * 2"), env) == Sym("(H+64)*2", 640)
    assert evaluate(parse("H"), env) == Sym("H", 256)
    assert names(parse("a * b + a")) == ("a", "b")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("H / 2", "use '//'"),
        ("__import__('os')", "unexpected character"),
        ("2 +", "ends too early"),
        ("(2", "missing '\\)'"),
        ("1 // 0", "division by zero"),
        ("10 ** 100", "exceeds"),
        ("x" * 201, "longer than 200"),
        ("", "empty"),
    ],
)
def test_errors(text: str, message: str) -> None:
    with pytest.raises(ExprError, match=message):
        env: dict[str, Size] = {"H": 4}
        evaluate(parse(text), env)


def test_unknown_name() -> None:
    with pytest.raises(ExprError, match="unknown name 'W'"):
        evaluate(parse("W * 2"), {"H": 4})


@given(st.integers(-1000, 1000), st.integers(-1000, 1000), st.integers(1, 50))
def test_matches_python_integer_semantics(a: int, b: int, c: int) -> None:
    # Floor division and modulo follow Python's rules for negative operands.
    text = f"({a}) * ({b}) + ({a}) // {c} - ({b}) % {c}"
    assert evaluate(parse(text), {}) == a * b + a // c - b % c
