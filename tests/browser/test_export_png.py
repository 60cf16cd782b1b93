"""PNG export: the whole lab picture (the MLP's network beside its plots), at least twice the
screen's resolution, without blank bands."""

from __future__ import annotations

import base64
import struct
from pathlib import Path

import pytest

from app.labs import BY_SLUG
from tests.browser.conftest import ARTIFACTS, ROOT
from tests.browser.labpage import wait_for_lab

LABS = [lab for lab in BY_SLUG if (ROOT / "templates" / "labs" / f"{lab}.html").exists()]

# The longest band of rows that are white from edge to edge, and the share of the image's left
# third that is neither white nor near-white (the MLP's network lives there).
LOOK = """async (data) => {
  const img = new Image(); img.src = "data:image/png;base64," + data; await img.decode();
  const c = document.createElement("canvas"); c.width = img.width; c.height = img.height;
  const ctx = c.getContext("2d"); ctx.drawImage(img, 0, 0);
  const d = ctx.getImageData(0, 0, c.width, c.height).data;
  const white = (i) => d[i] > 245 && d[i + 1] > 245 && d[i + 2] > 245;
  let band = 0, run = 0, inked = 0;
  for (let y = 0; y < c.height; y++) {
    let all = true;
    for (let x = 0; x < c.width; x += 2) if (!white(4 * (y * c.width + x))) { all = false; break; }
    run = all ? run + 1 : 0;
    band = Math.max(band, run);
  }
  for (let y = 0; y < c.height; y += 3) {
    for (let x = 0; x < c.width / 3; x += 3) if (!white(4 * (y * c.width + x))) inked++;
  }
  return {band, leftInk: inked / ((c.height / 3) * (c.width / 9))};
}"""


def export_png(page, lab: str) -> bytes:
    with page.expect_download() as download:
        page.click('[data-action="export-png"]')
    data = Path(download.value.path()).read_bytes()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"export-{lab}.png").write_bytes(data)
    return data


@pytest.mark.parametrize("lab", LABS)
def test_png_export_is_the_whole_picture_at_twice_the_resolution(page, server, lab):
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{server}/labs/{lab}")
    wait_for_lab(page)
    page.keyboard.press("ArrowRight")
    page.wait_for_timeout(500)
    data = export_png(page, lab)
    assert data[:4] == bytes([0x89]) + b"PNG"
    width, height = struct.unpack(">II", data[16:24])
    picture = page.locator("[data-main-picture]").bounding_box()
    assert width >= 2 * picture["width"], f"{width}px wide for a {picture['width']}px picture"
    assert height >= 2 * picture["height"], f"{height}px tall for a {picture['height']}px picture"
    look = page.evaluate(LOOK, base64.b64encode(data).decode())
    assert look["band"] <= 0.05 * height, f"a blank band of {look['band']} rows in {height}"
    if lab == "mlp":
        net, out = page.locator("#mlp-network").bounding_box(), page.locator("#mlp-output").bounding_box()
        assert width >= 2 * (net["width"] + out["width"]), "the network is not in the picture"
        assert look["leftInk"] > 0.05, "the network's part of the image is empty"
