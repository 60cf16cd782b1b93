"""The convolution lab's API: apply (equal to torch's conv2d where installed, to the plain loop
always), trace, params, images and kernels, step-by-step sessions over REST and the stream, and
bad input answered with a 422 that names the field and the setting."""

from __future__ import annotations

import base64
import itertools

import numpy as np
import pytest

from app.encoding import finite
from engine import conv, filtering, images, kernels
from tests.streams import until

API = "/api/v1/convolution"


def decode16(grid: dict) -> np.ndarray:
    q = np.frombuffer(base64.b64decode(grid["data"]), dtype="<u2").reshape(grid["shape"])
    lo, hi = grid["range"]
    return lo + q / 65535 * (hi - lo)


# ---- apply: the same numbers as torch and the plain loop ---------------------------------------

LAYER_CASES = list(itertools.product(
    [1, 3, 4],  # input channels
    [0, 2, "same", "valid", [1, 0]],  # padding
    ["zeros", "reflect", "replicate", "circular"],
    [1, 2, 3],  # stride
    [1, 2],  # dilation
))[::7]  # a spread of the 360 combinations, each padding mode and channel count included


def layer_body(C, padding, mode, stride, dilation, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.integers(-9, 10, size=(C, 9, 8)).astype(float)
    w = rng.normal(size=(3, C, 3, 2)).round(3)
    b = rng.normal(size=3).round(3)
    return x, w, b, {"input": x.tolist(), "weights": w.tolist(), "bias": b.tolist(), "padding": padding,
                     "mode": mode, "stride": stride, "dilation": dilation, "format": "list"}


@pytest.mark.parametrize("case", LAYER_CASES, ids=[str(c) for c in LAYER_CASES])
def test_apply_layer_equals_the_plain_loop(client, case):
    C, padding, mode, stride, dilation = case
    x, w, b, body = layer_body(C, padding, mode, stride, dilation)
    engine_padding = tuple(padding) if isinstance(padding, list) else padding
    r = client.post(f"{API}/apply", json=body)
    try:
        expected = conv.conv2d_naive(x[None], w, b, stride, engine_padding, dilation, mode)[0]
    except ValueError:
        assert r.status_code == 422, r.text  # what conv2d refuses, the API refuses with a reason
        return
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["shape"] == list(expected.shape)
    np.testing.assert_allclose(out["output"]["values"], expected, atol=1e-9)
    assert [out["sizes"]["height"]["out"], out["sizes"]["width"]["out"]] == list(expected.shape[1:])


@pytest.mark.parametrize("case", LAYER_CASES, ids=[str(c) for c in LAYER_CASES])
def test_apply_layer_equals_torch(client, case):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    C, padding, mode, stride, dilation = case
    x, w, b, body = layer_body(C, padding, mode, stride, dilation, seed=1)
    r = client.post(f"{API}/apply", json=body)
    if r.status_code == 422:
        return  # refused with a reason (kernel larger than the padded input, reflect too wide)
    assert r.status_code == 200, r.text
    (t, bt), (l, rr) = r.json()["padding"]
    xt = torch.tensor(x[None])
    if mode == "zeros":
        xp = F.pad(xt, (l, rr, t, bt))
    else:
        xp = F.pad(xt, (l, rr, t, bt), mode={"reflect": "reflect", "replicate": "replicate",
                                              "circular": "circular"}[mode])
    ref = F.conv2d(xp, torch.tensor(w), torch.tensor(b), stride=stride, dilation=dilation)[0].numpy()
    np.testing.assert_allclose(r.json()["output"]["values"], ref, atol=1e-9)


def test_apply_flip_is_true_convolution(client):
    torch = pytest.importorskip("torch")
    x = np.arange(30.0).reshape(1, 5, 6)
    w = np.arange(6.0).reshape(1, 1, 2, 3) - 2
    r = client.post(f"{API}/apply", json={"input": x.tolist(), "weights": w.tolist(), "flip": True,
                                          "format": "list"}).json()
    ref = torch.nn.functional.conv2d(torch.tensor(x[None]), torch.tensor(w[..., ::-1, ::-1].copy()))[0]
    np.testing.assert_allclose(r["output"]["values"], ref.numpy())
    assert r["operation_label"] == "true convolution (kernel flipped)"


def test_conv2d_taps_equals_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    x, w, b = rng.normal(size=(2, 3, 11, 9)), rng.normal(size=(4, 3, 5, 3)), rng.normal(size=4)
    ref = torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w), torch.tensor(b), stride=2, padding=2,
                                     dilation=2)
    np.testing.assert_allclose(conv.conv2d_taps(x, w, b, 2, 2, 2), ref.numpy(), atol=1e-12)


