"""Safe size expressions over dims and block parameters (``width * 4``, ``H // 2``): no ``eval``.

The grammar is integers, names, parentheses, unary minus, the binary operators
``+ - * // % **`` and the comparisons ``== != < <= > >=`` (1 when they hold, else 0; for
conditions such as ``when: step == 1``).

Expressions are at most 200 characters, and every intermediate value is
bounded, so evaluating one is cheap whatever a spec contains.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from .ir import Size, Sym
from .sizes import symbolic

__all__ = ["Expr", "ExprError", "evaluate", "names", "parse"]

MAX_LENGTH = 200
MAX_VALUE = 10**15

_TOKEN = re.compile(r"\s*(?:(\d+)|([A-Za-z_][A-Za-z0-9_]*)|(\*\*|//|==|!=|<=|>=|[-+*%()/<>]))")
_COMPARISONS = ("==", "!=", "<", "<=", ">", ">=")
_PRECEDENCE = {**dict.fromkeys(_COMPARISONS, 0), "+": 1, "-": 1, "*": 2, "//": 2, "%": 2, "**": 3}


class ExprError(ValueError):
    """An expression is malformed or cannot be evaluated."""


@dataclass(frozen=True, slots=True)
class Num:
    """An integer literal."""

    value: int


@dataclass(frozen=True, slots=True)
class Name:
    """A dim or block parameter."""

    name: str


@dataclass(frozen=True, slots=True)
class Neg:
    """Unary minus."""

    operand: Expr


@dataclass(frozen=True, slots=True)
class BinOp:
    """A binary operation."""

    op: str
    left: Expr
    right: Expr


Expr = Num | Name | Neg | BinOp


def parse(text: str) -> Expr:
    """Parse ``text`` into an expression tree.

    >>> parse("width * 4")
    BinOp(op='*', left=Name(name='width'), right=Num(value=4))
    """
    if len(text) > MAX_LENGTH:
        raise ExprError(f"expression is longer than {MAX_LENGTH} characters")
    tokens: list[str] = []
    pos = 0
    stripped = text.rstrip()
    while pos < len(stripped):
        m = _TOKEN.match(stripped, pos)
        if m is None:
            bad = stripped[pos:].lstrip()[:1]
            raise ExprError(f"unexpected character {bad!r} in size expression {text!r}")
        tokens.append(m.group(1) or m.group(2) or m.group(3))
        pos = m.end()
    if not tokens:
        raise ExprError("empty size expression")
    parser = _Parser(tokens, text)
    expr = parser.expression(0)
    if parser.pos != len(tokens):
        raise ExprError(f"unexpected {tokens[parser.pos]!r} in size expression {text!r}")
    return expr


class _Parser:
    """Precedence climbing over a token list; depth is bounded by the 200-character limit."""

    def __init__(self, tokens: list[str], text: str) -> None:
        self.tokens = tokens
        self.text = text
        self.pos = 0

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> str:
        token = self.peek()
        if token is None:
            raise ExprError(f"size expression {self.text!r} ends too early")
        self.pos += 1
        return token

    def expression(self, min_prec: int) -> Expr:
        left = self.unary()
        while True:
            op = self.peek()
            if op == "/":
                raise ExprError(f"use '//' for integer division in {self.text!r}")
            if op not in _PRECEDENCE or _PRECEDENCE[op] < min_prec:
                return left
            self.take()
            prec = _PRECEDENCE[op]
            # ** is right-associative; the others are left-associative.
            right = self.expression(prec if op == "**" else prec + 1)
            left = BinOp(op, left, right)

    def unary(self) -> Expr:
        token = self.take()
        if token == "-":
            return Neg(self.unary())
        if token == "(":
            inner = self.expression(0)
            if self.peek() != ")":
                raise ExprError(f"missing ')' in size expression {self.text!r}")
            self.take()
            return inner
        if token.isdigit():
            return Num(int(token))
        if token[0].isalpha() or token[0] == "_":
            return Name(token)
        raise ExprError(f"unexpected {token!r} in size expression {self.text!r}")


def names(expr: Expr) -> tuple[str, ...]:
    """The names an expression uses, in order of first appearance."""
    found: list[str] = []

    def walk(e: Expr) -> None:
        if isinstance(e, Name):
            if e.name not in found:
                found.append(e.name)
        elif isinstance(e, Neg):
            walk(e.operand)
        elif isinstance(e, BinOp):
            walk(e.left)
            walk(e.right)

    walk(expr)
    return tuple(found)


def evaluate(expr: Expr, env: Mapping[str, Size]) -> Size:
    """Evaluate ``expr``; the result stays symbolic (a :class:`Sym`) if a symbolic name is used.

    >>> evaluate(parse("width * 4"), {"width": 64})
    256
    >>> evaluate(parse("H // 2"), {"H": Sym("H", 256)})
    Sym(text='H//2', value=128)
    """
    value, text, _ = _eval(expr, env)
    if text is None:
        return value
    return symbolic(text, value)  # past 200 characters of text, the example value


def _eval(expr: Expr, env: Mapping[str, Size]) -> tuple[int, str | None, int]:
    """(value, symbolic text or None when constant, precedence of the text)."""
    if isinstance(expr, Num):
        return _bounded(expr.value), None, 9
    if isinstance(expr, Name):
        if expr.name not in env:
            raise ExprError(f"unknown name {expr.name!r}")
        bound = env[expr.name]
        if isinstance(bound, Sym):
            prec = 9 if bound.text.isidentifier() else 0
            return bound.value, bound.text, prec
        return bound, None, 9
    if isinstance(expr, Neg):
        value, text, prec = _eval(expr.operand, env)
        if text is None:
            return -value, None, 9
        return -value, f"-{_wrap(text, prec, 4)}", 4
    lv, lt, lp = _eval(expr.left, env)
    rv, rt, rp = _eval(expr.right, env)
    value = _apply(expr.op, lv, rv)
    if lt is None and rt is None:
        return value, None, 9
    prec = _PRECEDENCE[expr.op]
    left = _wrap(lt if lt is not None else str(lv), lp if lt is not None else 9, prec)
    right_min = prec if expr.op == "**" else prec + 1
    right = _wrap(rt if rt is not None else str(rv), rp if rt is not None else 9, right_min)
    return value, f"{left}{expr.op}{right}", prec


def _wrap(text: str, prec: int, needed: int) -> str:
    return text if prec >= needed else f"({text})"


def _apply(op: str, a: int, b: int) -> int:
    if op in _COMPARISONS:
        held = {"==": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]
        return int(held)
    if op == "+":
        return _bounded(a + b)
    if op == "-":
        return _bounded(a - b)
    if op == "*":
        return _bounded(a * b)
    if op in ("//", "%"):
        if b == 0:
            raise ExprError("division by zero in size expression")
        return a // b if op == "//" else a % b
    if b < 0:
        raise ExprError("negative exponent in size expression")
    if b > 64 or (abs(a) > 1 and b * abs(a).bit_length() > 64):
        raise ExprError(f"size expression value exceeds {MAX_VALUE}")
    return _bounded(a**b)


def _bounded(value: int) -> int:
    if abs(value) > MAX_VALUE:
        raise ExprError(f"size expression value exceeds {MAX_VALUE}")
    return value
