"""How a symbolic size is written for a reader: ``2H`` for ``H+H``, ``K·G²`` for ``K*G*G``.

Sizes keep the text of their arithmetic (``X+H``, ``2*H``, ``H//2``), which is what ``info
--json`` reports. A picture writes it as papers do: like terms collected (``H+H`` is ``2H``), a
number times a name side by side (``2H``), names multiplied with a middle dot (``K·G``), a
repeated factor as a power (``G²``), integer division as ``/``. :func:`axis` also puts a
compound size in parentheses, so that a shape reads right: ``N×(X+H)``, never ``N×X+H``.

This module depends on nothing else in archdraw: the IR's :func:`~archdraw.ir.format_shape`
uses it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

__all__ = ["axis", "size_text"]

_TOKEN = re.compile(r"\s*(?:(\d+)|([A-Za-z_][A-Za-z0-9_]*)|(\*\*|//|[-+*%()/]))")
_SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


@dataclass(frozen=True)
class _Term:
    """A product: a number and names with their powers, in the order first written."""

    number: int
    names: tuple[tuple[str, int], ...]
    # A factor that is not a name (a quotient, a call, a parenthesised sum), as text.
    other: tuple[str, ...] = ()


# A sum of terms; anything this module cannot rewrite is kept as written.
_Sum = tuple[_Term, ...]


class _Unreadable(ValueError):
    """Text outside the grammar of size expressions: written as it is."""


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens: list[str] = []
        pos = 0
        text = text.rstrip()
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            if m is None:
                raise _Unreadable(text)
            self.tokens.append(m.group(1) or m.group(2) or m.group(3))
            pos = m.end()
        self.pos = 0

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> str:
        token = self.peek()
        if token is None:
            raise _Unreadable("end")
        self.pos += 1
        return token

    def sum(self) -> _Sum:
        terms = list(self.product())
        while self.peek() in ("+", "-"):
            sign = -1 if self.take() == "-" else 1
            terms.extend(_Term(sign * t.number, t.names, t.other) for t in self.product())
        return tuple(terms)

    def product(self) -> _Sum:
        result = self.power()
        while self.peek() in ("*", "//", "%", "/"):
            op = self.take()
            right = self.power()
            if op == "*":
                result = _multiply(result, right)
            else:
                shown = "/" if op in ("//", "/") else " mod "
                result = (_Term(1, (), (f"{_grouped(result)}{shown}{_grouped(right)}",)),)
        return result

    def power(self) -> _Sum:
        base = self.atom()
        if self.peek() == "**":
            self.take()
            exponent = self.atom()
            if len(base) == 1 and len(exponent) == 1 and not exponent[0].names and not exponent[0].other:
                n = exponent[0].number
                term = base[0]
                if n >= 0 and not term.other and n <= 9:
                    return (_Term(term.number**n, tuple((name, p * n) for name, p in term.names)),)
            return (_Term(1, (), (f"{_grouped(base)}^{_grouped(exponent)}",)),)
        return base

    def atom(self) -> _Sum:
        token = self.take()
        if token == "-":
            return tuple(_Term(-t.number, t.names, t.other) for t in self.atom())
        if token == "(":
            inner = self.sum()
            if self.take() != ")":
                raise _Unreadable("(")
            return inner
        if token.isdigit():
            return (_Term(int(token), ()),)
        if token == "ceil" and self.peek() == "(":
            self.take()
            inner = self.sum()
            if self.take() != ")":
                raise _Unreadable("ceil")
            return (_Term(1, (), (f"⌈{_written(inner)}⌉",)),)
        if token[0].isalpha() or token[0] == "_":
            return (_Term(1, ((token, 1),)),)
        raise _Unreadable(token)


def _multiply(a: _Sum, b: _Sum) -> _Sum:
    if len(a) == 1 and len(b) == 1:
        x, y = a[0], b[0]
        powers = dict(x.names)
        for name, p in y.names:
            powers[name] = powers.get(name, 0) + p
        return (_Term(x.number * y.number, tuple(powers.items()), x.other + y.other),)
    # A sum times something stays a product of groups: 2(X+H).
    if len(b) == 1 and not b[0].names and not b[0].other:
        return (_Term(b[0].number, (), (f"({_written(a)})",)),)
    if len(a) == 1 and not a[0].names and not a[0].other:
        return (_Term(a[0].number, (), (f"({_written(b)})",)),)
    return (_Term(1, (), (f"{_grouped(a)}·{_grouped(b)}",)),)


def _collect(terms: _Sum) -> _Sum:
    """Like terms added up (``H+H`` is ``2H``), in the order first written; zero terms go."""
    order: list[tuple[tuple[tuple[str, int], ...], tuple[str, ...]]] = []
    numbers: dict[tuple[tuple[tuple[str, int], ...], tuple[str, ...]], int] = {}
    for t in terms:
        key = (tuple(sorted(t.names)), t.other)
        if key not in numbers:
            order.append(key)
            numbers[key] = 0
        numbers[key] += t.number
    first = {(tuple(sorted(t.names)), t.other): t.names for t in reversed(terms)}
    kept = tuple(_Term(numbers[k], first[k], k[1]) for k in order if numbers[k] != 0)
    return kept or (_Term(0, ()),)


def _term(t: _Term) -> str:
    factors = [name + (str(p).translate(_SUPERSCRIPT) if p != 1 else "") for name, p in t.names if p]
    factors.extend(t.other)
    number = abs(t.number)
    if not factors:
        return str(number)
    lead = "" if number == 1 else str(number)
    return lead + "·".join(factors)


def _written(terms: _Sum) -> str:
    terms = _collect(terms)
    text = ""
    for i, t in enumerate(terms):
        body = _term(t)
        if i == 0:
            text = ("−" if t.number < 0 else "") + body
        else:
            text += ("−" if t.number < 0 else "+") + body
    return text


def _grouped(terms: _Sum) -> str:
    text = _written(terms)
    return f"({text})" if _compound(text) else text


def _compound(text: str) -> bool:
    """Whether written text is more than one factor (a sum, a quotient, a product of names)."""
    depth = 0
    for i, ch in enumerate(text):
        if ch in "(⌈":
            depth += 1
        elif ch in ")⌉":
            depth -= 1
        elif depth == 0 and (ch in "+/·" or (ch == "−" and i > 0) or ch == " "):
            return True
    return False


@lru_cache(maxsize=4096)
def size_text(text: str) -> str:
    """A size's text as a reader writes it.

    >>> [size_text(t) for t in ("X+H", "H+H", "2*H", "K*G*G", "H//2", "4*H+4*H", "D+D+8")]
    ['X+H', '2H', '2H', 'K·G²', 'H/2', '8H', '2D+8']
    """
    try:
        parser = _Parser(text)
        terms = parser.sum()
        if parser.peek() is not None:
            return text
    except (_Unreadable, RecursionError):
        return text
    return _written(terms)


def axis(text: str, alone: bool = False) -> str:
    """A size as one axis of a shape: parenthesised when it is more than one factor.

    ``alone``: the shape has this axis only, so it needs no parentheses.

    >>> axis("X+H"), axis("2*H"), axis("K*G*G"), axis("X+H", alone=True)
    ('(X+H)', '2H', '(K·G²)', 'X+H')
    """
    written = size_text(text)
    return f"({written})" if _compound(written) and not alone else written
