"""The ONNX frontend: PyTorch models exported both ways, read back into traces."""

from __future__ import annotations

import math
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest

onnx = pytest.importorskip("onnx")
torch = pytest.importorskip("torch")

from archdraw.errors import ArchdrawError  # noqa: E402
from archdraw.frontends.onnxgraph import FOLDED_NOTE, trace_onnx  # noqa: E402
from archdraw.frontends.trace import Layer, Scope, Trace  # noqa: E402

pytestmark = pytest.mark.slow

nn: Any = torch.nn
EXPORTERS = ["torchscript", "dynamo"]
FLOATS = {1, 10, 11, 16}


class Tagger(nn.Module):  # type: ignore[misc]
    """Embedding, a bidirectional LSTM and a linear layer per token."""

    def __init__(self) -> None:
        super().__init__()
        self.emb = nn.Embedding(100, 16)
        self.lstm = nn.LSTM(16, 32, batch_first=True, bidirectional=True)
        self.out = nn.Linear(64, 5)

    def forward(self, x: Any) -> Any:
        h, _ = self.lstm(self.emb(x))
        return self.out(h)


def _mlp() -> Any:
    return nn.Sequential(nn.Linear(20, 32), nn.ReLU(), nn.Dropout(0.1), nn.Linear(32, 4), nn.Softmax(-1))


def _export(model: Any, args: tuple[Any, ...], path: Path, exporter: str) -> Path:
    model.eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, args, str(path), dynamo=exporter == "dynamo", verbose=False)
    return path


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], tuple[Path, Any]]:
    """Every model exported by both exporters: (model, exporter) → (file, torch model)."""
    torchvision = pytest.importorskip("torchvision")
    folder = tmp_path_factory.mktemp("onnx")
    torch.manual_seed(0)
    made: dict[tuple[str, str], tuple[Path, Any]] = {}
    models = {
        "resnet18": (torchvision.models.resnet18(weights=None), (torch.randn(1, 3, 224, 224),)),
        "mlp": (_mlp(), (torch.randn(3, 20),)),
        "tagger": (Tagger(), (torch.randint(0, 100, (2, 7)),)),
    }
    for name, (model, args) in models.items():
        for exporter in EXPORTERS:
            path = _export(model, args, folder / f"{name}_{exporter}.onnx", exporter)
            made[name, exporter] = (path, model)
    return made


def _weights(path: Path) -> int:
    """What the file holds as weights, counted here from the file alone.

    Every floating-point initializer of more than one value, less batch-norm statistics and
    the initial states of recurrent nodes (zeros the exporter writes out).
    """
    model = onnx.load(str(path), load_external_data=False)
    skip: set[str] = set()
    for node in model.graph.node:
        if node.op_type == "BatchNormalization":
            skip.update(node.input[3:5])
        if node.op_type in ("LSTM", "GRU", "RNN"):
            skip.update(node.input[4:7])
    total = 0
    for init in model.graph.initializer:
        size = math.prod(init.dims)
        if init.data_type in FLOATS and size > 1 and init.name not in skip:
            total += size
    return total


def _scope(parent: Scope, name: str) -> Scope:
    found = [s for s in parent.items if isinstance(s, Scope) and s.name == name]
    assert len(found) == 1, f"no single scope {name!r} in {parent.path!r}"
    return found[0]


def _layer(parent: Scope, name: str) -> Layer:
    found = [s for s in parent.items if isinstance(s, Layer) and s.name == name]
    assert len(found) == 1, f"no single layer {name!r} in {parent.path!r}"
    return found[0]


def _read(exports: dict[tuple[str, str], tuple[Path, Any]], name: str, exporter: str) -> tuple[Trace, Path]:
    path, _ = exports[name, exporter]
    return trace_onnx(path), path


@pytest.mark.parametrize("exporter", EXPORTERS)
@pytest.mark.parametrize("name", ["resnet18", "mlp", "tagger"])
def test_parameters_add_up(
    exports: dict[tuple[str, str], tuple[Path, Any]], name: str, exporter: str
) -> None:
    trace, path = _read(exports, name, exporter)
    assert trace.source == "ONNX"
    assert trace.params == _weights(path)
    assert sum(layer.params for layer in trace.layers()) == trace.params
    if name != "resnet18":  # no batch norm to fold: the file holds exactly the model's parameters
        _, model = exports[name, exporter]
        assert trace.params == sum(p.numel() for p in model.parameters())


def test_resnet18_dynamo_scopes(exports: dict[tuple[str, str], tuple[Path, Any]]) -> None:
    trace, _ = _read(exports, "resnet18", "dynamo")
    assert trace.root.kind == "ResNet"
    for stage in ("layer1", "layer2", "layer3", "layer4"):
        scope = _scope(trace.root, stage)
        assert scope.kind == "Sequential" and scope.generic
        blocks = [s for s in scope.items if isinstance(s, Scope)]
        assert [b.name for b in blocks] == ["0", "1"]
        assert all(b.kind == "BasicBlock" and not b.generic for b in blocks)
        assert [b.path for b in blocks] == [f"{stage}.0", f"{stage}.1"]
    assert FOLDED_NOTE in trace.notes
    assert trace.custom() == {}


