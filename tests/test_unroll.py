"""Unrolled in time: what runs once is drawn once, steps in order and level, labels per step.

Most checks read the drawn view as ``render -f json`` gives it (what is drawn, at which step);
the layout checks read the SVG both engines draw (where each copy is).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest

import archdraw
from archdraw.cli import EXIT_SPEC, main
from archdraw.errors import SpecError

from .conftest import ROOT, node_centres, require_engine

SVG = "{http://www.w3.org/2000/svg}"
TRUTH = json.loads((ROOT / "tests" / "truth" / "gallery.json").read_text(encoding="utf-8"))
RECURRENT = sorted(
    name for name, entry in TRUTH.items() if any(mark.startswith("t") for _, _, mark in entry["recurrent"])
)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(args))
    out = capsys.readouterr()
    return int(exc.value.code or 0), out.out, out.err


def drawn(capsys: pytest.CaptureFixture[str], spec: str | Path, *options: str) -> dict[str, Any]:
    """The drawn view of ``spec`` (a gallery name or a path) as ``render -f json`` writes it."""
    path = ROOT / "specs" / f"{spec}.yaml" if isinstance(spec, str) else spec
    code, out, err = run(capsys, "render", str(path), "-f", "json", "-o", "-", *options)
    assert code == 0, err
    view: dict[str, Any] = json.loads(out)
    return view


def steps_of(view: dict[str, Any], spec_id: str) -> list[int]:
    """The steps a spec node is drawn at (0: drawn once)."""
    return sorted(n["step"] for n in view["nodes"] if n["spec_id"] == spec_id)


def write(tmp_path: Path, text: str) -> Path:
    spec = tmp_path / "spec.yaml"
    spec.write_text(text, encoding="utf-8")
    return spec


# -- the three patterns ---------------------------------------------------------------------------


def test_the_three_rnn_patterns_differ(capsys: pytest.CaptureFixture[str]) -> None:
    """Karpathy's one-to-many, many-to-one and many-to-many: inputs and outputs at other steps."""
    found = {}
    for name in ("rnn_one_to_many", "rnn_many_to_one", "rnn_many_to_many"):
        view = drawn(capsys, name, "--unroll", "3")
        found[name] = (steps_of(view, "x"), steps_of(view, "y"))
    assert found == {
        "rnn_one_to_many": ([1], [1, 2, 3]),
        "rnn_many_to_one": ([1, 2, 3], [3]),
        "rnn_many_to_many": ([1, 2, 3], [1, 2, 3]),
    }


