"""archdraw import: real PyTorch and ONNX models become specs that validate, fold and count true.

Every model is built without weights. The reference counts are the frameworks' own:
``sum(p.numel() for p in model.parameters())`` for PyTorch, the initializers (less batch-norm
statistics) for ONNX. The zoo's results are written to build/test-artifacts/import-zoo.md.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

import archdraw
from archdraw.cli import main
from tests.conftest import require_module

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
ZOO = ROOT / "build" / "test-artifacts" / "import-zoo.md"
RESULTS: dict[str, str] = {}

# torchvision models whose import has boxes archdraw cannot draw as its own ops, and why.
CUSTOM = {
    "swin": "shifted windows: torch.roll, padding and the relative-position index are custom boxes",
    "maxvit": "relative-position bias by einsum and index tensors: custom boxes",
}


@pytest.fixture(scope="module")
def torch() -> Any:
    return require_module("torch", "torch")


@pytest.fixture(scope="module")
def torchvision() -> Any:
    require_module("torch", "torch")
    return require_module("torchvision", "torch")


@pytest.fixture(scope="module", autouse=True)
def zoo_table() -> Iterator[None]:
    yield
    if RESULTS:
        ZOO.parent.mkdir(parents=True, exist_ok=True)
        exact = sum(1 for r in RESULTS.values() if r.startswith("exact"))
        custom = sum(1 for r in RESULTS.values() if r.startswith("custom"))
        failed = len(RESULTS) - exact - custom
        lines = [
            "# archdraw import: every model tried",
            "",
            f"{len(RESULTS)} models: {exact} imported exactly, {custom} with custom boxes, {failed} failed.",
            "",
            "| model | result |",
            "|---|---|",
        ]
        lines += [f"| {name} | {result} |" for name, result in sorted(RESULTS.items())]
        ZOO.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _framework_count(model: Any) -> int:
    return sum(int(p.numel()) for p in model.parameters())


def _import(model: Any, example: Any, name: str, **kw: Any) -> tuple[str, archdraw.Model]:
    text = archdraw.from_torch(model, example, name=name, dims={"N": 1}, **kw)
    return text, archdraw.load(text)


def _check(name: str, model: Any, example: Any, **kw: Any) -> tuple[dict[str, Any], archdraw.Model]:
    """Import, validate, compare the count; record the result for the zoo table."""
    expected = _framework_count(model)
    try:
        text, loaded = _import(model, example, name, **kw)
    except Exception as exc:
        RESULTS[name] = f"failed: {type(exc).__name__}: {str(exc).splitlines()[0][:120]}"
        raise
    got = loaded.info()["params"]
    spec = yaml.safe_load(text)
    customs = [
        layer.get("kind", "?")
        for layer in _all_layers(spec)
        if isinstance(layer, dict) and layer.get("op") == "custom"
    ]
    if got != expected:
        RESULTS[name] = f"failed: {got:,} parameters, PyTorch {expected:,}"
    elif customs:
        kinds = ", ".join(sorted(set(customs)))
        RESULTS[name] = f"custom boxes ({kinds}); {got:,} parameters, equal"
    else:
        RESULTS[name] = f"exact: {got:,} parameters"
    assert got == expected
    return spec, loaded


def _all_layers(spec: dict[str, Any]) -> Iterator[Any]:
    def walk(layers: Any) -> Iterator[Any]:
        items = layers.values() if isinstance(layers, dict) else layers
        for layer in items:
            yield layer
            if isinstance(layer, dict) and "layers" in layer:
                yield from walk(layer["layers"])

    yield from walk(spec["layers"])
    for block in (spec.get("blocks") or {}).values():
        yield from walk(block["layers"])


def _entries(layers: Any) -> Iterator[tuple[str, Any]]:
    """A stack's or a graph's layers, with their ids."""
    if isinstance(layers, dict):
        yield from layers.items()
    else:
        for layer in layers:
            if isinstance(layer, dict):
                yield str(layer.get("id", "")), layer


def _layer(spec: dict[str, Any], ident: str) -> dict[str, Any]:
    """The top-level layer with this id."""
    return next(layer for key, layer in _entries(spec["layers"]) if key == ident)


def _calls(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Top-level entries (and those of groups) that call a block, by id."""
    found: dict[str, dict[str, Any]] = {}

    def walk(layers: Any) -> None:
        for key, layer in _entries(layers):
            if isinstance(layer, dict) and "block" in layer:
                found[key] = layer
            if isinstance(layer, dict) and "layers" in layer:
                walk(layer["layers"])

    walk(spec["layers"])
    return found


