"""Every preset in presets/ loads in Chromium and shows what it promises; the presets menu opens
them; a JSON export, imported into a fresh page, gives back the same weights.

A preset's optional "expect" object says what its scene shows:
  {"text": "not linearly separable"}  the lab's page shows this text (case-insensitive; a list:
                                      every one of them),
  {"accuracy": "100"}                 the page shows "Accuracy … 100 %" (100.0 % too),
  {"match": ["re1", "re2"]}           regular expressions the page's text matches, waited for
                                      one after the other (e.g. an epoch count, then a loss),
  {"compare": [{"metric": "updates", "smaller": "momentum", "than": "gd", "by": 2}]}
                                      once every run of the optimizer lab stopped, the number it
                                      prints for `smaller` (updates, path length or reversals)
                                      times `by` (default 1) is at most the one for `than`,
  {"play": false}                     do not press play first (default: play),
  {"timeout": 30}                     seconds to wait for it (default 30).
Without "expect", the test checks that the page opens with the preset's parameters.
"""

from __future__ import annotations

import json
import math
import re
import time
from pathlib import Path

import pytest

from app.labs import BY_SLUG
from tests.browser.conftest import ROOT, shot
from tests.browser.labpage import lab_call, open_dock, wait_for_lab

PRESETS = {p.stem: json.loads(p.read_text()) for p in sorted((ROOT / "presets").glob("*.json"))}
WRITTEN = [lab for lab in BY_SLUG if (ROOT / "templates" / "labs" / f"{lab}.html").exists()]


def decode(value):
    """URL values the lab keeps as JSON text ("[[1,2]]", '{"a": 1}') as the JSON they mean."""
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def same(expected, actual) -> bool:
    """A preset value against the lab's state(): numbers as numbers, lists item by item,
    "a,b" strings as lists and JSON text as JSON (the URL's spellings), "1"/"true" as true."""
    expected, actual = decode(expected), decode(actual)
    if isinstance(expected, dict):
        return isinstance(actual, dict) and set(expected) == set(actual) and all(
            same(v, actual[k]) for k, v in expected.items())
    if isinstance(expected, list):
        if isinstance(actual, str):
            actual = [a for a in actual.split(",") if a != ""]
        return isinstance(actual, list) and len(actual) == len(expected) and all(
            same(e, a) for e, a in zip(expected, actual, strict=True))
    if isinstance(expected, bool) or isinstance(actual, bool):
        def truth(v):
            return str(v).lower() in {"1", "true", "yes", "on"}
        return truth(expected) == truth(actual)
    if expected is None or actual is None:
        return expected == actual
    try:
        return math.isclose(float(expected), float(actual), rel_tol=1e-9)
    except (TypeError, ValueError):
        return str(expected) == str(actual)


def main_text_matches(page, pattern: str, timeout: float) -> None:
    page.wait_for_function(
        "pattern => new RegExp(pattern, 'i').test(document.querySelector('main').innerText)",
        arg=pattern, timeout=timeout * 1000,
    )


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_preset_loads_and_shows_its_promise(page, server, name):
    preset = PRESETS[name]
    if preset["lab"] not in WRITTEN:
        pytest.skip(f"the {preset['lab']} lab page is not written yet")
    page.goto(f"{server}/labs/{preset['lab']}?preset={name}")
    wait_for_lab(page)
    assert page.get_attribute("body", "data-preset") == name

    state = lab_call(page, "state")
    wrong = {k: (v, state.get(k)) for k, v in preset["params"].items() if not same(v, state.get(k))}
    assert not wrong, f"the lab's state() differs from the preset's params (preset, state): {wrong}"
    # the presets menu names the open scene
    assert preset["title"] in page.locator(".lab-toolbar button.presets").inner_text()

    expect = preset.get("expect", {})
    timeout = expect.get("timeout", 30)
    if expect and expect.get("play", True):
        lab_call(page, "toggle")
    texts = expect.get("text", [])
    for text in [texts] if isinstance(texts, str) else texts:
        main_text_matches(page, re.escape(text), timeout)
    for pattern in expect.get("match", []):
        main_text_matches(page, pattern, timeout)
    if "compare" in expect:
        check_comparisons(page, expect["compare"], timeout)
    if "accuracy" in expect:
        value = re.escape(str(expect["accuracy"]))
        main_text_matches(page, rf"accuracy[^0-9]{{0,40}}{value}(\.0+)?\s*%", timeout)
    shot(page, f"preset-{name}")


