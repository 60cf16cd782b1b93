"""Short links: a share link too long for chat, an LMS or an 8 KB proxy is kept by the server
and opened by a short /s/<id> address; size and count are capped by settings."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from tests.answers import message as problems

POINTS = [[i / 100, -i / 100, 1] for i in range(900)]
LONG = "/labs/mlp?dataset=circle&seed=3&points=" + quote(json.dumps(POINTS))


@pytest.fixture
def links(client_with, tmp_path):
    return client_with(links_dir=tmp_path / "links")


def test_a_long_link_gets_a_short_address_that_opens_it(links):
    r = links.post("/api/v1/links", json={"url": LONG})
    assert r.status_code == 201
    body = r.json()
    assert body["url"] == f"/s/{body['id']}" and len(body["url"]) <= 20
    assert body["target"] == LONG
    opened = links.get(body["url"], follow_redirects=False)
    assert opened.status_code in (303, 307)
    assert opened.headers["location"] == LONG
    assert links.get(f"/api/v1/links/{body['id']}").json()["target"] == LONG


def test_the_same_link_gets_the_same_address(links):
    a = links.post("/api/v1/links", json={"url": LONG}).json()
    b = links.post("/api/v1/links", json={"url": LONG}).json()
    assert a["id"] == b["id"]


def test_links_outlive_the_server_process(client_with, tmp_path):
    first = client_with(links_dir=tmp_path)
    made = first.post("/api/v1/links", json={"url": "/embed/perceptron?lr=0.5&hide=toolbar"}).json()
    again = client_with(links_dir=tmp_path)  # a new app, same folder
    assert again.get(made["url"], follow_redirects=False).headers["location"] == (
        "/embed/perceptron?lr=0.5&hide=toolbar")


@pytest.mark.parametrize("url", ["https://evil.example.org/labs/mlp", "//evil.example.org/x", "/api/v1/mlp",
                                 "/labs/../api", "javascript:alert(1)", "/labs/mlp\nx", ""])
def test_only_lab_pages_can_be_shortened(links, url):
    r = links.post("/api/v1/links", json={"url": url})
    assert r.status_code == 422
    assert "/labs/" in r.text


def test_the_size_cap_is_a_setting(client_with, tmp_path):
    c = client_with(links_dir=tmp_path, max_link_bytes=1000)
    r = c.post("/api/v1/links", json={"url": LONG})
    assert r.status_code == 413
    assert "NP_MAX_LINK_BYTES" in problems(r)


def test_the_number_of_links_is_capped(client_with, tmp_path):
    c = client_with(links_dir=tmp_path, max_links=2)
    for i in range(2):
        assert c.post("/api/v1/links", json={"url": f"/labs/mlp?seed={i}"}).status_code == 201
    assert c.post("/api/v1/links", json={"url": "/labs/mlp?seed=0"}).status_code == 201  # already kept
    r = c.post("/api/v1/links", json={"url": "/labs/mlp?seed=9"})
    assert r.status_code == 507
    assert "NP_MAX_LINKS" in problems(r)


def test_an_unknown_short_link_is_a_page_with_a_way_back(links):
    r = links.get("/s/nothinghere")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("text/html")
    assert 'href="/"' in r.text
    assert links.get("/api/v1/links/nothinghere").status_code == 404
    assert links.get("/s/../../etc/passwd").status_code == 404