# -- the torchvision classification zoo ----------------------------------------------------------


def _zoo() -> list[str]:
    try:
        import torchvision  # type: ignore[import-untyped]
    except ImportError:
        return ["resnet50"]
    return sorted(torchvision.models.list_models(module=torchvision.models))


@pytest.mark.parametrize("name", _zoo())
def test_torchvision_zoo(torch: Any, torchvision: Any, name: str) -> None:
    kw: dict[str, Any] = {}
    if name in ("googlenet", "inception_v3"):
        # the auxiliary classifiers run only in training: without them the model is the one
        # that runs at inference, and every parameter it holds is drawn
        kw = {"aux_logits": False, "init_weights": False}
    model = torchvision.models.get_model(name, weights=None, **kw).eval()
    size = 299 if name == "inception_v3" else 224
    _spec, _ = _check(name, model, torch.zeros(1, 3, size, size))
    family = name.split("_")[0]
    if family in CUSTOM:
        assert RESULTS[name].startswith("custom"), RESULTS[name]
    else:
        assert RESULTS[name].startswith("exact"), RESULTS[name]


def test_resnet50_stages(torch: Any, torchvision: Any) -> None:
    """The four stages are one bottleneck block called ×3, ×4, ×6 and ×3, as in the paper."""
    model = torchvision.models.resnet50().eval()
    spec, loaded = _check("resnet50 (stages)", model, torch.zeros(1, 3, 224, 224))
    calls = _calls(spec)
    assert {k: (v["block"], v["repeat"]) for k, v in calls.items()} == {
        "layer1": ("bottleneck", 3),
        "layer2": ("bottleneck", 4),
        "layer3": ("bottleneck", 6),
        "layer4": ("bottleneck", 3),
    }
    # the stride and the projection shortcut sit in each stage's first block only
    assert calls["layer2"]["stride"] == "1 + first"
    assert calls["layer2"]["downsample"] == "first"
    svg = loaded.to_svg(engine="bundled")
    for title in ("layer1", "layer2", "layer3", "layer4"):
        assert title in svg
    for times in ("×3", "×4", "×6"):
        assert times in svg
    # the same shortcuts as the gallery's hand-written ResNet-50: 12 identities, and 4 projections
    # whose two edges and whose join are skips too
    hand = archdraw.load(ROOT / "specs" / "resnet50.yaml")

    def skips(m: archdraw.Model) -> int:
        return sum(1 for e in m.info()["edges"] if e["kind"] == "skip")

    assert skips(loaded) == skips(hand) == 24


def test_transformer_encoder(torch: Any) -> None:
    """A 12-layer encoder is one layer ×12; its attention is archdraw's multi-head attention."""
    nn = torch.nn
    model = nn.TransformerEncoder(
        nn.TransformerEncoderLayer(768, 12, 3072, batch_first=True), 12, enable_nested_tensor=False
    ).eval()
    spec, loaded = _check("TransformerEncoder, 12 layers", model, torch.zeros(1, 128, 768))
    (call,) = _calls(spec).values()
    assert call["repeat"] == 12
    body = dict(_entries(spec["blocks"][call["block"]]["layers"]))
    assert body["self_attn"] == {"id": "self_attn", "op": "attention", "kind": "multi_head", "heads": 12}
    assert "×12" in loaded.to_svg(engine="bundled")
    assert sum(1 for e in loaded.info()["edges"] if e["kind"] == "skip") == 2 * 12


class _Tagger:
    """An LSTM (or GRU) tagger: embedding, a stacked bidirectional recurrent layer, a classifier."""

    @staticmethod
    def build(torch: Any, cell: str, layers: int = 2) -> Any:
        nn = torch.nn

        class Tagger(nn.Module):  # type: ignore[misc,name-defined]
            def __init__(self) -> None:
                super().__init__()
                self.embed = nn.Embedding(20000, 128)
                self.rnn = getattr(nn, cell)(
                    128, 256, num_layers=layers, bidirectional=True, batch_first=True
                )
                self.tags = nn.Linear(512, 17)

            def forward(self, tokens: Any) -> Any:
                states, _ = self.rnn(self.embed(tokens))
                return self.tags(states)

        return Tagger().eval()


