"""Presets: the files in presets/ are well formed, the API lists and serves them, ?preset= opens
one (query parameters override it), and the lab pages and the gallery list them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi import Request

from app import presets
from app.labs import BY_SLUG
from app.templating import ROOT

FILES = sorted((ROOT / "presets").glob("*.json"))
EXPECT_KEYS = {"text", "match", "accuracy", "timeout", "play", "compare"}
COMPARE_METRICS = {"updates", "path", "reversals"}


def lab_page_exists(lab: str) -> bool:
    return (ROOT / "templates" / "labs" / f"{lab}.html").exists()


@pytest.fixture
def scenes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A presets/ folder of our own, so these tests do not depend on the lab's scenes."""
    for name, lab, params in [
        ("perceptron-and", "perceptron", {"dataset": "and", "lr": 1, "seed": 3}),
        ("xor-2-2-1-mlp", "mlp", {"dataset": "xor", "layers": [2], "activation": "tanh", "seed": 1}),
        ("lr-too-large", "optimizers", {"lr": 1.5}),
    ]:
        (tmp_path / f"{name}.json").write_text(json.dumps({
            "name": name, "lab": lab, "title": name.replace("-", " ").title(),
            "description": f"the {name} scene", "params": params, "expect": {"text": "x"},
        }))
    monkeypatch.setattr(presets, "PRESETS_DIR", tmp_path)
    presets.all_presets.cache_clear()
    yield tmp_path
    presets.all_presets.cache_clear()


# ---- the shipped files -------------------------------------------------------------------

@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_preset_file_is_well_formed(path: Path):
    data = presets.load(path)  # raises with the file name on a missing key or a name mismatch
    assert data["lab"] in BY_SLUG, f"{path.name}: lab must be one of {sorted(BY_SLUG)}"
    assert data["title"].strip() and data["description"].strip()
    for key, value in data["params"].items():
        assert isinstance(value, str | int | float | bool | list), f"{path.name}: {key} is {value!r}"
    expect = data.get("expect", {})
    assert set(expect) <= EXPECT_KEYS, f"{path.name}: expect keys are {sorted(EXPECT_KEYS)}"
    for c in expect.get("compare", []):
        assert data["lab"] == "optimizers", f"{path.name}: compare reads the optimizer lab's runs"
        assert set(c) <= {"metric", "smaller", "than", "by"} and c["metric"] in COMPARE_METRICS, c
        named = {o["name"] for o in data["params"]["optimizers"]}
        assert {c["smaller"], c["than"]} <= named, f"{path.name}: {c} names an optimizer not in the race"


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_preset_page_opens(client, path: Path):
    lab = json.loads(path.read_text())["lab"]
    if not lab_page_exists(lab):
        pytest.skip(f"the {lab} lab page is not written yet")
    r = client.get(f"/labs/{lab}?preset={path.stem}")
    assert r.status_code == 200, r.text
    assert f'data-preset="{path.stem}"' in r.text


def test_issue_scenes_are_shipped():
    """The scenes the lecture asks for (issue 6) exist once the labs have written them."""
    wanted = {"perceptron-and", "perceptron-xor-fails", "xor-with-feature-x1x2", "xor-2-2-1-mlp",
              "spiral-needs-depth", "sigmoid-vs-relu", "backprop-worked-example", "lr-too-large",
              "momentum-on-ravine", "optimizers-race", "optimizers-ravine", "saddle-escape"}
    have = {p.stem for p in FILES}
    labs_written = {lab for lab in BY_SLUG if lab_page_exists(lab)}
    if labs_written != set(BY_SLUG):
        pytest.skip(f"labs still missing: {sorted(set(BY_SLUG) - labs_written)}")
    assert wanted <= have, f"missing presets: {sorted(wanted - have)}"


# ---- loading and validation --------------------------------------------------------------

def test_load_names_the_file_and_the_problem(tmp_path: Path):
    bad = tmp_path / "oops.json"
    bad.write_text('{"name": "other", "lab": "mlp", "title": "t", "description": "d", "params": {}}')
    with pytest.raises(ValueError, match=r"oops\.json: name 'other' differs"):
        presets.load(bad)
    bad.write_text('{"name": "oops", "lab": "mlp"}')
    with pytest.raises(ValueError, match=r"oops.json: missing \['title', 'description', 'params'\]"):
        presets.load(bad)
    bad.write_text('{"name": "oops", "lab": "mlp", "title": "t", "description": "d", "params": {"embed": 1}}')
    with pytest.raises(ValueError, match="view options"):
        presets.load(bad)
    bad.write_text("{nope")
    with pytest.raises(ValueError, match=r"oops\.json: not valid JSON"):
        presets.load(bad)


def _request(query: str) -> Request:
    return Request({"type": "http", "method": "GET", "path": "/labs/mlp", "query_string": query.encode(),
                    "headers": []})


def test_initial_params_preset_then_query_overrides(scenes):
    params = presets.initial_params(_request("preset=xor-2-2-1-mlp&seed=7&embed=1&hide=lr"), "mlp")
    assert params == {"dataset": "xor", "layers": [2], "activation": "tanh", "seed": "7"}


def test_initial_params_unknown_or_foreign_preset_is_404(scenes):
    from fastapi import HTTPException

    with pytest.raises(HTTPException) as info:
        presets.initial_params(_request("preset=perceptron-and"), "mlp")
    assert info.value.status_code == 404
    assert "no preset 'perceptron-and' for the mlp lab; presets: ['xor-2-2-1-mlp']" in info.value.detail


# ---- the API -----------------------------------------------------------------------------

def test_api_lists_presets_in_lecture_order(client, scenes):
    r = client.get("/api/v1/presets")
    assert r.status_code == 200
    body = r.json()
    assert [p["name"] for p in body] == ["perceptron-and", "xor-2-2-1-mlp", "lr-too-large"]
    first = body[0]
    assert first == {
        "name": "perceptron-and", "lab": "perceptron", "title": "Perceptron And",
        "description": "the perceptron-and scene", "url": "/labs/perceptron?preset=perceptron-and",
        "params": {"dataset": "and", "lr": 1, "seed": 3},
    }
    assert "expect" not in first  # test metadata stays out of the API


def test_api_filters_by_lab(client, scenes):
    assert [p["name"] for p in client.get("/api/v1/presets?lab=mlp").json()] == ["xor-2-2-1-mlp"]
    r = client.get("/api/v1/presets?lab=nope")
    assert r.status_code == 422
    assert "lab must be one of" in r.json()["detail"][0]["msg"] and "'mlp'" in r.json()["detail"][0]["msg"]


def test_api_reads_one_preset(client, scenes):
    r = client.get("/api/v1/presets/lr-too-large")
    assert r.status_code == 200
    assert r.json()["params"] == {"lr": 1.5}
    assert r.json()["url"] == "/labs/optimizers?preset=lr-too-large"
    r = client.get("/api/v1/presets/nope")
    assert r.status_code == 404
    assert "no preset 'nope'; presets: ['lr-too-large'," in r.json()["detail"][0]["msg"]


def test_api_is_documented(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert "/api/v1/presets" in paths and "/api/v1/presets/{name}" in paths


def test_gallery_lists_labs_and_their_presets(client, scenes):
    html = client.get("/").text
    order = [html.index(f'id="lab-{slug}"') for slug in BY_SLUG]
    assert order == sorted(order)
    for slug in BY_SLUG:
        assert f'src="/static/img/{slug}.svg"' in html
    assert 'href="/labs/mlp?preset=xor-2-2-1-mlp"' in html
    assert "Convolution" in html and "Later in the lecture" not in html  # every part has its lab
