"""The depth lab's engine: deep plain and residual networks (engine.deepnet), signal propagation
at initialization (engine.propagation), activation curves (engine.activation_curves), per-layer
readings (engine.layer_readings) and the lockstep trainer (engine.depth_trainer).

The numbers the lecture rests on are checked here: Xavier keeps the at-init variance of a wide
linear or tanh network while small uniform weights shrink it geometrically (the slope), and at
depth 30 with sigmoids the residual network's first-layer gradient is orders of magnitude
above the plain one's (the measured ratio is in the assertion message)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine import activation_curves, deepnet, layer_readings, propagation
from engine.depth_data import load_data
from engine.depth_trainer import DepthConfig, DepthTrainer
from engine.gradcheck import check
from engine.nn import softmax_cross_entropy

SIGMOID = deepnet.NetSpec("sigmoid", "xavier")
RESIDUAL = deepnet.NetSpec("sigmoid", "xavier", residual=True)


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


# ---- engine.deepnet ------------------------------------------------------------------------

def test_plain_and_residual_twins_start_from_the_same_weights():
    plain = deepnet.build(2, 3, 6, 5, SIGMOID, np.random.default_rng(4))
    res = deepnet.build(2, 3, 6, 5, RESIDUAL, np.random.default_rng(4))
    hidden = range(2, 7)
    assert [n for n, _ in deepnet.dense_layers(plain)] == ["dense1", *(f"dense{i}" for i in hidden), "output"]
    blocks = [f"block{i}.dense{i}" for i in hidden]
    assert [n for n, _ in deepnet.dense_layers(res)] == ["dense1", *blocks, "output"]
    assert [n for n, _ in deepnet.activation_layers(res)][-2:] == ["block6.sigmoid5", "sigmoid6"]
    for p, r in zip(plain.parameters(), res.parameters(), strict=True):
        np.testing.assert_array_equal(p, r)


def test_the_networks_compute_what_the_docstring_says():
    """Plain: h_i = W_i f(h_{i−1}) + b_i; residual: h_i = h_{i−1} + W_i f(h_{i−1}) + b_i."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 3))
    for spec in (SIGMOID, RESIDUAL):
        net = deepnet.build(3, 2, 4, 5, spec, np.random.default_rng(1))
        Ws = [(layer.params["W"], layer.params["b"]) for _, layer in deepnet.dense_layers(net)]
        h = x @ Ws[0][0] + Ws[0][1]
        for W, b in Ws[1:-1]:
            branch = sigmoid(h) @ W + b
            h = h + branch if spec.residual else branch
        logits = sigmoid(h) @ Ws[-1][0] + Ws[-1][1]
        np.testing.assert_allclose(net.forward(x), logits, rtol=1e-12)


@pytest.mark.parametrize("spec", [
    deepnet.NetSpec("tanh", "xavier", residual=True, batchnorm=True),
    deepnet.NetSpec("sigmoid", "he", residual=False, batchnorm=True),
    deepnet.NetSpec("elu", "orthogonal", residual=True),
])
@pytest.mark.parametrize("n", [1, 5])
def test_whole_network_gradients_match_central_differences(spec, n):
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(n, 3)), rng.integers(0, 3, n)
    net = deepnet.build(3, 3, 4, 4, spec, np.random.default_rng(3))

    def loss():
        return softmax_cross_entropy(net.forward(x, train=True), y)[0]

    net.loss_and_grads(x, y)
    for p, g in zip(net.parameters(), net.gradients(), strict=True):
        assert check(loss, p, g.copy()) < 1e-6


def test_unknown_names_say_what_to_choose():
    with pytest.raises(KeyError, match="choose one of"):
        deepnet.build(2, 2, 3, 4, deepnet.NetSpec("swish", "he"))
    with pytest.raises(ValueError, match="at least one hidden layer"):
        deepnet.build(2, 2, 0, 4, SIGMOID)


# ---- engine.propagation --------------------------------------------------------------------

def test_geometric_rate_of_an_exact_sequence():
    assert propagation.geometric_rate(3.0 * 0.5 ** np.arange(8)) == pytest.approx(0.5)
    assert propagation.geometric_rate(np.zeros(5)) is None
    assert propagation.geometric_rate(np.array([1.0, np.inf, 4.0])) == pytest.approx(2.0)