@pytest.mark.parametrize("cell", ["LSTM", "GRU", "RNN"])
def test_tagger_is_recurrent(torch: Any, cell: str) -> None:
    model = _Tagger.build(torch, cell)
    spec, loaded = _check(
        f"{cell} tagger", model, torch.zeros(1, 40, dtype=torch.long), input_names=["tokens"]
    )
    rnn = _layer(spec, "rnn")
    assert rnn["op"] == cell.lower()
    assert rnn["bidirectional"] is True
    assert rnn["num_layers"] == 2
    edges = loaded.info()["edges"]
    recurrent = [e for e in edges if e["kind"] == "recurrent"]
    assert len(recurrent) == 2  # forward t−1 and backward t+1
    assert sorted(bool(e.get("reverse")) for e in recurrent) == [False, True]
    svg = loaded.to_svg(engine="bundled")
    assert "t−1" in svg and "t+1" in svg


def _hf(name: str) -> tuple[Any, Any, list[str]]:
    torch = require_module("torch", "torch")
    tf = require_module("transformers", "torch")
    if name == "bert":
        return (
            tf.BertModel(tf.BertConfig(attn_implementation="eager")),
            torch.zeros(1, 128, dtype=torch.long),
            ["input_ids"],
        )
    if name == "gpt2":
        return (
            tf.GPT2LMHeadModel(tf.GPT2Config(attn_implementation="eager")),
            torch.zeros(1, 128, dtype=torch.long),
            ["input_ids"],
        )
    return (
        tf.ViTModel(tf.ViTConfig(attn_implementation="eager")),
        torch.zeros(1, 3, 224, 224),
        ["pixel_values"],
    )


@pytest.mark.parametrize("name", ["bert", "gpt2", "vit"])
def test_transformers_from_config(name: str) -> None:
    """Hugging Face models built from their configs (no download): 12 layers folded to one ×12."""
    model, example, names = _hf(name)
    model.eval()
    spec, loaded = _check(f"transformers {type(model).__name__}", model, example, input_names=names)
    repeats = [c["repeat"] for c in _calls(spec).values() if "repeat" in c]
    assert repeats == [12]
    if name == "gpt2":
        # the language-model head is the token embedding, transposed: a tie, counted once
        assert _layer(spec, "lm_head")["tied"] == "transformer.wte"
        assert any(e["kind"] == "tied" for e in loaded.info()["edges"])


def test_deterministic(torch: Any, torchvision: Any) -> None:
    model = torchvision.models.resnet18().eval()
    first = archdraw.from_torch(model, torch.zeros(1, 3, 224, 224), dims={"N": 1})
    second = archdraw.from_torch(model, torch.zeros(1, 3, 224, 224), dims={"N": 1})
    assert first == second
    assert model.training is False


def test_labels_are_module_paths(torch: Any, torchvision: Any) -> None:
    model = torchvision.models.vgg11().eval()
    text = archdraw.from_torch(model, torch.zeros(1, 3, 224, 224))
    labels = [layer.get("label") for layer in _all_layers(yaml.safe_load(text)) if isinstance(layer, dict)]
    assert "features.0" in labels and "classifier.6" in labels
    modules = {name for name, _ in model.named_modules() if name}
    assert all(label in modules for label in labels if label)


def test_unknown_module_is_a_custom_box(torch: Any) -> None:
    nn = torch.nn

    class Odd(nn.Module):  # type: ignore[misc,name-defined]
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(8, 8)

        def forward(self, x: Any) -> Any:
            return torch.cumsum(self.fc(x), dim=1)

    text = archdraw.from_torch(Odd(), torch.zeros(2, 8))
    spec = yaml.safe_load(text)
    assert _layer(spec, "cumsum") == {"id": "cumsum", "op": "custom", "shape": [2, 8], "kind": "cumsum"}
    assert archdraw.load(text).info()["params"] == 72


# -- ONNX ----------------------------------------------------------------------------------------


def _randomise_norms(torch: Any, model: Any) -> None:
    """Distinct batch-norm statistics, so that the exporter has no equal tensors to merge."""
    gen = torch.Generator().manual_seed(0)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.copy_(torch.rand(m.running_mean.shape, generator=gen) - 0.5)
            m.running_var.copy_(torch.rand(m.running_var.shape, generator=gen) + 0.5)
            m.weight.data.copy_(torch.rand(m.weight.shape, generator=gen) + 0.5)
            m.bias.data.copy_(torch.rand(m.bias.shape, generator=gen) - 0.5)


