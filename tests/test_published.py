"""Parameter and MAC counts that fall out of shape inference, against published figures.

Sources:
- torchvision model documentation ("Num params", "GFLOPS" per model; its GFLOPS are
  multiply-accumulates of convolution and linear layers): AlexNet 61,100,840; VGG-16
  138,357,544 and 15.47; VGG-19 143,667,240; ResNet-18 11,689,512; ResNet-34 21,797,672;
  ResNet-50 25,557,032 and 4.09; GoogLeNet 6,624,904. https://pytorch.org/vision/stable/models.html
- The same documentation for the modern family: MobileNetV2 3,504,872 and 0.30 GFLOPS;
  EfficientNet-B0 5,288,548 and 0.39; ConvNeXt-T 28,589,128 and 4.46; ViT-B/16 86,567,656 and
  17.56 (mobilenet_v2, efficientnet_b0, convnext_tiny, vit_b_16).
- BERT-base: Hugging Face's `BertModel(BertConfig())` (bert-base-uncased: 30,522 WordPieces,
  512 positions, 2 segments, 12 layers of 768, pooler included) holds 109,482,240 parameters.
- The Transformer (base, Vaswani et al. 2017, Table 3: "65M", rounded, for a vocabulary of
  about 37,000 shared BPE tokens): PyTorch's `nn.Transformer(512, 8, 6, 6, 2048)` holds
  44,140,544 parameters, of which 2 × 1,024 are the final LayerNorms the paper's post-norm model
  does not have; the one shared embedding and pre-softmax matrix is 37,000 × 512.
- U-Net (Ronneberger et al. 2015, Figure 1): no total is published; it is computed below from
  the figure's layers (3×3 convolutions with biases, 2×2 up-convolutions, a 1×1 output).
- VGG-16's exact 15,470,264,320 MACs and ResNet-50's 4,089,184,256 are the sums over those
  layers at 224×224, as counted by ptflops/fvcore for the torchvision models.
- LeNet-5 with full connections (6 and 16 maps, 120-84-10 dense): 61,706, as in
  Dive into Deep Learning, "Convolutional Neural Networks (LeNet)". https://d2l.ai
- ResNet-50 stage outputs 56×56×256, 28×28×512, 14×14×1024, 7×7×2048: the paper's Table 1.
- Keras' ResNet50 (keras.applications, convolutions with biases, batch norm counting its moving
  mean and variance): `model.summary()` prints "Total params: 25,636,712", "Trainable params:
  25,583,592", "Non-trainable params: 53,120". https://keras.io/api/applications/resnet/
- LSTM, input 128, hidden 256: PyTorch's nn.LSTM holds weight_ih (4H×F), weight_hh (4H×H),
  bias_ih and bias_hh (4H each): 395,264; Keras's LSTM has one bias (4H): 394,240.
"""

from __future__ import annotations

import itertools
import subprocess
import sys
from pathlib import Path

import pytest

import archdraw
from archdraw.ir import Graph
from archdraw.sizes import value

from .conftest import ROOT


def analysed(name: str) -> Graph:
    return archdraw.load(ROOT / "specs" / f"{name}.yaml").graph


def totals(graph: Graph) -> tuple[int, int]:
    return sum(n.params or 0 for n in graph.nodes), sum(n.macs or 0 for n in graph.nodes)


@pytest.mark.parametrize(
    ("spec", "params"),
    [
        ("lenet5", 61_706),
        ("alexnet", 61_100_840),
        ("vgg16", 138_357_544),
        ("vgg19", 143_667_240),
        ("resnet18", 11_689_512),
        ("resnet34", 21_797_672),
        ("resnet50", 25_557_032),
        ("googlenet", 6_624_904),
        ("mobilenet_v2", 3_504_872),
        ("efficientnet_b0", 5_288_548),
        ("convnext_tiny", 28_589_128),
        ("vit_b16", 86_567_656),
        ("bert_base", 109_482_240),
    ],
)
def test_parameter_counts(spec: str, params: int) -> None:
    assert totals(analysed(spec))[0] == params


@pytest.mark.parametrize(("spec", "macs"), [("vgg16", 15_470_264_320), ("resnet50", 4_089_184_256)])
def test_mac_counts(spec: str, macs: int) -> None:
    assert totals(analysed(spec))[1] == macs


@pytest.mark.parametrize(
    ("spec", "gflops"),
    [("mobilenet_v2", 0.30), ("efficientnet_b0", 0.39), ("convnext_tiny", 4.46), ("vit_b16", 17.56)],
)
def test_mac_counts_round_to_torchvisions(spec: str, gflops: float) -> None:
    assert round(totals(analysed(spec))[1] / 1e9, 2) == gflops


