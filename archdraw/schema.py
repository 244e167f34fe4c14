"""The spec language as a JSON Schema (draft 2020-12), built from the loader's key tables and the op table.

Every key, op, attribute and choice comes from the tables the loader itself checks against
(:data:`archdraw.loader._TOP_KEYS` and the other key tables, :data:`archdraw.ops.OPS`), so the
schema cannot drift from the loader: a new key or op is added in one place. Editors that speak
JSON Schema (the YAML language server behind VS Code's YAML extension, JetBrains IDEs) use it to
complete ops and attributes and to flag unknown keys while a spec is written.

The schema checks structure: keys, ops, types, enums, ranges and required keys. What needs the
whole spec (references between layers, block arguments, size expressions, shapes) is left to
``archdraw validate``; the schema accepts every spec the loader accepts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import __version__
from .ir import EdgeKind
from .loader import (
    _BLOCK_KEYS,
    _DECLARABLE_ROLES,
    _ID,
    _INPUT_KEYS,
    _LAYER_KEYS,
    _REF_KEYS,
    _REFERENCE_KEYS,
    _STYLE_KEYS,
    _TOP_KEYS,
    _VIEW_KEYS,
    CONNECTIONS,
    FORMAT_VERSION,
    INITIAL_VALUES,
    MAX_DELAY,
    MAX_REPEAT,
    MAX_STEPS,
    MAX_TEXT,
    RANKDIRS,
    Key,
    Value,
)
from .ops import OPS, PADDINGS, AttrSpec, AttrType
from .theme import THEMES

__all__ = ["DIALECT", "schema"]

DIALECT = "https://json-schema.org/draft/2020-12/schema"
MAX_AXES = 8  # the loader's limit on a shape's axes and an ints list's length

Schema = dict[str, Any]

_IDENT_PATTERN = "^" + _ID.pattern.removesuffix(r"\Z") + "$"
_TARGET_PATTERN = (
    "^" + _ID.pattern.removesuffix(r"\Z") + r"(\.(" + _ID.pattern.removesuffix(r"\Z") + "|[0-9]+))*$"
)


def _ref(name: str) -> Schema:
    return {"$ref": f"#/$defs/{name}"}


def _by_type(string: Schema, mapping: Schema) -> Schema:
    """``string`` for a string, else ``mapping``: sharper errors than ``anyOf``."""
    return {"if": {"type": "string"}, "then": string, "else": mapping}


def _one_or_list(item: Schema, max_items: int | None = None) -> Schema:
    array: Schema = {"type": "array", "items": item, "minItems": 1}
    if max_items is not None:
        array["maxItems"] = max_items
    return {"anyOf": [item, array]}


_EXPRESSION: Schema = {
    "type": "string",
    "minLength": 1,
    "description": "a size expression over dims and block parameters, e.g. 'D // 2' or '4 * H'",
}
_SIZE: Schema = {
    "anyOf": [{"type": "integer", "minimum": 1}, _ref("expression")],
    "description": "a positive integer, or a size expression over dims",
}
_INTEGER: Schema = {"anyOf": [{"type": "integer"}, _ref("expression")]}
_SHAPE: Schema = {
    "type": "array",
    "items": _ref("size"),
    "maxItems": MAX_AXES,
    "description": "a list of sizes, e.g. [N, 3, 224, 224]",
}


def _values() -> dict[Value, Schema]:
    """Each kind of key value as JSON Schema."""
    roles = [r.value for r in _DECLARABLE_ROLES]
    return {
        Value.VERSION: {"const": FORMAT_VERSION},
        Value.TEXT: {
            "type": ["string", "number", "boolean"],
            "maxLength": MAX_TEXT,
            "description": "free text: any scalar but null, kept as written",
        },
        Value.IDENT: _ref("ident"),
        Value.IDENTS: _one_or_list(_ref("ident")),
        Value.NAMES: _one_or_list({"type": "string"}),
        Value.BOOL: {"type": "boolean"},
        Value.COUNT: {"type": "integer", "minimum": 1},
        Value.STEPS: {"type": "integer", "minimum": 0, "maximum": MAX_STEPS},
        Value.URL: {"type": "string", "pattern": "^[Hh][Tt][Tt][Pp][Ss]?://"},
        Value.REFERENCE: {"anyOf": [{"type": "string"}, _object(_REFERENCE_KEYS)]},
        Value.DIMS: {
            "type": "object",
            "propertyNames": _ref("ident"),
            "additionalProperties": {"type": "integer", "minimum": 1, "description": "the example size"},
        },
        Value.INPUTS: {
            "type": "object",
            "propertyNames": _ref("ident"),
            "additionalProperties": {"anyOf": [_ref("shape"), _ref("input")]},
        },
        Value.BODY: _ref("body"),
        Value.BLOCKS: {
            "type": "object",
            "propertyNames": {"allOf": [_ref("ident"), {"not": {"enum": sorted(OPS)}}]},
            "additionalProperties": _ref("block"),
        },
        Value.PARAMS: {
            "anyOf": [
                {
                    "type": "object",
                    "propertyNames": _ref("ident"),
                    "additionalProperties": {
                        "anyOf": [{"type": "integer"}, _ref("expression"), {"type": "null"}],
                        "description": "the parameter's default; null: the parameter is required",
                    },
                },
                {"type": "array", "items": _ref("ident")},
            ]
        },
        Value.OUTPUTS: _one_or_list(_ref("target")),
        Value.STYLE: _object(_STYLE_KEYS),
        Value.VIEW: _object(_VIEW_KEYS),
        Value.RANKDIR: {"enum": list(RANKDIRS)},
        Value.THEME: {"enum": list(THEMES)},
        Value.OP: {
            "enum": sorted(OPS),
            "enumDescriptions": [OPS[name].doc for name in sorted(OPS)],
        },
        Value.BLOCK: {"type": "string", "description": "the name of a block defined under 'blocks:'"},
        Value.REFS: _one_or_list(_by_type(_ref("target"), _ref("reference_to"))),
        Value.TARGET: _ref("target"),
        Value.EDGE_KIND: {"enum": [k.value for k in EdgeKind if k is not EdgeKind.TIED]},
        Value.DELAY: {"type": "integer", "minimum": 1, "maximum": MAX_DELAY},
        Value.ROLES: _one_or_list({"enum": roles}),
        Value.REPEAT: {
            "anyOf": [{"type": "integer", "minimum": 1, "maximum": MAX_REPEAT}, _ref("expression")]
        },
        Value.CONDITION: _INTEGER,
        Value.INITIAL: {"anyOf": [{"enum": list(INITIAL_VALUES)}, _ref("target")]},
        Value.CONNECT: {"enum": list(CONNECTIONS)},
        Value.SHAPE: _ref("shape"),
    }


def _described(schema: Schema, doc: str) -> Schema:
    return {**schema, "description": doc} if doc else dict(schema)


def _object(keys: Mapping[str, Key], closed: bool = True) -> Schema:
    """An object with these keys; ``closed``: no others (the loader rejects unknown keys)."""
    schema: Schema = {
        "type": "object",
        "properties": {
            name: _described(_ref(f"value_{key.value.value}"), key.doc) for name, key in keys.items()
        },
    }
    required = [name for name, key in keys.items() if key.required]
    if required:
        schema["required"] = required
    if closed:
        schema["additionalProperties"] = False
    return schema


def _attr(spec: AttrSpec) -> Schema:
    """One op attribute's value."""
    kind = spec.type
    ints: Schema = {"anyOf": [{"type": "integer", "minimum": spec.minimum}, _ref("expression")]}
    schema: Schema
    if kind is AttrType.SIZE:
        schema = _ref("size")
    elif kind is AttrType.INT:
        schema = dict(_INTEGER)
    elif kind is AttrType.INTS:
        schema = _one_or_list(ints, MAX_AXES)
    elif kind is AttrType.PADDING:
        schema = {"anyOf": [{"enum": list(PADDINGS)}, *_one_or_list(ints, MAX_AXES)["anyOf"]]}
    elif kind is AttrType.FLOAT:
        schema = {"type": "number"}
        if spec.bounds is not None:
            schema["minimum"], schema["maximum"] = spec.bounds
    elif kind is AttrType.BOOL:
        schema = {"type": "boolean"}
    elif kind is AttrType.CHOICE:
        schema = {"enum": list(spec.choices)}
    elif kind is AttrType.STR:
        schema = {"type": "string"}
    elif kind is AttrType.SHAPE:
        schema = {
            "type": "array",
            "items": {"anyOf": [_ref("size"), {"const": -1}]},
            "maxItems": MAX_AXES,
            "description": "a list of sizes (reshape: one may be -1, the size inferred)",
        }
    else:  # pragma: no cover - every AttrType is handled above
        raise AssertionError(kind)
    doc = spec.doc or kind.value
    if spec.required:
        doc += " (required)"
    elif isinstance(spec.default, (bool, int, float, str)):
        schema["default"] = spec.default
    return _described(schema, doc)