def _initializer_count(onnx: Any, path: Path) -> int:
    model = onnx.load(str(path), load_external_data=False)
    stats = {n.input[k] for n in model.graph.node if n.op_type == "BatchNormalization" for k in (3, 4)}
    # a recurrent node's inputs from 4 on are sequence lengths and initial states, not weights
    stats |= {name for n in model.graph.node if n.op_type in ("LSTM", "GRU", "RNN") for name in n.input[4:]}
    total = 0
    for init in model.graph.initializer:
        if init.name in stats or init.data_type not in (1, 10, 11, 16):  # float types only
            continue
        size = 1
        for d in init.dims:
            size *= int(d)
        if size > 1:
            total += size
    return total


@pytest.mark.parametrize("exporter", ["dynamo", "torchscript"])
def test_onnx_resnet50(
    torch: Any, torchvision: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str], exporter: str
) -> None:
    """ResNet-50 through ONNX: the same four stages, batch norm folded, the file's count.

    The TorchScript exporter records module paths but no classes: the blocks of each stage are
    taken to be of one kind, as the items of one list.
    """
    onnx = require_module("onnx", "onnx")
    require_module("onnxscript", "onnx")
    model = torchvision.models.resnet50().eval()
    _randomise_norms(torch, model)
    path = tmp_path / "resnet50.onnx"
    torch.onnx.export(model, (torch.zeros(1, 3, 224, 224),), str(path), dynamo=exporter == "dynamo")
    out = tmp_path / "resnet50.yaml"
    with pytest.raises(SystemExit) as done:
        main(["import", str(path), "--dim", "N=1", "-o", str(out)])
    assert done.value.code == 0
    err = capsys.readouterr().err
    expected = _initializer_count(onnx, path)
    assert f"{expected:,} parameters, equal to ONNX's {expected:,}" in err
    assert "folded into the convolutions" in err
    spec = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert "folded" in spec["summary"]
    assert {k: v["repeat"] for k, v in _calls(spec).items()} == {
        "layer1": 3,
        "layer2": 4,
        "layer3": 6,
        "layer4": 3,
    }
    loaded = archdraw.load(out)
    assert loaded.info()["params"] == expected
    # folding batch norm adds a bias to each of the 53 convolutions: the PyTorch count plus those
    convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    bns = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert expected == _framework_count(model) - sum(2 * b.num_features for b in bns) + sum(
        c.out_channels for c in convs
    )
    RESULTS[f"resnet50 (ONNX, {exporter})"] = (
        f"exact: {expected:,} parameters, the file's (batch norm folded)"
    )


@pytest.mark.parametrize("exporter", ["dynamo", "torchscript"])
@pytest.mark.parametrize("layers", [1, 2])
def test_onnx_lstm_tagger(torch: Any, tmp_path: Path, layers: int, exporter: str) -> None:
    """A bidirectional LSTM, one layer or a stack (one ONNX node per layer), is one lstm."""
    onnx = require_module("onnx", "onnx")
    require_module("onnxscript", "onnx")
    model = _Tagger.build(torch, "LSTM", layers)
    path = tmp_path / "tagger.onnx"
    torch.onnx.export(model, (torch.zeros(1, 40, dtype=torch.long),), str(path), dynamo=exporter == "dynamo")
    text = archdraw.from_onnx(path, dims={"N": 1})
    spec = yaml.safe_load(text)
    (rnn,) = [layer for layer in spec["layers"] if layer["op"] == "lstm"]
    assert rnn["units"] == 256 and rnn["bidirectional"] is True and rnn.get("num_layers", 1) == layers
    assert rnn.get("batch_first", True) is True
    loaded = archdraw.load(text)
    assert loaded.info()["params"] == _initializer_count(onnx, path) == _framework_count(model)
    assert sum(1 for e in loaded.info()["edges"] if e["kind"] == "recurrent") == 2
    RESULTS[f"LSTM tagger, {layers} layer(s) (ONNX, {exporter})"] = (
        f"exact: {_framework_count(model):,} parameters"
    )


# -- the command line ----------------------------------------------------------------------------


def _run(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "archdraw", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, **(env or {})},
    )


