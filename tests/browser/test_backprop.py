"""The backprop lab in Chromium: step through the worked example and read the numbers."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ARTIFACTS, shot
from tests.browser.labpage import lab_call, wait_for_lab


def test_worked_example_step_by_step(page, server):
    page.goto(server + "/labs/backprop?preset=backprop-worked-example")
    expect(page.locator("#bp-step-title")).to_have_text("Step 1 · Initialize")
    assert page.inner_text("#bp-w-w1") == "0.11" and page.inner_text("#bp-w-w6") == "0.15"
    page.click("#bp-next")
    expect(page.locator("#bp-step-title")).to_have_text("Step 2 · Forward pass")
    assert page.inner_text("#bp-f-h1") == "0.85"
    assert page.inner_text("#bp-f-h2") == "0.48"
    assert page.inner_text("#bp-f-o") == "0.191"
    assert "h1 = i1·w1 + i2·w2 = 2·0.11 + 3·0.21 = 0.85" in page.inner_text("#bp-step-body")
    page.click("#bp-next")
    expect(page.locator("#bp-step-title")).to_have_text("Step 3 · Error at the output")
    assert page.inner_text("#bp-delta") == "−0.809"
    assert page.inner_text("#bp-E-step") == "0.32724"
    page.click("#bp-next")
    expect(page.locator("#bp-step-title")).to_have_text("Step 4 · Backpropagate the error")
    body = page.inner_text("#bp-step-body")
    assert "∂E/∂w1 = Δ · w5 · i1 = (−0.809) · 0.14 · 2 = −0.22652" in body
    assert "∂E/∂w6 = Δ · h2 = (−0.809) · 0.48 = −0.38832" in body
    page.click("#bp-next")
    expect(page.locator("#bp-step-title")).to_have_text("Step 5 · Update the weights")
    assert page.inner_text("#bp-u-w6") == "0.169416"
    assert page.inner_text("#bp-u-w1") == "0.121326"
    shot(page, "backprop-update")
    page.click("#bp-next")
    expect(page.locator("#bp-step-title")).to_have_text("Step 6 · Repeat")
    assert page.inner_text("#bp-E-after") == "0.276957"
    assert "✓" in page.inner_text("#bp-check-max")


def test_graph_fills_forward_then_backward(page, server):
    page.goto(server + "/labs/backprop")
    expect(page.locator("#bp-step-title")).to_have_text("Step 1 · Initialize")
    canvas = page.locator("#bp-graph")
    before = canvas.screenshot()
    page.click("#bp-g-next")
    expect(page.locator("#bp-g-status")).to_contain_text("forward 1")
    expect(page.locator("#bp-g-status")).to_contain_text("= 0.22")  # i1·w1 = 2·0.11
    assert canvas.screenshot() != before
    page.click("#bp-g-all")
    expect(page.locator("#bp-g-status")).to_contain_text("backward")
    shot(page, "backprop-graph")


def test_editing_activation_and_too_large_rate(page, server):
    page.goto(server + "/labs/backprop")
    expect(page.locator("#bp-step-title")).to_have_text("Step 1 · Initialize")
    page.select_option("#bp-controls [name=activation]", "sigmoid")
    page.check("#bp-controls [name=biases]")
    page.wait_for_url("**activation=sigmoid**")
    page.click("#bp-next")
    expect(page.locator("#bp-step-body")).to_contain_text("σ(z_h1)")
    page.fill("#bp-controls [name=lr]", "5")
    page.select_option("#bp-controls [name=activation]", "linear")
    for _ in range(6):  # Play reads at 1.6 s a step; faster (+) to see five iterations blow up
        lab_call(page, "faster")
    page.click("#bp-play")
    expect(page.locator("#bp-error")).to_contain_text("diverged", timeout=15_000)
    expect(page.locator("#bp-play")).to_contain_text("Play")
    shot(page, "backprop-diverged")


def test_import_continues_the_exported_walk_through(page, server, browser, tmp_path):
    page.goto(server + "/labs/backprop?activation=sigmoid")
    wait_for_lab(page)
    for _ in range(8):  # iteration 1 done, then step 2 → 3 → 4 of iteration 2
        page.click("#bp-next")
    expect(page.locator("#bp-step-title")).to_have_text("Step 4 · Backpropagate the error")
    exported = lab_call(page, "exportState")
    body = page.inner_text("#bp-step-body")
    page.click("#bp-next")
    expect(page.locator("#bp-step-title")).to_have_text("Step 5 · Update the weights")
    update = page.inner_text("#bp-step-body")

    path = tmp_path / "backprop.json"
    path.write_text(json.dumps({"format": "neural-playground/state", "version": 1, "lab": "backprop",
                                "state": exported}))
    fresh = browser.new_context(viewport={"width": 1280, "height": 720}).new_page()
    try:
        fresh.goto(server + "/labs/backprop")
        wait_for_lab(fresh)
        fresh.set_input_files('.lab-toolbar input[data-action="import-json"]', str(path))
        fresh.locator(".lab-toolbar .toolbar-status").filter(has_text="Imported").wait_for()
        expect(fresh.locator("#bp-step-title")).to_have_text("Step 4 · Backpropagate the error")
        assert fresh.inner_text("#bp-iteration") == "1"
        assert fresh.inner_text("#bp-step-body") == body
        assert lab_call(fresh, "exportState")["frame"]["network"] == exported["frame"]["network"]
        assert lab_call(fresh, "exportState")["frame"]["losses"] == exported["frame"]["losses"]
        fresh.click("#bp-next")
        expect(fresh.locator("#bp-step-title")).to_have_text("Step 5 · Update the weights")
        assert fresh.inner_text("#bp-step-body") == update
        fresh.click("#bp-next")
        expect(fresh.locator("#bp-iteration")).to_have_text("2")
        shot(fresh, "backprop-imported-and-stepped")
    finally:
        fresh.context.close()


def test_hide_start_hides_the_start_buttons_not_the_presets_menu(page, server):
    page.goto(server + "/labs/backprop?hide=presets")
    wait_for_lab(page)
    expect(page.locator("#bp-classic")).to_be_visible()
    page.goto(server + "/labs/backprop?hide=start")
    wait_for_lab(page)
    expect(page.locator("#bp-classic")).to_be_hidden()
    expect(page.locator(".lab-toolbar button.presets")).to_be_visible()


def _labels(page) -> list[dict]:
    return json.loads(page.get_attribute("#bp-network", "data-labels"))


def _crosses(box: dict, seg: list[float]) -> bool:
    """Whether a segment passes through a box (x, y: centre), by sampling it finely."""
    x0, y0, x1, y1 = seg
    return any(abs(x0 + (x1 - x0) * t / 200 - box["x"]) < box["w"] / 2
               and abs(y0 + (y1 - y0) * t / 200 - box["y"]) < box["h"] / 2 for t in range(201))


@pytest.mark.parametrize("present", [False, True])
def test_each_weight_label_sits_on_its_own_edge(page, server, present):
    page.goto(server + "/labs/backprop?preset=backprop-worked-example" + ("&present=1" if present else ""))
    wait_for_lab(page)
    labels = _labels(page)
    assert [lb["name"] for lb in labels] == ["w1", "w2", "w3", "w4", "w5", "w6"]
    for i, a in enumerate(labels):
        assert _crosses(a, a["edge"]), f"{a['name']} is not on its edge"
        for j, b in enumerate(labels):
            if i != j:
                assert not _crosses(a, b["edge"]), f"{b['name']}'s edge runs through {a['name']}'s label"
                apart_x = abs(a["x"] - b["x"]) >= (a["w"] + b["w"]) / 2
                apart_y = abs(a["y"] - b["y"]) >= (a["h"] + b["h"]) / 2
                assert apart_x or apart_y, f"{a['name']} overlaps {b['name']}"
    # the label type follows the plot style: 14 px, 20 px in presenter mode (box = 1.25 × font)
    assert labels[0]["h"] == (25 if present else 17.5)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    name = f"backprop-network{'-present' if present else ''}.png"
    page.locator(".bp-net").screenshot(path=str(ARTIFACTS / name))


# ---- numbers as printed, random weights, the pace of Play ----------------------------------

SUPERSCRIPT = str.maketrans("⁻⁰¹²³⁴⁵⁶⁷⁸⁹", "-0123456789")


def printed(text: str) -> float:
    """A number as the lab prints it: "−0.809", "1.51773·10⁻¹²"."""
    text = text.strip().replace("−", "-")
    if "·10" in text:
        mant, exp = text.split("·10")
        return float(mant) * 10 ** int(exp.translate(SUPERSCRIPT))
    return float(text)


def test_printed_arithmetic_checks_out_near_the_target(page, server):
    """With o within 2·10⁻⁶ of t, Δ and E are tiny: each is printed to six significant digits,
    so ½·Δ² computed from the printed Δ gives the printed E."""
    page.goto(server + "/labs/backprop?weights=0.11,0.21,0.12,0.08,0.14,1.835413")
    wait_for_lab(page)
    page.click("#bp-next")
    expect(page.locator("#bp-step-title")).to_have_text("Step 2 · Forward pass")
    line = next(ln for ln in page.inner_text("#bp-step-body").splitlines() if ln.startswith("o = "))
    products = line.split(" = ")[2].split(" + ")
    total = sum(printed(a) * printed(b) for a, b in (p.split("·") for p in products))
    assert printed(line.split(" = ")[3]) == pytest.approx(total, rel=5e-6), line
    page.click("#bp-next")
    expect(page.locator("#bp-step-title")).to_have_text("Step 3 · Error at the output")
    delta, error = printed(page.inner_text("#bp-delta")), printed(page.inner_text("#bp-E-step"))
    assert delta == pytest.approx(-1.76e-6, rel=1e-3)
    assert error == pytest.approx(0.5 * delta**2, rel=1e-5)
    assert "0.000002" not in page.inner_text("#bp-step-body")
    shot(page, "backprop-tiny-error")


def test_random_weights_parse_back_and_never_put_nan_in_the_url(page, server):
    page.goto(server + "/labs/backprop")
    wait_for_lab(page)
    page.click("#bp-random")
    field = page.locator("#bp-controls [name=weights]")
    expect(field).not_to_have_value("0.11, 0.21, 0.12, 0.08, 0.14, 0.15")
    expect(field).to_have_value(re.compile("−"))  # printed with real minus signs
    shown = [printed(v) for v in field.input_value().split(",")]
    page.fill("#bp-controls [name=lr]", "0.1")
    page.dispatch_event("#bp-controls [name=lr]", "change")
    expect(page).to_have_url(re.compile("lr=0.1"))
    page.wait_for_timeout(400)
    assert page.locator("#bp-error").is_hidden(), page.inner_text("#bp-error")
    assert "NaN" not in page.url
    weights = [w["value"] for w in lab_call(page, "exportState")["frame"]["network"]["weights"]]
    assert weights == pytest.approx(shown, abs=1e-6)
    # a word in the list is refused with a message; the URL keeps the last good weights
    url = page.url
    field.fill("0.1, abc, 0.3, 0.4, 0.5, 0.6")
    page.dispatch_event("#bp-controls [name=weights]", "change")
    expect(page.locator("#bp-error")).to_contain_text("not a number")
    assert page.url == url and "NaN" not in page.url


def test_play_walks_at_a_readable_pace(page, server):
    page.goto(server + "/labs/backprop")
    wait_for_lab(page)
    page.click("#bp-play")
    expect(page.locator("#bp-play")).to_contain_text("Pause")
    page.wait_for_timeout(3200)
    stage = page.evaluate("() => +document.querySelector('#bp-stages li.current').dataset.stage")
    assert 2 <= stage <= 4, f"after 3.2 s of play the walk-through is at step {stage}"
    page.click("#bp-play")
    expect(page.locator("#bp-play")).to_contain_text("Play")
    page.wait_for_timeout(1800)
    assert page.evaluate("() => +document.querySelector('#bp-stages li.current').dataset.stage") == stage


# ---- the backward pass on the diagram, the graph and the check -----------------------------

def _graph(page) -> dict:
    return page.evaluate("() => ({...document.querySelector('#bp-graph').dataset})")


def _settled(page, what: str) -> None:
    """Wait for the step's reveal animation (diagram and graph) to finish."""
    page.wait_for_function("() => document.querySelector('#bp-graph').dataset.animating === '0' && "
                           "document.querySelector('#bp-network').dataset.animating === '0'")


