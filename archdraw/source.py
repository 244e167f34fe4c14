"""Safe YAML to located values: every scalar, list and mapping keeps the span it was written at.

The tree is built from PyYAML's event stream, iteratively, so nesting depth, alias expansion and
size are bounded before anything recursive sees the document. Only the plain YAML types are
accepted; a tag such as ``!!python/object`` or ``!!binary`` is an error, and so are the YAML 1.1
readings that surprise people (``010`` as octal 8, ``1:30`` as 90, unquoted dates).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import yaml
import yaml.resolver

from .errors import Diagnostic, SpecError
from .ir import Span

__all__ = ["MAX_DEPTH", "MAX_VALUES", "YMap", "YScalar", "YSeq", "YValue", "decode", "parse"]

MAX_DEPTH = 64
MAX_VALUES = 2_000_000
MAX_INT_DIGITS = 30

ScalarValue = str | int | float | bool | None

_TAG = "tag:yaml.org,2002:"
_DECIMAL = re.compile(r"[-+]?(?:0|[1-9][0-9_]*)\Z")
_PLAIN_FLOAT = re.compile(r"[-+]?(?:[0-9][0-9_]*)?\.?[0-9_]*(?:[eE][-+]?[0-9]+)?\Z")
_SAFE_TAGS = frozenset(_TAG + t for t in ("str", "int", "float", "bool", "null", "seq", "map"))

try:  # the C parser is much faster; both give the same events and marks
    _Loader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _Loader = yaml.SafeLoader


@dataclass(frozen=True, slots=True)
class YScalar:
    """A scalar as read: its value, the text it was written as, and whether it was quoted."""

    value: ScalarValue
    text: str
    span: Span
    quoted: bool = False


@dataclass(frozen=True, slots=True)
class YSeq:
    """A YAML sequence."""

    items: tuple[YValue, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class YMap:
    """A YAML mapping with string keys, in the order written."""

    items: tuple[tuple[YScalar, YValue], ...]
    span: Span

    def keys(self) -> Iterator[str]:
        """The keys, in order."""
        return (str(k.value) for k, _ in self.items)

    def get(self, key: str) -> YValue | None:
        """The value under ``key``, if present."""
        for k, v in self.items:
            if k.value == key:
                return v
        return None


YValue = YScalar | YSeq | YMap


def decode(data: bytes, path: str) -> str:
    """Decode spec bytes: UTF-8 (an optional BOM is dropped) or UTF-16 with a BOM."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    elif data.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        message = "the spec is not UTF-8 text but UTF-32; save it as UTF-8"
        raise SpecError([Diagnostic(Span(path, 1, 1), message)])
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise SpecError([Diagnostic(Span(path, 1, 1), "invalid UTF-16 text")]) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        good = data[: exc.start].decode("utf-8", errors="replace")
        line = good.count("\n") + 1
        column = len(good) - (good.rfind("\n") + 1) + 1
        msg = f"the spec is not UTF-8 text (invalid byte sequence starting with 0x{data[exc.start]:02x})"
        raise SpecError([Diagnostic(Span(path, line, column), msg)]) from None
    if "\0" in text:
        # Valid UTF-8, but UTF-16 or UTF-32 without a byte-order mark reads like this.
        before = text[: text.index("\0")]
        span = Span(path, before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1)
        message = (
            "the spec is not UTF-8 text: it holds NUL bytes "
            "(UTF-16 is read only with a byte-order mark; save it as UTF-8)"
        )
        raise SpecError([Diagnostic(span, message)])
    return text


def _hint(problem: str, text: str, mark: Any) -> str:
    """A few words on the YAML errors whose own message does not say what to do."""
    if "escape code" in problem:
        return " (\\ud800 to \\udfff are halves of a UTF-16 pair, not characters)"
    if "simple key" in problem:
        return " (a key must fit on one line, in at most 1024 characters)"
    if "cannot start any token" in problem and mark is not None:
        lines = text.splitlines()
        line = lines[mark.line] if mark.line < len(lines) else ""
        if line[mark.column : mark.column + 1] == "\t":
            return " (a tab: YAML indents with spaces)"
    return ""


def _short(tag: str) -> str:
    """``!!int`` for ``tag:yaml.org,2002:int``."""
    return "!!" + tag.removeprefix(_TAG) if tag.startswith(_TAG) else tag


