"""Embedding: the security headers (framing allowed by the settings' allow-list, a strict CSP),
the /embed alias, and the embed view (no site chrome, ?hide= removes controls, toolbar)."""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.testclient import TestClient
from pydantic import ValidationError

from app.labs import BY_SLUG
from app.settings import Settings
from app.templating import ROOT, render

WRITTEN = [lab for lab in BY_SLUG if (ROOT / "templates" / "labs" / f"{lab}.html").exists()]


def csp(response) -> dict[str, str]:
    """The Content-Security-Policy header as {directive: sources}."""
    parts = [p.strip() for p in response.headers["content-security-policy"].split(";") if p.strip()]
    return {p.split()[0]: " ".join(p.split()[1:]) for p in parts}


# ---- headers -------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/", "/api/v1/presets", "/healthz", "/static/css/base.css",
                                  *[f"/labs/{lab}" for lab in WRITTEN]])
def test_strict_csp_everywhere(client, path):
    r = client.get(path)
    assert r.status_code == 200
    policy = csp(r)
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"  # no inline scripts, no eval, no other origin
    assert policy["object-src"] == "'none'"
    assert policy["base-uri"] == "'self'"
    assert policy["connect-src"] == "'self'"
    header = r.headers["content-security-policy"]
    assert "unsafe-eval" not in header
    assert not re.search(r"https?://", header), "no third-party origin may be allowed"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "x-frame-options" not in r.headers  # it would override frame-ancestors


def test_framing_by_any_origin_by_default(client):
    """Any http(s) page, and a slide deck opened from disk (Chromium does not count file: in *)."""
    assert Settings().frame_ancestors == "* file:"
    assert csp(client.get("/"))["frame-ancestors"] == "* file:"


def test_framing_allow_list_from_settings(client_with):
    c = client_with(frame_ancestors="'self'   https://slides.example.org")
    assert csp(c.get("/"))["frame-ancestors"] == "'self' https://slides.example.org"
    assert csp(c.get("/embed/mlp", follow_redirects=False))["frame-ancestors"] == (
        "'self' https://slides.example.org")


def test_framing_setting_from_environment(monkeypatch):
    monkeypatch.setenv("NP_FRAME_ANCESTORS", "https://a.example.org https://b.example.org")
    assert Settings().frame_ancestors == "https://a.example.org https://b.example.org"


@pytest.mark.parametrize("value", ["", "https://a.org; script-src *", "https://a.org,https://b.org",
                                   "'unsafe-inline'", "'none' https://a.org"])
def test_framing_setting_cannot_inject_directives(value):
    with pytest.raises(ValidationError, match="frame_ancestors"):
        Settings(frame_ancestors=value)


def test_docs_page_is_the_one_inline_script_exception(client):
    r = client.get("/docs")
    assert r.status_code == 200
    assert csp(r)["script-src"] == "'self' 'unsafe-inline'"
    assert "/static/vendor/swagger-ui" in r.text and "cdn" not in r.text.lower()


# ---- the /embed alias ----------------------------------------------------------------------

def test_embed_alias_redirects_with_the_query(client):
    r = client.get("/embed/mlp?preset=xor-2-2-1-mlp&hide=lr,dataset", follow_redirects=False)
    assert r.status_code == 307
    assert r.headers["location"] == "/labs/mlp?embed=1&preset=xor-2-2-1-mlp&hide=lr,dataset"
    assert client.get("/embed/perceptron", follow_redirects=False).headers["location"] == (
        "/labs/perceptron?embed=1")


def test_embed_alias_unknown_lab_is_404(client):
    r = client.get("/embed/nope")
    assert r.status_code == 404
    assert "no lab 'nope'" in r.json()["detail"][0]["msg"]


# ---- the embed view, on a bare page of base.html (independent of any lab's template) --------

CONTROLS = """{% extends "base.html" %}{% import "macros.html" as m with context %}
{% block main %}<div class="controls"><label {{ m.ctl('lr') }}>Learning rate</label>
<label {{ m.ctl('dataset') }}>Dataset</label><label {{ m.ctl('seed') }}>Seed</label></div>{% endblock %}"""


@pytest.fixture
def bare() -> TestClient:
    """An app whose one page is a lab page with three controls and nothing else."""
    from app.templating import templates

    test_app = FastAPI()
    source = templates.env.from_string(CONTROLS)

    @test_app.get("/labs/mlp", response_class=HTMLResponse)
    def page(request: Request) -> HTMLResponse:
        response = render(request, "base.html", lab="mlp")  # the shared context
        return HTMLResponse(source.render(response.context))

    return TestClient(test_app)


def test_full_page_has_chrome_and_toolbar(bare):
    html = bare.get("/labs/mlp").text
    assert '<header class="site">' in html and '<footer class="site">' in html
    assert 'class="lab-toolbar"' in html and 'data-action="share"' in html
    assert '<script type="module" src="/static/js/toolbar.js">' in html
    assert 'id="share-dialog"' in html
    assert '<html lang="en" class=" ">' in html


def test_embed_view_drops_chrome_and_honours_hide(bare):
    html = bare.get("/labs/mlp?embed=1&hide=lr,seed,share&present=1&autoplay=1").text
    assert "<header" not in html and "<footer" not in html
    assert 'class="present embed"' in html
    assert 'data-autoplay="1"' in html and 'data-embed="1"' in html and 'data-present="1"' in html
    assert 'data-hide="lr,seed,share"' in html
    assert 'data-control="lr" hidden' in html
    assert 'data-control="seed" hidden' in html
    assert 'data-control="dataset">' in html  # not hidden
    assert re.search(r'data-action="share" data-control="share" hidden', html)
    assert 'data-control="toolbar" data-label' in html  # not hidden


def test_hide_toolbar_hides_it_all(bare):
    html = bare.get("/labs/mlp?embed=1&hide=toolbar").text
    assert 'data-control="toolbar" hidden data-label' in html


def test_preset_links_keep_the_view(bare, monkeypatch, tmp_path):
    from app import presets

    (tmp_path / "xor-2-2-1-mlp.json").write_text(
        '{"name": "xor-2-2-1-mlp", "lab": "mlp", "title": "XOR 2-2-1", "description": "d", "params": {}}')
    monkeypatch.setattr(presets, "PRESETS_DIR", tmp_path)
    presets.all_presets.cache_clear()
    try:
        html = bare.get("/labs/mlp?embed=1&hide=lr&preset=xor-2-2-1-mlp").text
    finally:
        presets.all_presets.cache_clear()
    assert 'href="/labs/mlp?preset=xor-2-2-1-mlp&amp;embed=1&amp;hide=lr"' in html
    assert "Presets: <b>XOR 2-2-1</b>" in html


# ---- the real lab pages ----------------------------------------------------------------------

@pytest.mark.parametrize("lab", WRITTEN)
def test_lab_embed_view(client, lab):
    full = client.get(f"/labs/{lab}").text
    assert '<header class="site">' in full and 'class="lab-toolbar"' in full
    controls = re.findall(r'data-control="([\w-]+)"', full)
    toolbar = {"toolbar", "presets", "share", "export", "import", "keys"}
    lab_controls = [c for c in controls if c not in toolbar]
    assert lab_controls, f"the {lab} page marks no control with m.ctl()"
    hide = lab_controls[0]
    r = client.get(f"/embed/{lab}?hide={hide}")
    assert r.status_code == 200
    assert str(r.url).endswith(f"/labs/{lab}?embed=1&hide={hide}")
    assert "<header" not in r.text and "<footer" not in r.text
    assert re.search(rf'data-control="{hide}"[^>]*\bhidden\b', r.text)