def check_comparisons(page, comparisons: list[dict], timeout: float) -> None:
    """The optimizer lab's printed updates / path length / reversals, run against run."""
    page.wait_for_function(
        "() => document.querySelectorAll('#opt-status li').length && "
        "!document.querySelector('#opt-status li[data-reason=\"running\"]')", timeout=timeout * 1000)
    runs = page.evaluate("""() => Object.fromEntries(
        [...document.querySelectorAll('#opt-status li')].reverse().map(li => [li.dataset.optimizer,
          {updates: +li.dataset.updates, path: +li.dataset.path,
           reversals: +li.dataset.reversals, text: li.innerText}]))""")
    for c in comparisons:
        small, big, metric, by = runs[c["smaller"]], runs[c["than"]], c["metric"], c.get("by", 1)
        shown = f"{c['smaller']}: {small['text']!r}; {c['than']}: {big['text']!r}"
        assert small[metric] * by <= big[metric], f"{metric} × {by}: {shown}"
        # the numbers compared are the ones the lab prints
        printed = {"updates": f"{small['updates']} updates", "reversals": f"{small['reversals']} reversal"}
        if metric in printed:
            assert printed[metric] in small["text"], shown


@pytest.mark.parametrize("lab", [lab for lab in WRITTEN if any(p["lab"] == lab for p in PRESETS.values())])
def test_presets_menu_opens_a_scene(page, server, lab):
    scenes = [p for p in PRESETS.values() if p["lab"] == lab]
    page.goto(f"{server}/labs/{lab}?embed=1&hide=seed")
    wait_for_lab(page)
    open_dock(page)  # a wide picture folds the controls and the toolbar away in an embed
    page.click(".lab-toolbar button.presets")
    menu = page.locator("#presets-menu")
    menu.wait_for(state="visible")
    assert menu.locator("a").count() == len(scenes)
    box, button = menu.bounding_box(), page.locator(".lab-toolbar button.presets").bounding_box()
    assert box["y"] >= button["y"] + button["height"] or box["y"] + box["height"] <= button["y"]
    target = scenes[-1]
    menu.locator(f'a[data-preset="{target["name"]}"]').click()
    # The new page says which scene it opened; its URL soon holds every parameter instead of
    # preset=, so waiting for the URL would race with the lab's first syncURL.
    page.wait_for_function("name => document.body.dataset.preset === name", arg=target["name"])
    wait_for_lab(page)
    assert page.get_attribute("body", "data-preset") == target["name"]
    classes = page.get_attribute("html", "class").split()
    assert "embed" in classes and "present" not in classes  # the view options stay
    assert page.get_attribute("body", "data-hide") == "seed"
    assert menu.locator(f'a[data-preset="{target["name"]}"]').get_attribute("aria-current") == "true"


# ---- export → import ------------------------------------------------------------------------

# Where each lab's exportState() keeps its trained weights.
WEIGHTS = {
    "mlp": [("weights",)],
    "perceptron": [("frame", "w"), ("frame", "b")],
    "backprop": [("frame", "network", "weights"), ("frame", "network", "biases")],
}


def weights_of(lab: str, state) -> list[float] | None:
    found = []
    for path in WEIGHTS[lab]:
        value = state
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if value is None:
            return None
        found += flat(value)
    return found


def flat(values) -> list[float]:
    if isinstance(values, dict):
        return [x for k in sorted(values) for x in flat(values[k])]
    if isinstance(values, list):
        return [x for v in values for x in flat(v)]
    return [float(values)] if isinstance(values, int | float) and not isinstance(values, bool) else []


def current_weights(page, lab: str) -> list[float] | None:
    return weights_of(lab, lab_call(page, "exportState"))