def test_cli_import_render_unroll(torch: Any, tmp_path: Path) -> None:
    """The worked example of docs/import.md: a model in a file of one's own, imported and drawn."""
    (tmp_path / "mytagger.py").write_text(
        "import torch\n"
        "from torch import nn\n\n"
        "class Tagger(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.embed = nn.Embedding(10000, 100)\n"
        "        self.lstm = nn.LSTM(100, 128, batch_first=True)\n"
        "        self.out = nn.Linear(128, 9)\n\n"
        "    def forward(self, tokens):\n"
        "        h, _ = self.lstm(self.embed(tokens))\n"
        "        return self.out(h)\n\n"
        "def build():\n"
        "    return Tagger()\n",
        encoding="utf-8",
    )
    done = _run(
        [
            "import",
            "mytagger:build",
            "--input",
            "tokens=1x20",
            "--input-dtype",
            "int64",
            "--dim",
            "N=1",
            "--dim",
            "T=20",
            "-o",
            "tagger.yaml",
        ],
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    sys.path.insert(0, str(tmp_path))
    try:
        import mytagger  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(tmp_path))
    count = _framework_count(mytagger.build())
    assert f"{count:,} parameters, equal to PyTorch's {count:,}" in done.stderr
    spec = yaml.safe_load((tmp_path / "tagger.yaml").read_text(encoding="utf-8"))
    assert spec["inputs"] == {"tokens": ["N", "T"]}
    assert spec["dims"] == {"N": 1, "T": 20}
    done = _run(
        ["render", "tagger.yaml", "--unroll", "3", "-f", "svg", "--engine", "bundled", "-o", "tagger.svg"],
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    svg = (tmp_path / "tagger.svg").read_text(encoding="utf-8")
    assert "t−1" in svg or "t = 1" in svg or "step" in svg.lower()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["torchvision.models:nope", "--input", "1x3x224x224"], "has no attribute 'nope'"),
        (["no_such_module:build", "--input", "1x3"], "cannot import 'no_such_module'"),
        (["torchvision.models:resnet18"], "give the model's example input shapes with --input"),
        (["torchvision.models:resnet18", "--input", "1x3xa"], "write a shape as sizes joined by 'x'"),
        (["torchvision.models:resnet18", "--input", "1x1x8x8"], "the model's forward pass failed"),
        (["model.onnx"], "no such ONNX file"),
        (["torchvision.models:resnet18", "--input", "1x3x64x64", "--dim", "N"], "write NAME=SIZE"),
    ],
)
def test_cli_errors(torchvision: Any, tmp_path: Path, args: list[str], message: str) -> None:
    done = _run(["import", *args, "-o", "out.yaml"], tmp_path)
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "out.yaml").exists()


def test_missing_extra_names_it(tmp_path: Path) -> None:
    """Without PyTorch the command says which extra to install (torch is hidden from Python)."""
    (tmp_path / "sitecustomize.py").write_text("import sys\nsys.modules['torch'] = None\n", encoding="utf-8")
    done = _run(
        ["import", "torchvision.models:resnet18", "--input", "1x3x224x224"],
        tmp_path,
        {"PYTHONPATH": str(tmp_path)},
    )
    assert done.returncode == 2
    assert "pip install 'archdraw-nn[torch]'" in done.stderr
    assert "Traceback" not in done.stderr


def test_existing_output_kept_on_failure(torchvision: Any, tmp_path: Path) -> None:
    out = tmp_path / "keep.yaml"
    out.write_text("mine\n", encoding="utf-8")
    done = _run(["import", "torchvision.models:resnet18", "--input", "1x1x8x8", "-o", "keep.yaml"], tmp_path)
    assert done.returncode == 2
    assert out.read_text(encoding="utf-8") == "mine\n"


def test_gallery_spec_is_the_import(torch: Any, tmp_path: Path) -> None:
    """specs/lstm_tagger_imported.yaml is what docs/import.md's command writes, byte for byte."""
    done = _run(
        [
            "import",
            "docs.examples.tagger:build",
            "--input",
            "tokens=1x40",
            "--input-dtype",
            "int64",
            "--dim",
            "N=1",
            "--dim",
            "T=40",
            "--name",
            "LSTM tagger (imported)",
            "-o",
            str(tmp_path / "tagger.yaml"),
        ],
        ROOT,
    )
    assert done.returncode == 0, done.stderr
    committed = (ROOT / "specs" / "lstm_tagger_imported.yaml").read_bytes()
    assert (tmp_path / "tagger.yaml").read_bytes() == committed


def test_docs_listing_is_the_import(torch: Any, torchvision: Any) -> None:
    """docs/import.md's ResNet-50 spec is what the import writes today, in full."""
    text = (ROOT / "docs" / "import.md").read_text(encoding="utf-8")
    start = text.index("```yaml\n", text.index("--dim N=1` writes (in full):")) + len("```yaml\n")
    listing = text[start : text.index("```\n", start)]
    model = torchvision.models.resnet50()
    assert archdraw.from_torch(model, torch.zeros(1, 3, 224, 224), dims={"N": 1}) == listing


