"""Stable rule ids for diagnostics (AD001 …), derived in one place from what a message says.

Diagnostics are made all over archdraw (the YAML reader, the loader, the passes, the shape rules,
``validate --execute``) as located messages. Machine-readable reports (JSON, SARIF) need a stable
id per kind of problem, so that a CI system can group, filter and suppress them; this table gives
one, by the message's wording. ``tests/test_formats.py`` checks that every
diagnostic of every case in ``tests/cases/invalid/`` gets a rule other than AD000, so a new
message that fits no rule is noticed. The table is documented in ``docs/cli.md``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .ir import Diagnostic
from .ops import OPS

__all__ = ["OTHER", "RULES", "Rule", "rule_of"]


@dataclass(frozen=True, slots=True)
class Rule:
    """A kind of problem: its stable id, a short name, what it covers and how it is recognised."""

    id: str
    name: str
    summary: str
    patterns: tuple[str, ...]


_OP = "(?:" + "|".join(re.escape(name) for name in sorted(OPS, key=len, reverse=True)) + ")"

# In id order, as documented; _PRECEDENCE below is the order they are tried in.
RULES: tuple[Rule, ...] = (
    Rule(
        "AD001",
        "yaml-syntax",
        "The file is not a spec's kind of YAML: a syntax error, bad encoding, an empty file, several "
        "documents, tags, merge keys, aliases that loop, duplicate keys.",
        (
            r"^YAML (syntax )?error",
            r"^YAML merge keys",
            r"^the spec is not UTF-8",
            r"^invalid UTF-16",
            r"^the spec is empty",
            r"^a spec is one YAML document",
            r"^unsupported YAML",
            r"^alias \*",
            r"^unknown alias",
            r"^mapping keys must be names",
            r"^duplicate key ",
            r"^character .* is not allowed in a spec",
            r"^cannot read spec",
            r"^unreadable number",
        ),
    ),
    Rule(
        "AD002",
        "yaml-ambiguous-value",
        "A value YAML 1.1 reads differently from how it looks: a date, a base-60 number (1:30), an "
        "octal-looking integer (010). Quote it, or write the number in plain decimal.",
        (r"^YAML (1\.1 )?reads ", r"^write integers in plain decimal"),
    ),
    Rule(
        "AD003",
        "unknown-key",
        "A key that the section, the op or the block does not take (often a typo; the message "
        "suggests the closest key).",
        (r"^unknown key ",),
    ),
    Rule(
        "AD004",
        "unknown-op",
        "An op or block name that does not exist.",
        (r"^unknown op ", r"^unknown block ", r"^unknown op or block "),
    ),
    Rule(
        "AD005",
        "missing-key",
        "A required key, attribute, block argument or section is missing or empty.",
        (
            r"^the spec needs '",
            r"^op \S+ needs '",
            r"^block \S+ needs '",
            r"^block '[^']*' needs 'layers:'",
            r"^(state )?input '[^']*' needs 'shape:'",
            r"^an input reference needs 'from:'",
            r"^a layer needs one of",
            r"^the .* has no layers$",
        ),
    ),
    Rule(
        "AD006",
        "invalid-value",
        "A value of the wrong type, out of range, or not a valid id.",
        (
            r" must be ",
            r" must list ",
            r"is not a valid id",
            r": write true or false",
            r" is longer than \d+ characters",
            r" axes; at most \d+ are supported",
            r" must be at most ",
            r" takes at most \d+ steps",
            r"^repeat must be at most",
            r"is an op's name; choose another",
            r"names a repetition's number",
            r"is not a layer id",
            r" must start with ",
            r"^outputs list layer ids",
            r"^a spec is a mapping of sections",
            r"may have one -1",
            r"^parameter '[^']*' is the word ",
            r"^parameter '[^']*' is a size; ",
        ),
    ),
    Rule(
        "AD007",
        "unsupported-version",
        "The spec's format version (archdraw: N) is not one this archdraw reads.",
        (r"^unsupported format version",),
    ),
    Rule(
        "AD008",
        "unknown-reference",
        "A reference to a layer, a layer inside a block or group, or a name in a size expression that "
        "does not exist.",
        (
            r"^unknown layer ",
            r"unknown name '",
            r"has no layer '",
            r"has no layers inside it",
            r"is a single layer",
            r"is not repeated \d+ time",
            r"is not a layer of",
        ),
    ),
    Rule(
        "AD009",
        "size-expression",
        "A size expression that does not parse or evaluate: bad syntax, division by zero, a size "
        "that is not positive, a repeat count out of range.",
        (
            r"in size expression",
            r"size expression '.*' ends too early",
            r"empty size expression",
            r"size expression value exceeds",
            r"use '//' for integer division",
            r" evaluates to -?\d+;",
            r"expression is longer than",
            r"^repeat '.*' is -?\d+; at most",
        ),
    ),
    Rule(
        "AD010",
        "duplicate-id",
        "Two layers with one id.",
        (r"^duplicate id ", r"collides with another layer"),
    ),
    Rule(
        "AD011",
        "graph-structure",
        "The graph does not hang together: a layer with too many or no inputs, a cycle without a "
        "delay, a key that belongs elsewhere, a block that calls itself.",
        (
            r"^cycle with no delay",
            r"is on a cycle of",
            r" takes at most \d+ input",
            r" takes \d+ input\(s\)",
            r" has no input",
            r"^the first layer needs 'in:'",
            r"takes data inputs only",
            r"^'role' applies to single layers",
            r"^'tied' applies to single layers",
            r"^'connect' says how repetitions",
            r"^'tied' shares a weight matrix",
            r"' is tied to ",
            r"are a mapping and name their own inputs",
            r" belongs to ",
            r"^'axis' names the axis of a delay",
            r"^'shared' says repetitions",
            r"^a delay makes an edge recurrent",
            r"^'id' is the mapping key here",
            r" uses itself",
            r"is left out by 'when'",
            r"^a layer needs only one of",
        ),
    ),
    Rule(
        "AD012",
        "shape-mismatch",
        "Shapes that do not fit: an op's input of the wrong rank or size, shapes that do not "
        "broadcast or concatenate, a fed-back state of the wrong shape.",
        (
            rf"^{_OP} '[^']*' ",
            r"^state '[^']*' is .* but '[^']*' feeds back",
            r"' cannot use the weights of '",
        ),
    ),
    Rule(
        "AD013",
        "declaration-contradicted",
        "A declaration the graph contradicts: a bottleneck that is not narrower than its "
        "surroundings, a declared skip that bypasses nothing.",
        (r"is declared a bottleneck", r"^declared skip from"),
    ),
    Rule(
        "AD014",
        "execution",
        "validate --execute: running the spec with NumPy gives another shape than inferred, fails, "
        "or is refused as too large.",
        (r"when run with NumPy", r"^not executed: ", r"has no inferred shape"),
    ),
    Rule(
        "AD015",
        "limit-exceeded",
        "The spec is beyond one of archdraw's limits: file size, YAML nesting or alias expansion, "
        "nodes after expanding repeats, nesting of blocks, a size or a parameter or MAC count too "
        "large to hold.",
        (
            r"^spec is larger than",
            r"^the spec nests deeper",
            r"^the spec expands to more than",
            r"^'connect: dense' over \d+ repetitions",
            r"^integer with \d+ digits",
            r"nest more than \d+ levels",
            r"^a size reaches ",
            r"more than archdraw counts",
            r"too large to search for skip connections",
        ),
    ),
)

OTHER = Rule("AD000", "other", "A problem no other rule describes.", ())

# The order rules are tried in, so that each message meets the most specific rule first: an
# execution result, or a count past the limits, names an op like a shape error does; "unknown
# name ... in size expression" is a reference before it is an expression; a shape error may
# say "must be", like a bad value.
_PRECEDENCE = (
    "AD014", "AD015", "AD001", "AD002", "AD003", "AD004", "AD007", "AD010", "AD013",
    "AD008", "AD009", "AD005", "AD011", "AD012", "AD006",
)  # fmt: skip
_BY_ID = {rule.id: rule for rule in RULES}
_COMPILED: tuple[tuple[Rule, re.Pattern[str]], ...] = tuple(
    (_BY_ID[rid], re.compile("|".join(f"(?:{p})" for p in _BY_ID[rid].patterns))) for rid in _PRECEDENCE
)


def rule_of(diagnostic: Diagnostic) -> Rule:
    """The rule a diagnostic belongs to (:data:`OTHER` when none describes it).

    >>> from archdraw.ir import Span
    >>> rule_of(Diagnostic(Span("a.yaml", 8, 17), "unknown key 'unit' for op dense")).id
    'AD003'
    """
    for rule, pattern in _COMPILED:
        if pattern.search(diagnostic.message):
            return rule
    return OTHER