def test_apply_a_gallery_kernel_to_an_image(client):
    r = client.post(f"{API}/apply", json={"image": "cat", "channels": "rgb", "kernel": "sobel_x",
                                          "padding": "same", "mode": "replicate", "include": ["input"]})
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["shape"] == [3, 170, 256] and out["padding"] == [[1, 1], [1, 1]]
    lo, hi = out["output"]["range"]
    assert lo < -100 and hi > 100  # an edge detector's output is signed: both halves are there
    x = images.load("cat", "rgb")
    expected = filtering.apply(x, kernels.make("sobel_x"), "same", "replicate")
    got = decode16(out["output"]["grid"])
    assert np.abs(got - expected).max() <= (hi - lo) / 65535  # within one quantization step
    assert out["input"]["shape"] == [3, 170, 256] and out["input"]["range"] == [0.0, 255.0]


def test_apply_repeat_and_receptive_field(client):
    body = {"input": np.eye(9).tolist(), "kernel": "box_blur", "padding": "same", "repeat": 3,
            "format": "list"}
    out = client.post(f"{API}/apply", json=body).json()
    assert out["receptive_field"] == 7
    expected = filtering.apply(np.eye(9)[None], kernels.make("box_blur"), "same", repeat=3)
    np.testing.assert_allclose(out["output"]["values"], expected, atol=1e-12)
    body.update(kernel=[[1, 1], [1, 1]], padding=0, repeat=2)
    out = client.post(f"{API}/apply", json=body).json()
    assert out["shape"] == [1, 7, 7]  # 9 → 8 → 7


def test_apply_layer_with_designed_filters_on_a_32x32_image(client):
    body = {"image": "astronaut", "channels": "rgb", "size": [32, 32], "filters": {"count": 4, "size": 5},
            "padding": 2, "bias": [0, 1, 2, 3], "include": ["channels", "input"]}
    out = client.post(f"{API}/apply", json=body).json()
    assert out["shape"] == [4, 32, 32] and out["input_shape"] == [3, 32, 32]
    assert out["names"][:2] == ["vertical edges", "horizontal edges"]
    assert out["parameters"] == {"weights_per_filter": 75, "weights": 300, "biases": 4, "total": 304}
    assert out["per_channel"]["shape"] == [4, 3, 32, 32] and len(out["per_channel"]["maps"]) == 12
    assert len(out["maps"]) == 4
    body.update(padding=0)
    assert client.post(f"{API}/apply", json=body).json()["shape"] == [4, 28, 28]


# ---- trace -------------------------------------------------------------------------------------


def test_trace_of_the_lecture_default(client):
    from app.labs.convolution.session import LECTURE_INPUT, LECTURE_KERNEL

    out = client.post(f"{API}/trace", json={"input": LECTURE_INPUT, "kernel": LECTURE_KERNEL}).json()
    assert out["shape"] == [5, 5] and len(out["windows"]) == 25
    first = out["windows"][0]
    assert first["sum"] == 12 and first["products"] == [[[0, 3, 4], [0, 0, 0], [0, 1, 4]]]
    x, w = np.array(LECTURE_INPUT, float), np.array(LECTURE_KERNEL, float)
    expected = conv.conv2d_naive(x[None, None], w[None, None])
    assert [w["sum"] for w in out["windows"]] == expected.ravel().tolist()
    assert out["output"] == expected[0, 0].tolist()
    assert out["operation_label"] == "cross-correlation (what conv2d computes)"