@pytest.mark.parametrize("activation", ["linear", "tanh"])
def test_xavier_keeps_the_variance_and_small_uniform_shrinks_it_geometrically(activation):
    """Width 256, depth 12. Small uniform ±0.01 has s² = 0.01²/3, so every layer multiplies the
    variance by n·s² = 256 · 3.33e−5 = 0.00853 (forward and backward); Xavier's s² = 1/n makes
    the factor 1 for a linear layer, and a tanh layer's slower squashing (slope 1 at 0)."""
    width, depth = 256, 12
    predicted = width * 0.01**2 / 3
    xavier = propagation.propagate(depth, width, activation, "xavier", n=128)
    small = propagation.propagate(depth, width, activation, "small_uniform", n=128)
    # the slope of log10 Var per layer, fitted, against the prediction log10(n·s²) = −2.07
    for measured in (small.activation_rate, small.grad_rate):
        assert math.log10(measured) == pytest.approx(math.log10(predicted), abs=0.03), (
            f"{activation}: small uniform shrinks ×{measured:.4g} per layer, predicted ×{predicted:.4g}")
    assert small.activation_var[-1] < 1e-22
    if activation == "linear":
        for measured in (xavier.activation_rate, xavier.grad_rate):
            assert measured == pytest.approx(1.0, abs=0.02), f"linear Xavier: ×{measured:.4f} per layer"
        np.testing.assert_allclose(xavier.activation_var, 1.0, rtol=0.1)
    else:  # tanh: near constant next to small uniform's 100× per layer; no geometric collapse
        assert xavier.activation_rate > 0.75 and xavier.grad_rate > 0.75, (
            f"tanh Xavier: ×{xavier.activation_rate:.3f} forward, ×{xavier.grad_rate:.3f} backward per layer")
        assert xavier.activation_var[-1] > 0.02 and xavier.grad_var[0] > 0.02


def test_he_is_for_relu_and_batchnorm_forgets_the_init():
    he = propagation.propagate(12, 256, "relu", "he", n=128)
    xavier = propagation.propagate(12, 256, "relu", "xavier", n=128)
    assert he.activation_rate == pytest.approx(1.0, abs=0.08), f"ReLU + He: ×{he.activation_rate:.3f}"
    # Xavier's factor 1 meets a ReLU that zeroes half: ×1/2 per layer
    rate = xavier.activation_rate
    assert rate == pytest.approx(0.5, abs=0.05), f"ReLU + Xavier: ×{rate:.3f}"
    # BatchNorm rescales every layer's input: tiny weights give the same signals as Xavier's
    small = propagation.propagate(12, 64, "tanh", "small_uniform", batchnorm=True)
    xavier = propagation.propagate(12, 64, "tanh", "xavier", batchnorm=True)
    assert small.activation_rate == pytest.approx(1.0, abs=0.05)
    np.testing.assert_allclose(small.activation_var, xavier.activation_var, rtol=0.02)
    np.testing.assert_allclose(small.grad_var, xavier.grad_var, rtol=0.05)  # BN's ε = 1e−5 is felt


def test_zero_weights_carry_no_signal():
    p = propagation.propagate(5, 16, "tanh", "zeros")
    np.testing.assert_array_equal(p.activation_var, 0.0)
    assert p.activation_rate is None and p.grad_rate is None


# ---- engine.activation_curves --------------------------------------------------------------

@pytest.mark.parametrize(("name", "value", "z"), [("sigmoid", 0.25, 0.0), ("tanh", 1.0, 0.0),
                                                  ("sine", 1.0, 0.0)])
def test_derivative_peaks_by_hand(name, value, z):
    peak = activation_curves.derivative_peak(name)
    assert peak.value == pytest.approx(value, abs=1e-12)
    assert peak.z == pytest.approx(z, abs=1e-6)
    assert peak.plateau is None


