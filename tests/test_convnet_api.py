"""The ConvNet lab's API: sessions, steps with includes, the datasets as uint8 grids, reading a
picture, the shared session routes and the stream; bad architectures are 422s naming the
layer and why; frames stay compact."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest

from app.labs.convnet import layers as notation
from app.labs.convnet.session import ConvNetConfigIn, ConvNetRunner
from app.settings import Settings
from engine.image_data import load_digits
from engine.image_trainer import ImageConfig, ImageTrainer
from tests.answers import message as problems
from tests.streams import until

API = "/api/v1/convnet"


def decode(grid: dict) -> np.ndarray:
    """A compact grid back to numbers: lo + q / 255 · (hi − lo)."""
    assert grid["dtype"] == "uint8"
    q = np.frombuffer(base64.b64decode(grid["data"]), dtype=np.uint8).reshape(grid["shape"])
    lo, hi = grid["range"]
    return lo + q / 255.0 * (hi - lo)


def create(client, **cfg) -> dict:
    r = client.post(f"{API}/sessions", json=cfg)
    assert r.status_code == 201, r.text
    return r.json()


@pytest.fixture(scope="module")
def trained() -> ImageTrainer:
    """What a session of the defaults is after 60 steps (the same seed trains the same way)."""
    tr = ImageTrainer(ImageConfig())
    tr.step(60)
    return tr


# ---- sessions --------------------------------------------------------------------------------

def test_a_session_describes_its_network_and_the_same_budget_dense(client):
    s = create(client)
    assert len(s["id"]) >= 20 and s["step"] == 0
    c = s["config"]
    assert c["layers"] == notation.DEFAULT and c["optimizer"] == "adam" and c["batch_size"] == 32
    r = c["resolved"]
    assert [row["name"] for row in r["layers"]] == ["conv1", "relu1", "pool1", "conv2", "relu2", "pool2",
                                                    "flatten", "output"]
    assert [row["parameters"] for row in r["layers"]] == [80, 0, 0, 1168, 0, 0, 0, 650]
    assert r["parameters"] == 1898 and r["layers"][0]["dense_equivalent"] == 64 * 512 + 512
    # 1,898 parameters as a fully connected 64 → h → 10 net: h = round((1898 − 10) / 75) = 25
    assert r["dense_budget"] == {"hidden": 25, "parameters": 65 * 25 + 26 * 10}
    assert (r["n_train"], r["n_test"], r["batches_per_epoch"]) == (1438, 359, 45)
    assert r["classes"] == [str(d) for d in range(10)] and r["image_shape"] == [1, 8, 8]
    assert c["initial_filters"]["conv1"]["shape"] == [8, 1, 3, 3]
    assert c["initial_filters"]["conv2"]["shape"] == [16, 8, 3, 3]
    m = s["metrics"]
    assert m["step"] == 0 and 0 < m["test_accuracy"] < 0.3 and m["grad_norms"] == {}


def test_step_with_every_include_matches_the_engine(client, trained):
    sid = create(client)["id"]
    r = client.post(f"{API}/sessions/{sid}/step", json={
        "steps": 60, "example": 5,
        "include": ["metrics", "filters", "maps", "confusion", "predictions", "history", "trace", "weights"]})
    assert r.status_code == 200, r.text
    b = r.json()
    assert b["step"] == 60 and b["epoch"] == 1
    assert b["metrics"]["test_accuracy"] == pytest.approx(trained.metrics().test_accuracy, abs=1e-6)
    assert set(b["metrics"]["grad_norms"]) == {"conv1", "conv2", "output"}
    # filters: each layer one uint8 grid over ±max|w|, within half a quantization step
    for name, w in trained.filters().items():
        grid = b["filters"][name]
        m = np.abs(w).max()
        assert grid["range"] == pytest.approx([-m, m])
        np.testing.assert_allclose(decode(grid), w, atol=m / 255 + 1e-12)
    assert b["initial_filters"]["conv1"] == b["config"]["initial_filters"]["conv1"]
    # maps: test image 5, its label, every layer but flatten, the probabilities
    maps = b["maps"]
    assert (maps["source"], maps["index"], maps["label"]) == ("test", 5, int(trained.y_test[5]))
    np.testing.assert_allclose(decode(maps["input"]), trained.X_test[5, 0], atol=1 / 510)
    assert [(m["name"], m["shape"]) for m in maps["layers"]] == [
        ("conv1", [8, 8, 8]), ("relu1", [8, 8, 8]), ("pool1", [8, 4, 4]), ("conv2", [16, 4, 4]),
        ("relu2", [16, 4, 4]), ("pool2", [16, 2, 2]), ("output", [10])]
    relu1 = decode(maps["layers"][1]["grid"])
    assert relu1.min() >= -1e-9  # ReLU outputs are not negative: all grey to blue on the page
    probs = trained.predict(trained.X_test[5:6])[0]
    np.testing.assert_allclose(maps["probs"], probs, atol=1e-4)
    assert maps["prediction"] == int(probs.argmax())
    # confusion and predictions agree with each other and with the accuracy
    confusion = np.array(b["confusion"])
    assert confusion.sum() == 359
    assert np.trace(confusion) / 359 == pytest.approx(b["metrics"]["test_accuracy"])
    predicted = np.frombuffer(base64.b64decode(b["predictions"]["predicted"]["data"]), dtype=np.uint8)
    labels = trained.y_test
    for t, p in [(3, 3), (8, 1)]:
        assert confusion[t, p] == np.sum((labels == t) & (predicted == p))
    confidence = decode(b["predictions"]["confidence"])
    assert confidence.shape == (359,) and confidence.min() >= 0.1 - 1 / 255
    assert b["history"]["epochs"] == [0, 1] and b["history"]["steps"] == [0, 45]
    assert [layer["name"] for layer in b["trace"]["layers"]][:2] == ["conv1", "relu1"]
    assert b["trace"]["batch"] == 32 and b["trace"]["layers"][0]["grad_norm"] > 0
    np.testing.assert_allclose(b["weights"]["conv1"]["w"], trained.filters()["conv1"])


def test_epochs_read_reset_delete(client):
    sid = create(client, seed=2)["id"]
    b = client.post(f"{API}/sessions/{sid}/step", json={"epochs": 2}).json()
    assert b["epoch"] == 2 and b["step"] == 90 and b["metrics"]["test_accuracy"] > 0.9
    got = client.get(f"{API}/sessions/{sid}", params={"include": ["maps"], "example": 7}).json()
    assert got["maps"]["index"] == 7
    past = client.get(f"{API}/sessions/{sid}", params={"include": ["maps"], "example": 359})
    assert past.status_code == 422 and "from 0 to 358" in problems(past)
    assert client.post(f"{API}/sessions/{sid}/reset").json()["step"] == 0
    assert client.delete(f"{API}/sessions/{sid}").status_code == 204
    r = client.get(f"{API}/sessions/{sid}")
    assert r.status_code == 404 and "create a new one" in problems(r)


def test_confusion_cell_lists_its_images(client):
    sid = create(client)["id"]
    b = client.post(f"{API}/sessions/{sid}/step", json={"steps": 20, "include": ["confusion"]}).json()
    confusion = np.array(b["confusion"])
    t, p = np.unravel_index(np.argmax(confusion - np.diag(np.diag(confusion))), confusion.shape)
    cell = client.get(f"{API}/sessions/{sid}/confusion", params={"true": int(t), "predicted": int(p)}).json()
    assert cell["count"] == confusion[t, p] == len(cell["indices"]) > 0
    assert cell["images"]["shape"] == [cell["count"], 8, 8]
    assert all(np.argmax(row) == p for row in cell["probs"])
    outside = client.get(f"{API}/sessions/{sid}/confusion", params={"true": 10, "predicted": 0})
    assert outside.status_code == 422


# ---- architectures: text, specs, and 422s naming the layer -------------------------------------

def test_layers_as_text_or_specs_become_the_same_text(client):
    specs = [{"type": "conv", "filters": 4, "kernel": 5, "padding": 2}, {"type": "tanh"},
             {"type": "avgpool", "size": 2}, {"type": "dense", "units": 16}, {"type": "relu"}]
    a = create(client, layers=specs)["config"]
    b = create(client, layers=" conv4k5p2, tanh ,avgpool2,dense16,relu")["config"]
    assert a["layers"] == b["layers"] == "conv4k5p2,tanh,avgpool2,dense16,relu"
    assert a["resolved"]["spec"][0] == {"type": "conv", "filters": 4, "kernel": 5, "padding": 2, "stride": 1}
    shapes = [row["out_shape"] for row in a["resolved"]["layers"]]
    assert shapes[:4] == [[4, 8, 8], [4, 8, 8], [4, 4, 4], [64]]
    linear = create(client, layers="")["config"]["resolved"]  # no hidden layer: softmax regression
    assert linear["parameters"] == 650 and "initial_filters" not in linear


@pytest.mark.parametrize(("layers", "message"), [
    ("conv8k3p1,relu,maxpool2,maxpool2,maxpool2,maxpool2",
     "layer 6 (maxpool 2×2): the 2×2 window does not fit the 1×1 map (the output would be 0×0, below 1×1)"),
    ("conv8k5,conv8k5", "layer 2 (conv 8 filters 5×5): the 5×5 kernel does not fit the 4×4 map"),
    ("dense32,conv8k3", "layer 2 (conv 8 filters 3×3): needs image maps (C, H, W) but gets 32 features"),
    # 64 · (9 + 1) = 640 parameters, then (64 · 64 + 1) · 512 = 2,097,664
    ("conv64k3p1,relu,dense512",
     "layer 3 (dense 512): the network reaches 2,098,304 parameters here, more than 250,000 "
     "(NP_MAX_CONVNET_PARAMETERS)"),
])
def test_a_network_that_cannot_work_is_a_422_naming_the_layer(client, layers, message):
    r = client.post(f"{API}/sessions", json={"layers": layers})
    assert r.status_code == 422
    assert message in problems(r)


@pytest.mark.parametrize(("layers", "message"), [
    ("conv100k3", "layer 1 (conv100k3): filters from 1 to 64, not 100"),
    ("conv8k3,bogus", "layer 2 (bogus): not a layer; write conv8k3p1"),
    ("dropout0.95", "a dropout rate from 0 to 0.9"),
    ([{"type": "conv", "filters": 8, "dilation": 2}], "layer 1 (conv): unknown setting(s) ['dilation']"),
])
def test_a_layer_out_of_range_is_a_validation_error_naming_it(client, layers, message):
    r = client.post(f"{API}/sessions", json={"layers": layers})
    assert r.status_code == 422
    assert message in problems(r)


def test_work_and_layer_budgets_name_their_settings(client_with):
    c = client_with(max_work_per_frame=500_000, max_convnet_layers=3)
    # conv1: 1·9 taps · 8 filters · 64 pixels = 4,608 multiply-accumulates an image, 147,456 a batch;
    # the output layer adds 512 · 10 = 5,120 an image: 311,296 in all. Batch 64 doubles it.
    ok = c.post(f"{API}/sessions", json={"layers": "conv8k3p1,relu", "batch_size": 32})
    assert ok.status_code == 201, ok.text
    r = c.post(f"{API}/sessions", json={"layers": "conv8k3p1,relu", "batch_size": 64})
    detail = problems(r)
    assert r.status_code == 422
    assert "the output layer (dense 10): a step of 64 images costs 622,592 multiply-accumulates" in detail
    assert "NP_MAX_WORK_PER_FRAME" in detail
    r = c.post(f"{API}/sessions", json={"layers": "conv8k3p1,relu,maxpool2,relu"})
    assert r.status_code == 422 and "at most 3 layers (NP_MAX_CONVNET_LAYERS)" in problems(r)
    assert client_with(max_images=100).post(f"{API}/sessions", json={"dataset": "shapes"}).status_code == 422


# ---- data -------------------------------------------------------------------------------------

def test_datasets_are_uint8_grids_and_the_test_part_is_the_sessions(client):
    digits = load_digits()
    r = client.get(f"{API}/datasets/digits").json()
    assert r["total"] == r["count"] == 1797 and r["images"]["shape"] == [1797, 8, 8]
    assert len(base64.b64decode(r["images"]["data"])) == 1797 * 64  # one byte a pixel
    np.testing.assert_allclose(decode(r["images"]), digits.images[:, 0], atol=1 / 510)
    labels = np.frombuffer(base64.b64decode(r["labels"]["data"]), dtype=np.uint8)
    np.testing.assert_array_equal(labels, digits.labels)
    split = {"part": "test", "seed": 3, "train_percent": 70}
    test = client.get(f"{API}/datasets/digits", params=split).json()
    tr = ImageTrainer(ImageConfig(seed=3, train_ratio=0.7))
    assert test["total"] == len(tr.y_test)
    np.testing.assert_array_equal(np.frombuffer(base64.b64decode(test["labels"]["data"]), dtype=np.uint8),
                                  tr.y_test)
    page = client.get(f"{API}/datasets/digits", params={**split, "offset": 10, "limit": 5}).json()
    assert page["count"] == 5 and page["images"]["shape"] == [5, 8, 8]
    np.testing.assert_allclose(decode(page["images"]), tr.X_test[10:15, 0], atol=1 / 510)
    shapes = client.get(f"{API}/datasets/shapes", params={"n_images": 40, "image_size": 10}).json()
    assert shapes["classes"] == ["circle", "square", "triangle", "cross"]
    assert shapes["images"]["shape"] == [40, 10, 10]
    assert client.get(f"{API}/datasets/mnist").status_code == 422


# ---- reading a picture -------------------------------------------------------------------------

def bitmap(image: np.ndarray, scale: int = 12, margin: int = 20) -> dict:
    """An 8×8 image drawn large: each pixel a scale × scale square of ink, on a margin."""
    big = np.kron(image, np.ones((scale, scale)))
    canvas = np.zeros((big.shape[0] + 2 * margin, big.shape[1] + 2 * margin))
    canvas[margin:-margin, margin:-margin] = big
    raw = np.rint(canvas * 255).astype(np.uint8)
    data = base64.b64encode(raw.tobytes()).decode()
    return {"height": canvas.shape[0], "width": canvas.shape[1], "data": data}


def test_predict_reads_an_image_or_a_drawing_with_the_sessions_network(client, trained):
    sid = create(client)["id"]
    client.post(f"{API}/sessions/{sid}/step", json={"steps": 60})
    image = trained.X_test[12, 0]
    by_grid = client.post(f"{API}/predict", json={"session": sid, "image": image.tolist()}).json()
    np.testing.assert_allclose(by_grid["probs"], trained.predict(image[None, None])[0], atol=1e-4)
    assert by_grid["source"] == "image" and len(by_grid["layers"]) == 7 and by_grid["classes"][0] == "0"
    # A drawing of the same digit, 12 times larger with a margin, reads back as the digit.
    digit = load_digits().images[0, 0]  # a 0 whose ink spans all 8 rows
    drawn = client.post(f"{API}/predict", json={"session": sid, "drawing": bitmap(digit), "maps": False})
    drawn = drawn.json()
    np.testing.assert_allclose(decode(drawn["input"]), digit, atol=1 / 255)
    assert drawn["source"] == "drawing" and "layers" not in drawn
    assert drawn["prediction"] == int(np.argmax(trained.predict(digit[None, None])))


@pytest.mark.parametrize(("body", "message"), [
    ({"image": [[0.5] * 7] * 8}, "give 8 rows of 8 values"),
    ({"image": [[2.0] * 8] * 8}, "values from 0 (background) to 1 (ink)"),
    ({"drawing": {"height": 2, "width": 2, "data": "AAAA"}}, "3 bytes; height × width is 4"),
    ({"drawing": {"height": 2, "width": 2, "data": "not base64!"}}, "not valid base64"),
])
def test_predict_says_what_is_wrong_with_a_picture(client, body, message):
    sid = create(client)["id"]
    r = client.post(f"{API}/predict", json={"session": sid, **body})
    assert r.status_code == 422 and message in problems(r)


def test_predict_needs_one_picture_and_a_session(client):
    sid = create(client)["id"]
    r = client.post(f"{API}/predict", json={"session": sid})
    assert r.status_code == 422 and "give one of image" in problems(r)
    assert client.post(f"{API}/predict", json={"session": "nope", "image": [[0] * 8] * 8}).status_code == 404


# ---- changing a run ----------------------------------------------------------------------------

def test_patch_continues_or_starts_over(client):
    sid = create(client)["id"]
    client.post(f"{API}/sessions/{sid}/step", json={"steps": 5})
    r = client.patch(f"{API}/sessions/{sid}", json={"lr": 0.003, "optimizer": "momentum", "batch_size": 16})
    assert r.status_code == 200 and r.json()["reset"] is False and r.json()["step"] == 5
    r = client.patch(f"{API}/sessions/{sid}", json={"layers": "conv4k3p1,relu,maxpool2"})
    assert r.json()["reset"] is True and r.json()["step"] == 0
    assert r.json()["config"]["resolved"]["parameters"] == 40 + 650
    r = client.patch(f"{API}/sessions/{sid}", json={"layers": "conv8k3,conv8k3,conv8k3,conv8k3"})
    assert r.status_code == 422
    assert "layer 4 (conv 8 filters 3×3): the 3×3 kernel does not fit the 2×2 map" in problems(r)
    r = client.patch(f"{API}/sessions/{sid}", json={"lr": -1})
    assert r.status_code == 422 and "lr" in problems(r)


def test_the_traced_picture_is_a_test_image_or_a_drawing(client):
    sid = create(client)["id"]
    r = client.patch(f"{API}/sessions/{sid}", json={"drawing": bitmap(load_digits().images[1, 0])})
    assert r.status_code == 200, r.text
    maps = client.get(f"{API}/sessions/{sid}", params={"include": ["maps"]}).json()["maps"]
    assert maps["source"] == "drawing" and "index" not in maps
    client.patch(f"{API}/sessions/{sid}", json={"drawing": None})
    assert client.get(f"{API}/sessions/{sid}", params={"include": ["maps"]}).json()["maps"]["index"] == 0
    client.patch(f"{API}/sessions/{sid}", json={"example": 9})
    assert client.get(f"{API}/sessions/{sid}", params={"include": ["maps"]}).json()["maps"]["index"] == 9
    assert client.patch(f"{API}/sessions/{sid}", json={"example": -1}).status_code == 422


def test_weights_move_a_run_into_another_session(client):
    a = create(client)["id"]
    trained = client.post(f"{API}/sessions/{a}/step", json={"steps": 40, "include": ["weights", "metrics"]})
    trained = trained.json()
    b = create(client)["id"]  # the same split, fresh weights
    r = client.patch(f"{API}/sessions/{b}", json={"weights": trained["weights"]})
    assert r.status_code == 200, r.text
    # JSON carries every float exactly: the same weights read the test set the same way
    assert r.json()["metrics"]["test_loss"] == trained["metrics"]["test_loss"]
    assert r.json()["metrics"]["test_accuracy"] == trained["metrics"]["test_accuracy"]
    bad = {**trained["weights"], "conv1": {"w": [[0]], "b": [0] * 8}}
    r = client.patch(f"{API}/sessions/{b}", json={"weights": bad})
    assert r.status_code == 422
    assert "conv1.w: shape (1, 1), this network needs (8, 1, 3, 3)" in problems(r)


# ---- the stream ---------------------------------------------------------------------------------

def test_stream_plays_steps_and_takes_changes(client):
    sid = create(client)["id"]
    with client.websocket_connect(f"{API}/sessions/{sid}/stream") as ws:
        config = until(ws, "config")["config"]
        assert config["resolved"]["parameters"] == 1898
        first = until(ws, "frame")
        assert {"metrics", "filters", "maps", "confusion", "predictions"} <= set(first)
        ws.send_json({"type": "step", "n": 3})
        assert until(ws, "frame")["step"] == 3
        ws.send_json({"type": "set", "params": {"example": 4}})
        assert until(ws, "config")["reset"] is False
        assert until(ws, "frame")["maps"]["index"] == 4
        ws.send_json({"type": "set", "params": {"layers": "conv8k3,maxpool2,maxpool2,maxpool2"}})
        error = until(ws, "error")["message"]
        assert "layer 4 (maxpool 2×2)" in error and "below 1×1" in error
        ws.send_text("{nope")
        assert "bad command" in until(ws, "error")["message"]
        ws.send_json({"type": "speed", "steps_per_frame": 5})
        ws.send_json({"type": "play"})
        frames = [until(ws, "frame") for _ in range(3)]
        ws.send_json({"type": "pause"})
        assert frames[-1]["step"] > 3 and frames[-1]["step"] % 5 == 3
        assert until(ws, "status")["playing"] is False


def test_frames_are_compact_grids_not_lists_of_floats(client):
    sid = create(client)["id"]
    client.post(f"{API}/sessions/{sid}/step", json={"steps": 10})
    with client.websocket_connect(f"{API}/sessions/{sid}/stream") as ws:
        frame = until(ws, "frame")
    text = json.dumps(frame, separators=(",", ":"))
    assert len(text) < 10_000, f"a frame is {len(text)} bytes"

    def longest_float_list(v) -> int:
        if isinstance(v, dict):
            return max([longest_float_list(x) for x in v.values()], default=0)
        if isinstance(v, list):
            own = len(v) if v and all(isinstance(x, float) for x in v) else 0
            return max([own, *[longest_float_list(x) for x in v]])
        return 0

    assert longest_float_list(frame) <= 10  # the class probabilities; every map and filter is a grid
    assert set(frame["filters"]) == {"conv1", "conv2"}  # filters once a frame, the chosen image's maps only
    assert "initial_filters" not in frame and frame["maps"]["source"] == "test"


def test_playing_frames_read_the_test_set_every_few_steps_and_a_paused_frame_is_exact(monkeypatch):
    runner = ConvNetRunner(ConvNetConfigIn(), Settings())
    runner.advance(1)
    first = runner.frame()
    assert first["metrics"]["step"] == 1
    runner.advance(1)
    quick = runner.frame()  # within EVAL_AGE of the last reading, one step of 96 < 359 / 2 images' work
    assert quick["step"] == 2 and quick["metrics"]["step"] == 1 and quick["maps"]
    assert quick["confusion"] == first["confusion"]
    monkeypatch.setattr(ConvNetRunner, "EVAL_AGE", 0.0)
    assert runner.frame()["metrics"]["step"] == 2  # a paused run's frame is the current step's
    monkeypatch.setattr(ConvNetRunner, "EVAL_AGE", 10.0)
    runner.advance(2)  # 2 · 96 ≥ 359 / 2: as much work as half a reading, read again
    assert runner.frame()["metrics"]["step"] == 4


def test_step_cost_counts_multiply_accumulates(client):
    runner = ConvNetRunner(ConvNetConfigIn(), Settings())
    assert runner.step_cost() == 32 * (4608 + 18432 + 640)


# ---- the page ------------------------------------------------------------------------------------

def test_page_renders_its_controls_and_the_lecture_line(client):
    r = client.get("/labs/convnet?seed=4&layers=conv4k5p2,relu,maxpool2")
    assert r.status_code == 200
    html = r.text
    assert "Image → convolutional layers → label" in html
    for control in ("transport", "speed", "layers", "lr", "optimizer", "batch_size", "dataset", "seed",
                    "filters", "confusion", "curves", "draw"):
        assert f'data-control="{control}"' in html, control
    assert '"layers": "conv4k5p2,relu,maxpool2"' in html and 'data-main-picture' in html
    assert '<script type="module" src="/static/js/convnet/lab.js">' in html


def test_a_diverged_run_is_a_state_and_its_frames_stay_json(client):
    """A linear stack with a huge step overflows: training stops, numbers become null, maps stay grids."""
    sid = create(client, layers="dense32,linear,dense32", optimizer="sgd", lr=10)["id"]
    b = client.post(f"{API}/sessions/{sid}/step", json={
        "steps": 50, "include": ["metrics", "maps", "filters", "confusion", "predictions"]}).json()
    assert b["diverged"] is True and b["step"] < 50
    assert b["metrics"]["diverged"] is True and b["metrics"]["test_loss"] is None
    assert all(layer["grid"]["dtype"] == "uint8" for layer in b["maps"]["layers"])
    with client.websocket_connect(f"{API}/sessions/{sid}/stream") as ws:
        frame = until(ws, "frame")
        assert frame["diverged"] is True
        ws.send_json({"type": "play"})  # a diverged run does not play
        assert until(ws, "status")["playing"] is False


# ---- numbers are numbers -----------------------------------------------------------------------

@pytest.mark.parametrize(("body", "field"), [
    ({"augment_noise": False}, "augment_noise"),
    ({"lr": True}, "lr"),
    ({"seed": "3"}, "seed"),
    ({"batch_size": 32.5}, "batch_size"),
    ({"noise": float("inf")}, "noise"),
    ({"optimizer": "sgd", "optimizer_params": {"momentum": "0.9"}}, "optimizer_params"),
    ({"layers": "conv8k3," * 1000}, "layers"),
])
def test_a_config_takes_json_numbers_only(client, body, field):
    r = client.post(f"{API}/sessions", content=json.dumps(body), headers={"content-type": "application/json"})
    assert r.status_code == 422, r.text
    assert all(e["loc"][:2] == ["body", field] for e in r.json()["detail"]), r.text


@pytest.mark.parametrize(("spec", "message"), [
    ({"type": "conv", "filters": "8"}, "filters is a whole number"),
    ({"type": "conv", "filters": True}, "filters is a whole number"),
    ({"type": "dense", "units": 32.7}, "units is a whole number"),
    ({"type": "dropout", "p": "0.5"}, "p is a whole number (dropout p a fraction)"),
])
def test_layer_objects_take_numbers_only(client, spec, message):
    r = client.post(f"{API}/sessions", json={"layers": [spec, {"type": "relu"}]})
    assert r.status_code == 422 and message in problems(r), r.text
    ok = create(client, layers=[{"type": "conv", "filters": 4, "kernel": 3, "padding": 1}, {"type": "relu"},
                                {"type": "maxpool", "size": 2}, {"type": "dropout", "p": 0.25}])
    assert ok["config"]["layers"] == "conv4k3p1,relu,maxpool2,dropout0.25"


def test_a_ragged_or_loose_picture_is_a_422_naming_the_image(client):
    sid = create(client)["id"]
    ragged = [[0.5] * 8] * 7 + [[0.5] * 3]
    r = client.post(f"{API}/predict", json={"session": sid, "image": ragged})
    assert r.status_code == 422 and "image: Value error, rows must all have the same length" in problems(r)
    r = client.post(f"{API}/predict", json={"session": sid, "image": [["0.5"] * 64] * 64})
    assert r.status_code == 422 and [e["loc"] for e in r.json()["detail"]] == [["body", "image", 0, 0]]
    drawing = {"height": "2", "width": 2, "data": "AAAA"}
    r = client.post(f"{API}/predict", json={"session": sid, "drawing": drawing})
    assert r.status_code == 422 and "drawing.height" in problems(r)
    r = client.patch(f"{API}/sessions/{sid}", json={"image": ragged})
    assert r.status_code == 422 and "rows must all have the same length" in problems(r)
    r = client.patch(f"{API}/sessions/{sid}", json={"batch_size": "16"})
    assert r.status_code == 422 and "batch_size" in problems(r)


def test_the_stream_refuses_a_loose_change_and_stays_open(client):
    sid = create(client)["id"]
    with client.websocket_connect(f"{API}/sessions/{sid}/stream") as ws:
        until(ws, "frame")
        ws.send_json({"type": "set", "params": {"lr": "0.1"}})
        assert "lr: Input should be a valid number" in until(ws, "error")["message"]
        ws.send_json({"type": "set", "params": {"example": True}})
        assert "example" in until(ws, "error")["message"]
        ws.send_json({"type": "set", "params": {"lr": 0.1, "augment_noise": 5}})
        assert until(ws, "config")["config"]["augment_noise"] == 5