def _layer() -> Schema:
    """A layer: one op with its attributes, a block call with its arguments, or an inline group."""
    by_kind = {key.value: name for name, key in _LAYER_KEYS.items()}
    op_key, block_key, group_key = by_kind[Value.OP], by_kind[Value.BLOCK], by_kind[Value.BODY]
    common = {name: True for name in _LAYER_KEYS}
    cases: list[Schema] = []
    for name, opdef in OPS.items():
        then: Schema = {
            "properties": {**common, **{attr: _attr(spec) for attr, spec in opdef.attrs.items()}},
            "additionalProperties": False,
        }
        required = [attr for attr, spec in opdef.attrs.items() if spec.required]
        if required:
            then["required"] = required
        cases.append({"if": {"properties": {op_key: {"const": name}}, "required": [op_key]}, "then": then})
    cases.append(
        {
            "if": {"required": [block_key]},
            "then": {
                "properties": common,
                "additionalProperties": {
                    "anyOf": [{"type": "integer"}, _ref("expression")],
                    "description": "an argument of the block: an integer or a size expression",
                },
            },
        }
    )
    cases.append(
        {"if": {"required": [group_key]}, "then": {"properties": common, "additionalProperties": False}}
    )
    return {
        **_object(_LAYER_KEYS, closed=False),
        "description": f"a layer: '{op_key}' and its attributes, '{block_key}' and its arguments, "
        f"or '{group_key}' (an inline group)",
        "oneOf": [{"required": [op_key]}, {"required": [block_key]}, {"required": [group_key]}],
        "allOf": cases,
    }