def test_the_backward_pass_flows_on_the_diagram_in_step_with_the_text(page, server):
    page.goto(server + "/labs/backprop?preset=backprop-worked-example")
    wait_for_lab(page)
    net = page.locator("#bp-network")
    assert net.get_attribute("data-mode") == "weights"
    for _ in range(3):
        page.click("#bp-next")
    expect(page.locator("#bp-step-title")).to_have_text("Step 4 · Backpropagate the error")
    # the reveal runs from the output back to the inputs
    seen = page.evaluate("""() => new Promise((done) => {
        const c = document.querySelector('#bp-network'), out = [];
        const t = setInterval(() => { out.push(c.dataset.revealed);
          if (c.dataset.animating === '0') { clearInterval(t); done(out); } }, 40); })""")
    layers = [int(v) for v in dict.fromkeys(seen)]
    assert layers == sorted(layers) and layers[-1] == 2 and len(layers) >= 2, seen
    assert net.get_attribute("data-mode") == "backward"
    deltas = json.loads(net.get_attribute("data-deltas"))
    assert deltas == {"o": "δ −0.809", "h1": "δ −0.11326", "h2": "δ −0.12135"}
    labels = {lb["name"]: lb["text"] for lb in _labels(page)}
    assert labels["w1"].startswith("∂E/∂w1 −0.22") and labels["w6"].startswith("∂E/∂w6 −0.38")
    shot(page, "backprop-backward-on-diagram")
    page.click("#bp-next")
    expect(page.locator("#bp-step-title")).to_have_text("Step 5 · Update the weights")
    _settled(page, "update")
    assert net.get_attribute("data-mode") == "update"
    labels = {lb["name"]: lb["text"] for lb in _labels(page)}
    assert labels["w1"].startswith("w1 ← 0.121") and labels["w6"].startswith("w6 ← 0.169")
    shot(page, "backprop-update-on-diagram")


