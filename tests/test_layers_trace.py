"""engine.nn: what a Sequential's trace holds, building networks from specs (and the errors
that name the layer), parameter counts by hand, and the statistics the depth lab reads."""

from __future__ import annotations

import numpy as np
import pytest

from engine import optimizers
from engine.nn import Activation, Dense, Residual, Sequential
from engine.nn.build import ArchitectureError, build
from engine.nn.stats import activation_stats, dead_fraction, dead_fractions, histograms, update_ratios
from engine.nn.summary import mlp_width_for_budget, summarize

CNN = [
    {"type": "conv", "filters": 8, "kernel": 3, "padding": 1}, {"type": "relu"},
    {"type": "maxpool", "size": 2},
    {"type": "conv", "filters": 16, "kernel": 3, "padding": 1}, {"type": "relu"},
    {"type": "maxpool", "size": 2},
]


def cnn(seed=0):
    return build(CNN, (1, 8, 8), num_classes=10, rng=np.random.default_rng(seed))


def batch(n=6, seed=1):
    rng = np.random.default_rng(seed)
    return rng.random((n, 1, 8, 8)), rng.integers(0, 10, n)


def test_names_shapes_and_trace_fields():
    model = cnn()
    assert model.names == ["conv1", "relu1", "pool1", "conv2", "relu2", "pool2", "flatten", "output"]
    assert model.shapes((1, 8, 8)) == [(1, 8, 8), (8, 8, 8), (8, 8, 8), (8, 4, 4), (16, 4, 4), (16, 4, 4),
                                       (16, 2, 2), (64,), (10,)]
    x, y = batch()
    trace = model.loss_and_grads(x, y)
    assert [t.name for t in trace.walk()] == model.names
    assert trace.inputs is x
    for t, shape in zip(trace.layers, model.shapes((1, 8, 8))[1:], strict=True):
        assert t.output.shape == (6, *shape)
        assert t.grad.shape == t.output.shape
    assert trace.logits is trace["output"].output
    np.testing.assert_allclose(trace.probs.sum(axis=1), 1.0)
    # dL/d(logits) is (softmax − onehot) / N; the dense layer's gradients follow from it.
    onehot = np.eye(10)[y]
    np.testing.assert_allclose(trace["output"].grad, (trace.probs - onehot) / 6, atol=1e-15)
    dense = trace["output"]
    np.testing.assert_allclose(dense.grads["W"], trace["flatten"].output.T @ dense.grad, atol=1e-14)
    # a ReLU's input gradient is its output gradient where the unit was on
    relu = trace["relu2"]
    np.testing.assert_allclose(trace["conv2"].grad, relu.grad * (relu.output > 0))
    assert set(trace.grad_norms()) == {"conv1", "conv2", "output"}
    assert trace.grad_norms()["conv1"] == pytest.approx(
        np.sqrt(sum(np.sum(g**2) for g in model.layers[0].grads.values())))


def test_a_trace_keeps_its_numbers_after_later_steps():
    """Backward returns new arrays and nothing writes into a recorded pass: a trace taken
    before three more optimizer steps still holds the same numbers."""
    model = cnn()
    opt = optimizers.make("sgd", model.parameters(), lr=0.5)
    x, y = batch()
    trace = model.loss_and_grads(x, y)
    opt.step(model.gradients())
    saved = [(t.output.copy(), t.grad.copy(), {k: g.copy() for k, g in t.grads.items()})
             for t in trace.walk()]
    for seed in range(3):
        model.loss_and_grads(*batch(seed=seed + 5))
        opt.step(model.gradients())
    for t, (out, grad, grads) in zip(trace.walk(), saved, strict=True):
        np.testing.assert_array_equal(t.output, out)
        np.testing.assert_array_equal(t.grad, grad)
        for k, g in grads.items():
            np.testing.assert_array_equal(t.grads[k], g)


