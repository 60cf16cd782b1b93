"""A wrong address in a browser (an unknown lab, preset or short link) is an HTML page that says
what is wrong and leads back; the API keeps answering JSON."""

from __future__ import annotations

import pytest


def html(r) -> str:
    assert r.headers["content-type"].startswith("text/html"), r.headers["content-type"]
    return r.text


@pytest.mark.parametrize("path", ["/labs/nope", "/embed/nope", "/labs/nope?embed=1"])
def test_unknown_lab_is_a_page_with_the_labs(client, path):
    r = client.get(path)
    assert r.status_code == 404
    page = html(r)
    assert "no lab" in page.lower() and "nope" in page
    for lab in ("perceptron", "mlp", "backprop", "optimizers"):
        assert f'href="/labs/{lab}"' in page
    assert 'href="/"' in page  # back to the gallery


def test_unknown_preset_is_a_page_with_the_labs_presets(client):
    r = client.get("/labs/mlp?preset=nope")
    assert r.status_code == 404
    page = html(r)
    assert "nope" in page and "no preset" in page.lower()
    assert 'href="/labs/mlp"' in page  # the lab without the preset
    assert 'href="/labs/mlp?preset=xor-2-2-1-mlp"' in page  # the presets it has
    assert "{&#34;detail&#34;" not in page and '{"detail"' not in page


def test_embedded_error_page_has_no_site_chrome_and_opens_links_in_the_frame(client):
    page = html(client.get("/embed/perceptron?preset=nope"))
    assert "<header" not in page
    assert 'href="/embed/perceptron"' in page


@pytest.mark.parametrize("path", ["/api/v1/presets/nope", "/api/v1/nope", "/api/v1/mlp/sessions/nope"])
def test_api_stays_json(client, path):
    r = client.get(path)
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/json")
    assert "detail" in r.json()
