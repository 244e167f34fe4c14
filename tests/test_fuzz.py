"""Property-based fuzzing: any file is analysed or refused with a located SpecError, never a crash.

The generators (tests/fuzzing.py) mutate the specs in specs/ and write YAML from scratch;
hypothesis drives their random choices (a few thousand cases in all). benchmarks/fuzz.py runs
the same generators over 100,000 seeded cases.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archdraw.cli import EXIT_SPEC, main

from .fuzzing import mutate, random_document, run_case

FUZZ = settings(
    max_examples=900,
    deadline=None,  # a mutated ResNet-152 takes a while; bounded time is the catalogue's business
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)


@FUZZ
@given(st.randoms(use_true_random=False))
def test_mutated_specs_are_analysed_or_refused(rnd: random.Random) -> None:
    run_case(mutate(rnd))


@FUZZ
@given(st.randoms(use_true_random=False))
def test_random_documents_are_analysed_or_refused(rnd: random.Random) -> None:
    run_case(random_document(rnd))


@settings(FUZZ, max_examples=900)
@given(st.binary(max_size=400) | st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")))
def test_arbitrary_bytes_are_analysed_or_refused(data: bytes) -> None:
    run_case(data)


@settings(
    FUZZ,
    max_examples=150,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(st.randoms(use_true_random=False))
def test_cli_validate_exits_0_or_1_without_a_traceback(
    tmp_path_factory: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str], rnd: random.Random
) -> None:
    data = mutate(rnd) if rnd.random() < 0.7 else random_document(rnd)
    path = tmp_path_factory.mktemp("fuzz") / "spec.yaml"
    path.write_bytes(data)
    capsys.readouterr()
    with pytest.raises(SystemExit) as exc:
        main(["validate", "-q", str(path)])
    err = capsys.readouterr().err
    assert exc.value.code in (0, EXIT_SPEC), err
    assert "Traceback" not in err
    assert path.read_bytes() == data


def test_cli_validate_prints_no_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rnd = random.Random(2024)
    for i in range(40):
        (tmp_path / f"case{i}.yaml").write_bytes(mutate(rnd))
    with pytest.raises(SystemExit) as exc:
        main(["validate", str(tmp_path)])
    err = capsys.readouterr().err
    assert exc.value.code in (0, EXIT_SPEC)
    assert "Traceback" not in err and "internal error" not in err
    assert "40 specs checked" in err