def test_forward_only_trace_has_no_gradients():
    model = cnn()
    model.forward(batch()[0])
    trace = model.trace()
    assert trace.loss is None and all(t.grad is None for t in trace.walk())
    assert trace.grad_norms() == {}


def test_residual_layers_appear_inside_their_block():
    spec = [{"type": "dense", "units": 4}, {"type": "tanh"},
            {"type": "residual", "layers": [{"type": "dense", "units": 4}, {"type": "tanh"}]},
            {"type": "residual", "layers": [{"type": "dense", "units": 3}, {"type": "batchnorm"}]}]
    model = build(spec, (2,), num_classes=2, rng=np.random.default_rng(0))
    trace = model.loss_and_grads(np.random.default_rng(1).normal(size=(5, 2)), np.array([0, 1, 1, 0, 1]))
    assert [t.name for t in trace.walk()] == [
        "dense1", "tanh1", "block1", "block1.dense1", "block1.tanh1", "block2", "block2.dense1",
        "block2.bn1", "block2.projection", "output"]
    assert list(trace.grad_norms()) == ["dense1", "block1.dense1", "block2.dense1", "block2.bn1",
                                        "block2.projection", "output"]
    block = trace["block1"]
    np.testing.assert_allclose(block.output, trace["tanh1"].output + block.children[-1].output)
    assert "batch_mean" in trace["block2.bn1"].details
    assert len(model.parameters()) == len(model.gradients()) == 12


def test_parameters_by_hand():
    rows = {r.name: r for r in summarize(cnn(), (1, 8, 8))}
    assert rows["conv1"].parameters == 8 * 1 * 9 + 8  # 80
    assert rows["conv2"].parameters == 16 * 8 * 9 + 16  # 1168
    assert rows["output"].parameters == 64 * 10 + 10  # 650
    assert cnn().num_parameters == 80 + 1168 + 650
    # a dense layer from the 8×8 image to the 8×8×8 maps would need 64·512 + 512 weights
    assert rows["conv1"].dense_equivalent == 64 * 512 + 512
    assert rows["conv2"].dense_equivalent == 128 * 256 + 256
    assert rows["pool1"].parameters == 0 and rows["pool1"].out_shape == (8, 4, 4)
    # multiply-accumulates per image: 9 per output number of conv1, 72 per output of conv2
    assert rows["conv1"].macs == 9 * 8 * 8 * 8 and rows["conv2"].macs == 72 * 16 * 4 * 4
    assert rows["output"].macs == 640 and rows["relu1"].macs == 0
    # the same 1898 parameters buy a 64 → h → 10 network with h = 25 (2 **75** + 10 ≈ 1885)
    assert mlp_width_for_budget(1898, 64, 10) == 25


@pytest.mark.parametrize(("spec", "index", "reason"), [
    ([{"type": "conv", "kernel": 5}] + [{"type": "maxpool", "size": 2}] * 3,
     "4", r"maxpool 2×2\): the 2×2 window does not fit the 1×1 map"),
    ([{"type": "conv", "kernel": 5}, {"type": "conv", "kernel": 5}], "2",
     r"conv 8 filters 5×5\): the 5×5 kernel does not fit the 4×4 map"),
    ([{"type": "conv", "filters": 4, "stride": 3}, {"type": "conv", "kernel": 3}], "2",
     "does not fit the 2×2"),
    ([{"type": "pool"}], "1", "unknown layer type 'pool'"),
    ([{"type": "conv", "filter": 3}], "1", r"unknown setting\(s\) \['filter'\]"),
    ([{"type": "dense", "units": 4}, {"type": "conv"}], "2", "needs image maps"),
    ([{"type": "activation", "name": "swish"}], "1", "unknown activation 'swish'"),
    ([{"type": "residual", "layers": [{"type": "conv", "kernel": 9}]}], "1.1", "does not fit"),
    ([{"type": "residual", "layers": []}], "1", "at least one layer"),
])
def test_architecture_errors_name_the_layer(spec, index, reason):
    with pytest.raises(ArchitectureError, match=reason) as e:
        build(spec, (1, 8, 8), num_classes=10)
    assert e.value.index == index
    assert str(e.value).startswith(f"layer {index} (")