def _span(path: str, mark: Any) -> Span:
    # PyYAML marks are 0-based; spans are 1-based.
    return Span(path, mark.line + 1, mark.column + 1)


class _Builder:
    """Builds located values from events, with a stack instead of recursion."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.resolver = yaml.resolver.Resolver()
        self.anchors: dict[str, tuple[YValue, int]] = {}
        self.open_anchors: set[str] = set()
        self.count = 0

    def fail(self, message: str, mark: Any) -> SpecError:
        return SpecError([Diagnostic(_span(self.path, mark), message)])

    def scalar(self, event: yaml.ScalarEvent) -> YScalar:
        span = _span(self.path, event.start_mark)
        text = event.value
        quoted = event.style in ("'", '"', "|", ">")
        if event.tag and event.tag not in ("!", *_SAFE_TAGS):
            raise self.fail(
                f"unsupported YAML tag {event.tag!r}: a spec holds plain values", event.start_mark
            )
        tag = event.tag if event.tag and event.tag != "!" else None
        if tag is None:
            tag = self.resolver.resolve(yaml.ScalarNode, text, event.implicit)  # type: ignore[no-untyped-call]
        elif tag != _TAG + "str":
            # An explicit tag (!!int abc) must agree with what the text reads as plainly.
            plain = self.resolver.resolve(yaml.ScalarNode, text, (True, False))  # type: ignore[no-untyped-call]
            if plain != tag and not (tag == _TAG + "float" and plain == _TAG + "int"):
                raise self.fail(
                    f"unsupported YAML tag {_short(tag)} on {text!r}, which is not a YAML "
                    f"{tag.removeprefix(_TAG)}; drop the tag",
                    event.start_mark,
                )
        if tag == _TAG + "str":
            return YScalar(text, text, span, quoted)
        if tag == _TAG + "null":
            return YScalar(None, text, span)
        if tag == _TAG + "bool":
            return YScalar(text.lower() in ("true", "yes", "on"), text, span)
        if tag == _TAG + "int":
            return YScalar(self.integer(text, event), text, span)
        if tag == _TAG + "float":
            return YScalar(self.real(text, event), text, span)
        if tag == _TAG + "merge":
            raise self.fail("YAML merge keys ('<<') are not supported; use a block", event.start_mark)
        if tag == _TAG + "timestamp":
            raise self.fail(f"YAML reads {text!r} as a date; quote it if it is text", event.start_mark)
        raise self.fail(f"unsupported YAML value {text!r} ({tag})", event.start_mark)

    def integer(self, text: str, event: yaml.ScalarEvent) -> int:
        if ":" in text:
            raise self.fail(
                f"YAML 1.1 reads {text!r} as a base-60 number; quote it if it is text",
                event.start_mark,
            )
        if not _DECIMAL.match(text):
            raise self.fail(
                f"write integers in plain decimal: {text!r} is ambiguous in YAML "
                "(a leading 0 means octal, 0x hex, 0b binary)",
                event.start_mark,
            )
        digits = text.replace("_", "").lstrip("+-")
        if len(digits) > MAX_INT_DIGITS:
            raise self.fail(
                f"integer with {len(digits)} digits is too large (at most {MAX_INT_DIGITS})", event.start_mark
            )
        return int(text.replace("_", ""))

    def real(self, text: str, event: yaml.ScalarEvent) -> float:
        lowered = text.lower().lstrip("+-")
        if lowered in (".nan", ".inf"):
            return float("nan") if lowered == ".nan" else float(text.lower().replace(".inf", "inf"))
        if ":" in text or not _PLAIN_FLOAT.match(text) or len(text) > 64:
            raise self.fail(f"unreadable number {text!r}", event.start_mark)
        return float(text.replace("_", ""))

    def build(self, events: Iterator[yaml.Event]) -> YValue | None:
        # Each frame: [kind, start event, items, pending key, anchor, size, keys seen (line)]
        stack: list[list[Any]] = []
        root: YValue | None = None
        documents = 0
        for event in events:
            if isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    raise self.fail(
                        "a spec is one YAML document; found a second one ('---')",
                        event.start_mark,
                    )
                continue
            value: YValue | None = None
            size = 1
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                if event.tag and event.tag not in ("!", *_SAFE_TAGS):
                    raise self.fail(
                        f"unsupported YAML tag {event.tag!r}: a spec holds plain values", event.start_mark
                    )
                if len(stack) >= MAX_DEPTH:
                    raise self.fail(f"the spec nests deeper than {MAX_DEPTH} levels", event.start_mark)
                if event.anchor:
                    self.open_anchors.add(event.anchor)
                kind = "map" if isinstance(event, yaml.MappingStartEvent) else "seq"
                stack.append([kind, event, [], None, event.anchor, 1, {}])
                continue
            if isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                kind, start, items, _, anchor, size, _ = stack.pop()
                span = _span(self.path, start.start_mark)
                value = YMap(tuple(items), span) if kind == "map" else YSeq(tuple(items), span)
                if anchor:
                    self.open_anchors.discard(anchor)
                    self.anchors[anchor] = (value, size)
            elif isinstance(event, yaml.ScalarEvent):
                value = self.scalar(event)
                if event.anchor:
                    self.anchors[event.anchor] = (value, 1)
            elif isinstance(event, yaml.AliasEvent):
                if event.anchor in self.open_anchors:
                    raise self.fail(
                        f"alias *{event.anchor} refers to a value that contains it", event.start_mark
                    )
                if event.anchor not in self.anchors:
                    raise self.fail(f"unknown alias *{event.anchor}", event.start_mark)
                value, size = self.anchors[event.anchor]
            else:
                continue
            self.count += size
            if self.count > MAX_VALUES:
                raise self.fail(
                    f"the spec expands to more than {MAX_VALUES} values (through YAML aliases?)",
                    event.start_mark,
                )
            if not stack:
                root = value
                continue
            frame = stack[-1]
            frame[5] += size
            if frame[0] == "seq":
                frame[2].append(value)
            elif frame[3] is None:
                if not isinstance(value, YScalar) or value.value is None or isinstance(value.value, bool):
                    what = "a null" if isinstance(value, YScalar) else "a list or mapping"
                    if isinstance(value, YScalar) and isinstance(value.value, bool):
                        what = f"the boolean {value.text!r}"
                    raise self.fail(f"mapping keys must be names, not {what}", event.start_mark)
                if value.text == "<<" and not value.quoted:
                    raise self.fail("YAML merge keys ('<<') are not supported; use a block", event.start_mark)
                key = YScalar(str(value.value), value.text, value.span, value.quoted)
                if key.value in frame[6]:
                    raise self.fail(
                        f"duplicate key {key.value!r} (first at line {frame[6][key.value]})",
                        event.start_mark,
                    )
                frame[6][key.value] = key.span.line
                frame[3] = key
            else:
                frame[2].append((frame[3], value))
                frame[3] = None
        return root


def parse(text: str, path: str) -> YValue:
    """Parse spec text into located values; every problem becomes a located :class:`SpecError`."""
    builder = _Builder(path)
    try:
        root = builder.build(yaml.parse(text, Loader=_Loader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        if exc.context_mark is not None and (
            mark is None or mark.line >= text.count("\n") + (not text.endswith("\n"))
        ):
            # Past the last line ("found unexpected end of stream"): point where it started.
            mark = exc.context_mark
        problem = exc.problem or "invalid YAML"
        if exc.context and "second" not in problem:
            problem = f"{exc.context}: {problem}"
        problem += _hint(problem, text, mark)
        span = _span(path, mark) if mark is not None else Span(path, 1, 1)
        raise SpecError([Diagnostic(span, f"YAML syntax error: {problem}")]) from None
    except yaml.reader.ReaderError as exc:
        before = text[: exc.position]
        span = Span(path, before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1)
        what = f"U+{exc.character:04X}" if isinstance(exc.character, int) else repr(exc.character)
        message = f"character {what} is not allowed in a spec (escape it in a double-quoted string)"
        raise SpecError([Diagnostic(span, message)]) from None
    except yaml.YAMLError as exc:
        raise SpecError([Diagnostic(Span(path, 1, 1), f"YAML error: {exc}")]) from None
    if root is None or (isinstance(root, YScalar) and root.value is None):
        raise SpecError([Diagnostic(Span(path, 1, 1), "the spec is empty")])
    return root