def settled_weights(page, lab: str, timeout: float = 15.0) -> list[float]:
    """The weights once two reads 0.4 s apart agree (no step still on its way)."""
    deadline = time.monotonic() + timeout
    last = current_weights(page, lab)
    while time.monotonic() < deadline:
        time.sleep(0.4)
        now = current_weights(page, lab)
        if now and now == last:
            return now
        last = now
    raise AssertionError(f"the {lab} lab's weights did not settle: {last}")


def export_file(page, tmp_path: Path) -> tuple[Path, dict]:
    with page.expect_download() as download:
        page.click('.lab-toolbar [data-action="export-json"]')
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    return path, json.loads(path.read_text())


@pytest.mark.parametrize("lab", [lab for lab in WRITTEN if lab in WEIGHTS])
def test_json_export_reimported_gives_the_same_weights(page, server, browser, lab, tmp_path: Path):
    page.goto(f"{server}/labs/{lab}")
    wait_for_lab(page)
    start = settled_weights(page, lab)
    for _ in range(60):  # step until an update changed the weights
        lab_call(page, "step")
        time.sleep(0.1)
        if current_weights(page, lab) != start:
            break
    trained = settled_weights(page, lab)
    assert trained != start, f"60 steps of the {lab} lab left its weights as they were"

    path, exported = export_file(page, tmp_path)
    assert exported["format"] == "neural-playground/state" and exported["version"] == 1
    assert exported["lab"] == lab and exported["url"].startswith(f"{server}/labs/{lab}")
    assert weights_of(lab, exported["state"]) == trained

    fresh = browser.new_context(viewport={"width": 1280, "height": 720}).new_page()
    try:
        fresh.goto(f"{server}/labs/{lab}")
        wait_for_lab(fresh)
        assert settled_weights(fresh, lab) == start
        fresh.set_input_files('.lab-toolbar input[data-action="import-json"]', str(path))
        fresh.locator(".lab-toolbar .toolbar-status").filter(has_text="Imported").wait_for()
        deadline = time.monotonic() + 10
        while current_weights(fresh, lab) != pytest.approx(trained, rel=1e-12, abs=1e-15):
            if time.monotonic() > deadline:
                pytest.fail(f"after the import the {lab} lab has weights {current_weights(fresh, lab)}, "
                            f"exported {trained}")
            time.sleep(0.1)
        shot(fresh, f"imported-{lab}")
    finally:
        fresh.context.close()


@pytest.mark.parametrize("lab", [lab for lab in WRITTEN if lab not in WEIGHTS])
def test_json_export_reimported_gives_the_same_parameters(page, server, browser, lab, tmp_path: Path):
    """A lab without weights (the optimizers race) replays: the import restores its parameters."""
    page.goto(f"{server}/labs/{lab}?seed=5")
    wait_for_lab(page)
    state = lab_call(page, "state")
    path, exported = export_file(page, tmp_path)
    assert exported["lab"] == lab
    fresh = browser.new_context(viewport={"width": 1280, "height": 720}).new_page()
    try:
        fresh.goto(f"{server}/labs/{lab}")
        wait_for_lab(fresh)
        fresh.set_input_files('.lab-toolbar input[data-action="import-json"]', str(path))
        fresh.locator(".lab-toolbar .toolbar-status").filter(has_text="Imported").wait_for()
        assert lab_call(fresh, "state") == state
    finally:
        fresh.context.close()


def test_import_refuses_another_labs_file(page, server, tmp_path: Path):
    if "mlp" not in WRITTEN:
        pytest.skip("the MLP lab page is not written yet")
    other = tmp_path / "perceptron.json"
    other.write_text(json.dumps({"format": "neural-playground/state", "version": 1, "lab": "perceptron",
                                 "state": {}}))
    page.goto(f"{server}/labs/mlp")
    wait_for_lab(page)
    page.set_input_files('.lab-toolbar input[data-action="import-json"]', str(other))
    status = page.locator(".lab-toolbar .toolbar-status")
    status.filter(has_text="failed").wait_for()
    assert "from the perceptron lab" in status.inner_text()
