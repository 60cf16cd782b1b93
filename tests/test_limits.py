"""What one request may ask, and what one client may hold: each limit answers a small, clear 4xx.

The hand probes that once stalled or broke the server, made into tests (in-process; the
isolation tests that run a real server beside a watched session are in test_limits_live.py).
"""

from __future__ import annotations

import json

import pytest

from app.errors import MAX_ERRORS, capped
from app.limits import JSONShapeError, check_shape
from app.settings import Settings
from tests.streams import until

MLP = "/api/v1/mlp/sessions"
SESSIONS = ["/api/v1/mlp/sessions", "/api/v1/perceptron/sessions", "/api/v1/backprop/sessions",
            "/api/v1/optimizers/sessions"]


def _messages(r) -> str:
    return " ".join(e["msg"] for e in r.json()["detail"])


# ----- bodies ---------------------------------------------------------------------------------
def test_a_body_over_the_limit_is_refused_before_it_is_read(client_with):
    c = client_with(max_body_bytes=10_000)
    r = c.post(MLP, content=b"[" + b"1," * 20_000 + b"1]", headers={"content-type": "application/json"})
    assert r.status_code == 413 and "NP_MAX_BODY_BYTES" in _messages(r)
    assert r.json()["detail"][0]["type"] == "too_large"


