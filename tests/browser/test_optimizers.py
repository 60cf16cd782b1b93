"""The optimizer lab in Chromium: paths animate over the WebSocket, a click moves the start,
stop reasons show, the URL keeps the configuration, and the step-size explorer shows all four
regimes."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlparse

from tests.browser.conftest import shot

READY = "html[data-lab-ready='1']"
ALL_STOPPED = "() => document.querySelectorAll('#opt-status li[data-reason=\"running\"]').length === 0"
EXPLORER_DONE = ("() => document.querySelectorAll('.ex-cap .reason').length === 4 && "
                 "![...document.querySelectorAll('.ex-cap .reason')].some(e => e.textContent === '…')")


def pixel(page, selector: str, x: float, y: float) -> list[int]:
    """RGBA of a canvas at CSS coordinates (x, y)."""
    return page.evaluate(
        """([sel, x, y]) => { const c = document.querySelector(sel); const d = devicePixelRatio;
        const px = c.getContext('2d').getImageData(Math.round(x * d), Math.round(y * d), 1, 1);
        return Array.from(px.data); }""",
        [selector, x, y],
    )


def test_race_plays_and_reports_why_each_stopped(page, server):
    page.goto(server + "/labs/optimizers?surface=ravine&max_iterations=300&speed=20")
    page.wait_for_selector(READY)
    statuses = page.locator("#opt-status li")
    assert statuses.count() == 5  # GD, momentum, AdaGrad, RMSProp, Adam by default
    page.click("#opt-play")
    page.wait_for_function(ALL_STOPPED, timeout=20_000)
    text = page.locator("#opt-status").inner_text()
    assert "converged" in text
    assert int(page.locator("#opt-iter").inner_text()) > 10
    shot(page, "optimizers-race-ravine")
    # The minimum (0, 0) sits in the middle of the plot: the heads ended there, so the centre
    # is drawn in a bright path colour, not the dark navy of low loss; a corner (high loss,
    # no path) keeps the light slate of the heat map.
    box = page.locator("#opt-canvas").bounding_box()
    assert box["width"] > 300
    centre = pixel(page, "#opt-canvas", box["width"] / 2, box["height"] / 2)
    assert sum(centre[:3]) > 350, centre
    corner = pixel(page, "#opt-canvas", box["width"] - 3, box["height"] - 3)
    assert corner[0] > 120 and abs(corner[0] - corner[2]) < 60, corner  # grey-blue, not orange


def test_click_moves_start_and_url_keeps_config(page, server):
    page.goto(server + "/labs/optimizers?surface=bowl")
    page.wait_for_selector(READY)
    box = page.locator("#opt-canvas").bounding_box()
    # Bowl window [-2, 2]²: a click a quarter from the left and top is (-1, 1).
    page.mouse.click(box["x"] + box["width"] * 0.25, box["y"] + box["height"] * 0.25)
    page.wait_for_function("() => location.search.includes('starts')")
    q = parse_qs(urlparse(page.url).query)
    (x, y), = json.loads(q["starts"][0])
    assert abs(x + 1) < 0.05 and abs(y - 1) < 0.05
    assert q["surface"] == ["bowl"]
    # Turn on Nesterov, change Adam's lr: both reach the URL.
    page.check("#opt-on-nesterov")
    page.fill("tr[data-kind='adam'] .opt-lr", "0.2")
    page.press("tr[data-kind='adam'] .opt-lr", "Enter")
    page.locator("tr[data-kind='adam'] .opt-lr").blur()
    page.wait_for_function("() => location.search.includes('nesterov') && location.search.includes('0.2')")
    opts = json.loads(parse_qs(urlparse(page.url).query)["optimizers"][0])
    assert {"name": "adam", "lr": 0.2} in opts and any(o["name"] == "nesterov" for o in opts)
    # Reload the link: the same configuration comes back.
    page.goto(page.url)
    page.wait_for_selector(READY)
    assert page.is_checked("#opt-on-nesterov")
    assert page.input_value("tr[data-kind='adam'] .opt-lr") == "0.2"
    page.wait_for_function("() => document.querySelectorAll('#opt-status li').length === 6")


def test_internals_and_keyboard(page, server):
    page.goto(server + "/labs/optimizers?surface=ravine&internals=1&speed=1")
    page.wait_for_selector(READY)
    assert page.is_visible("#opt-internals-key")
    page.locator("body").click(position={"x": 5, "y": 5})
    for _ in range(5):
        page.keyboard.press("ArrowRight")
    page.wait_for_function("() => document.querySelector('#opt-iter').textContent === '5'")
    shot(page, "optimizers-internals")


def test_step_size_explorer_shows_four_regimes(page, server):
    page.goto(server + "/labs/optimizers")
    page.wait_for_selector(READY)
    page.wait_for_function(EXPLORER_DONE, timeout=10_000)
    caps = page.locator(".ex-cap").all_inner_texts()
    assert "ran out of iterations" in caps[0]  # too small
    assert "converged" in caps[1] and "converged" in caps[2]  # good; oscillating but converging
    assert "diverged" in caps[3]
    page.locator("#explorer-h, .explorer").first.scroll_into_view_if_needed()
    shot(page, "optimizers-explorer")


def test_real_loss_surface_early_stopping(page, server):
    page.goto(server + "/labs/optimizers?surface=logistic&patience=100&max_iterations=3000&speed=100"
                       '&optimizers=[{"name":"gd","lr":0.5},{"name":"sgd","lr":0.5}]')
    page.wait_for_selector(READY)
    page.click("#opt-play")
    page.wait_for_function(ALL_STOPPED, timeout=30_000)
    assert "early stopping" in page.locator("#opt-status").inner_text()
    shot(page, "optimizers-logistic")


def test_bad_configuration_shows_a_message(page, server):
    page.goto(server + "/labs/optimizers")
    page.wait_for_selector(READY)
    page.fill("#opt-max-iter", "1000000000")
    page.press("#opt-max-iter", "Tab")
    page.wait_for_selector("#opt-message:not([hidden])")
    assert "NP_MAX_OPTIMIZER_ITERATIONS" in page.inner_text("#opt-message")
    # A negative learning rate: the server names the field.
    page.fill("tr[data-kind='gd'] .opt-lr", "-1")
    page.press("tr[data-kind='gd'] .opt-lr", "Tab")
    page.wait_for_function("() => document.querySelector('#opt-message').textContent.includes('lr')")


def test_race_preset_on_rosenbrock(page, server):
    page.goto(server + "/labs/optimizers?preset=optimizers-race")
    page.wait_for_selector(READY)
    assert page.input_value("#opt-surface") == "rosenbrock"
    page.click("#opt-play")
    page.wait_for_function(ALL_STOPPED, timeout=60_000)
    adam = page.locator("#opt-status li[data-optimizer='adam']").inner_text()
    assert "converged" in adam
    gd = page.locator("#opt-status li[data-optimizer='gd']").inner_text()
    assert "iteration limit" in gd
    page.wait_for_function(EXPLORER_DONE, timeout=10_000)
    shot(page, "optimizers-race-rosenbrock")


def test_surfaces_with_other_windows_and_several_starts(page, server):
    page.goto(server + "/labs/optimizers?surface=himmelblau&max_iterations=300&speed=50")
    page.wait_for_selector(READY)
    box = page.locator("#opt-canvas").bounding_box()
    # Shift-click three more start points: 4 starts × 5 optimizers = 20 runs.
    for fx, fy in [(0.2, 0.2), (0.8, 0.2), (0.2, 0.8)]:
        at = {"x": box["width"] * fx, "y": box["height"] * fy}
        page.click("#opt-canvas", position=at, modifiers=["Shift"])
    page.wait_for_function("() => JSON.parse(new URLSearchParams(location.search).get('starts')).length "
                           "=== 4")
    page.wait_for_function("() => document.querySelectorAll('#opt-status li').length === 20")
    page.click("#opt-play")
    page.wait_for_function(ALL_STOPPED, timeout=30_000)
    shot(page, "optimizers-himmelblau-starts")
    page.select_option("#opt-surface", "camel")
    page.wait_for_function("() => document.querySelector('#opt-surface-label').textContent "
                           "=== 'Six-hump camel'")
    box = page.locator("#opt-canvas").bounding_box()
    assert abs(box["height"] / box["width"] - 0.75) < 0.02  # the window is 4 × 3


def test_hyperparameters_and_schedule_reach_the_url(page, server):
    page.goto(server + "/labs/optimizers?surface=ravine")
    page.wait_for_selector(READY)
    page.click("tr[data-kind='momentum'] .more")
    page.fill("[aria-label='Momentum momentum']", "0.5")
    page.press("[aria-label='Momentum momentum']", "Tab")
    page.select_option("[aria-label='Momentum learning-rate schedule']", "exponential")
    page.fill("[aria-label='Momentum schedule gamma']", "0.95")
    page.press("[aria-label='Momentum schedule gamma']", "Tab")
    page.wait_for_function("() => location.search.includes('0.95')")
    opts = json.loads(parse_qs(urlparse(page.url).query)["optimizers"][0])
    mom = next(o for o in opts if o["name"] == "momentum")
    assert mom["hyperparameters"] == {"momentum": 0.5}
    assert mom["schedule"] == "exponential" and mom["schedule_params"] == {"gamma": 0.95}
    page.click("#opt-play")
    page.wait_for_function(ALL_STOPPED, timeout=20_000)
    # γ_t = 0.03 · 0.95^t sums to 0.6 at most, so momentum stalls
    # short of the minimum: a schedule that decays too fast, shown, not hidden.
    text = page.locator("#opt-status li[data-optimizer='momentum']").inner_text()
    assert "iteration limit" in text
    assert "converged" in page.locator("#opt-status li[data-optimizer='gd']").inner_text()


def runs_shown(page) -> dict[str, dict]:
    """Per optimizer (first start point): what its status line prints."""
    return page.evaluate("""() => Object.fromEntries(
        [...document.querySelectorAll('#opt-status li')].reverse().map(li => [li.dataset.optimizer,
          {reason: li.dataset.reason, updates: +li.dataset.updates, path: +li.dataset.path,
           reversals: +li.dataset.reversals, text: li.innerText}]))""")


def test_the_opening_race_tells_the_lectures_story(page, server):
    """The lab as it opens: GD zig-zags across the ravine, momentum damps it, the adaptive
    methods walk nearly straight; the status lines print the numbers that say so."""
    page.goto(server + "/labs/optimizers?speed=20")
    page.wait_for_selector(READY)
    page.click("#opt-play")
    page.wait_for_function(ALL_STOPPED, timeout=30_000)
    runs = runs_shown(page)
    assert set(runs) == {"gd", "momentum", "adagrad", "rmsprop", "adam"}
    assert all(r["reason"] == "gradient_norm" for r in runs.values()), runs
    gd, mom = runs["gd"], runs["momentum"]
    assert gd["reversals"] >= 10 and f"{gd['reversals']} reversals" in gd["text"]
    assert mom["reversals"] * 3 <= gd["reversals"] and mom["updates"] * 2 <= gd["updates"]
    for k in ("adagrad", "rmsprop", "adam"):
        assert runs[k]["path"] * 3 < gd["path"] and runs[k]["reversals"] <= 1, runs[k]
    assert max(r["updates"] for r in runs.values()) == gd["updates"]
    assert "path 2.1" in runs["rmsprop"]["text"]  # the straight line from (−1.8, 1) is 2.06 long
    shot(page, "optimizers-opening-race")


def test_leaving_the_saddle_is_escaping_not_diverging(page, server):
    page.goto(server + "/labs/optimizers?surface=saddle&speed=10")
    page.wait_for_selector(READY)
    page.click("#opt-play")
    page.wait_for_function(ALL_STOPPED, timeout=20_000)
    runs = runs_shown(page)
    assert all(r["reason"] == "escaped" for r in runs.values()), runs
    text = page.locator("#opt-status").inner_text()
    assert text.count("escaped the saddle") == 5 and "diverged" not in text
    assert not page.locator("#opt-status li.danger, #opt-status li[data-reason='diverged']").count()
    shot(page, "optimizers-saddle-escaped")