def schema() -> Schema:
    """The JSON Schema of a spec, as a JSON-ready dict.

    >>> s = schema()
    >>> s["$schema"] == DIALECT, "dense" in s["$defs"]["value_op"]["enum"]
    (True, True)
    """
    values = _values()
    no_required = sorted(n for n, d in OPS.items() if not any(a.required for a in d.attrs.values()))
    defs: Schema = {f"value_{kind.value}": values[kind] for kind in Value}
    defs.update(
        {
            "ident": {
                "type": "string",
                "pattern": _IDENT_PATTERN,
                "description": "an id: letters, digits and '_', not starting with a digit",
            },
            "target": {
                "type": "string",
                "pattern": _TARGET_PATTERN,
                "description": "a layer id; 'b.layer' or 'b.2' reaches inside blocks, groups, repeats",
            },
            "expression": _EXPRESSION,
            "size": _SIZE,
            "shape": _SHAPE,
            "body": {
                # Array keywords apply to lists only and object keywords to mappings only.
                "description": "a list of layers (a stack) or a mapping of id to layer (a graph)",
                "type": ["array", "object"],
                "minItems": 1,
                "items": _by_type(_ref("layer_name"), _ref("layer")),
                "minProperties": 1,
                "propertyNames": _ref("ident"),
                "additionalProperties": _ref("layer"),
            },
            "layer": _layer(),
            "layer_name": {
                "description": "an op that needs no attributes, or a block called with its defaults",
                "anyOf": [
                    {"enum": no_required},
                    {"allOf": [_ref("ident"), {"not": {"enum": sorted(OPS)}}]},
                ],
            },
            "input": _object(_INPUT_KEYS),
            "reference_to": _object(_REF_KEYS),
            "block": _object(_BLOCK_KEYS),
        }
    )
    return {
        "$schema": DIALECT,
        "title": "archdraw spec",
        "description": f"A neural-network architecture for archdraw {__version__} (spec format "
        f"{FORMAT_VERSION}); check it fully with 'archdraw validate'.",
        **_object(_TOP_KEYS),
        "$defs": defs,
    }