def test_relu_slope_is_flat_at_its_maximum_and_gelu_peaks_above_one():
    relu = activation_curves.derivative_peak("relu")
    assert relu.value == 1.0 and relu.plateau[0] == pytest.approx(0.0, abs=0.01) and relu.plateau[1] == 6.0
    gelu = activation_curves.derivative_peak("gelu")
    h = 1e-5  # the peak is where f″ = 0
    f1 = activation_curves.derivative("gelu", np.array([gelu.z - h, gelu.z + h]))
    assert abs(f1[1] - f1[0]) / (2 * h) < 1e-5
    assert gelu.value == pytest.approx(1.1290, abs=1e-4)


def test_sample_gives_f_and_its_derivative():
    z, a, d = activation_curves.sample("sigmoid", -4, 4, 9)
    np.testing.assert_allclose(z, np.arange(-4, 5))
    np.testing.assert_allclose(a, sigmoid(z))
    np.testing.assert_allclose(d, sigmoid(z) * (1 - sigmoid(z)))
    with pytest.raises(ValueError, match="lo < hi"):
        activation_curves.sample("relu", 1, 1, 5)


def test_ten_sigmoid_layers_scale_a_gradient_by_at_most_a_quarter_to_the_tenth():
    """With identity weights only f′ acts: dL/dx = Π f′(z_i) · dL/da ≤ 0.25¹⁰ = 9.5e−7."""
    x = np.linspace(-3, 3, 61)
    a, der = x, np.ones_like(x)
    for _ in range(10):
        s = sigmoid(a)
        der = der * s * (1 - s)
        a = s
    assert der.max() <= 0.25**10
    assert der.max() > 0.1 * 0.25**10  # and comes within a factor 10 of it


# ---- engine.layer_readings -----------------------------------------------------------------

def test_readings_by_hand():
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(6, 2)), rng.integers(0, 2, 6)
    net = deepnet.build(2, 2, 3, 4, deepnet.NetSpec("relu", "he"), np.random.default_rng(6))
    trace = net.loss_and_grads(x, y)
    before = layer_readings.weights(net)
    lr = 0.5
    for p, g in zip(net.parameters(), net.gradients(), strict=True):
        p -= lr * g
    r = layer_readings.read(net, trace, "relu", layer_readings.update_ratios(before, net), bins=8)
    assert r.dense == ["dense1", "dense2", "dense3", "output"]
    assert r.activations == ["relu1", "relu2", "relu3"]
    for i, name in enumerate(r.dense):
        dW = trace[name].grads["W"]
        assert r.grad_norms[i] == pytest.approx(np.linalg.norm(dW))
        assert r.update_ratios[i] == pytest.approx(lr * np.linalg.norm(dW) / np.linalg.norm(before[i]))
    for i, name in enumerate(r.activations):
        a = trace[name].output
        np.testing.assert_allclose(r.quantiles[i], np.quantile(a, [0.05, 0.25, 0.5, 0.75, 0.95]))
        assert r.mean[i] == pytest.approx(a.mean()) and r.var[i] == pytest.approx(a.var())
        assert r.dead[i] == pytest.approx(np.mean(np.all(a <= 0, axis=0)))
        expected = np.histogram(np.clip(a, 0, 4), np.linspace(0, 4, 9))[0]
        np.testing.assert_array_equal(r.histogram[i], expected)
    assert r.hist_range == (0.0, 4.0)
    assert layer_readings.read(net, trace, "sigmoid").dead is None


# ---- engine.depth_trainer ------------------------------------------------------------------

def test_residual_first_layer_gradient_is_orders_of_magnitude_above_the_plain_one():
    """Depth 30, width 16, sigmoid, Xavier, the digits; same seed, same weights, same batch."""
    t = DepthTrainer(DepthConfig(depth=30, width=16))
    plain, res = t.readings(0).grad_norms, t.readings(1).grad_norms
    ratio = res[0] / plain[0]
    assert ratio > 1e12, f"at initialization ‖∂L/∂W₁‖ residual / plain = {ratio:.3g}"
    # the plain network's gradient shrinks on its way to the input; the residual one's does not
    assert plain[0] < 1e-12 * plain[-1], f"plain: first / last layer {plain[0] / plain[-1]:.3g}"
    assert res[0] > 0.05 * res[-1], f"residual: first / last layer {res[0] / res[-1]:.3g}"
    t.step(60)
    plain, res = t.readings(0).grad_norms, t.readings(1).grad_norms
    ratio = res[0] / plain[0]
    assert ratio > 1e12, f"after 60 steps ‖∂L/∂W₁‖ residual / plain = {ratio:.3g}"


