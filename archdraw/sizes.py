"""Size arithmetic that keeps symbolic dims symbolic: ``N`` stays ``N``, ``T*2`` stays readable.

Every size is a Python int or a :class:`~archdraw.ir.Sym` (its text and example value), so the
arithmetic is exact; results are bounded like size expressions are.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from .ir import Size, Sym

__all__ = [
    "MAX_SIZE",
    "MAX_TEXT",
    "SizeError",
    "add",
    "ceildiv",
    "floordiv",
    "mul",
    "prod",
    "same",
    "sub",
    "symbolic",
    "value",
]

MAX_SIZE = 10**15
# The text of a symbolic size is bounded like a written size expression: a graph that doubles a
# size at every layer (concatenating a tensor with itself) would otherwise double its text too.
MAX_TEXT = 200


class SizeError(ValueError):
    """A size left the range archdraw computes with."""


def value(size: Size) -> int:
    """The example value of a size."""
    return size.value if isinstance(size, Sym) else size


def same(a: Size, b: Size) -> bool:
    """Whether two sizes agree (symbolic ones by their example value)."""
    return value(a) == value(b)


def _text(size: Size, weakest: str) -> str:
    """The size's text, parenthesised when it binds less tightly than ``weakest`` needs."""
    if not isinstance(size, Sym):
        return str(size)
    text = size.text
    if text.isidentifier():
        return text
    loose = any(op in text for op in ("+", "-")) if weakest in ("*", "//") else False
    if weakest == "//" and ("*" in text or "//" in text):
        loose = True
    return f"({text})" if loose else text


def _bounded(result: int) -> int:
    if abs(result) > MAX_SIZE:
        raise SizeError(f"a size reaches {result}, beyond {MAX_SIZE}")
    return result


def symbolic(text: str, result: int) -> Size:
    """A symbolic size; past :data:`MAX_TEXT` characters of text, just its example value.

    >>> symbolic("T+T", 6), symbolic("+".join("T" * 101), 303)
    (Sym(text='T+T', value=6), 303)
    """
    return Sym(text, result) if len(text) <= MAX_TEXT else result


def _make(text: str, result: int) -> Size:
    return symbolic(text, _bounded(result))


def add(a: Size, b: Size) -> Size:
    """``a + b``."""
    if not isinstance(a, Sym) and not isinstance(b, Sym):
        return _bounded(a + b)
    if b == 0:
        return a
    if a == 0:
        return b
    if not isinstance(b, Sym) and b < 0:
        return _make(f"{_text(a, '+')}-{-b}", value(a) + b)
    return _make(f"{_text(a, '+')}+{_text(b, '-')}", value(a) + value(b))


def sub(a: Size, b: Size) -> Size:
    """``a - b``."""
    if not isinstance(a, Sym) and not isinstance(b, Sym):
        return _bounded(a - b)
    if not isinstance(b, Sym):
        return add(a, -b)
    return _make(f"{_text(a, '+')}-{_text(b, '*')}", value(a) - value(b))


def mul(a: Size, b: Size) -> Size:
    """``a * b``."""
    if not isinstance(a, Sym) and not isinstance(b, Sym):
        return _bounded(a * b)
    if b == 1:
        return a
    if a == 1:
        return b
    if not isinstance(a, Sym):  # write the number first: 4*H
        return _make(f"{a}*{_text(b, '*')}", a * value(b))
    if not isinstance(b, Sym):
        return _make(f"{b}*{_text(a, '*')}", value(a) * b)
    return _make(f"{_text(a, '*')}*{_text(b, '*')}", value(a) * value(b))


def floordiv(a: Size, b: int) -> Size:
    """``a // b`` for a positive integer ``b``."""
    if b == 1:
        return a
    if not isinstance(a, Sym):
        return a // b
    return _make(f"{_text(a, '//')}//{b}", value(a) // b)


def ceildiv(a: Size, b: int) -> Size:
    """``ceil(a / b)`` for a positive integer ``b``."""
    if b == 1:
        return a
    if not isinstance(a, Sym):
        return -(-a // b)
    return _make(f"ceil({a.text}/{b})", -(-value(a) // b))


def prod(sizes: Iterable[Size]) -> Size:
    """The product of sizes; numbers are folded together and written first."""
    number = 1
    symbolic: list[Sym] = []
    for size in sizes:
        if isinstance(size, Sym):
            symbolic.append(size)
        else:
            number = _bounded(number * size)
    result: Size = number
    for size in symbolic:
        result = mul(result, size)
    return result


def ints(sizes: Iterable[Size]) -> list[int]:
    """Example values of several sizes."""
    return [value(s) for s in sizes]


def product_value(sizes: Iterable[Size]) -> int:
    """The product of the example values (for parameter and MAC counts)."""
    return math.prod(value(s) for s in sizes)
