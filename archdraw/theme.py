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
    bottleneck: str
    fixed: str


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
            OpFamily.EMBEDDING: ("#f1f8e9", "#689f38"),
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
        }
    ),
    state=("#fdece3", "#d0602a"),
    output=("#e8f5e9", "#4c9a4c"),
    bottleneck="#7b4fb0",
    fixed="#8a8a8a",
)

THEMES: Final[Mapping[str, Theme]] = MappingProxyType({"default": DEFAULT})