def test_trace_positions_on_an_image_per_channel(client):
    body = {"image": "coffee", "channels": "rgb", "kernel": "laplacian", "padding": 1, "mode": "reflect",
            "depthwise": True, "positions": [[0, 0], [100, 200]]}
    out = client.post(f"{API}/trace", json=body).json()
    assert out["depthwise"] and len(out["windows"]) == 2 and "padded" not in out
    win = out["windows"][1]
    x = images.load("coffee", "rgb")
    full = filtering.apply(x, kernels.make("laplacian"), 1, "reflect")
    np.testing.assert_allclose(win["sums"], full[:, 100, 200], atol=1e-9)
    np.testing.assert_allclose(np.array(win["values"]) [:, 1, 1], x[:, 100, 200])
    corner = out["windows"][0]  # reflect padding: the row above row 0 is row 1
    np.testing.assert_allclose(np.array(corner["values"])[:, 0, 1], x[:, 1, 0])


# ---- params, images, kernels -------------------------------------------------------------------


def test_params_default_is_the_lecture_question(client):
    out = client.post(f"{API}/params", json={}).json()
    assert out["fully_connected"]["parameters"] == 154_141_696
    assert out["convolutional"]["parameters"] == 28_672 and out["convolutional"]["weights"] == 27_648
    out = client.post(f"{API}/params", json={"height": 32, "width": 32, "channels": 3, "filters": 6,
                                             "kernel": 5, "padding": 0, "units": 100}).json()
    assert out["convolutional"]["output"] == [28, 28, 6] and out["convolutional"]["parameters"] == 456


def test_params_refuses_counts_json_cannot_hold(client):
    r = client.post(f"{API}/params", json={"height": 100000, "width": 100000, "channels": 1000,
                                           "filters": 10_000_000, "kernel": 1, "units": 1})
    assert r.status_code == 422 and "2^53" in r.text
    r = client.post(f"{API}/params", json={"padding": -1})
    assert r.status_code == 422 and "padding" in r.text


def test_images_and_kernels_lists(client):
    listed = client.get(f"{API}/images").json()
    assert {i["name"] for i in listed} == set(images.IMAGES)
    assert all(i["licence"] in {"CC0", "public domain"} for i in listed)
    one = client.get(f"{API}/images/astronaut?channels=rgb&height=32&width=32").json()
    assert one["pixels"]["shape"] == [3, 32, 32] and one["pixels"]["dtype"] == "uint8"
    ks = client.get(f"{API}/kernels").json()
    names = [k["name"] for k in ks["kernels"]]
    assert {"identity", "shift_left", "box_blur", "gaussian", "sharpen", "sobel_x", "sobel_y", "laplacian",
            "emboss", "outline"} <= set(names)
    assert ks["operations"]["cross-correlation"] == "cross-correlation (what conv2d computes)"
    k = client.get(f"{API}/kernels/gaussian?size=5").json()
    assert np.array(k["weights"]).shape == (5, 5)


# ---- bad input: 422 naming the field and the limit ---------------------------------------------