def test_the_patterns_differ_in_the_picture(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    require_engine("bundled")
    seen = {}
    for name in ("rnn_one_to_many", "rnn_many_to_one"):
        out = tmp_path / f"{name}.svg"
        code, _, err = run(
            capsys, "render", str(ROOT / "specs" / f"{name}.yaml"), "--engine", "bundled", "-o", str(out)
        )
        assert code == 0, err
        ids = [g.get("id", "") for g in ET.parse(out).getroot().iter(f"{SVG}g")]
        seen[name] = (
            sorted(i for i in ids if i.startswith("layer-x@")),
            sorted(i for i in ids if i.startswith("layer-y@")),
        )
    assert seen["rnn_one_to_many"] == (["layer-x@1"], ["layer-y@1", "layer-y@2", "layer-y@3"])
    assert seen["rnn_many_to_one"] == (["layer-x@1", "layer-x@2", "layer-x@3"], ["layer-y@3"])


def test_a_step_condition_is_evaluated_at_every_step(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    spec = write(
        tmp_path,
        "archdraw: 1\nname: t\ndims: {N: 1, X: 2, H: 3, K: 2}\n"
        "inputs:\n  x: [N, X]\n  h_prev: {shape: [N, H], from: h}\n"
        "layers:\n  xh: {op: concat, in: [x, h_prev]}\n  h: {op: dense, in: xh, units: H}\n"
        "  even: {op: relu, in: h, when: step % K == 0}\n  last: {op: relu, in: h, when: step == steps}\n",
    )
    view = drawn(capsys, spec, "--unroll", "5")
    assert steps_of(view, "even") == [2, 4] and steps_of(view, "last") == [5]
    assert steps_of(view, "h") == [1, 2, 3, 4, 5]
    # Rolled, the layers are drawn once, and the condition is not a size: nothing is left out.
    rolled = drawn(capsys, spec, "--unroll", "0")
    assert steps_of(rolled, "even") == [0] and steps_of(rolled, "last") == [0]


# -- what runs once ------------------------------------------------------------------------------


def test_captioning_reads_the_image_once_before_the_first_word(capsys: pytest.CaptureFixture[str]) -> None:
    """Show and Tell, Figure 3: the CNN runs once; its embedding starts the LSTM, then words."""
    view = drawn(capsys, "captioning", "--unroll", "3")
    for once in ("image", "cnn", "img_emb"):
        assert steps_of(view, once) == [0], once
    for each in ("w_emb", "lstm", "probs", "word"):
        assert steps_of(view, each) == [1, 2, 3], each
    into_lstm = [e for e in view["edges"] if e["dst"].startswith("lstm@")]
    assert [(e["src"], e["dst"]) for e in into_lstm if e["initial"]] == [("img_emb", "lstm@1")]
    assert not any(e["src"] == "img_emb" and not e["initial"] for e in view["edges"])
    # The word emitted at one step is read back at the next.
    state = sorted((e["src"], e["dst"]) for e in view["edges"] if e["kind"] == "recurrent")
    assert ("word@1", "w_emb@2") in state and ("word@2", "w_emb@3") in state
    assert ("lstm@1", "lstm@2") in state and ("lstm@2", "lstm@3") in state


def test_ctc_scores_the_whole_sequence_once(capsys: pytest.CaptureFixture[str]) -> None:
    view = drawn(capsys, "ctc_speech", "--unroll", "3")
    assert steps_of(view, "ctc") == [0] and steps_of(view, "labels") == [0]
    assert steps_of(view, "logp") == [1, 2, 3]
    into_loss = sorted(e["src"] for e in view["edges"] if e["dst"] == "ctc")
    assert into_loss == ["labels", "logp@1", "logp@2", "logp@3"]


def test_a_sentence_vector_is_the_last_step_of_its_lstm(capsys: pytest.CaptureFixture[str]) -> None:
    """VSE: the image tower runs once; the ranking loss reads the sentence LSTM's last state."""
    view = drawn(capsys, "vse", "--unroll", "3")
    assert steps_of(view, "cnn") == [0] and steps_of(view, "loss") == [0]
    assert sorted(e["src"] for e in view["edges"] if e["dst"] == "loss") == ["img_vec", "sent_vec@3"]


def test_seq2seq_unrolls_the_encoder_then_the_decoder(capsys: pytest.CaptureFixture[str]) -> None:
    view = drawn(capsys, "seq2seq", "--unroll", "3")
    assert [loop["spine"] for loop in view["loops"]] == ["encoder", "decoder"]
    loop_of = {n["id"]: n["loop"] for n in view["nodes"]}
    assert {loop_of[f"{n}@1"] for n in ("source", "src_emb", "encoder")} == {"encoder"}
    assert {loop_of[f"{n}@1"] for n in ("tgt_emb", "decoder", "probs", "word")} == {"decoder"}
    # The encoder's final state is the decoder's initial one: from its last step to the first.
    assert [(e["src"], e["dst"]) for e in view["edges"] if e["initial"]] == [("encoder@3", "decoder@1")]
    assert sorted((e["src"], e["dst"]) for e in view["edges"] if e["src"].startswith("encoder@")) == [
        ("encoder@1", "encoder@2"),
        ("encoder@2", "encoder@3"),
        ("encoder@3", "decoder@1"),
    ]
    labels = [c["label"] for c in view["clusters"] if c["parent"] is None and c["id"].startswith("step")]
    # The source sentence has S words, three of them drawn; the decoder's length is not fixed.
    assert labels == [
        "encoder · t = 1",
        "encoder · t = 2",
        "encoder · t = 3 of S",
        "decoder · t = 1",
        "decoder · t = 2",
        "decoder · t = 3",
    ]


def test_attention_reads_every_encoder_step_at_every_decoder_step(capsys: pytest.CaptureFixture[str]) -> None:
    view = drawn(capsys, "attention", "--unroll", "3")
    # The decoder GRU carries its own state, s(i−1) → s(i), from its initial state on.
    into_gru = {(e["src"], e["dst"]) for e in view["edges"] if e["dst"].startswith("s@")}
    assert {("s_prev@1", "s@1"), ("s@1", "s@2"), ("s@2", "s@3")} <= into_gru
    reads = {(e["src"], e["dst"]) for e in view["edges"] if e["dst"].startswith("context@")}
    assert {(f"annotations@{j}", f"context@{i}") for i in (1, 2, 3) for j in (1, 2, 3)} <= reads
    assert steps_of(view, "annotations") == [1, 2, 3] and steps_of(view, "context") == [1, 2, 3]


def test_crmn_draws_its_resnet_once(capsys: pytest.CaptureFixture[str]) -> None:
    """The memory LSTM reads block k's summary at step k: six steps, no more."""
    view = drawn(capsys, "crmn", "--unroll", "3")
    for n in view["nodes"]:
        assert (n["step"] > 0) == (n["spec_id"] == "memory"), n["id"]
    graph = archdraw.load(ROOT / "specs" / "crmn.yaml").graph
    parts = [e.src for e in graph.edges if e.dst == "steps"]
    assert len(parts) == 6
    reads = sorted(
        (e["dst"], e["src"]) for e in view["edges"] if e["dst"].startswith("memory@") and e["kind"] == "data"
    )
    # Every part is drawn (once, in the ResNet), so every step that reads one is drawn: six.
    assert reads == sorted((f"memory@{k}", parts[k - 1]) for k in range(1, 7))
    assert "steps" not in {n["id"] for n in view["nodes"]}  # the stacking join: each step reads its part
    labels = [c["label"] for c in view["clusters"] if c["id"].startswith("step")]
    assert labels == [f"t = {k}" for k in range(1, 7)]
    assert [e["src"] for e in view["edges"] if e["dst"] == "joined"] == ["features", "memory@6"]
    assert steps_of(drawn(capsys, "crmn", "--unroll", "9"), "memory") == [1, 2, 3, 4, 5, 6]


def test_a_final_state_from_a_longer_sequence_says_after_which_step(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Three of the S source words are drawn: the decoder starts from the state after word S."""
    view = drawn(capsys, "seq2seq", "--unroll", "3")
    assert [e["label"] for e in view["edges"] if e["initial"]] == ["initial state, after step S"]
    vse = drawn(capsys, "vse", "--unroll", "3")
    assert [e["label"] for e in vse["edges"] if e["src"] == "sent_vec@3"] == ["after step T"]


def test_a_fold_inside_a_step_gives_per_step_shapes(capsys: pytest.CaptureFixture[str]) -> None:
    view = drawn(capsys, "gnmt", "--unroll", "3")
    for c in view["clusters"]:
        if c["id"].startswith("enc3_8@"):
            assert c["detail"] == "N×D → N×D", c


@pytest.mark.parametrize("name", RECURRENT)
def test_only_the_recurrent_part_is_copied(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    """What is drawn once is computed once: no node is copied into a step it does not run at."""
    rolled = drawn(capsys, name, "--unroll", "0")
    view = drawn(capsys, name, "--unroll", "3")
    per_step = {n["spec_id"] for n in view["nodes"] if n["step"]}
    once = {n["spec_id"] for n in view["nodes"] if not n["step"]}
    assert not per_step & once
    info = json.loads(run(capsys, "info", "--json", str(ROOT / "specs" / f"{name}.yaml"))[1])
    loop = {n["id"]: n["loop"] for n in info["nodes"]}
    for n in view["nodes"]:
        assert (n["step"] > 0) == (loop.get(n["spec_id"]) is not None or n["loop"] is not None), n["id"]
    # Every copy is of something the model has: a layer, or a block drawn as one node.
    assert {n["spec_id"] for n in view["nodes"] if n["stands_for"] == "layer"} <= set(loop)
    assert rolled["steps"] == 0 and view["steps"] == 3


# -- labels and shapes per step ------------------------------------------------------------------


@pytest.mark.parametrize("name", RECURRENT)
def test_labels_carry_their_step(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    view = drawn(capsys, name, "--unroll", "3")
    for n in view["nodes"]:
        assert not re.search(r"\((t|i|j)\s*([−+-]\s*\d+)?\)", n["label"]), (n["id"], n["label"])
    for e in view["edges"]:
        assert not re.search(r"\((t|i|j)\s*([−+-]\s*\d+)?\)", e["label"] or ""), e


def test_the_lstm_cell_starts_from_h0_and_passes_h1_on(capsys: pytest.CaptureFixture[str]) -> None:
    view = drawn(capsys, "lstm", "--unroll", "3")
    nodes = {n["id"]: n for n in view["nodes"]}
    assert (nodes["h_prev@1"]["label"], nodes["h_prev@1"]["role"]) == ("h(0)", "input")
    assert "h_prev@2" not in nodes  # at step 2 the state comes from step 1's h, drawn as an edge
    assert [nodes[f"x@{t}"]["label"] for t in (1, 2, 3)] == ["x(1)", "x(2)", "x(3)"]
    carried = {(e["src"], e["dst"], e["label"]) for e in view["edges"] if e["kind"] == "recurrent"}
    assert ("h@1", "xh@2", "h(1)") in carried and ("c@2", "fc@3", "c(2)") in carried
    for e in view["edges"]:  # every edge stays within a step or runs to a later one
        src = int(e["src"].rsplit("@", 1)[1]) if "@" in e["src"] else 0
        assert src <= int(e["dst"].rsplit("@", 1)[1]), e


def test_per_step_shapes_drop_the_time_axis(capsys: pytest.CaptureFixture[str]) -> None:
    rolled = {n["id"]: n["shape"] for n in drawn(capsys, "ctc_speech", "--unroll", "0")["nodes"]}
    view = {n["id"]: n["shape"] for n in drawn(capsys, "ctc_speech", "--unroll", "3")["nodes"]}
    assert rolled["frames"] == ["N", "T", "F"] and view["frames@2"] == ["N", "F"]
    assert rolled["logp"] == ["N", "T", "C"] and view["logp@3"] == ["N", "C"]
    assert view["labels"] == rolled["labels"]  # drawn once, as it is


def test_bidirectional_layers_run_both_ways(capsys: pytest.CaptureFixture[str]) -> None:
    for name, layer in (("ctc_speech", "blstm"), ("attention", "annotations"), ("gnmt", "enc1")):
        view = drawn(capsys, name, "--unroll", "3")
        carried = {(e["src"], e["dst"], e["reverse"]) for e in view["edges"] if e["kind"] == "recurrent"}
        for t in (1, 2):
            assert (f"{layer}@{t}", f"{layer}@{t + 1}", False) in carried, (name, t)
            assert (f"{layer}@{t + 1}", f"{layer}@{t}", True) in carried, (name, t)


def test_grid_lstm_keeps_depth_within_each_step(capsys: pytest.CaptureFixture[str]) -> None:
    view = drawn(capsys, "grid_lstm", "--unroll", "3")
    delayed = [e for e in view["edges"] if e["kind"] == "recurrent"]
    for e in delayed:
        same_step = e["src"].rsplit("@", 1)[1] == e["dst"].rsplit("@", 1)[1]
        assert same_step == (e["axis"] == "depth"), e
    assert {e["axis"] for e in delayed} == {"time", "depth"}
    # The depth states are fed within each step: drawn at every step, as states.
    assert steps_of(view, "h_depth") == [1, 2, 3]
    assert {n["role"] for n in view["nodes"] if n["spec_id"] == "h_depth"} == {"state"}


# -- budget --------------------------------------------------------------------------------------


def test_the_budget_is_for_the_whole_unrolled_picture(capsys: pytest.CaptureFixture[str]) -> None:
    """Three steps of GNMT fit in the unrolled budget: no step collapses into a block."""
    view = drawn(capsys, "gnmt", "--unroll", "3")
    assert view["notes"] == [] and len(view["nodes"]) <= view["view"]["max_nodes"]
    assert not [n for n in view["nodes"] if n["stands_for"] == "block"]
    small = drawn(capsys, "gnmt", "--unroll", "3", "--max-nodes", "40")
    assert len(small["nodes"]) <= 40 and small["notes"]
    assert any(n["stands_for"] == "block" for n in small["nodes"])


def test_folded_and_collapsed_nodes_say_what_they_stand_for(capsys: pytest.CaptureFixture[str]) -> None:
    view = drawn(capsys, "resnet50")
    blocks = [n for n in view["nodes"] if n["stands_for"] == "block"]
    assert blocks and all(n["params"] for n in blocks)
    graph = archdraw.load(ROOT / "specs" / "resnet50.yaml").graph
    stage = {c.id: c.repeat_count for c in graph.clusters if c.repeat_count > 1}
    folded = {n["cluster"]: n["repeats"] for n in view["nodes"] if n["repeats"] > 1}
    assert folded and all(count in stage.values() or count > 1 for count in folded.values())
    every = drawn(capsys, "resnet50", "--expand-repeats", "--max-nodes", "10000")
    assert {n["repeats"] for n in every["nodes"]} == {1}


# -- the language: declarations and their errors --------------------------------------------------


STEP = "archdraw: 1\nname: t\ndims: {N: 1, X: 2, H: 3}\n"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "inputs:\n  x: [N, X]\n  h_prev: {shape: [N, H], from: h}\n"
            "layers:\n  xh: {op: concat, in: [x, h_prev]}\n  h: {op: dense, in: xh, units: H, once: true}\n",
            "9:3: error: 'h' is on a recurrence (its value is carried to the next step), so it runs at "
            "every step; remove 'once: true'",
        ),
        (
            "inputs:\n  x: [N, X]\nlayers:\n  h: {op: dense, in: x, units: H, when: step == 1}\n",
            "7:3: error: 'h' has a condition on the time step ('step == 1') but runs once (nothing it "
            "reads recurs in time)",
        ),
        (
            "inputs:\n  x: {shape: [N, X], when: 1}\nlayers:\n  h: {op: dense, in: x, units: H}\n",
            "5:28: error: an input's 'when' says at which time steps it is given",
        ),
        (
            "inputs:\n  x: [N, X]\nlayers:\n  h: {op: dense, in: x, units: H, initial: zeros}\n",
            "7:44: error: 'initial' is the initial state of a recurrent layer; dense keeps no state",
        ),
        (
            "inputs:\n  x: {shape: [N, X], initial: zeros}\nlayers:\n  h: {op: dense, in: x, units: H}\n",
            "5:31: error: 'initial' belongs to a state input: add 'from:' naming the layer fed back",
        ),
        (
            "inputs:\n  x: [N, 4, X]\nlayers:\n  a: {op: gru, in: x, units: 5, return_sequences: false}\n"
            "  b: {op: gru, in: x, units: H, initial: a}\n",
            "8:42: error: 'b' starts from the final state of 'a', which is 5 wide, but its state is H wide",
        ),
        (
            "inputs:\n  x: [N, 4, X]\nlayers:\n  a: {op: gru, in: x, units: H}\n"
            "  b: {op: gru, in: x, units: H, initial: aa}\n",
            "8:42: error: unknown layer 'aa' (did you mean 'a'?)",
        ),
        (
            "inputs:\n  x: [N, X]\n  h_prev: {shape: [N, H], from: h}\n"
            "layers:\n  xh: {op: concat, in: [x, h_prev]}\n"
            "  h: {op: dense, in: xh, units: H, when: step == index}\n",
            "a condition on the time step may use step, steps and dims, not index",
        ),
    ],
)
def test_time_declarations_that_cannot_hold_are_located_errors(
    body: str, expected: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    spec = write(tmp_path, STEP + body)
    code, _, err = run(capsys, "validate", str(spec))
    assert code == EXIT_SPEC and "Traceback" not in err
    assert expected in err, err


def test_a_learned_initial_state_has_weights() -> None:
    text = STEP + (
        "inputs:\n  x: [N, X]\n  h_prev: {shape: [N, H], from: h, initial: learned}\n"
        "layers:\n  xh: {op: concat, in: [x, h_prev]}\n  h: {op: dense, in: xh, units: H}\n"
    )
    zeros = archdraw.analyze(archdraw.loads(text.replace("learned", "zeros")))
    learned = archdraw.analyze(archdraw.loads(text))
    h = 3  # dims H
    assert learned.totals is not None and zeros.totals is not None
    assert learned.totals.params - zeros.totals.params == h
    start = archdraw.loads(
        STEP + "inputs:\n  x: [N, 4, X]\nlayers:\n  - {op: lstm, units: H, initial: learned, num_layers: 2}\n"
    )
    plain = archdraw.loads(
        STEP + "inputs:\n  x: [N, 4, X]\nlayers:\n  - {op: lstm, units: H, num_layers: 2}\n"
    )
    grow = archdraw.analyze(start).totals
    base = archdraw.analyze(plain).totals
    assert grow is not None and base is not None
    assert grow.params - base.params == 2 * 2 * h  # h and c, for each of the 2 layers


def test_the_initial_state_note_says_what_it_is(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    for value, note in (("zeros", "initial state: zeros"), ("learned", "learned initial state")):
        spec = write(
            tmp_path,
            STEP + f"inputs:\n  x: [N, X]\n  h_prev: {{shape: [N, H], from: h, initial: {value}}}\n"
            "layers:\n  xh: {op: concat, in: [x, h_prev]}\n  h: {op: dense, in: xh, units: H}\n",
        )
        code, out, _ = run(capsys, "render", str(spec), "--unroll", "2", "-f", "dot", "-o", "-")
        assert code == 0 and note in out


def test_the_schema_knows_the_new_keys(capsys: pytest.CaptureFixture[str]) -> None:
    schema = json.loads(run(capsys, "schema")[1])
    text = json.dumps(schema)
    for key in ('"once"', '"initial"', "step == steps"):
        assert key in text, key


def test_comparisons_in_expressions() -> None:
    from archdraw.expr import evaluate, parse

    env = {"step": 2, "steps": 3}
    assert [evaluate(parse(t), env) for t in ("step == 2", "step != 2", "step < steps", "step >= 3")] == [
        1,
        0,
        1,
        0,
    ]
    assert evaluate(parse("1 + 1 == 2"), env) == 1  # comparisons bind loosest


# -- the layout both engines draw ----------------------------------------------------------------


@pytest.mark.parametrize("engine", ["dot", "bundled"])
@pytest.mark.parametrize("name", RECURRENT)
def test_steps_are_in_order_and_level(
    name: str, engine: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    require_engine(engine)
    view = drawn(capsys, name, "--unroll", "3")
    out = tmp_path / f"{name}.svg"
    code, _, err = run(
        capsys,
        "render",
        str(ROOT / "specs" / f"{name}.yaml"),
        "--unroll",
        "3",
        "--engine",
        engine,
        "-o",
        str(out),
    )
    assert code == 0, err
    at = node_centres(out.read_text(encoding="utf-8"))
    assert set(at) == {n["id"] for n in view["nodes"]}
    # Left to right in order: every node drawn at each step, in each loop.
    copies: dict[str, list[str]] = {}
    for n in view["nodes"]:
        if n["step"]:
            copies.setdefault(n["spec_id"], []).append(n["id"])
    assert any(len(ids) >= 3 for ids in copies.values())
    for spec_id, ids in copies.items():
        xs = [at[i][0] for i in ids]  # in step order, as the view lists them
        assert xs == sorted(xs) and len(set(xs)) == len(xs), (spec_id, xs)
    # The same node at the same height in every step.
    heights: dict[str, set[float]] = {}
    for n in view["nodes"]:
        if n["step"]:
            heights.setdefault(n["spec_id"], set()).add(round(at[n["id"]][1]))
    assert {k: v for k, v in heights.items() if len(v) > 1} == {}


def test_steps_stack_for_left_to_right(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    require_engine("bundled")
    out = tmp_path / "ctc.svg"
    run(
        capsys,
        "render",
        str(ROOT / "specs" / "ctc_speech.yaml"),
        "--unroll",
        "3",
        "--rankdir",
        "LR",
        "--engine",
        "bundled",
        "-o",
        str(out),
    )
    at = node_centres(out.read_text(encoding="utf-8"))
    ys = [at[f"blstm@{t}"][1] for t in (1, 2, 3)]
    assert ys == sorted(ys) and len(set(ys)) == 3
    assert len({round(at[f"blstm@{t}"][0]) for t in (1, 2, 3)}) == 1


def test_the_unrolled_view_is_deterministic(capsys: pytest.CaptureFixture[str]) -> None:
    first = run(
        capsys, "render", str(ROOT / "specs" / "attention.yaml"), "--unroll", "3", "-f", "dot", "-o", "-"
    )[1]
    again = run(
        capsys, "render", str(ROOT / "specs" / "attention.yaml"), "--unroll", "3", "-f", "dot", "-o", "-"
    )[1]
    assert first == again and Counter(first.split("step_mark_"))  # marks are numbered, not hashed


def test_a_step_condition_needs_a_step_to_mean_anything() -> None:
    with pytest.raises(SpecError, match="runs once"):
        archdraw.analyze(
            archdraw.loads(STEP + "inputs:\n  x: [N, X]\nlayers:\n  - {op: relu, when: step == 1}\n")
        )


def test_a_long_stacked_sequence_unrolls_no_more_than_a_view_can(tmp_path: Path) -> None:
    from archdraw.loader import MAX_STEPS

    parts = MAX_STEPS + 6
    spec = "archdraw: 1\nname: t\ndims: {N: 1}\ninputs:\n  x: [N, 1, 4]\nlayers:\n"
    spec += "".join(f"  p{k}: {{op: dense, in: x, units: 4}}\n" for k in range(parts))
    spec += "  seq: {op: concat, in: [" + ", ".join(f"p{k}" for k in range(parts)) + "], axis: 1}\n"
    spec += "  memory: {op: lstm, in: seq, units: 4, return_sequences: false}\n"
    graph = archdraw.analyze(archdraw.loads(spec))
    from archdraw.views import View, apply_view

    shown, _ = apply_view(graph, View(unroll=3))
    memory = [n for n in shown.nodes if n.origin == "memory"]
    assert len(memory) == MAX_STEPS
    assert shown.clusters[MAX_STEPS - 1].label == f"t = {MAX_STEPS} of {parts}"
