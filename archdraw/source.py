"""Safe YAML to located values: every scalar, list and mapping keeps the span it was written at.

The tree is built from PyYAML's event stream, iteratively, so nesting depth, alias expansion and
size are bounded before anything recursive sees the document. Only the plain YAML types are
accepted; a tag such as ``!!python/object`` or ``!!binary`` is an error, and so are the YAML 1.1
readings that surprise people (``010`` as octal 8, ``1:30`` as 90, unquoted dates).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
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
_SURROGATE = re.compile("[\ud800-\udfff]")
_SURROGATE_ESCAPE = re.compile(r"\\(?:u[dD][89a-fA-F][0-9a-fA-F]{2}|U0000[dD][89a-fA-F][0-9a-fA-F]{2})")
_SAFE_TAGS = frozenset(_TAG + t for t in ("str", "int", "float", "bool", "null", "seq", "map"))


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's pure-Python safe loader, with archdraw's nesting bound in its scanner.

    In flow context (``[[[…``) a scanner reads ahead to the end of the collection before the
    parser emits a single event, so a bound checked on events alone comes too late: the YAML
    library's own limit (libyaml's 1000 levels, since PyYAML 6.0.4) would be met first, or none
    at all. This scanner stops at archdraw's bound, at the bracket that crosses it: the block
    collections the builder has open, plus the flow collections open here.
    """

    def __init__(self, text: str, open_blocks: Callable[[], int]) -> None:
        super().__init__(text)
        self.open_blocks = open_blocks
        self.flow_base = 0

    def fetch_flow_collection_start(self, TokenClass: Any) -> None:
        if self.flow_level == 0:
            # Nothing inside a flow collection has been emitted yet: all the builder holds open
            # is block collections.
            self.flow_base = self.open_blocks()
        if self.flow_base + self.flow_level >= MAX_DEPTH:
            raise _DepthError(self.get_mark())
        super().fetch_flow_collection_start(TokenClass)


class _DepthError(Exception):
    """Raised by the bounded scanner where a flow collection crosses MAX_DEPTH."""

    def __init__(self, mark: Any) -> None:
        super().__init__(mark)
        self.mark = mark


# The C parser is much faster; both give the same events and marks. Its errors, whatever the
# libyaml it was built with, are checked again with the bounded loader (see parse).
_Loader: Any = getattr(yaml, "CSafeLoader", None) or _BoundedLoader


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


def _too_deep(path: str, mark: Any) -> SpecError:
    return SpecError([Diagnostic(_span(path, mark), f"the spec nests deeper than {MAX_DEPTH} levels")])


class _Builder:
    """Builds located values from events, with a stack instead of recursion."""

    def __init__(self, path: str, text: str) -> None:
        self.path = path
        self.text = text
        self.resolver = yaml.resolver.Resolver()
        self.anchors: dict[str, tuple[YValue, int]] = {}
        self.open_anchors: set[str] = set()
        self.count = 0
        # Each frame: [kind, start event, items, pending key, anchor, size, keys seen (line)]
        self.stack: list[list[Any]] = []

    def depth(self) -> int:
        """How many collections are open."""
        return len(self.stack)

    def fail(self, message: str, mark: Any) -> SpecError:
        return SpecError([Diagnostic(_span(self.path, mark), message)])

    def scalar(self, event: yaml.ScalarEvent) -> YScalar:
        span = _span(self.path, event.start_mark)
        text = event.value
        if _SURROGATE.search(text):
            raise self.lone_surrogate(event)
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

    def lone_surrogate(self, event: yaml.ScalarEvent) -> SpecError:
        """The error libyaml gives for an escaped half of a UTF-16 pair; the pure parser has none."""
        start: Any = event.start_mark
        end: Any = event.end_mark
        escape = _SURROGATE_ESCAPE.search(self.text, start.index, end.index)
        at = escape.start() + 2 if escape else start.index  # at the hex digits, as libyaml points
        before = self.text[:at]
        span = Span(self.path, before.count("\n") + 1, at - (before.rfind("\n") + 1) + 1)
        problem = "while parsing a quoted scalar: found invalid Unicode character escape code"
        return SpecError([Diagnostic(span, f"YAML syntax error: {problem}{_hint(problem, '', None)}")])

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
        stack = self.stack
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
                    raise _too_deep(self.path, event.start_mark)
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


def _read(text: str, path: str, loader_class: Any) -> YValue | None:
    builder = _Builder(path, text)
    if loader_class is _BoundedLoader:
        loader = _BoundedLoader(text, builder.depth)
    else:
        loader = loader_class(text)

    def events() -> Iterator[yaml.Event]:
        try:
            while loader.check_event():
                yield loader.get_event()  # type: ignore[no-untyped-call]
        finally:
            loader.dispose()

    return builder.build(events())


def parse(text: str, path: str) -> YValue:
    """Parse spec text into located values; every problem becomes a located :class:`SpecError`."""
    try:
        root = _read(text, path, _Loader)
    except _DepthError as exc:
        raise _too_deep(path, exc.mark) from None
    except yaml.YAMLError as exc:
        if _Loader is not _BoundedLoader:
            # The C parser stopped: a syntax error, or a limit of the libyaml it was built with.
            # The bounded loader reads the text again, so that archdraw's own bound, not the
            # library's, decides where a deep spec is refused. Anything else, the first parser's
            # message stands. Only a failing spec pays for the second read.
            try:
                _read(text, path, _BoundedLoader)
            except _DepthError as deep:
                raise _too_deep(path, deep.mark) from None
            except (yaml.YAMLError, SpecError):
                pass
        raise _yaml_error(exc, text, path) from None
    if root is None or (isinstance(root, YScalar) and root.value is None):
        raise SpecError([Diagnostic(Span(path, 1, 1), "the spec is empty")])
    return root


def _yaml_error(exc: yaml.YAMLError, text: str, path: str) -> SpecError:
    """A located message for an error of the YAML library."""
    if isinstance(exc, yaml.MarkedYAMLError):
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
        return SpecError([Diagnostic(span, f"YAML syntax error: {problem}")])
    if isinstance(exc, yaml.reader.ReaderError):
        before = text[: exc.position]
        span = Span(path, before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1)
        what = f"U+{exc.character:04X}" if isinstance(exc.character, int) else repr(exc.character)
        message = f"character {what} is not allowed in a spec (escape it in a double-quoted string)"
        return SpecError([Diagnostic(span, message)])
    return SpecError([Diagnostic(Span(path, 1, 1), f"YAML error: {exc}")])
