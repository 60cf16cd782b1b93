"""Engine parts the ConvNet lab added: reading a drawing like the UCI digits were made, planning
a network's size before building it, saving and loading its parameters, and the split a page
shows beside a session."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine.digitize import area_matrix, digitize, resize
from engine.image_data import load_digits
from engine.image_trainer import DEFAULT_LAYERS, ImageConfig, ImageTrainer, dataset_split
from engine.nn.build import ArchitectureError, build
from engine.nn.plan import plan
from engine.nn.state import load_parameters, parameters_by_layer
from engine.nn.summary import summarize

# ---- digitize ------------------------------------------------------------------------------


def test_area_matrix_worked_example():
    """Three cells into two: each output averages 1.5 input cells."""
    np.testing.assert_allclose(area_matrix(2, 3), [[2 / 3, 1 / 3, 0], [0, 1 / 3, 2 / 3]])
    np.testing.assert_allclose(area_matrix(6, 3), np.repeat(np.eye(3), 2, axis=0))  # growing repeats
    np.testing.assert_allclose(resize(np.arange(16.0).reshape(4, 4), 2, 2), [[2.5, 4.5], [10.5, 12.5]])


def test_a_digit_drawn_large_reads_back_as_itself():
    """A UCI digit blown up 20× (each pixel a 20×20 square of its ink) on a larger canvas, off
    centre: cropping, scaling to 32×32 and 4×4 averaging give the 8×8 digit back."""
    digit = load_digits().images[0, 0]
    canvas = np.zeros((230, 200))
    canvas[50:210, 10:170] = np.kron(digit, np.ones((20, 20)))
    np.testing.assert_allclose(digitize(canvas), digit, atol=1e-12)


def test_a_thin_bar_fills_the_height_and_is_centred():
    """A vertical bar 40 px tall and 4 px wide: scaled by 32/40 it is 32 px tall and 3.2 → 3 px
    wide, centred in the 32×32 box at columns 14, 15, 16: block 3 (columns 12 … 15) holds
    2 of its 4 columns of ink, block 4 (16 … 19) one."""
    canvas = np.zeros((100, 100))
    canvas[30:70, 60:64] = 1.0
    out = digitize(canvas)
    np.testing.assert_allclose(out[:, 3], 2 / 4, atol=1e-12)
    np.testing.assert_allclose(out[:, 4], 1 / 4, atol=1e-12)
    assert out[:, [0, 1, 2, 5, 6, 7]].max() == 0


def test_empty_drawing_and_no_fit():
    assert not digitize(np.zeros((50, 50))).any()
    canvas = np.zeros((16, 16))
    canvas[:8, :8] = 1.0  # the top-left quarter
    np.testing.assert_allclose(digitize(canvas, (2, 2), fit=False), [[1, 0], [0, 0]])
    with pytest.raises(ValueError, match="2-D"):
        digitize(np.zeros((2, 2, 2)))


# ---- plan ----------------------------------------------------------------------------------

SPECS = [
    DEFAULT_LAYERS,
    ({"type": "conv", "filters": 4, "kernel": 5, "stride": 2, "padding": 2}, {"type": "tanh"},
     {"type": "avgpool", "size": 2, "stride": 1}, {"type": "batchnorm"}, {"type": "dense", "units": 7},
     {"type": "dropout", "p": 0.3}, {"type": "relu"}, {"type": "dense", "units": 5}),
    (),
]


@pytest.mark.parametrize("spec", SPECS, ids=["default", "strided", "linear"])
def test_plan_counts_what_build_and_summarize_count(spec):
    planned = list(plan(spec, (1, 8, 8), 10))
    model = build(spec, (1, 8, 8), 10)
    rows = summarize(model, (1, 8, 8))
    assert [p.out_shape for p in planned] == [r.out_shape for r in rows]
    assert [p.parameters for p in planned] == [r.parameters for r in rows]
    assert [p.macs for p in planned] == [r.macs for r in rows]
    assert sum(p.parameters for p in planned) == model.num_parameters
    assert planned[-1].index == "output"


def test_plan_names_the_layer_as_build_does():
    spec = (*DEFAULT_LAYERS, {"type": "maxpool", "size": 2}, {"type": "maxpool", "size": 2})
    with pytest.raises(ArchitectureError) as built:
        build(spec, (1, 8, 8), 10)
    with pytest.raises(ArchitectureError) as planned:
        list(plan(spec, (1, 8, 8), 10))
    assert str(planned.value) == str(built.value)
    assert planned.value.index == "8"
    with pytest.raises(ArchitectureError) as built:
        build([{"type": "dense", "units": 4}, {"type": "conv", "filters": 6}], (1, 8, 8))
    with pytest.raises(ArchitectureError) as planned:
        list(plan([{"type": "dense", "units": 4}, {"type": "conv", "filters": 6}], (1, 8, 8)))
    assert str(planned.value) == str(built.value) == (
        "layer 2 (conv 6 filters 3×3): needs image maps (C, H, W) but gets 4 features")
    with pytest.raises(ArchitectureError, match=r"layer 1 \(dense 0\): a dense layer needs at least one"):
        list(plan([{"type": "dense", "units": 0}], (1, 8, 8)))


def test_plan_sizes_a_huge_dense_layer_without_making_it():
    """Ten million units after 64 features: 650 million parameters, counted, never allocated."""
    rows = plan([{"type": "dense", "units": 10_000_000}], (1, 8, 8))
    flatten, dense = next(rows), next(rows)
    assert flatten.label == "flatten" and flatten.out_shape == (64,)
    assert dense.parameters == 65 * 10_000_000 and dense.macs == 64 * 10_000_000


# ---- parameters by layer -------------------------------------------------------------------

def test_parameters_round_trip_into_another_network():
    spec = (*DEFAULT_LAYERS[:3], {"type": "batchnorm"})
    a = build(spec, (1, 8, 8), 10, rng=np.random.default_rng(1))
    b = build(spec, (1, 8, 8), 10, rng=np.random.default_rng(2))
    a.forward(np.random.default_rng(3).random((5, 1, 8, 8)), train=True)  # moves the running stats
    saved = parameters_by_layer(a)
    assert set(saved) == {"conv1", "bn1", "output"}
    assert set(saved["bn1"]) == {"gamma", "beta", "running_mean", "running_var"}
    w_before = b.layers[0].params["w"]
    load_parameters(b, saved)
    assert b.layers[0].params["w"] is w_before  # written in place: an optimizer keeps its arrays
    x = np.random.default_rng(4).random((3, 1, 8, 8))
    np.testing.assert_array_equal(a.predict(x), b.predict(x))


def test_loading_checks_everything_before_writing():
    model = build(DEFAULT_LAYERS, (1, 8, 8), 10)
    saved = parameters_by_layer(model)
    before = parameters_by_layer(model)
    bad = {**saved, "output": {**saved["output"], "W": np.zeros((3, 3))}}
    bad["conv1"] = {k: v + 1 for k, v in saved["conv1"].items()}
    with pytest.raises(ValueError, match=r"output\.W: shape \(3, 3\), this network needs \(64, 10\)"):
        load_parameters(model, bad)
    np.testing.assert_array_equal(model.layers[0].params["w"], before["conv1"]["w"])  # nothing written
    with pytest.raises(ValueError, match=r"missing \['output'\]"):
        load_parameters(model, {k: v for k, v in saved.items() if k != "output"})
    with pytest.raises(ValueError, match="finite"):
        load_parameters(model, {**saved, "conv1": {**saved["conv1"], "b": np.full(8, np.nan)}})


def test_trainer_takes_another_runs_weights_and_trains_on():
    trained = ImageTrainer(ImageConfig())
    trained.step(60)
    fresh = ImageTrainer(ImageConfig(seed=3))
    saved = trained.weights()
    fresh.set_weights({k: {p: v.tolist() for p, v in layer.items()} for k, layer in saved.items()})
    np.testing.assert_array_equal(fresh.predict(trained.X_test), trained.predict(trained.X_test))
    assert fresh.metrics().test_accuracy > 0.8
    assert fresh.step(5) == 5 and math.isfinite(fresh.metrics().test_loss)


# ---- the split a page shows ----------------------------------------------------------------

def test_dataset_split_is_the_trainers():
    for cfg in (ImageConfig(seed=4, train_ratio=0.7), ImageConfig(dataset="shapes", n_images=200, seed=2)):
        tr = ImageTrainer(cfg)
        data, _, y_tr, X_te, y_te = dataset_split(cfg)
        np.testing.assert_array_equal(X_te, tr.X_test)
        np.testing.assert_array_equal(y_te, tr.y_test)
        np.testing.assert_array_equal(y_tr, tr.y_train)
        assert data.classes == tr.data.classes