def test_at_depth_30_the_plain_sigmoid_network_stalls_and_the_residual_one_learns():
    t = DepthTrainer(DepthConfig(depth=30, width=16, seed=0))
    t.step(200)
    plain, res = t.metrics()
    assert plain.verdict == "guessing", f"plain loss {plain.train_loss:.3f} (chance {t.data.chance_loss:.3f})"
    assert res.verdict == "learning" and res.train_loss < plain.train_loss - 1.0, (
        f"residual {res.train_loss:.3f} vs plain {plain.train_loss:.3f} after 200 steps")
    assert res.test_accuracy > 0.6


def test_networks_train_on_the_same_batches_in_lockstep():
    """A network trains the same alone or beside another: same data, same order."""
    base = DepthConfig(dataset="spiral", depth=4, width=8, seed=3)
    pair = DepthTrainer(base.with_changes(networks=(SIGMOID, deepnet.NetSpec("relu", "he"))))
    alone = DepthTrainer(base.with_changes(networks=(SIGMOID,)))
    pair.step(7)
    alone.step(3)
    alone.step(4)
    for p, q in zip(pair.parameters(0), alone.parameters(0), strict=True):
        np.testing.assert_array_equal(p, q)
    assert pair.step_count == 7 and pair.history.steps == alone.history.steps


def test_exploding_gradients_grow_until_the_network_diverges_and_the_other_goes_on():
    """Uniform ±0.5 weights in ReLU layers of 32: each layer multiplies the signal's variance
    by 32 · (1/12) / 2 = 1.3, so 20 layers start with huge gradients that grow with every step."""
    t = DepthTrainer(DepthConfig(depth=20, width=32, lr=0.1, networks=(
        deepnet.NetSpec("relu", "tf_uniform"), deepnet.NetSpec("relu", "he"))))
    big, he = t.readings(0).grad_norms, t.readings(1).grad_norms
    assert (big > 50 * he).all(), f"at init ±0.5 / He per layer: {np.round(big / he)}"
    t.step(2)  # the readings of step 2: the gradient after one update
    after = t.readings(0).grad_norms
    assert after[0] > 10 * big[0], f"one update later the first layer's gradient is ×{after[0] / big[0]:.3g}"
    ran = t.step(28)
    assert ran == 28 and not t.done
    exploded, ok = t.metrics()
    assert exploded.diverged and exploded.verdict == "diverged" and 0 < exploded.diverged_at <= 10
    assert not ok.diverged and t.runs[1].trace is not None
    assert np.isfinite(t.readings(0).grad_norms).all()  # the last finite step's readings stay
    assert math.isnan(t.history.train_loss[0][-1])


def test_reset_update_and_parameters():
    t = DepthTrainer(DepthConfig(dataset="circle", depth=3, width=4))
    start = [p.copy() for p in t.parameters(1)]
    t.step(5)
    trained = [p.copy() for p in t.parameters(1)]
    assert t.update(lr=0.01) is False and t.runs[0].optimizer.lr == 0.01
    assert t.update(depth=4) is True and t.step_count == 0
    t.update(depth=3)
    for p, q in zip(t.parameters(1), start, strict=True):
        np.testing.assert_array_equal(p, q)
    t.set_parameters(1, trained)
    np.testing.assert_array_equal(t.parameters(1)[0], trained[0])
    with pytest.raises(ValueError, match="shape"):
        t.set_parameters(1, [np.zeros(3), *trained[1:]])


def test_data_is_standardized_and_split_by_class():
    d = load_data("digits", 0, 0.0, 0, 0.8)
    assert d.n_in == 64 and len(d.classes) == 10
    assert len(d.X_train) + len(d.X_test) == 1797
    np.testing.assert_allclose(d.X_train.mean(axis=0), 0.0, atol=1e-12)
    assert d.chance_loss == pytest.approx(math.log(10), abs=0.01)
    s = load_data("spiral", 200, 0.0, 1, 0.5)
    assert s.classes == ("orange", "blue") and len(s.X_test) == 100
    with pytest.raises(KeyError, match="choose one of"):
        load_data("plane", 100, 0.0, 0, 0.8)
