"""``style: {rise: LAYER}``: U-Net drawn as its U (Ronneberger et al. 2015, Figure 1).

The contracting path runs down, the expansive path after the named layer rises back up beside
it, and each copy-and-crop skip runs across, level, from a layer on the way down to the join
at its level on the way up.
"""

from __future__ import annotations

import pytest

import archdraw
from archdraw.errors import SpecError

from .conftest import ROOT, node_centres, require_engine

LEVELS = {1: "enc1.conv2d_2", 2: "enc2.conv2d_2", 3: "enc3.conv2d_2", 4: "enc4.conv2d_2"}


@pytest.mark.parametrize("engine", ["dot", "bundled"])
def test_unet_is_drawn_as_a_u(engine: str) -> None:
    require_engine(engine)
    model = archdraw.load(ROOT / "specs" / "unet.yaml")
    at = node_centres(model.to_svg(engine=engine))
    for level, down in LEVELS.items():
        # The skip runs across: the encoder's last layer, its crop and the join stand level,
        # the join to the right of the way down.
        ys = {at[n][1] for n in (down, f"up{level}.crop", f"up{level}.cat")}
        assert max(ys) - min(ys) < 1, (level, ys)
        assert at[f"up{level}.cat"][0] > at[down][0]
    # Down on the left, then up on the right: each level of the way up above the one below.
    ups = [at[f"dec{level}.conv2d_2"][1] for level in (4, 3, 2, 1)]
    assert ups == sorted(ups, reverse=True)
    assert at["segmentation"][1] < at["bottom.conv2d_2"][1]
    assert at["segmentation"][1] < at[LEVELS[1]][1]  # the output map at the top, as in Figure 1


def test_without_rise_the_way_up_continues_down() -> None:
    text = (ROOT / "specs" / "unet.yaml").read_text(encoding="utf-8").replace("style: {rise: bottom}\n", "")
    at = node_centres(archdraw.load(text).to_svg())
    assert at["segmentation"][1] > at["bottom.conv2d_2"][1]


def test_rise_names_a_layer() -> None:
    text = (ROOT / "specs" / "unet.yaml").read_text(encoding="utf-8").replace("rise: bottom", "rise: botom")
    with pytest.raises(SpecError, match=r"unknown layer 'botom' \(did you mean 'bottom'\?\)"):
        archdraw.analyze(archdraw.loads(text))
