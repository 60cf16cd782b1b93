"""What the canvases draw, checked in their pixels: decision boundaries at display resolution
(no staircase, no blocks), the zero plane unshaded, charts with readable ticks and a legend."""

from __future__ import annotations

import json
from itertools import pairwise

import pytest
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


def chart(page, selector: str) -> dict:
    return json.loads(page.get_attribute(selector, "data-chart") or "null")


def no_overlaps(drawn: dict) -> None:
    ys = sorted(t["y"] for t in drawn["y"])
    assert all(b - a >= drawn["y"][0]["h"] for a, b in pairwise(ys)), f"y tick labels overlap: {drawn['y']}"
    xs = sorted(drawn["x"], key=lambda t: t["x"])
    for a, b in pairwise(xs):
        assert b["x"] - a["x"] >= (a["w"] + b["w"]) / 2 + 4, f"x tick labels overlap: {a} {b}"


def test_mlp_loss_chart_is_readable_and_the_plot_has_no_blank_band(page, server):
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{server}/labs/mlp")
    wait_for_lab(page)
    for _ in range(3):
        page.click("#mlp-step")
    page.wait_for_function("() => +document.querySelector('#mlp-epoch').textContent.replace(/,/g, '') >= 3")
    page.wait_for_timeout(200)
    shot(page, "drawing-mlp-loss-chart")
    assert page.locator("#mlp-loss").bounding_box()["height"] >= 100
    drawn = chart(page, "#mlp-loss")
    no_overlaps(drawn)
    assert all(t["label"].isdigit() for t in drawn["x"]), drawn["x"]  # epochs are whole
    assert drawn["legend"] == [{"label": "test", "dashed": False}, {"label": "train", "dashed": True}]
    geom = json.loads(page.get_attribute("#mlp-output", "data-plot"))
    box = page.locator("#mlp-output").bounding_box()
    font = 14
    assert box["height"] - (geom["y0"] + geom["side"]) <= 2.6 * font, "a blank band under the output plot"
    assert box["width"] - geom["side"] <= 4 * font, "a blank band beside the output plot"


def test_counts_get_whole_ticks(page, server):
    page.goto(f"{server}/labs/perceptron?preset=perceptron-xor-fails")
    wait_for_lab(page)
    assert all(t["label"].isdigit() for t in chart(page, "#pc-mistakes")["y"])
    page.click("#pc-play")
    expect(page.locator("#pc-verdict")).to_be_visible(timeout=15_000)
    drawn = chart(page, "#pc-mistakes")
    assert all(t["label"].isdigit() for t in drawn["y"] + drawn["x"]), drawn
    no_overlaps(drawn)


def test_optimizer_loss_chart_ticks_are_round_numbers(page, server):
    page.goto(f"{server}/labs/optimizers?surface=bowl&speed=100&max_iterations=203")
    wait_for_lab(page)
    page.click("#opt-play")
    page.wait_for_function("() => document.querySelector('#opt-iter').textContent === '203'", timeout=30_000)
    page.wait_for_timeout(300)
    drawn = chart(page, "#opt-chart")
    shot(page, "drawing-optimizer-chart")
    no_overlaps(drawn)
    xs = [int(t["label"]) for t in drawn["x"]]
    step = xs[1] - xs[0]
    assert step in (10, 20, 25, 50, 100) and all(x % step == 0 for x in xs), xs
    page.goto(f"{server}/labs/optimizers?surface=saddle&speed=100&max_iterations=60")  # linear axis
    wait_for_lab(page)
    page.click("#opt-play")
    page.wait_for_function("() => document.querySelector('#opt-iter').textContent === '60'", timeout=30_000)
    page.wait_for_timeout(300)
    drawn = chart(page, "#opt-chart")
    assert not any("e-1" in t["label"] or "e−1" in t["label"] for t in drawn["y"]), drawn["y"]
    no_overlaps(drawn)


def test_a_log_axis_within_one_decade_still_has_numbers(page, server):
    page.goto(f"{server}/labs/optimizers")
    wait_for_lab(page)
    page.click("#opt-step")
    page.wait_for_function("() => document.querySelector('#opt-iter').textContent === '1'")
    page.wait_for_timeout(200)
    drawn = chart(page, "#opt-chart")
    assert len(drawn["y"]) >= 2, drawn["y"]


THUMB_TEXT = """async (url) => {
  const holder = document.createElement("div");
  holder.innerHTML = await (await fetch(url)).text();
  document.body.append(holder);
  const svg = holder.querySelector("svg");
  const [W, H] = [svg.viewBox.baseVal.width, svg.viewBox.baseVal.height];
  const boxes = [...svg.querySelectorAll("text")].map((t) => {
    const b = t.getBBox();
    return {text: t.textContent, x: b.x, y: b.y, w: b.width, h: b.height};
  });
  const bare = svg.cloneNode(true);
  bare.querySelectorAll("text").forEach((t) => t.remove());
  const img = new Image();
  const text = new XMLSerializer().serializeToString(bare);
  img.src = URL.createObjectURL(new Blob([text], {type: "image/svg+xml"}));
  await img.decode();
  const k = 3, c = document.createElement("canvas");
  c.width = W * k; c.height = H * k;
  const ctx = c.getContext("2d"); ctx.drawImage(img, 0, 0, c.width, c.height);
  const d = ctx.getImageData(0, 0, c.width, c.height).data;
  const px = (x, y) => { const i = 4 * (y * c.width + x); return d[i] + d[i + 1] + d[i + 2]; };
  return boxes.map((b) => {
    let jump = 0;
    const [y0, y1] = [Math.max(1, Math.floor((b.y - 1) * k)), Math.min(c.height - 1, (b.y + b.h + 1) * k)];
    const [x0, x1] = [Math.max(1, Math.floor((b.x - 1) * k)), Math.min(c.width - 1, (b.x + b.w + 1) * k)];
    for (let y = y0; y < y1; y++) {
      for (let x = x0; x < x1; x++) {
        jump = Math.max(jump, Math.abs(px(x, y) - px(x - 1, y)), Math.abs(px(x, y) - px(x, y - 1)));
      }
    }
    return {...b, jump, margin: Math.min(b.x, b.y, W - b.x - b.w, H - b.y - b.h)};
  });
}"""


@pytest.mark.parametrize("lab", ["perceptron", "mlp", "backprop", "optimizers"])
def test_gallery_thumbnail_text_is_clear_of_lines_and_edges(page, server, lab):
    page.goto(f"{server}/")
    for t in page.evaluate(THUMB_TEXT, f"/static/img/{lab}.svg"):
        assert t["margin"] >= 4, f"{lab}: {t['text']!r} touches the thumbnail's edge ({t['margin']:.1f}px)"
        assert t["jump"] <= 60, f"{lab}: a line crosses {t['text']!r} (contrast step {t['jump']})"