BAD = [
    ({"input": [[1, "x"], [3, 4]], "kernel": [[1]]}, "input"),
    ({"input": [[1, 2], [3]], "kernel": [[1]]}, "same length"),
    ({"input": [[1, 2], [3, 4]], "kernel": [[1, 1, 1], [1, 1, 1], [1, 1, 1]]}, "more than the padded input"),
    ({"input": [[1, 2], [3, 4]], "kernel": [[1]], "stride": 0}, "stride"),
    ({"input": [[1, 2], [3, 4]], "kernel": [[1]], "padding": -1}, "padding must not be negative"),
    ({"input": [[1, 2], [3, 4]], "kernel": [[1]], "padding": 2, "mode": "reflect"}, "reflect padding"),
    ({"input": [[1, 2], [3, 4]], "kernel": [[1]], "image": "cat"}, "exactly one of input, image or pixels"),
    ({"input": [[1, 2], [3, 4]]}, "exactly one of kernel, weights or filters"),
    ({"image": "nope", "kernel": "identity"}, "image"),
    ({"image": "cat", "kernel": "sobel_x", "kernel_size": 5}, "comes in sizes"),
    ('{"input": [[1e400]], "kernel": [[1]]}', "input"),
    ({"input": [[1, 2], [3, 4]], "weights": [[[[1]]], [[[1]]]], "bias": [1]}, "one number per filter"),
    ({"input": [[[1, 2]], [[3, 4]]], "weights": [[[[1]]]]}, "each filter spans every input channel"),
    ({"image": "cat", "filters": {"count": 17}}, "filters.count"),
    ({"pixels": {"height": 2, "width": 2, "channels": 3, "data": "AAAA"}, "kernel": [[1]]}, "12"),
]


@pytest.mark.parametrize(("body", "says"), BAD, ids=[f"{i}-{b[1][:20]}" for i, b in enumerate(BAD)])
def test_bad_input_is_a_422_that_says_what_to_change(client, body, says):
    if isinstance(body, str):  # JSON no encoder writes (1e400 overflows to infinity)
        r = client.post(f"{API}/apply", content=body, headers={"Content-Type": "application/json"})
    else:
        r = client.post(f"{API}/apply", json=body)
    assert r.status_code == 422, r.text
    assert says in r.text


LOOSE = [
    ("/params", {"padding": "2"}, ["body", "padding", "int"]),
    ("/params", {"stride": True}, ["body", "stride"]),
    ("/params", {"height": 224.5}, ["body", "height"]),
    ("/apply", {"input": [[1, 2], [3, 4]], "kernel": [[1, True]]}, ["body", "kernel", "2-D", 0, 1]),
    ("/apply", {"input": [[1, 2], [3, 4]], "kernel": [[1]], "flip": "yes"}, ["body", "flip"]),
    ("/apply", {"image": "cat", "kernel": "gaussian", "size": ["32", 32]}, ["body", "size", 0]),
    ("/apply", {"image": "cat", "filters": {"count": "4"}}, ["body", "filters", "count"]),
    ("/trace", {"input": [[1, 2], [3, 4]], "kernel": [[1]], "positions": [[0, "1"]]},
     ["body", "positions", 0, 1]),
    ("/sessions", {"stride": "1"}, ["body", "stride"]),
    ("/sessions", {"input": [[1, 2], [3, 4]], "kernel": [[1]], "bias": False}, ["body", "bias"]),
    ("/sessions", {"input": [[[1, 2]], [[3, 4]], [[5]]], "kernel": [[1]]}, ["body", "input", "3-D"]),
]


@pytest.mark.parametrize(("path", "body", "loc"), LOOSE, ids=[f"{p}-{next(iter(b))}" for p, b, _ in LOOSE])
def test_numbers_are_json_numbers_and_grids_rectangular(client, path, body, loc):
    r = client.post(f"{API}{path}", json=body)
    assert r.status_code == 422, r.text
    assert [e["loc"] for e in r.json()["detail"]][:1] == [loc]  # "padding" lists its three forms


def test_a_long_bad_grid_is_one_error_and_json_arrays_are_still_pairs(client):
    r = client.post(f"{API}/apply", json={"input": [["x"] * 200] * 200, "kernel": [[1]]})
    assert r.status_code == 422 and [e["loc"] for e in r.json()["detail"]] == [["body", "input", "2-D", 0, 0]]
    r = client.post(f"{API}/params", json={"padding": [1, 2], "kernel": 3})
    assert r.status_code == 200, r.text
    r = client.post(f"{API}/trace", json={"input": [[1, 2], [3, 4]], "kernel": [[1]], "positions": [[1, 0]],
                                          "padding": [0, 0]})
    assert r.status_code == 200 and r.json()["windows"][0]["sum"] == 3


