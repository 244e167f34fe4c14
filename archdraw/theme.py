"""Themes: the colours, fonts and line styles of the visual grammar, kept apart from drawing code."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from .ir import EdgeKind, OpFamily

__all__ = ["THEMES", "Theme"]


@dataclass(frozen=True, slots=True)
class Theme:
    """Everything a renderer needs to know about colour and line style."""

    name: str
    font: str
    background: str
    text: str
    muted: str
    edge: str
    cluster: str
    cluster_fill: str
    families: Mapping[OpFamily, tuple[str, str]]  # fill, border
    edges: Mapping[EdgeKind, Mapping[str, str]]  # Graphviz edge attributes per kind
    state: tuple[str, str]
    output: tuple[str, str]
    bottleneck: str  # border colour of a bottleneck node
    bottleneck_width: str  # its pen width
    fixed: str  # border colour of a node with fixed (untrained) weights
    fixed_style: str  # Graphviz style added to such a node: "bold", or "dotted"
    fixed_width: str | None  # its pen width; None keeps the node default
    legend_fill: str  # fill of the node-mark swatches in the legend
    #: draw data attended over as a double line: where colour cannot tell it from data flow
    double_reads: bool = False


_GREY = ("#f2f2f2", "#707070")

DEFAULT: Final = Theme(
    name="default",
    # Arial: graphviz-pure draws it with its metric twin Arimo, and Debian's dot through
    # fontconfig with Liberation Sans, so both engines measure the same widths.
    font="Arial",
    background="white",
    text="#222222",
    muted="#666666",
    edge="#555555",
    cluster="#9e9e9e",
    cluster_fill="#fbfbfb",
    families=MappingProxyType(
        {
            OpFamily.INPUT: ("#e8f0fb", "#4a7bbd"),
            OpFamily.CONVOLUTION: ("#e3f2fd", "#1e6fb8"),
            OpFamily.POOLING: ("#e0f2f1", "#2e8b7d"),
            OpFamily.DENSE: ("#fff5d6", "#b8962e"),
            OpFamily.RECURRENT: ("#fde9dc", "#c8643a"),
            OpFamily.NORMALIZATION: ("#ede7f6", "#7e6bb0"),
            OpFamily.ACTIVATION: _GREY,
            OpFamily.REGULARIZATION: _GREY,
            OpFamily.MERGE: _GREY,
            OpFamily.RESHAPE: _GREY,
            OpFamily.ATTENTION: ("#fce4ec", "#b0406a"),
            OpFamily.MEMORY: ("#efe6da", "#8d6e4f"),
            # Not green: an embedding table or a learned tensor is no output.
            OpFamily.EMBEDDING: ("#f3e5f5", "#8e24aa"),
            OpFamily.SAMPLING: ("#fffde7", "#a39e3a"),
            OpFamily.GRADIENT: ("#ffebee", "#c0392b"),
            OpFamily.LOSS: ("#fdecea", "#b23b3b"),
            OpFamily.CUSTOM: ("#ffffff", "#555555"),
        }
    ),
    edges=MappingProxyType(
        {
            EdgeKind.DATA: MappingProxyType({"color": "#555555"}),
            EdgeKind.SKIP: MappingProxyType(
                {"color": "#7b4fb0", "style": "dashed", "penwidth": "1.6", "fontcolor": "#7b4fb0"}
            ),
            EdgeKind.RECURRENT: MappingProxyType(
                {"color": "#d0602a", "penwidth": "2", "fontcolor": "#d0602a", "constraint": "false"}
            ),
            EdgeKind.GRADIENT: MappingProxyType(
                {
                    "color": "#c0392b",
                    "style": "dotted",
                    "penwidth": "2",
                    "fontcolor": "#c0392b",
                    "dir": "back",
                    "arrowtail": "normal",
                }
            ),
            EdgeKind.UNDIRECTED: MappingProxyType(
                {"color": "#00796b", "penwidth": "1.6", "dir": "none", "fontcolor": "#00796b"}
            ),
            EdgeKind.TIED: MappingProxyType(
                {
                    "color": "#8d6e63",
                    "style": "dashed",
                    "penwidth": "1.4",
                    "fontcolor": "#6d4c41",
                    "dir": "both",
                    "arrowhead": "tee",
                    "arrowtail": "tee",
                    "constraint": "false",
                }
            ),
        }
    ),
    state=("#fdece3", "#d0602a"),
    output=("#e8f5e9", "#4c9a4c"),
    bottleneck="#7b4fb0",
    bottleneck_width="2.2",
    fixed="#8a8a8a",
    fixed_style="bold",
    fixed_width="2.2",  # "bold" alone is overridden by the nodes' pen width in SVG
    legend_fill="white",
)

# Paper: black, white and greys only, so a greyscale print loses nothing. Edge kinds differ by
# line style and width, node families by grey level and shape, marks by border width and style.
_PAPER_SMALL = ("#f7f7f7", "#404040")

PAPER: Final = Theme(
    name="paper",
    font="Arial",
    background="#ffffff",
    text="#000000",
    muted="#404040",
    edge="#000000",
    cluster="#808080",
    cluster_fill="#f7f7f7",
    families=MappingProxyType(
        {
            OpFamily.INPUT: ("#ffffff", "#000000"),
            OpFamily.CONVOLUTION: ("#d6d6d6", "#000000"),
            OpFamily.POOLING: ("#f0f0f0", "#000000"),
            OpFamily.DENSE: ("#c2c2c2", "#000000"),
            OpFamily.RECURRENT: ("#adadad", "#000000"),
            OpFamily.NORMALIZATION: ("#e6e6e6", "#000000"),
            OpFamily.ACTIVATION: _PAPER_SMALL,
            OpFamily.REGULARIZATION: _PAPER_SMALL,
            OpFamily.MERGE: _PAPER_SMALL,
            OpFamily.RESHAPE: _PAPER_SMALL,
            OpFamily.ATTENTION: ("#b3b3b3", "#000000"),
            OpFamily.MEMORY: ("#d0d0d0", "#000000"),
            OpFamily.EMBEDDING: ("#ebebeb", "#000000"),
            OpFamily.SAMPLING: ("#ffffff", "#000000"),
            OpFamily.GRADIENT: ("#bdbdbd", "#000000"),
            OpFamily.LOSS: ("#a3a3a3", "#000000"),
            OpFamily.CUSTOM: ("#ffffff", "#404040"),
        }
    ),
    edges=MappingProxyType(
        {
            EdgeKind.DATA: MappingProxyType({"color": "#000000"}),
            EdgeKind.SKIP: MappingProxyType(
                {"color": "#000000", "style": "dashed", "penwidth": "1.2", "fontcolor": "#404040"}
            ),
            EdgeKind.RECURRENT: MappingProxyType(
                {"color": "#000000", "penwidth": "2.8", "fontcolor": "#000000", "constraint": "false"}
            ),
            EdgeKind.GRADIENT: MappingProxyType(
                {
                    "color": "#000000",
                    "style": "dotted",
                    "penwidth": "2",
                    "fontcolor": "#404040",
                    "dir": "back",
                    "arrowtail": "empty",
                }
            ),
            EdgeKind.UNDIRECTED: MappingProxyType(
                {"color": "#000000", "penwidth": "1.6", "dir": "none", "fontcolor": "#404040"}
            ),
            EdgeKind.TIED: MappingProxyType(
                {
                    "color": "#000000",
                    "style": "dashed",
                    "penwidth": "2",  # a skip is dashed and thin: in greyscale, width tells them apart
                    "fontcolor": "#404040",
                    "dir": "both",
                    "arrowhead": "tee",
                    "arrowtail": "tee",
                    "constraint": "false",
                }
            ),
        }
    ),
    state=("#ffffff", "#000000"),
    output=("#ffffff", "#000000"),
    bottleneck="#000000",
    bottleneck_width="3.4",
    fixed="#000000",
    fixed_style="dotted",
    fixed_width="2.4",
    legend_fill="#ffffff",
    double_reads=True,
)

# Dark: muted dark tints for fills, bright borders and edges, light text.
_DARK_GREY = ("#2d2d2d", "#9e9e9e")

DARK: Final = Theme(
    name="dark",
    font="Arial",
    background="#1e1e1e",
    text="#e8e8e8",
    muted="#a8a8a8",
    edge="#b8b8b8",
    cluster="#6a6a6a",
    cluster_fill="#262626",
    families=MappingProxyType(
        {
            OpFamily.INPUT: ("#1d2a3d", "#82b1ff"),
            OpFamily.CONVOLUTION: ("#15314a", "#4fb3ff"),
            OpFamily.POOLING: ("#14332e", "#4dd0b8"),
            OpFamily.DENSE: ("#3a3117", "#f2c94c"),
            OpFamily.RECURRENT: ("#3f2416", "#ff8a50"),
            OpFamily.NORMALIZATION: ("#2b2540", "#b39ddb"),
            OpFamily.ACTIVATION: _DARK_GREY,
            OpFamily.REGULARIZATION: _DARK_GREY,
            OpFamily.MERGE: _DARK_GREY,
            OpFamily.RESHAPE: _DARK_GREY,
            OpFamily.ATTENTION: ("#3d1e2b", "#f48fb1"),
            OpFamily.MEMORY: ("#33291e", "#d7b48a"),
            OpFamily.EMBEDDING: ("#24321a", "#a5d66f"),
            OpFamily.SAMPLING: ("#35341a", "#e6dc6e"),
            OpFamily.GRADIENT: ("#3f1c1c", "#ff6b6b"),
            OpFamily.LOSS: ("#3b1d1d", "#f08080"),
            OpFamily.CUSTOM: ("#262626", "#bdbdbd"),
        }
    ),
    edges=MappingProxyType(
        {
            EdgeKind.DATA: MappingProxyType({"color": "#b8b8b8"}),
            EdgeKind.SKIP: MappingProxyType(
                {"color": "#c792ea", "style": "dashed", "penwidth": "1.6", "fontcolor": "#c792ea"}
            ),
            EdgeKind.RECURRENT: MappingProxyType(
                {"color": "#ff8a50", "penwidth": "2", "fontcolor": "#ff8a50", "constraint": "false"}
            ),
            EdgeKind.GRADIENT: MappingProxyType(
                {
                    "color": "#ff6b6b",
                    "style": "dotted",
                    "penwidth": "2",
                    "fontcolor": "#ff6b6b",
                    "dir": "back",
                    "arrowtail": "normal",
                }
            ),
            EdgeKind.UNDIRECTED: MappingProxyType(
                {"color": "#4dd0b8", "penwidth": "1.6", "dir": "none", "fontcolor": "#4dd0b8"}
            ),
            EdgeKind.TIED: MappingProxyType(
                {
                    "color": "#bcaaa4",
                    "style": "dashed",
                    "penwidth": "1.4",
                    "fontcolor": "#bcaaa4",
                    "dir": "both",
                    "arrowhead": "tee",
                    "arrowtail": "tee",
                    "constraint": "false",
                }
            ),
        }
    ),
    state=("#3f2416", "#ff8a50"),
    output=("#1b3320", "#7bd389"),
    bottleneck="#c792ea",
    bottleneck_width="2.2",
    fixed="#9e9e9e",
    fixed_style="bold",
    fixed_width="2.2",  # "bold" alone is overridden by the nodes' pen width in SVG
    legend_fill="#2d2d2d",
)

# Colour-blind safe: the Okabe–Ito palette (Okabe & Ito 2008) for edge kinds and family
# borders, light tints of it for fills; neutral greys where the default is grey.
_OI_ORANGE = "#E69F00"
_OI_SKY = "#56B4E9"
_OI_GREEN = "#009E73"
_OI_YELLOW = "#F0E442"
_OI_BLUE = "#0072B2"
_OI_VERMILLION = "#D55E00"
_OI_PURPLE = "#CC79A7"
_OI_BLACK = "#000000"

COLORBLIND: Final = Theme(
    name="colorblind",
    font="Arial",
    background="white",
    text="#222222",
    muted="#666666",
    edge="#555555",
    cluster="#9e9e9e",
    cluster_fill="#fbfbfb",
    families=MappingProxyType(
        {
            OpFamily.INPUT: ("#e0edf6", _OI_BLUE),
            OpFamily.CONVOLUTION: ("#e4f3fb", _OI_SKY),
            OpFamily.POOLING: ("#ddf2ec", _OI_GREEN),
            OpFamily.DENSE: ("#fcf0d4", _OI_ORANGE),
            OpFamily.RECURRENT: ("#f9e5d6", _OI_VERMILLION),
            OpFamily.NORMALIZATION: ("#f7e9f1", _OI_PURPLE),
            OpFamily.ACTIVATION: _GREY,
            OpFamily.REGULARIZATION: _GREY,
            OpFamily.MERGE: _GREY,
            OpFamily.RESHAPE: _GREY,
            OpFamily.ATTENTION: ("#fcf9d6", _OI_BLACK),
            OpFamily.MEMORY: ("#e4f3fb", _OI_BLUE),
            OpFamily.EMBEDDING: ("#ddf2ec", _OI_BLACK),
            OpFamily.SAMPLING: ("#fcf9d6", _OI_ORANGE),
            OpFamily.GRADIENT: ("#f7e9f1", _OI_PURPLE),
            OpFamily.LOSS: ("#f9e5d6", _OI_BLACK),
            OpFamily.CUSTOM: ("#ffffff", "#555555"),
        }
    ),
    edges=MappingProxyType(
        {
            EdgeKind.DATA: MappingProxyType({"color": "#555555"}),
            EdgeKind.SKIP: MappingProxyType(
                {"color": _OI_BLUE, "style": "dashed", "penwidth": "1.6", "fontcolor": _OI_BLUE}
            ),
            EdgeKind.RECURRENT: MappingProxyType(
                {"color": _OI_VERMILLION, "penwidth": "2", "fontcolor": _OI_VERMILLION, "constraint": "false"}
            ),
            EdgeKind.GRADIENT: MappingProxyType(
                {
                    # Okabe–Ito's reddish purple is too pale for a dotted line on white (2.9:1);
                    # black dotted, against grey data edges, reads at 21:1.
                    "color": _OI_BLACK,
                    "style": "dotted",
                    "penwidth": "2",
                    "fontcolor": _OI_BLACK,
                    "dir": "back",
                    "arrowtail": "normal",
                }
            ),
            EdgeKind.UNDIRECTED: MappingProxyType(
                {"color": _OI_GREEN, "penwidth": "1.6", "dir": "none", "fontcolor": _OI_GREEN}
            ),
            EdgeKind.TIED: MappingProxyType(
                {
                    "color": _OI_BLACK,
                    "style": "dashed",
                    "penwidth": "1.4",
                    "fontcolor": _OI_BLACK,
                    "dir": "both",
                    "arrowhead": "tee",
                    "arrowtail": "tee",
                    "constraint": "false",
                }
            ),
        }
    ),
    state=("#f9e5d6", _OI_VERMILLION),
    output=("#ddf2ec", _OI_GREEN),
    bottleneck=_OI_PURPLE,
    bottleneck_width="2.2",
    fixed="#8a8a8a",
    fixed_style="bold",
    fixed_width="2.2",  # "bold" alone is overridden by the nodes' pen width in SVG
    legend_fill="white",
)

THEMES: Final[Mapping[str, Theme]] = MappingProxyType(
    {"default": DEFAULT, "paper": PAPER, "dark": DARK, "colorblind": COLORBLIND}
)
