"""The JSON Schema of the spec language: valid 2020-12, as permissive as the loader, strict on structure."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from archdraw.errors import SpecError
from archdraw.loader import _INPUT_KEYS, _LAYER_KEYS, _TOP_KEYS
from archdraw.ops import OPS
from archdraw.schema import DIALECT, schema
from archdraw.source import YMap, YScalar, YSeq, YValue, decode, parse

from .conftest import ROOT, SPECS
from .test_cli import run
from .test_docs import spec_blocks
from .test_invalid_cases import CASES, CASES_DIR

# The invalid cases whose mistake is structural: an unknown key or op, a scalar of the wrong type
# or out of range, a bad id, a missing required key or attribute, a wrong version. The schema
# must reject each. The other cases need the whole spec to be found (references, block
# arguments, size expressions, shapes, cycles) or are YAML problems archdraw's reader rejects
# before any schema could see the value; the schema may accept them.
STRUCTURAL = {
    "bad_edge_kind",  # kind: skipp
    "bad_sizes",  # units: 0, -3, 8.5
    "block_arg_float_ghost",  # a block argument 2.5 (they are integers or expressions)
    "bool_size",  # units: yes
    "dims_error_ghost",  # a dim of 0
    "dropout_rate_range",  # rate: 1.5
    "input_shape_error_ghost",  # a shape [N, 0]
    "invalid_ids",  # layer ids '1conv' and 'a-b'
    "missing_layers",
    "missing_name",
    "missing_required_attribute",  # dense without units
    "missing_version",
    "outputs_mapping",  # outputs: [{from: ...}]
    "three_mistakes",  # act: rleu, rate: high
    "unknown_op",
    "unknown_op_attribute",
    "unknown_op_ghost_reference",  # op: dens
    "unknown_top_level_key",
    "wrong_version",
}


def plain(value: YValue) -> Any:
    """A located YAML value as plain data, as JSON Schema sees it."""
    if isinstance(value, YMap):
        return {str(key.value): plain(item) for key, item in value.items}
    if isinstance(value, YSeq):
        return [plain(item) for item in value.items]
    assert isinstance(value, YScalar)
    return value.value


def read_data(path: Path) -> Any:
    """A spec file as plain data, read as the loader reads it (raises SpecError on YAML problems)."""
    return plain(parse(decode(path.read_bytes(), path.as_posix()), path.as_posix()))


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(schema())


def test_schema_is_valid_draft_2020_12() -> None:
    document = schema()
    assert document["$schema"] == DIALECT
    jsonschema.Draft202012Validator.check_schema(document)
    json.dumps(document)  # plain JSON


def test_cli_prints_the_schema(capsys: pytest.CaptureFixture[str]) -> None:
    result = run(capsys, "schema")
    assert result.code == 0 and result.err == ""
    assert json.loads(result.out) == schema()


def test_schema_is_built_from_the_loaders_tables() -> None:
    document = schema()
    defs = document["$defs"]
    assert list(document["properties"]) == list(_TOP_KEYS)
    assert document["required"] == [k for k, key in _TOP_KEYS.items() if key.required]
    assert document["additionalProperties"] is False
    assert list(defs["layer"]["properties"]) == list(_LAYER_KEYS)
    assert list(defs["input"]["properties"]) == list(_INPUT_KEYS)
    assert defs["value_op"]["enum"] == sorted(OPS)
    # One if/then per op, naming exactly its attributes, closed to others; then block calls, groups.
    cases = defs["layer"]["allOf"]
    assert len(cases) == len(OPS) + 2
    for case, (name, opdef) in zip(cases, OPS.items(), strict=False):
        assert case["if"]["properties"]["op"] == {"const": name}
        properties = case["then"]["properties"]
        assert set(properties) == set(_LAYER_KEYS) | set(opdef.attrs)
        assert case["then"]["additionalProperties"] is False
        assert case["then"].get("required", []) == [a for a, s in opdef.attrs.items() if s.required]
        for attr, spec in opdef.attrs.items():
            assert properties[attr]["description"].startswith(spec.doc or spec.type.value)


@pytest.mark.parametrize("spec", SPECS, ids=[p.stem for p in SPECS])
def test_every_spec_validates(spec: Path, validator: jsonschema.Draft202012Validator) -> None:
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(read_data(spec))]
    assert not errors, "\n".join(errors)


@pytest.mark.parametrize(("where", "text"), spec_blocks(), ids=[w for w, _ in spec_blocks()])
def test_every_spec_in_the_docs_validates(
    where: str, text: str, validator: jsonschema.Draft202012Validator
) -> None:
    data = plain(parse(text, where))
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(data)]
    assert not errors, "\n".join(errors)


def test_structural_cases_exist() -> None:
    assert STRUCTURAL <= {p.stem for p in CASES}


@pytest.mark.parametrize("case", CASES, ids=[p.stem for p in CASES])
def test_invalid_cases(case: Path, validator: jsonschema.Draft202012Validator) -> None:
    try:
        data = read_data(case)
    except SpecError:
        # archdraw's reader rejects the YAML itself (syntax, tags, dates, aliases, …).
        assert case.stem not in STRUCTURAL
        return
    errors = list(validator.iter_errors(data))  # never raises, whatever the document
    if case.stem in STRUCTURAL:
        assert errors, f"the schema accepts {case.name}, whose mistake is structural"
        jsonschema.exceptions.best_match(errors)  # a located message an editor can show


def test_structural_errors_are_located(validator: jsonschema.Draft202012Validator) -> None:
    """The schema's errors point where the loader's do, so an editor underlines the right word."""
    data = read_data(CASES_DIR / "three_mistakes.yaml")
    found = {tuple(e.absolute_path): e.message for e in validator.iter_errors(data)}
    assert set(found) == {("layers", 0, "act"), ("layers", 1, "rate")}
    data = read_data(CASES_DIR / "unknown_op_attribute.yaml")
    messages = [e.message for e in validator.iter_errors(data)]
    assert "Additional properties are not allowed ('unit' was unexpected)" in messages


def test_docs_show_the_modeline() -> None:
    line = "# yaml-language-server: $schema="
    for doc in (ROOT / "README.md", ROOT / "docs" / "spec.md"):
        assert line in doc.read_text(encoding="utf-8"), doc.name
