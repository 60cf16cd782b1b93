"""What the canvases draw, checked in their pixels: decision boundaries at display resolution
(no staircase, no blocks), the zero plane unshaded, charts with readable ticks and a legend."""

from __future__ import annotations

import json

from playwright.sync_api import expect

from tests.browser.conftest import shot
from tests.browser.labpage import lab_call, wait_for_lab

# Pixels of a canvas classified by their shade: 1 blue-ish, -1 orange-ish, 0 white or grey
# (within `tint` of neutral), None anything else (points, lines, text).
CLASSIFY = """(sel) => {
  const c = document.querySelector(sel);
  const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
  const out = new Int8Array(c.width * c.height);
  for (let i = 0; i < out.length; i++) {
    const [r, g, b] = [d[4 * i], d[4 * i + 1], d[4 * i + 2]];
    const grey = Math.max(r, g, b) - Math.min(r, g, b) < 6;
    out[i] = b - r > 12 && b > 150 ? 1 : r - b > 12 && r > 150 ? -1 : grey ? 0 : 9;
  }
  return {w: c.width, h: c.height, cls: Array.from(out)};
}"""


def test_perceptron_boundary_with_x1x2_is_a_smooth_curve(page, server):
    page.goto(f"{server}/labs/perceptron?dataset=gate_xor&features=x1,x2,x1x2&lr=1")
    wait_for_lab(page)
    for _ in range(12):
        page.click("#pc-epoch")
        page.wait_for_timeout(120)
    expect(page.locator("#pc-verdict")).to_contain_text("converged")
    frame = lab_call(page, "exportState")["frame"]
    w1, w2, w3 = frame["w"]
    b = frame["b"]
    lo, hi = -0.5, 1.5
    px = page.evaluate(CLASSIFY, "#pc-canvas")
    shot(page, "drawing-perceptron-x1x2")
    n, s = px["w"], (hi - lo) / px["w"]
    near = wrong = 0
    for y in range(0, n, 2):
        for x in range(0, n, 2):
            c = px["cls"][y * n + x]
            if c not in (1, -1):
                continue
            x1, x2 = lo + (x + 0.5) * s, hi - (y + 0.5) * s
            score = w1 * x1 + w2 * x2 + w3 * x1 * x2 + b
            grad = ((w1 + w3 * x2) ** 2 + (w2 + w3 * x1) ** 2) ** 0.5 or 1e-9
            if abs(score) / grad / s > 8:  # more than 8 px from the boundary
                continue
            near += 1
            wrong += (score > 0) != (c > 0)
    assert near > 200, "no shaded pixels near the boundary"
    assert wrong / near < 0.06, f"{wrong} of {near} pixels near the boundary are shaded on the wrong side"


def test_zero_weights_leave_the_plane_unshaded(page, server):
    page.goto(f"{server}/labs/perceptron?dataset=gate_and&init=zeros")
    wait_for_lab(page)
    px = page.evaluate(CLASSIFY, "#pc-canvas")
    shaded = sum(1 for c in px["cls"] if c in (1, -1))
    # the four points are blue and orange; the plane around them is white: sign(0) = 0
    assert shaded < 0.05 * len(px["cls"]), f"{shaded} shaded pixels at zero weights"


def test_mlp_discretized_boundary_is_not_blocky(page, server):
    page.set_viewport_size({"width": 1200, "height": 900})  # a projector's embed: big cells if blocky
    # Two points in far corners (out of the way of the pixels read): the boundary runs between them.
    points = "[[-5.6,5.6,1],[5.6,-5.6,-1],[-5.6,5.2,1],[5.6,-5.2,-1]]"
    page.goto(f"{server}/embed/mlp?points={points}&train_percent=90&discretize=1&seed=2&hide=toolbar")
    wait_for_lab(page)
    for _ in range(25):
        page.click("#mlp-step")
    page.wait_for_function("() => +document.querySelector('#mlp-epoch').textContent.replace(/,/g, '') >= 25")
    page.wait_for_timeout(300)
    geom = json.loads(page.get_attribute("#mlp-output", "data-plot"))
    cell = geom["side"] / geom["res"]
    assert cell >= 6, f"grid cells of {cell:.1f}px"
    shot(page, "drawing-mlp-discretized")
    x0, y0, side = (round(geom[k]) for k in ("x0", "y0", "side"))
    # Where each row turns from blue to orange: blue − red crosses 0 (interpolated between pixels).
    crossings = page.evaluate("""([x0, y0, side]) => {
        const c = document.querySelector("#mlp-output");
        const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
        const out = [];
        for (let y = y0 + Math.round(side / 8); y < y0 + side - side / 8; y++) {
          let prev = null;
          for (let x = x0 + Math.round(side / 8); x < x0 + side - side / 8; x++) {
            const k = 4 * (y * c.width + x), t = d[k + 2] - d[k];
            if (prev !== null && (prev > 0) !== (t > 0) && Math.abs(prev - t) > 20) {
              out.push(x - 1 + prev / (prev - t));
            }
            prev = t;
          }
        }
        return out;
    }""", [x0, y0, side])
    total = len(crossings)
    assert total > 100, f"only {total} boundary crossings found"
    phases = [((x + 0.5 - geom["x0"]) / cell) % 1 for x in crossings]
    edges = sum(1 for p in phases if min(p, 1 - p) < 0.12)
    # Blocks put every crossing on a cell edge; a boundary at display resolution crosses anywhere.
    assert edges / total < 0.5, f"{edges} of {total} crossings sit on the grid's cell edges"