def test_the_graph_follows_the_steps_and_is_drawn_cleanly(page, server):
    page.goto(server + "/labs/backprop?preset=backprop-worked-example")
    wait_for_lab(page)
    g = _graph(page)
    total, fwd_out, fwd = int(g["total"]), int(g["forwardOutputs"]), int(g["forward"])
    assert int(g["revealed"]) == 0 and 0 < fwd_out < fwd < total
    assert int(g["crossings"]) <= 1  # i1 and i2 both feed h1 and h2: one crossing is forced
    nodes = json.loads(g["nodes"])
    titles = [n["title"] for n in nodes]
    assert "i1 × w1" in titles and "h2 × w6" in titles  # × nodes say what they multiply
    xs = {n["title"]: n["x"] for n in nodes}
    assert xs["i1"] < xs["i1 × w1"] < xs["+ → z_h1"] < xs["identity → h1"] < xs["h1 × w5"] < xs["E = ½ Σ d²"]
    expect(page.locator("#bp-check")).to_be_hidden()
    expected = {2: fwd_out, 3: fwd, 4: total, 5: total}
    for stage in (2, 3, 4, 5):
        page.click("#bp-next")
        expect(page.locator("#bp-stages li.current")).to_have_attribute("data-stage", str(stage))
        _settled(page, "graph")
        assert int(_graph(page)["revealed"]) == expected[stage], stage
        if stage < 4:
            expect(page.locator("#bp-check")).to_be_hidden()
    expect(page.locator("#bp-check")).to_be_visible()
    assert "✓" in page.inner_text("#bp-check-max")
    status = page.inner_text("#bp-g-status")
    assert "∂E/∂w1 = −0.22652" in status, status
    page.click("#bp-g-back")
    assert "∂E/∂(i1·w1) = " in page.inner_text("#bp-g-status")
    shot(page, "backprop-graph-followed")


def test_a_crowded_diagram_falls_back_to_shorter_labels(page, server):
    """A 2-3-1 network with biases in presenter mode: the weights' labels do not all fit with
    their values, so they fall back to names (step 1) and to bare gradients (step 4)."""
    page.goto(server + "/labs/backprop?present=1&hidden=3&biases=true&weights=")
    wait_for_lab(page)
    texts = [lb["text"] for lb in _labels(page)]
    assert len(texts) == 9
    for _ in range(3):
        page.click("#bp-next")
    expect(page.locator("#bp-step-title")).to_have_text("Step 4 · Backpropagate the error")
    _settled(page, "backward")
    assert len(_labels(page)) == 9  # the page's fixture fails the test on any script error