def test_residual_conv_block_gets_a_strided_projection():
    spec = [{"type": "conv", "filters": 4, "padding": 1},
            {"type": "residual", "layers": [{"type": "conv", "filters": 6, "stride": 2, "padding": 1},
                                            {"type": "relu"}]}]
    model = build(spec, (1, 9, 9), num_classes=3)
    block = model.layers[1]
    assert isinstance(block, Residual)
    assert block.projection.kind == "conv2d" and block.projection.stride == 2
    assert block.projection.params["w"].shape == (6, 4, 1, 1)
    assert model.shapes((1, 9, 9))[2] == (6, 5, 5)


def test_stats_by_hand():
    model = Sequential([Dense(2, 3, "zeros"), Activation("relu")])
    model.layers[0].params["b"][...] = [1.0, -1.0, 0.0]  # unit 2 and 3 never fire
    model.forward(np.array([[1.0, 2.0], [3.0, 4.0]]))
    trace = model.trace()
    assert dead_fraction(trace["relu1"].output) == pytest.approx(2 / 3)
    assert dead_fractions(trace) == {"relu1": pytest.approx(2 / 3)}
    stats = activation_stats(trace)
    assert stats["relu1"]["mean"] == pytest.approx(1 / 3)
    assert stats["relu1"]["quantiles"][2] == 0.0
    assert "grad_var" not in stats["relu1"]
    hist = histograms(trace, bins=4, lo=-2, hi=2)
    assert hist["dense1"].tolist() == [0, 2, 2, 2]  # −1, −1 | 0, 0 | 1, 1
    before = {"dense1": [np.array([3.0, 4.0])], "zero": [np.zeros(2)]}
    after = {"dense1": [np.array([3.0, 4.5])], "zero": [np.ones(2)]}
    assert update_ratios(before, after) == {"dense1": pytest.approx(0.1), "zero": None}


def test_signal_propagation_shrinks_with_small_weights():
    """At initialization, the output variance of a deep linear stack with tiny weights
    collapses layer by layer, while Xavier keeps it of the same order."""
    x = np.random.default_rng(0).normal(size=(256, 32))
    for init, shrinks in [("small_uniform", True), ("xavier", False)]:
        spec = [{"type": "dense", "units": 32}, {"type": "linear"}] * 6
        model = build(spec, (32,), init=init, rng=np.random.default_rng(1))
        model.forward(x)
        var = [activation_stats(model.trace())[f"dense{i}"]["var"] for i in range(1, 7)]
        ratios = np.array(var[1:]) / np.array(var[:-1])
        if shrinks:  # 32 · 0.01² / 3 ≈ 0.001 per layer
            assert np.all(ratios < 0.01), ratios
        else:
            assert np.all((ratios > 0.5) & (ratios < 2)), ratios


def test_an_encoder_with_a_projection_head_on_the_unit_sphere():
    """The self-supervised lab's shape: a small CNN, a projection head, L2-normalised output."""
    spec = [*CNN[:3], {"type": "dense", "units": 16}, {"type": "relu"}, {"type": "dense", "units": 8},
            {"type": "normalize"}]
    model = build(spec, (1, 8, 8), rng=np.random.default_rng(0))
    assert model.names[-1] == "normalize1" and model.output_shape((1, 8, 8)) == (8,)
    z = model.forward(batch()[0], train=True)
    np.testing.assert_allclose(np.linalg.norm(z, axis=1), 1.0)
    dx = model.backward(np.random.default_rng(2).normal(size=z.shape))
    assert dx.shape == (6, 1, 8, 8)
