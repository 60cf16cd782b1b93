"""The MLP playground in Chromium: a student presses play, switches datasets, adds layers,
opens links, hovers the network, adds points and makes training blow up."""

from __future__ import annotations

import json
import time

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import shot
from tests.browser.labpage import counter, is_still, lab_call, wait_for_lab

PAGE = "/labs/mlp"


def open_lab(page, server, query: str = "") -> None:
    page.goto(server + PAGE + (f"?{query}" if query else ""))
    wait_for_lab(page)
    page.wait_for_selector("html[data-lab-ready]", state="attached")


def loss(page, which: str = "train") -> float:
    return float(page.inner_text(f"#mlp-{which}-loss"))


def url(page) -> str:
    """The address as the page's history.replaceState left it."""
    return page.evaluate("location.href")


def wait_until(predicate, timeout: float = 20.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def output_pixels(page) -> list[int]:
    """A coarse sample of the output canvas (RGB every 8th pixel of a 64×64 copy)."""
    return page.evaluate("""() => {
        const src = document.querySelector('#mlp-output');
        const c = document.createElement('canvas'); c.width = 64; c.height = 64;
        const ctx = c.getContext('2d'); ctx.drawImage(src, 0, 0, 64, 64);
        const d = ctx.getImageData(0, 0, 64, 64).data, out = [];
        for (let i = 0; i < d.length; i += 32) out.push(d[i], d[i + 1], d[i + 2]);
        return out;
    }""")


def test_play_trains_on_circle(page, server):
    open_lab(page, server)
    assert page.is_checked('input[name="dataset"][value="circle"]')
    start_epoch = counter(page, "#mlp-epoch")
    first_loss = loss(page)
    page.click("#mlp-play")
    wait_until(lambda: counter(page, "#mlp-epoch") >= 40, what="40 epochs")
    assert page.get_attribute("#mlp-play", "aria-label") == "Pause"
    assert counter(page, "#mlp-epoch") > start_epoch
    wait_until(lambda: loss(page) < 0.5 * first_loss, what="the loss to halve")
    assert "train" in page.inner_text("#mlp-acc")
    shot(page, "mlp-circle-playing")
    page.click("#mlp-play")  # pause
    expect(page.locator("#mlp-play")).to_have_attribute("aria-label", "Play")
    assert is_still(page, "#mlp-epoch")  # a frame already on its way may still land


def test_switch_to_xor_changes_the_boundary(page, server):
    open_lab(page, server)
    page.click("#mlp-step")
    wait_until(lambda: counter(page, "#mlp-epoch") >= 1, what="one epoch")
    before = output_pixels(page)
    page.check('input[name="dataset"][value="xor"]')
    wait_until(lambda: "dataset=xor" in url(page), what="the URL to say xor")
    page.click("#mlp-step")
    wait_until(lambda: counter(page, "#mlp-epoch") >= 1, what="one epoch on xor")

    def changed() -> int:
        after = output_pixels(page)
        return sum(abs(a - b) > 30 for a, b in zip(before, after, strict=True))

    wait_until(lambda: changed() > 50, what="the output plot to change")
    shot(page, "mlp-xor")


def test_add_a_hidden_layer_adds_a_column_of_neurons(page, server):
    open_lab(page, server)
    assert page.locator(".layer-head").count() == 2
    columns = lambda: len({n.get_attribute("style").split("left:")[1].split(";")[0]  # noqa: E731
                           for n in page.locator(".network .neuron").all()})
    assert columns() == 2
    page.click("#mlp-add-layer")
    expect(page.locator(".layer-head")).to_have_count(3)
    assert columns() == 3
    assert page.inner_text("#mlp-layer-count") == "3"
    expect(page.locator(".network .neuron")).to_have_count(4 + 2 + 2)
    page.locator(".layer-head").nth(0).get_by_role("button", name="Add a neuron to layer 1").click()
    expect(page.locator(".network .neuron")).to_have_count(5 + 2 + 2)
    wait_until(lambda: "hidden=5%2C2%2C2" in url(page), what="the URL")
    shot(page, "mlp-three-layers")


def test_a_link_reproduces_its_configuration(page, server):
    query = ("dataset=spiral&features=x1,x2,sinx1,sinx2&hidden=6,3&activation=relu&lr=0.1"
             "&optimizer=adam&optimizer_params=%7B%22beta1%22%3A0.8%7D&seed=7&noise=10&batch_size=5")
    open_lab(page, server, query)
    assert page.is_checked('input[name="dataset"][value="spiral"]')
    assert page.input_value('[data-param="activation"]') == "relu"
    assert page.input_value('[data-param="lr"]') == "0.1"
    assert page.input_value('[data-param="optimizer"]') == "adam"
    assert page.input_value('[data-hyper="beta1"]') == "0.8"
    assert page.input_value('[data-param="noise"]') == "10"
    assert page.input_value('[data-param="batch_size"]') == "5"
    assert page.get_attribute('[data-feature="sinx2"]', "aria-pressed") == "true"
    assert page.get_attribute('[data-feature="x1sq"]', "aria-pressed") == "false"
    assert page.locator(".layer-count").all_inner_texts() == ["6 neurons", "3 neurons"]
    state = lab_call(page, "state")
    assert state["seed"] == 7 and state["hidden"] == [6, 3] and state["dataset"] == "spiral"
    assert "seed=7" in url(page) and "beta1" in url(page)
    shot(page, "mlp-link")
    # The same link in a fresh page gives the same run: identical weights before training.
    weights = lab_call(page, "exportState")["weights"]
    other = page.context.new_page()
    other.goto(url(page))
    wait_for_lab(other)
    other.wait_for_selector("html[data-lab-ready]", state="attached")
    assert lab_call(other, "exportState")["weights"] == weights
    other.close()


def test_a_rejected_link_falls_back_with_the_servers_message(browser, server):
    # Its own page: Chromium logs the expected 422 as a console error, which the shared
    # `page` fixture would count against the page.
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    try:
        _rejected_link(page, server)
    finally:
        context.close()
    assert errors == ["Failed to load resource: the server responded with a status of 422 "
                      "(Unprocessable Entity)"]


def _rejected_link(page, server):
    open_lab(page, server, "hidden=4,99&dataset=xor")
    message = page.locator("#mlp-message")
    expect(message).to_be_visible()
    expect(message).to_contain_text("over the server's limits")
    expect(message).to_contain_text("default settings")
    assert page.locator(".layer-count").all_inner_texts() == ["4 neurons", "2 neurons"]
    assert page.is_checked('input[name="dataset"][value="circle"]')
    shot(page, "mlp-rejected-link")


def test_a_diverging_learning_rate_shows_the_banner(page, server):
    open_lab(page, server, "dataset=plane&activation=relu&hidden=4,2&lr=0.01")
    expect(page.locator("#mlp-diverged")).to_be_hidden()
    page.click("#mlp-play")
    wait_until(lambda: counter(page, "#mlp-epoch") >= 3, what="3 epochs")
    page.select_option('[data-param="lr"]', "10")
    expect(page.locator("#mlp-diverged")).to_be_visible(timeout=20_000)
    expect(page.locator("#mlp-diverged")).to_contain_text("Lower the learning rate")
    # Changing the learning rate continued the run (no reset) until it blew up.
    assert counter(page, "#mlp-epoch") >= 3
    expect(page.locator("#mlp-play")).to_have_attribute("aria-label", "Play")
    shot(page, "mlp-diverged")
    page.select_option('[data-param="lr"]', "0.01")
    page.click("#mlp-reset")
    expect(page.locator("#mlp-diverged")).to_be_hidden()


def test_hovering_shows_a_neurons_map_and_an_edges_weight(page, server):
    open_lab(page, server)
    page.click("#mlp-step")
    neuron = page.locator(".network .neuron canvas").nth(1)
    neuron.hover()
    tip = page.locator("#mlp-tip")
    expect(tip).to_be_visible()
    expect(tip).to_contain_text("Layer 1, neuron 2")
    expect(tip).to_contain_text("value at")
    assert tip.locator("canvas").bounding_box()["width"] >= 150
    shot(page, "mlp-hover-neuron")
    page.mouse.move(5, 5)
    expect(tip).to_be_hidden()
    edge = page.locator(".edge-hit").first
    box = page.locator("#mlp-network").bounding_box()
    edge.dispatch_event("mousemove", {"clientX": box["x"] + 100, "clientY": box["y"] + 100})
    expect(tip).to_contain_text("Weight")
    expect(tip).to_contain_text("x₁ → neuron 1 of layer 1")


def canvas_pixel(page, selector: str, x: float, y: float) -> list[int]:
    """RGB of a canvas at CSS coordinates (x, y)."""
    return page.evaluate("""([sel, x, y]) => { const c = document.querySelector(sel), d = devicePixelRatio;
        return Array.from(c.getContext('2d').getImageData(Math.round(x * d), Math.round(y * d), 1, 1).data)
          .slice(0, 3); }""", [selector, x, y])


def test_a_clicked_point_joins_the_running_network(page, server):
    """Clicking the plot while it trains adds a training point of the chosen class: it is
    drawn at once, the epoch counter goes on, the train/test split stays as it was."""
    open_lab(page, server, "speed=1")
    page.click("#mlp-play")
    wait_until(lambda: counter(page, "#mlp-epoch") >= 5, what="5 epochs")
    canvas = page.locator("#mlp-output")
    box = canvas.bounding_box()
    geom = json.loads(canvas.get_attribute("data-geom"))
    # the point (5, 5): an empty corner of the circle dataset, outside the ring
    x, y = geom["x0"] + geom["side"] * 11 / 12, geom["y0"] + geom["side"] / 12
    before = canvas_pixel(page, "#mlp-output", x, y)
    epoch = counter(page, "#mlp-epoch")
    page.check('input[name="add_label"][value="1"]')
    canvas.click(position={"x": x, "y": y})
    wait_until(lambda: canvas_pixel(page, "#mlp-output", x, y) != before, timeout=2, what="the point drawn")
    assert box["width"] > 100
    time.sleep(0.6)
    assert counter(page, "#mlp-epoch") > epoch  # still training, never back to 0
    state = lab_call(page, "state")
    assert json.loads(state["added"]) == [[pytest.approx(5, abs=0.05), pytest.approx(5, abs=0.05), 1]]
    assert state["train_percent"] == 50
    assert state["dataset"] == "circle" and "points" not in state
    assert page.get_attribute("#mlp-play", "aria-label") == "Pause"
    # a multi-class problem starts from its own data: no clicked points, the same split
    page.click("#mlp-play")
    page.select_option('[data-param="problem"]', "multiclass")
    expect(page.locator('input[name="dataset"][value="blobs"]')).to_be_checked()
    wait_until(lambda: "added" not in lab_call(page, "state"), what="the clicked points to go")
    assert lab_call(page, "state")["train_percent"] == 50
    shot(page, "mlp-clicked-point")


def test_clear_then_draw_your_own_points_all_train(page, server):
    open_lab(page, server)
    canvas = page.locator("#mlp-output")
    box = canvas.bounding_box()
    page.click("#mlp-clear")
    expect(page.locator("#mlp-message")).to_contain_text("Click on the output plot")
    page.check('input[name="add_label"][value="1"]')
    canvas.click(position={"x": box["width"] * 0.3, "y": box["height"] * 0.3})
    page.check('input[name="add_label"][value="-1"]')
    canvas.click(position={"x": box["width"] * 0.7, "y": box["height"] * 0.6})
    expect(page.locator("#mlp-custom-chip")).to_contain_text("Your points (2)")
    state = lab_call(page, "state")
    assert [p[2] for p in json.loads(state["added"])] == [1, -1] and json.loads(state["points"]) == []
    assert state["train_percent"] == 50  # the split is not touched: drawn points always train
    expect(page.locator("#mlp-acc")).to_contain_text("– test")
    page.click("#mlp-play")
    wait_until(lambda: counter(page, "#mlp-epoch") >= 5, what="training on two points")
    canvas.click(position={"x": box["width"] * 0.5, "y": box["height"] * 0.2})
    expect(page.locator("#mlp-custom-chip")).to_contain_text("Your points (3)")
    assert counter(page, "#mlp-epoch") >= 5
    shot(page, "mlp-own-points")


def test_multiclass_uses_softmax_and_class_colours(page, server):
    open_lab(page, server)
    page.select_option('[data-param="problem"]', "multiclass")
    expect(page.locator('input[name="dataset"][value="blobs"]')).to_be_checked()
    expect(page.locator('[data-param="loss"]')).to_have_value("softmax_ce")
    expect(page.locator("#mlp-classes .swatch")).to_have_count(3)
    page.select_option('[data-param="num_classes"]', "4")
    expect(page.locator("#mlp-classes .swatch")).to_have_count(4)
    expect(page.locator(".network .output")).to_have_count(4)
    page.select_option('[data-param="speed"]', "5")
    page.click("#mlp-play")
    wait_until(lambda: counter(page, "#mlp-epoch") >= 30, what="30 epochs")
    wait_until(lambda: "100.0 % train" in page.inner_text("#mlp-acc")
               or float(page.inner_text("#mlp-acc").split("%")[0]) > 90, what="accuracy > 90 %")
    shot(page, "mlp-multiclass")


def test_optimizer_change_swaps_its_settings_and_keeps_the_run(page, server):
    open_lab(page, server)
    page.click("#mlp-step")
    wait_until(lambda: counter(page, "#mlp-epoch") >= 1, what="one epoch")
    page.select_option('[data-param="optimizer"]', "momentum")
    expect(page.locator('[data-hyper="momentum"]')).to_have_value("0.9")
    page.fill('[data-hyper="momentum"]', "0.5")
    page.locator('[data-hyper="momentum"]').dispatch_event("change")
    wait_until(lambda: "%22momentum%22%3A0.5" in url(page), what="the URL to keep momentum 0.5")
    assert counter(page, "#mlp-epoch") >= 1  # the optimizer changed, the run went on
    assert lab_call(page, "state")["optimizer"] == "momentum"


def test_export_and_import_restore_the_weights(page, server):
    open_lab(page, server, "hidden=3&seed=3")
    page.click("#mlp-step")
    page.click("#mlp-step")
    wait_until(lambda: counter(page, "#mlp-epoch") >= 2, what="two epochs")
    saved = lab_call(page, "exportState")
    assert saved["config"]["hidden"] == [3] and saved["epoch"] == 2
    page.click("#mlp-reset")
    wait_until(lambda: counter(page, "#mlp-epoch") == 0, what="the reset")
    assert lab_call(page, "exportState")["weights"] != saved["weights"]
    lab_call(page, "importState", saved)
    wait_until(lambda: lab_call(page, "exportState")["weights"] == saved["weights"], what="the import")


def test_present_mode_layer_headers_sit_above_their_neurons(page, server):
    open_lab(page, server, "present=1&hidden=4,2")
    heads = page.locator(".network .layer-head")
    assert heads.count() == 2
    for l in range(2):
        head = heads.nth(l).bounding_box()
        first = page.locator(f'.network .neuron[data-layer="{l}"][data-neuron="0"]').bounding_box()
        assert head["y"] + head["height"] <= first["y"], f"layer {l + 1}'s header covers its first neuron"
    heads.nth(0).locator("button").first.click()  # the + still takes the click
    expect(page.locator('.network .neuron[data-layer="0"]')).to_have_count(5)
    shot(page, "mlp-present-headers")


# ---- what the lab says and draws of its state ------------------------------------------------

def test_a_large_rate_in_classification_is_diagnosed(page, server):
    open_lab(page, server, "dataset=circle&lr=10&speed=5")
    assert page.locator("#mlp-diagnosis").is_hidden()
    page.click("#mlp-play")
    expect(page.locator("#mlp-diagnosis")).to_contain_text("stalled", timeout=30_000)
    text = page.inner_text("#mlp-diagnosis")
    assert "Saturated outputs" in text and "learning rate 10 is large" in text
    assert page.locator("#mlp-diverged").is_hidden()  # not diverged: stuck, and now it says so
    shot(page, "mlp-lr10-diagnosed")
    page.click("#mlp-play")
    page.select_option('[data-param="lr"]', "0.03")
    page.click("#mlp-reset")
    expect(page.locator("#mlp-diagnosis")).to_be_hidden()


def grad_bars(page) -> list[float]:
    return json.loads(page.get_attribute("#mlp-grads", "data-norms"))


def test_the_gradient_view_shows_sigmoid_gradients_vanishing(page, server):
    """The sigmoid-vs-ReLU preset: bars of ‖∂L/∂W‖ per layer under the network shrink toward
    the input with sigmoids; switched to ReLU they do not."""
    page.goto(server + PAGE + "?preset=sigmoid-vs-relu&speed=2")
    wait_for_lab(page)
    page.click("#mlp-play")
    wait_until(lambda: counter(page, "#mlp-epoch") >= 20, what="20 epochs")
    page.click("#mlp-play")
    norms = grad_bars(page)
    # smaller toward the input (the first two layers, both tiny, may swap places while training)
    assert len(norms) == 4 and max(norms[:2]) < norms[2] < norms[3] and norms[0] < 0.05 * norms[-1], norms
    caption = page.inner_text("#mlp-grads-caption")
    assert "layer 1" in caption and "output" in caption
    # Both boxes in one look: the paused frame's fresh diagnosis may show or hide the banner above
    # them (moving both) between two separate reads.
    box, net = page.evaluate("""() => ["#mlp-grads", "#mlp-network"].map((s) => {
        const r = document.querySelector(s).getBoundingClientRect();
        return { y: r.y, height: r.height };
    })""")
    assert box["y"] >= net["y"] + net["height"] - 1 and box["height"] <= 120  # small, under the network
    shot(page, "mlp-gradients-sigmoid")
    page.select_option('[data-param="activation"]', "relu")
    page.click("#mlp-play")
    wait_until(lambda: counter(page, "#mlp-epoch") >= 10, what="10 epochs of ReLU")
    norms = grad_bars(page)
    assert norms[0] > 0.05 * norms[-1], norms
    shot(page, "mlp-gradients-relu")


def test_multiclass_output_neurons_show_their_class_probability(page, server):
    open_lab(page, server, "problem=multiclass&dataset=blobs&num_classes=3&speed=5")
    page.click("#mlp-play")
    wait_until(lambda: counter(page, "#mlp-epoch") >= 15, what="15 epochs")
    page.click("#mlp-play")
    # paused: the class maps (left out of most frames while playing) come for the epoch shown
    expect(page.locator("#mlp-play")).to_have_attribute("aria-label", "Play")
    def maps_of_the_epoch_shown() -> bool:
        return float(page.get_attribute("#mlp-network", "data-detail-epoch")) == counter(page, "#mlp-epoch")

    wait_until(maps_of_the_epoch_shown, what="the class maps of the epoch shown")
    spread = page.evaluate("""() => [...document.querySelectorAll('.network .output canvas')].map((c) => {
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let lo = 255 * 3, hi = 0;
        for (let i = 0; i < d.length; i += 4) {
          const v = d[i] + d[i + 1] + d[i + 2]; lo = Math.min(lo, v); hi = Math.max(hi, v);
        }
        return {hidden: c.hidden, spread: hi - lo}; })""")
    assert len(spread) == 3
    for s in spread:
        assert not s["hidden"] and s["spread"] > 200, spread  # a map from white to the class colour
    shot(page, "mlp-class-probabilities")


def luminance(rgb) -> float:
    def ch(v):
        v /= 255
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4
    r, g, b = (ch(v) for v in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def test_points_stay_readable_on_their_own_colour(page, server):
    """A correctly classified point sits on saturated ground of its own colour: from its centre
    outward a white ring, then a dark outline (contrast ≥ 3 against the ground on both sides),
    then the ground, so it reads as a point from the back of a lecture hall."""
    open_lab(page, server)
    ray = page.evaluate("""async () => {
        const { OutputPlot } = await import('/static/js/mlp/output.js');
        const c = document.createElement('canvas');
        c.style.width = '420px'; c.style.height = '420px'; document.body.append(c);
        const q = new Uint8Array(16).fill(255);  // the output +1 everywhere: saturated blue
        const grid = {shape: [4, 4], range: [-1, 1], dtype: 'uint8', data: btoa(String.fromCharCode(...q))};
        new OutputPlot(c).draw({output: grid, problem: 'classification', k: 2, train: [[0, 0, 1]], test: []});
        const g = JSON.parse(c.dataset.geom), d = devicePixelRatio, ctx = c.getContext('2d');
        const cx = g.x0 + g.side / 2, cy = g.y0 + g.side / 2, out = [];
        for (let x = 0; x <= g.r + 4; x += 0.5) {
          const px = ctx.getImageData(Math.round((cx + x) * d), Math.round(cy * d), 1, 1).data;
          out.push(Array.from(px).slice(0, 3));
        }
        return out; }""")
    ground = luminance(ray[-1])
    lum = [luminance(p) for p in ray]
    white = [i for i, v in enumerate(lum) if (v + 0.05) / (ground + 0.05) >= 3]
    dark = [i for i, v in enumerate(lum) if (ground + 0.05) / (v + 0.05) >= 3]
    # the ring's width in pixels, partly covered pixels counted in part (samples 0.5 px apart)
    ring = 0.5 * sum(max(0.0, (v - ground) / (1 - ground)) for v in lum)
    assert white and ring >= 1.5, (ring, ray)
    assert dark and min(dark) > max(white), ray  # then a dark outline before the ground


def test_an_import_restores_the_epoch_and_the_history(page, server):
    open_lab(page, server, "speed=1")
    page.click("#mlp-play")
    wait_until(lambda: counter(page, "#mlp-epoch") >= 12, what="12 epochs")
    page.click("#mlp-play")
    time.sleep(0.5)
    saved = lab_call(page, "exportState")
    assert len(saved["history"]["epochs"]) >= 12
    page.click("#mlp-reset")
    wait_until(lambda: counter(page, "#mlp-epoch") == 0, what="the reset")
    lab_call(page, "importState", saved)
    wait_until(lambda: counter(page, "#mlp-epoch") == saved["epoch"], what="the imported epoch")
    again = lab_call(page, "exportState")
    assert again["history"]["epochs"] == saved["history"]["epochs"]
    assert again["weights"] == saved["weights"]
    page.click("#mlp-step")
    wait_until(lambda: counter(page, "#mlp-epoch") == saved["epoch"] + 1, what="one more epoch")


def test_add_layer_is_disabled_at_the_maximum_with_the_reason(page, server):
    open_lab(page, server, "hidden=2,2,2,2,2")
    add = page.locator("#mlp-add-layer")
    expect(add).to_be_enabled()
    add.click()
    expect(page.locator(".layer-head")).to_have_count(6)
    expect(add).to_be_disabled()
    reason = add.get_attribute("title") or ""
    assert "6" in reason and "layers" in reason, reason
    expect(page.locator("#mlp-layer-word")).to_contain_text("most")  # said on the page, too
    page.click("#mlp-remove-layer")
    expect(add).to_be_enabled()
    # the neurons' + at 8 says why, too
    page.goto(f"{server}/labs/mlp?hidden=8")
    wait_for_lab(page)
    plus = page.get_by_role("button", name="Add a neuron to layer 1")
    expect(plus).to_be_disabled()
    assert "8" in (plus.get_attribute("title") or "")