def test_a_loose_change_over_rest_or_the_stream_is_refused(client):
    sid = client.post(f"{API}/sessions", json={}).json()["id"]
    r = client.patch(f"{API}/sessions/{sid}", json={"rate": "4"})
    assert r.status_code == 422 and "rate" in r.text
    r = client.patch(f"{API}/sessions/{sid}", json={"input": [[1, 2], [3]]})
    assert r.status_code == 422 and "rows must all have the same length" in r.text
    assert client.post(f"{API}/sessions/{sid}/step", json={"steps": "2"}).status_code == 422
    with client.websocket_connect(f"{API}/sessions/{sid}/stream") as ws:
        until(ws, "frame")
        ws.send_json({"type": "set", "params": {"stride": True}})
        assert "stride" in until(ws, "error")["message"]
        ws.send_json({"type": "set", "params": {"padding": [1, 1]}})
        assert until(ws, "config")["config"]["padding"] == [[1, 1], [1, 1]]


def test_limits_are_settings(client_with):
    c = client_with(max_image_side=16, max_kernel_side=5, max_conv_work=10_000, max_trace_products=100,
                    max_conv_numbers=50)
    r = c.post(f"{API}/apply", json={"input": np.zeros((17, 4)).tolist(), "kernel": [[1]]})
    assert r.status_code == 422 and "NP_MAX_IMAGE_SIDE" in r.text
    pix = {"height": 20, "width": 20, "channels": 1, "data": base64.b64encode(bytes(400)).decode()}
    r = c.post(f"{API}/apply", json={"pixels": pix, "kernel": [[1]]})
    assert r.status_code == 422 and "shrink the picture" in r.text and "NP_MAX_IMAGE_SIDE" in r.text
    r = c.post(f"{API}/apply", json={"input": [[1]], "kernel": np.ones((7, 7)).tolist(), "padding": 3})
    assert r.status_code == 422 and "NP_MAX_KERNEL_SIDE" in r.text
    r = c.post(f"{API}/apply", json={"input": np.ones((16, 16)).tolist(), "kernel": np.ones((5, 5)).tolist(),
                                     "padding": "same", "repeat": 3})
    assert r.status_code == 422 and "NP_MAX_CONV_WORK" in r.text
    r = c.post(f"{API}/trace", json={"input": np.ones((9, 9)).tolist(), "kernel": np.ones((3, 3)).tolist()})
    assert r.status_code == 422 and "NP_MAX_TRACE_PRODUCTS" in r.text
    r = c.post(f"{API}/apply", json={"input": np.ones((9, 9)).tolist(), "kernel": [[1]], "format": "list"})
    assert r.status_code == 422 and "NP_MAX_CONV_NUMBERS" in r.text
    r = c.post(f"{API}/sessions", json={"input": np.ones((9, 9)).tolist(),
                                        "kernel": np.ones((3, 3)).tolist()})
    assert r.status_code == 422 and "NP_MAX_TRACE_PRODUCTS" in r.text


def test_uploaded_pixels_are_used_as_sent(client):
    pix = np.arange(48, dtype=np.uint8).reshape(4, 4, 3)
    data = base64.b64encode(pix.tobytes()).decode()
    body = {"pixels": {"height": 4, "width": 4, "channels": 3, "data": data}, "channels": "rgb",
            "kernel": "identity", "padding": 1, "format": "list"}
    out = client.post(f"{API}/apply", json=body).json()
    np.testing.assert_allclose(out["output"]["values"], pix.transpose(2, 0, 1))


# ---- step-by-step sessions ---------------------------------------------------------------------