def test_the_transformer_base_shares_one_matrix_three_ways() -> None:
    graph = analysed("transformer")
    torch_layers = 44_140_544 - 2 * 1024  # nn.Transformer, less its final LayerNorms
    dims = {d.name: d.size for d in graph.dims}
    shared = dims["V"] * dims["D"]
    assert totals(graph)[0] == torch_layers + shared
    # Untied, each embedding and the projection would hold a matrix of their own.
    text = (ROOT / "specs" / "transformer.yaml").read_text(encoding="utf-8")
    untied = archdraw.analyze(archdraw.loads(text.replace(", tied: src_embed", "")))
    assert totals(untied)[0] - totals(graph)[0] == 2 * shared == 37_888_000


def test_unet_counts_the_layers_of_its_figure() -> None:
    def conv(k: int, cin: int, cout: int) -> int:
        return k * k * cin * cout + cout

    widths = [64, 128, 256, 512, 1024]
    expected = conv(3, 1, 64) + conv(3, 64, 64)
    for cin, cout in itertools.pairwise(widths):  # down: two 3×3 convolutions a level
        expected += conv(3, cin, cout) + conv(3, cout, cout)
    for cin, cout in itertools.pairwise(widths[::-1]):  # up: up-conv, then two 3×3
        expected += conv(2, cin, cout) + conv(3, 2 * cout, cout) + conv(3, cout, cout)
    expected += conv(1, 64, 2)
    graph = analysed("unet")
    assert totals(graph)[0] == expected
    assert [value(s) for s in graph.node("segmentation").shape or ()] == [1, 2, 388, 388]


def test_resnet50_stage_outputs() -> None:
    graph = analysed("resnet50")
    # The last block of each stage ends in its ReLU, 'out'.
    stages = {"conv2.3": (256, 56), "conv3.4": (512, 28), "conv4.6": (1024, 14), "conv5.3": (2048, 7)}
    for stage, (channels, side) in stages.items():
        shape = graph.node(f"{stage}.out").shape
        assert shape is not None
        assert [value(s) for s in shape[1:]] == [channels, side, side]


def test_info_json_reports_the_totals() -> None:
    info = archdraw.to_info(analysed("resnet50"))
    assert (info["params"], info["macs"]) == (25_557_032, 4_089_184_256)


def test_keras_resnet50_counts_moving_statistics_as_non_trainable(tmp_path: Path) -> None:
    text = (ROOT / "specs" / "resnet50.yaml").read_text(encoding="utf-8")
    keras = text.replace("bias: false}, batchnorm]", "bias: true}, {op: batchnorm, convention: keras}]")
    assert keras != text
    info = archdraw.to_info(archdraw.analyze(archdraw.loads(keras)))
    assert (info["params"], info["trainable_params"], info["non_trainable_params"]) == (
        25_636_712,
        25_583_592,
        53_120,
    )
    spec = tmp_path / "keras_resnet50.yaml"
    spec.write_text(keras, encoding="utf-8")
    shown = subprocess.run(
        [sys.executable, "-m", "archdraw", "info", str(spec)], capture_output=True, text=True, check=True
    ).stdout
    assert "parameters: 25,636,712 (25,583,592 trainable, 53,120 moving statistics)" in shown
    drawn = subprocess.run(
        [sys.executable, "-m", "archdraw", "render", str(spec), "-f", "dot", "-o", "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "53,120 of them moving statistics" in drawn


def test_the_pytorch_count_is_the_default() -> None:
    info = archdraw.to_info(analysed("resnet50"))
    assert (info["trainable_params"], info["non_trainable_params"]) == (25_557_032, 0)


LSTM = """archdraw: 1
name: one LSTM layer
dims: {{N: 1, T: 20}}
inputs:
  x: [N, T, 128]
layers:
  - {{op: lstm, units: 256{extra}}}
"""


@pytest.mark.parametrize(("extra", "params"), [("", 395_264), (", convention: keras", 394_240)])
def test_lstm_layer_conventions(extra: str, params: int) -> None:
    graph = archdraw.analyze(archdraw.loads(LSTM.format(extra=extra)))
    assert graph.node("lstm_1").params == params
    assert [str(s) for s in graph.node("lstm_1").shape or ()] == ["N", "T", "256"]


def test_shared_repeats_count_weights_once(tmp_path: Path) -> None:
    # A deeply-recursive network applies one convolution several times: one set of weights.
    spec = """archdraw: 1
name: recursion
dims: {N: 1}
inputs:
  x: [N, 64, 8, 8]
layers:
  - {op: conv2d, channels: 64, kernel: 3, padding: 1, repeat: 4, shared: SHARED}
"""
    shared = archdraw.analyze(archdraw.loads(spec.replace("SHARED", "true")))
    distinct = archdraw.analyze(archdraw.loads(spec.replace("SHARED", "false")))
    one = 64 * 64 * 9 + 64
    assert totals(shared)[0] == one
    assert totals(distinct)[0] == 4 * one
    assert totals(shared)[1] == totals(distinct)[1]  # the work is done four times either way