def test_edited_example_validates() -> None:
    """The edit of the worked example keeps the count."""
    text = (ROOT / "docs" / "import.md").read_text(encoding="utf-8")
    start = text.index("```yaml\n", text.index("Then edit it as any spec")) + len("```yaml\n")
    edit = yaml.safe_load(text[start : text.index("```\n", start)])
    spec = yaml.safe_load((ROOT / "specs" / "lstm_tagger_imported.yaml").read_text(encoding="utf-8"))
    spec.update(edit)
    edited = archdraw.load(yaml.safe_dump(spec, allow_unicode=True, sort_keys=False))
    original = archdraw.load(ROOT / "specs" / "lstm_tagger_imported.yaml")
    assert edited.info()["params"] == original.info()["params"]
    assert "BiLSTM" in edited.to_svg(engine="bundled")


def test_hostile_onnx_names(tmp_path: Path) -> None:
    """Node and input names are free text to the spec: quoted, escaped, never markup."""
    onnx = require_module("onnx", "onnx")
    from onnx import TensorProto, helper

    evil = "/blk\x1b[31m<script>alert(1)</script>\u2028/Relu"
    x = helper.make_tensor_value_info('in"put\u2028</svg>', TensorProto.FLOAT, [1, 8])
    y = helper.make_tensor_value_info("out", TensorProto.FLOAT, [1, 8])
    node = helper.make_node("Relu", ['in"put\u2028</svg>'], ["out"], name=evil)
    path = tmp_path / "evil.onnx"
    onnx.save(helper.make_model(helper.make_graph([node], "g", [x], [y])), str(path))
    text = archdraw.from_onnx(path)
    assert "\x1b" not in text and "\u2028" not in text
    loaded = archdraw.load(text)
    svg = loaded.to_svg(engine="bundled")
    assert "<script" not in svg and "</svg>" not in svg[:-10]
    assert "\x1b" not in svg


def test_base_install_does_not_import_a_framework() -> None:
    """`import archdraw` loads neither PyTorch nor ONNX: the frontends import them when called."""
    done = subprocess.run(
        [sys.executable, "-c", "import sys, archdraw; print(sorted({'torch', 'onnx'} & set(sys.modules)))"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_densenet_dense_blocks(torch: Any, torchvision: Any) -> None:
    """DenseNet-121's four dense blocks are repeats with `connect: dense`, of 6, 12, 24, 16."""
    model = torchvision.models.densenet121().eval()
    spec, loaded = _check("densenet121 (dense blocks)", model, torch.zeros(1, 3, 224, 224))
    calls = _calls(spec)
    blocks = {k: v for k, v in calls.items() if k.startswith("denseblock")}
    # the counts are torchvision's own (block_config of DenseNet-121, Huang et al. Table 1)
    expected = [len(getattr(model.features, f"denseblock{k}")) for k in (1, 2, 3, 4)]
    assert [blocks[f"denseblock{k}"]["repeat"] for k in (1, 2, 3, 4)] == expected == [6, 12, 24, 16]
    assert all(b["connect"] == "dense" for b in blocks.values())
    # every edge but the newest into each concatenation is a skip: L(L+1)/2 per block
    skips = sum(1 for e in loaded.info()["edges"] if e["kind"] == "skip")
    assert skips == sum(n * (n + 1) // 2 for n in expected)


def test_dense_layers_that_are_no_repeat(torch: Any) -> None:
    """Dense connections between layers of different widths are no repeat: written as they are."""
    nn = torch.nn

    class Layer(nn.Module):  # type: ignore[misc,name-defined]
        def __init__(self, cin: int, growth: int) -> None:
            super().__init__()
            self.conv = nn.Conv2d(cin, growth, 3, padding=1)

        def forward(self, inputs: list[Any]) -> Any:
            return self.conv(torch.cat(inputs, 1))

    class Block(nn.Module):  # type: ignore[misc,name-defined]
        def __init__(self) -> None:
            super().__init__()
            self.layers = nn.ModuleList([Layer(4, 8), Layer(12, 16), Layer(28, 8)])

        def forward(self, x: Any) -> Any:
            features = [x]
            for layer in self.layers:
                features.append(layer(features))
            return torch.cat(features, 1)

    model = Block().eval()
    spec, loaded = _check("dense layers of other widths", model, torch.zeros(1, 4, 8, 8))
    assert "connect" not in str(spec)
    assert loaded.info()["nodes"][-1]["shape"] == ["N", 36, 8, 8]