def test_session_rest_lifecycle(client):
    r = client.post(f"{API}/sessions", json={})
    assert r.status_code == 201, r.text
    s = r.json()
    sid = s["id"]
    assert s["shape"] == [5, 5] and s["positions"] == 25 and s["frame"]["step"] == 0
    assert s["sizes"]["height"] == {"n": 7, "k": 3, "before": 0, "after": 0, "stride": 1, "dilation": 1,
                                    "numerator": 4, "out": 5, "remainder": 0, "span": 3}
    d = client.post(f"{API}/sessions/{sid}/step", json={"steps": 2}).json()
    assert d["frame"]["step"] == 2 and d["frame"]["position"] == [0, 1]
    assert d["frame"]["output"][0][:3] == [12, 12, None]
    d = client.post(f"{API}/sessions/{sid}/step", json={"steps": 100}).json()
    assert d["frame"]["step"] == 25 and d["frame"]["done"]
    assert d["frame"]["window"]["sum"] == 19  # 1·0 + 3·1 + 2·2 + 1·2 + 1·2 + 0·0 + 0·0 + 2·1 + 3·2
    d = client.patch(f"{API}/sessions/{sid}", json={"stride": 2}).json()
    assert d["reset"] is True and d["shape"] == [3, 3] and d["frame"]["step"] == 0
    r = client.patch(f"{API}/sessions/{sid}", json={"stride": 0})
    assert r.status_code == 422 and "stride" in r.text
    assert client.delete(f"{API}/sessions/{sid}").status_code == 204


def test_stream_steps_plays_and_keeps_the_socket_on_bad_messages(client):
    sid = client.post(f"{API}/sessions", json={"rate": 60}).json()["id"]
    with client.websocket_connect(f"{API}/sessions/{sid}/stream") as ws:
        config = until(ws, "config")
        assert config["config"]["shape"] == [5, 5] and config["config"]["padded"][0][0][:3] == [3, 3, 2]
        assert until(ws, "frame")["step"] == 0
        ws.send_json({"type": "step", "n": 1})
        f = until(ws, "frame")
        assert f["step"] == 1 and f["window"]["sum"] == 12 and f["window"]["rows"] == [0, 1, 2]
        ws.send_text("{nope")
        assert "bad command" in until(ws, "error")["message"]
        ws.send_json({"type": "set", "params": {"padding": 7, "mode": "reflect"}})
        assert "reflect padding must be smaller than the input" in until(ws, "error")["message"]
        ws.send_json({"type": "set", "params": {"rate": 30}})  # the pace alone keeps the window
        msg = until(ws, "config")
        assert msg["reset"] is False and until(ws, "frame")["step"] == 1
        ws.send_json({"type": "play"})
        last = None
        for _ in range(200):
            msg = ws.receive_json()
            if msg["type"] == "frame" and msg["done"]:
                last = msg
                break
        assert last and last["step"] == 25 and all(v is not None for row in last["output"] for v in row)


def test_slow_rate_paces_the_frames():
    from app.labs.convolution.session import ConvStepRunner, StepIn
    from app.sessions import Session
    from app.settings import Settings
    from app.streaming import frame_interval

    settings = Settings()
    session = Session("x", "convolution", ConvStepRunner(StepIn(rate=0.5), settings))
    assert frame_interval(session, settings) == 2.0
    session.runner.apply({"rate": 60})
    assert frame_interval(session, settings) == pytest.approx(1 / 30)  # never past the frame-rate cap


def test_frames_are_json_safe():
    from app.labs.convolution.session import ConvStepRunner, StepIn
    from app.settings import Settings

    runner = ConvStepRunner(StepIn(input=[[0.1, 0.2], [0.3, 0.4]], kernel=[[1]]), Settings())
    runner.advance(4)
    frame = runner.frame()
    assert frame == finite(frame) and frame["output"] == [[0.1, 0.2], [0.3, 0.4]]