def test_a_body_without_its_length_is_cut_off_too(client_with):
    c = client_with(max_body_bytes=10_000)

    def chunks():
        for _ in range(100):
            yield b" " * 1000

    r = c.post(MLP, content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413 and "NP_MAX_BODY_BYTES" in r.text


def test_half_a_megabyte_of_bad_points_gets_a_small_answer(client):
    word = "not-a-number-"
    body = json.dumps({"points": [[word, word, word]] * 9_000, "dataset": 7, "lr": "fast"})
    assert len(body) > 400_000
    r = client.post(MLP, content=body, headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert len(r.content) < 5_000  # was 10 MB: every bad item echoed
    detail = r.json()["detail"]
    assert len(detail) <= MAX_ERRORS + 1
    assert {tuple(e["loc"][:2]) for e in detail} >= {("body", "points"), ("body", "dataset"), ("body", "lr")}


def test_more_items_in_one_list_than_allowed_are_refused_before_validation(client_with):
    c = client_with(max_list_items=100, max_points=50)
    r = c.post(MLP, json={"points": [[0, 0, 1]] * 101})
    assert r.status_code == 422 and "NP_MAX_LIST_ITEMS" in _messages(r)
    assert r.json()["detail"][0]["loc"] == ["body", "points"]
    r = c.patch(f"{MLP}/x", json={f"k{i}": 1 for i in range(200)})
    assert r.status_code == 422 and "keys" in _messages(r)


def test_nesting_too_deep_is_refused(client):
    deep = "[" * 100 + "]" * 100
    r = client.post(MLP, content='{"points": ' + deep + "}", headers={"content-type": "application/json"})
    assert r.status_code == 422 and "NP_MAX_JSON_DEPTH" in _messages(r)
    deeper = "[" * 5000 + "]" * 5000  # past what Python's parser itself allows
    r = client.post(MLP, content=deeper, headers={"content-type": "application/json"})
    assert r.status_code == 422 and "NP_MAX_JSON_DEPTH" in _messages(r)


@pytest.mark.parametrize("path", [*SESSIONS, "/api/v1/optimizers/paths", "/api/v1/perceptron/run",
                                  "/api/v1/backprop/trace"])
def test_a_lone_surrogate_in_any_string_is_a_422_not_a_500(client, path):
    body = '{"dataset": "\\ud800", "surface": "\\udfff", "activation": "\\ud800x"}'
    r = client.post(path, content=body, headers={"content-type": "application/json"})
    assert r.status_code == 422 and "Unicode" in _messages(r)


def test_a_lone_surrogate_in_a_string_that_is_echoed_back(client):
    body = {"optimizers": [{"name": "adam", "lr": 0.1, "label": "\ud800"}]}
    r = client.post("/api/v1/optimizers/paths", content=json.dumps(body),
                    headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"][:3] == ["body", "optimizers", 0]


def test_a_page_link_nesting_json_a_thousand_deep_still_opens_the_page(client):
    deep = "[" * 1100 + "]" * 1100
    r = client.get("/labs/mlp", params={"optimizer": "sgd", "optimizer_params": deep})
    assert r.status_code == 200


def test_bad_json_is_a_400_or_422_in_the_error_shape(client):
    r = client.post(MLP, content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code in (400, 422)
    assert isinstance(r.json()["detail"], list) and r.json()["detail"][0]["msg"]


# ----- one error shape ----------------------------------------------------------------------
def test_every_error_is_a_list_of_problems(client):
    answers = [
        client.get(f"{MLP}/nope"),  # 404 from the store
        client.get("/api/v1/presets/nope"),  # 404 from a router
        client.get("/api/v1/presets", params={"lab": "nope"}),  # HTTPException(422, "text")
        client.post(MLP, json={"hidden": [99]}),  # a setting's limit
        client.post(MLP, json={"lr": -1}),  # validation
        client.get("/api/v1/nowhere"),  # no such route
        client.put(MLP),  # no such method
    ]
    for r in answers:
        assert 400 <= r.status_code < 500, r.text
        detail = r.json()["detail"]
        assert isinstance(detail, list) and detail, r.text
        for item in detail:
            assert isinstance(item["loc"], list) and isinstance(item["msg"], str) and item["type"], r.text


def test_capped_lists_at_most_the_maximum_and_counts_the_rest():
    errors = [{"loc": ["body", i], "msg": "bad", "type": "value_error", "input": "x" * 1000}
              for i in range(100)]
    out = capped(errors)
    assert len(out) == MAX_ERRORS + 1
    assert out[-1]["msg"] == f"and {100 - MAX_ERRORS} more problems left out"
    assert all("input" not in e for e in out)  # too long to echo
    assert capped([{"loc": ["q"], "msg": "m", "type": "t", "input": 3}])[0]["input"] == 3


def test_check_shape_walks_without_recursion():
    settings = Settings(max_json_depth=5, max_list_items=3, max_points=3)
    check_shape({"a": [[1, 2, 3]]}, settings)
    with pytest.raises(JSONShapeError, match="NP_MAX_JSON_DEPTH"):
        check_shape({"a": [[[[[[1]]]]]]}, settings)
    with pytest.raises(JSONShapeError, match="NP_MAX_LIST_ITEMS") as exc:
        check_shape({"a": [1, 2, 3, 4]}, settings)
    assert exc.value.loc == ("body", "a")
    with pytest.raises(JSONShapeError, match="Unicode"):
        check_shape({"a": "\udc00"}, settings)


# ----- numbers are numbers ----------------------------------------------------------------------
@pytest.mark.parametrize(("path", "body"), [
    (MLP, {"lr": True}),
    (MLP, {"seed": True}),
    (MLP, {"n_points": "30"}),
    (MLP, {"hidden": [True]}),
    (MLP, {"points": [[0, 0, True], [1, 1, -1]]}),
    (MLP, {"optimizer": "sgd", "optimizer_params": {"momentum": "0.9"}}),
    ("/api/v1/perceptron/sessions", {"shuffle": "yes"}),
    ("/api/v1/perceptron/sessions", {"max_epochs": 2.5}),
    ("/api/v1/backprop/sessions", {"inputs": [True, 1]}),
    ("/api/v1/optimizers/paths", {"optimizers": [{"name": "adam", "lr": True}]}),
    ("/api/v1/optimizers/paths", {"optimizers": [{"name": "adam", "lr": 0.1}], "include_internals": 1}),
    ("/api/v1/optimizers/paths", {"optimizers": [{"name": "adam", "lr": 0.1}], "starts": [[0, False]]}),
])
def test_booleans_and_strings_are_not_numbers(client, path, body):
    r = client.post(path, json=body)
    assert r.status_code == 422, r.text


def test_numbers_still_arrive_as_json_numbers(client):
    r = client.post(MLP, json={"lr": 1, "noise": 5, "points": [[0, 0, 1], [1.5, -2, -1]], "batch_size": 2})
    assert r.status_code == 201, r.text
    r = client.post("/api/v1/optimizers/paths",
                    json={"optimizers": [{"name": "rmsprop", "lr": 0.01,
                                          "hyperparameters": {"centered": True}}],
                          "starts": [[1, 2]], "stop": {"max_iterations": 5}})
    assert r.status_code == 200, r.text


def test_a_batch_larger_than_the_training_set_costs_the_training_set(client_with):
    c = client_with(max_work_per_call=10_000_000)
    sid = c.post(MLP, json={"n_points": 100, "batch_size": 10**9}).json()["id"]
    r = c.post(f"{MLP}/{sid}/step", json={"steps": 100})  # 100 × 50 points × 17 weights
    assert r.status_code == 200, r.text
    assert r.json()["step"] == 100


# ----- frames and answers with grids ------------------------------------------------------------
def test_grids_larger_than_a_frame_may_be_are_refused(client):
    sid = client.post(MLP, json={"hidden": [32] * 8}).json()["id"]
    r = client.patch(f"{MLP}/{sid}", json={"res": 200, "neuron_res": 200})
    assert r.status_code == 422 and "NP_MAX_FRAME_BYTES" in _messages(r)
    r = client.get(f"{MLP}/{sid}", params={"include": "grids", "res": 200, "neuron_res": 200})
    assert r.status_code == 422 and "NP_MAX_FRAME_BYTES" in _messages(r)
    r = client.post(f"{MLP}/{sid}/step", json={"include": ["grids"], "neuron_res": 200})
    assert r.status_code == 422 and "NP_MAX_FRAME_BYTES" in _messages(r)
    r = client.patch(f"{MLP}/{sid}", json={"res": 200, "neuron_res": 40})  # within the budget
    assert r.status_code == 200, r.text
    small = client.post(MLP, json={"hidden": [4, 2]}).json()["id"]
    assert client.patch(f"{MLP}/{small}", json={"res": 200, "neuron_res": 200}).status_code == 200


# ----- what one client may hold ------------------------------------------------------------------
def test_the_quota_answers_429_with_retry_after(client_with):
    c = client_with(client_quota_per_second=0.5, client_quota_burst=3)
    codes = [c.get("/api/v1/datasets").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    r = c.get("/api/v1/datasets")
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
    assert "NP_CLIENT_QUOTA_PER_SECOND" in _messages(r)
    assert c.get("/static/css/base.css").status_code == 200  # the page's files are not counted


def test_a_large_body_costs_more_of_the_quota(client_with):
    c = client_with(client_quota_per_second=0.1, client_quota_burst=10)
    points = [[0.123456, 0.654321, 1]] * 5000  # ~150 KB: 1 + 2.3 units
    codes = [c.post(MLP, json={"points": points}).status_code for _ in range(4)]
    assert codes[:2] == [201, 201] and codes[-1] == 429


def test_a_page_load_makes_its_browser_a_client_of_its_own(client_with):
    """A lecture hall behind one NAT address: every student's browser has its own quota and
    share, handed out as the np_browser cookie with the page; a script without it counts as
    the address."""
    c = client_with(client_quota_per_second=0.01, client_quota_burst=4)

    def as_browser(token: str | None) -> dict[str, str]:
        c.cookies.clear()
        return {"Cookie": f"np_browser={token}"} if token else {}

    def navigate(token: str | None) -> dict[str, str]:  # what a browser sends opening a page
        return {**as_browser(token), "Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}

    page = c.get("/labs/mlp", headers=navigate(None))
    assert page.status_code == 200 and len(page.cookies["np_browser"]) == 22
    assert "HttpOnly" in page.headers["set-cookie"] and "SameSite=Lax" in page.headers["set-cookie"]
    students = [c.get("/labs/mlp", headers=navigate(None)).cookies["np_browser"] for _ in range(8)]
    assert len(set(students)) == 8  # eight more page loads from the address, none refused
    for student in students:  # each spent one unit of its own quota on its page: three left
        codes = [c.get("/api/v1/datasets", headers=as_browser(student)).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
    again = c.get("/labs/mlp", headers=navigate(students[0]))
    assert again.status_code == 429 and "set-cookie" not in again.headers  # a known browser keeps its token
    # a page refused is a page that says so and loads itself again, not JSON
    assert again.headers["content-type"].startswith("text/html") and "loads again in" in again.text
    assert f'http-equiv="refresh" content="{again.headers["Retry-After"]}"' in again.text
    for script in ("/healthz", "/openapi.json", "/labs/mlp"):  # a script's GET (no text/html) mints none
        assert "set-cookie" not in c.get(script, headers=as_browser(None)).headers
    api = c.get("/api/v1/datasets", headers=as_browser(None))
    assert "set-cookie" not in api.headers  # the API hands out none: a script is its address
    assert [c.get("/api/v1/datasets", headers=as_browser(None)).status_code for _ in range(4)][-1] == 429


def test_browsers_past_the_address_share_count_as_the_address(client_with):
    c = client_with(max_browsers_per_address=2, client_quota_per_second=0.01, client_quota_burst=2)
    codes = []
    for token in ["A" * 21 + ch for ch in "BCDE"]:  # tokens the server never handed out count the same
        c.cookies.clear()
        codes.append([c.get("/api/v1/datasets", headers={"Cookie": f"np_browser={token}"}).status_code
                      for _ in range(2)])
    # the first two are browsers of their own; the next two share the address's quota of 2
    assert codes == [[200, 200], [200, 200], [200, 200], [429, 429]]
    r = c.get("/api/v1/datasets", headers={"Cookie": "np_browser=not-a-token"})
    assert r.status_code == 429  # a malformed cookie is the address


def test_past_its_share_a_client_loses_its_own_oldest_unwatched_session(client_with):
    c = client_with(max_sessions_per_client=3)
    ids = [c.post(MLP, json={}).json()["id"] for _ in range(3)]
    c.get(f"{MLP}/{ids[0]}")  # used again: the least recently used is now ids[1]
    fourth = c.post(MLP, json={})
    assert fourth.status_code == 201
    assert c.get(f"{MLP}/{ids[1]}").status_code == 404
    assert all(c.get(f"{MLP}/{i}").status_code == 200 for i in (ids[0], ids[2], fourth.json()["id"]))


def test_a_client_watching_all_its_sessions_is_told_to_close_one(client_with):
    c = client_with(max_sessions_per_client=2)
    ids = [c.post(MLP, json={}).json()["id"] for _ in range(2)]
    sockets = [c.websocket_connect(f"{MLP}/{i}/stream") for i in ids]
    for ws in sockets:
        ws.__enter__()
        until(ws, "frame")
    try:
        r = c.post(MLP, json={})
        assert r.status_code == 429 and "NP_MAX_SESSIONS_PER_CLIENT" in _messages(r)
        assert int(r.headers["Retry-After"]) > 0
    finally:
        for ws in sockets:
            ws.__exit__(None, None, None)
    assert c.post(MLP, json={}).status_code == 201  # closed pages free the share


def test_a_full_server_says_so_with_retry_after(client_with):
    c = client_with(max_sessions=2)
    for _ in range(2):
        assert c.post(MLP, json={}).status_code == 201
    r = c.post(MLP, json={})
    assert r.status_code == 429 and "the server is full" in _messages(r)
    assert int(r.headers["Retry-After"]) > 0


def test_streams_past_a_clients_maximum_are_told_why_and_closed(client_with):
    c = client_with(max_streams_per_client=1)
    sid = c.post(MLP, json={}).json()["id"]
    with c.websocket_connect(f"{MLP}/{sid}/stream") as first:
        until(first, "frame")
        with c.websocket_connect(f"{MLP}/{sid}/stream") as second:
            msg = second.receive_json()
            assert msg["type"] == "error" and msg["code"] == "too_many_streams"
            assert "NP_MAX_STREAMS_PER_CLIENT" in msg["message"]
            closed = second.receive()
            assert closed["type"] == "websocket.close" and closed["code"] == 4429
        first.send_json({"type": "step", "n": 1})
        assert until(first, "frame")["step"] == 1


def test_405_names_every_method_of_the_path(client):
    r = client.put("/api/v1/mlp/sessions")  # POST documented; GET of a session is another path
    assert r.status_code == 405 and r.headers["allow"] == "POST"
    r = client.delete("/api/v1/datasets")
    assert r.status_code == 405 and r.headers["allow"] == "GET"
    r = client.put("/openapi.json")  # a path the OpenAPI does not describe keeps Starlette's answer
    assert r.status_code == 405 and "GET" in {m.strip() for m in r.headers["allow"].split(",")}


def test_a_framed_page_without_its_cookie_is_still_its_browser(client_with):
    """A lab in slides from another site: the browser keeps no cookie for it, so the page hands
    its scripts the token (a meta tag) and they send it as X-NP-Browser, sockets as ?browser=."""
    c = client_with(client_quota_per_second=0.01, client_quota_burst=3, max_streams_per_client=1)
    page = c.get("/embed/mlp", headers={"Accept": "text/html"}, follow_redirects=True)
    token = page.cookies.get("np_browser") or next(iter(c.cookies.values()))
    assert f'<meta name="np-browser" content="{token}">' in page.text
    c.cookies.clear()  # what a third-party frame is left with
    framed = {"X-NP-Browser": token}
    assert [c.get("/api/v1/datasets", headers=framed).status_code for _ in range(3)][-1] == 429
    assert c.get("/api/v1/datasets").status_code == 200  # the address is another client
    assert c.get("/api/v1/datasets", headers={"X-NP-Browser": "short"}).status_code == 200  # not a token
    c2 = client_with(max_streams_per_client=1)
    sid = c2.post(MLP, json={}).json()["id"]
    with c2.websocket_connect(f"{MLP}/{sid}/stream?browser={token}") as ws:
        assert ws.receive_json()["type"] in ("config", "frame", "status")
        with c2.websocket_connect(f"{MLP}/{sid}/stream") as other:  # the address: a client of its own
            assert other.receive_json()["type"] in ("config", "frame", "status")
        with c2.websocket_connect(f"{MLP}/{sid}/stream?browser={token}") as second:  # the same browser
            assert second.receive_json()["code"] == "too_many_streams"