@pytest.mark.parametrize("exporter", EXPORTERS)
def test_resnet18_convolutions(exports: dict[tuple[str, str], tuple[Path, Any]], exporter: str) -> None:
    trace, _ = _read(exports, "resnet18", exporter)
    stem = _layer(trace.root, "conv1")
    assert stem.op == "conv2d"
    assert (stem.attrs["channels"], stem.attrs["kernel"], stem.attrs["stride"]) == (64, 7, 2)
    assert stem.attrs["padding"] == 3 and stem.shape == (1, 64, 112, 112)
    block = _scope(_scope(trace.root, "layer2"), "0")
    first = _layer(block, "conv1")
    assert (first.op, first.attrs["channels"], first.attrs["kernel"], first.attrs["stride"]) == (
        "conv2d",
        128,
        3,
        2,
    )
    assert first.inputs and isinstance(first.inputs[0], Layer)
    down = _layer(_scope(block, "downsample"), "0")
    assert (down.attrs["channels"], down.attrs["kernel"], down.attrs["stride"]) == (128, 1, 2)
    assert _layer(block, "add").op == "add"
    pool = _layer(trace.root, "avgpool")
    assert (pool.op, pool.attrs, pool.shape) == ("adaptive_avgpool2d", {"size": [1, 1]}, (1, 512, 1, 1))
    fc = _layer(trace.root, "fc")
    assert (fc.op, fc.attrs["units"], fc.params) == ("dense", 1000, 513000)
    assert trace.outputs == [fc]
    assert FOLDED_NOTE in trace.notes
    assert sum(1 for layer in trace.layers() if layer.op == "conv2d") == 20


def test_resnet18_torchscript_scopes(exports: dict[tuple[str, str], tuple[Path, Any]]) -> None:
    trace, _ = _read(exports, "resnet18", "torchscript")
    assert trace.root.kind == "Model"
    for stage in ("layer1", "layer2", "layer3", "layer4"):
        blocks = [s for s in _scope(trace.root, stage).items if isinstance(s, Scope)]
        assert [b.path for b in blocks] == [f"{stage}.0", f"{stage}.1"]
        # this exporter records no classes: the items of one list are taken to be of one kind
        assert all(not b.generic and b.kind == "layer" for b in blocks)
        assert [i.name for i in blocks[1].items] == ["conv1", "relu", "conv2", "add", "relu_1"]


@pytest.mark.parametrize("exporter", EXPORTERS)
def test_mlp(exports: dict[tuple[str, str], tuple[Path, Any]], exporter: str) -> None:
    trace, _ = _read(exports, "mlp", exporter)
    layers = trace.layers()
    assert [(x.op, x.shape) for x in layers] == [
        ("dense", (3, 32)),
        ("relu", (3, 32)),
        ("dense", (3, 4)),
        ("softmax", (3, 4)),
    ]  # dropout is gone from an eval-mode export
    assert [x.params for x in layers] == [672, 0, 132, 0]
    assert layers[0].inputs == trace.inputs and trace.inputs[0].shape == (3, 20)
    assert FOLDED_NOTE not in trace.notes


@pytest.mark.parametrize("exporter", EXPORTERS)
def test_lstm_tagger(exports: dict[tuple[str, str], tuple[Path, Any]], exporter: str) -> None:
    trace, _ = _read(exports, "tagger", exporter)
    emb, lstm, out = trace.layers()
    assert (emb.name, emb.op, emb.attrs, emb.shape) == (
        "emb",
        "embedding",
        {"vocab": 100, "dim": 16},
        (2, 7, 16),
    )
    assert trace.inputs[0].integer and emb.inputs == trace.inputs
    assert (lstm.name, lstm.op, lstm.shape, lstm.inputs) == ("lstm", "lstm", (2, 7, 64), [emb])
    assert lstm.attrs == {"units": 32, "bidirectional": True, "batch_first": True}
    assert lstm.params == 2 * (4 * 32 * (16 + 32) + 8 * 32)
    assert (out.op, out.attrs, out.shape, out.inputs) == (
        "dense",
        {"units": 5, "bias": True},
        (2, 7, 5),
        [lstm],
    )
    assert trace.custom() == {}


def test_model_proto_and_name(exports: dict[tuple[str, str], tuple[Path, Any]]) -> None:
    path, _ = exports["mlp", "torchscript"]
    trace = trace_onnx(onnx.load(str(path)), name="Small MLP")
    assert trace.name == "Small MLP" and trace.params == 804
    assert trace_onnx(path).name == "mlp_torchscript"


@pytest.mark.parametrize("text", [b"not a model at all\n", b"\x08\x07\xff\xff\xff"])
def test_not_onnx(tmp_path: Path, text: bytes) -> None:
    bad = tmp_path / "broken.onnx"
    bad.write_bytes(text)
    with pytest.raises(ArchdrawError, match=r"broken\.onnx"):
        trace_onnx(bad)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ArchdrawError, match=r"absent\.onnx"):
        trace_onnx(tmp_path / "absent.onnx")


def test_without_onnx(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(ArchdrawError, match=r"needs the 'onnx' extra: pip install 'archdraw-nn\[onnx\]'"):
        trace_onnx(tmp_path / "model.onnx")
