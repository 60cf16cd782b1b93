"""Where PyTorch is installed, the layer library agrees with torch.nn and autograd in float64:
each layer's output and gradients, batchnorm's running statistics, and a whole CNN trained
for 20 Adam steps step by step."""

from __future__ import annotations

import numpy as np
import pytest

from engine import optimizers
from engine.nn import (
    Activation,
    AvgPool2D,
    BatchNorm,
    Conv2D,
    Dense,
    Flatten,
    MaxPool2D,
    Normalize,
    Residual,
)
from engine.nn.build import build

torch = pytest.importorskip("torch")
tnn = torch.nn
ATOL = 1e-12


def t(a, grad=False):
    return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def copy_into(ours, theirs):
    """Load a torch module's parameters with ours (torch's Linear stores Wᵀ)."""
    with torch.no_grad():
        if isinstance(ours, Dense):
            theirs.weight.copy_(t(ours.params["W"].T))
            theirs.bias.copy_(t(ours.params["b"]))
        elif isinstance(ours, Conv2D):
            theirs.weight.copy_(t(ours.params["w"]))
            theirs.bias.copy_(t(ours.params["b"]))
        elif isinstance(ours, BatchNorm):
            theirs.weight.copy_(t(ours.params["gamma"]))
            theirs.bias.copy_(t(ours.params["beta"]))


def torch_grads(ours, theirs):
    if isinstance(ours, Dense):
        return {"W": theirs.weight.grad.numpy().T, "b": theirs.bias.grad.numpy()}
    if isinstance(ours, Conv2D):
        return {"w": theirs.weight.grad.numpy(), "b": theirs.bias.grad.numpy()}
    if isinstance(ours, BatchNorm):
        return {"gamma": theirs.weight.grad.numpy(), "beta": theirs.bias.grad.numpy()}
    return {}


def compare(ours, theirs, x, train=True):
    theirs.train(train)
    theirs.zero_grad()
    copy_into(ours, theirs)
    xt = t(x, grad=True)
    out_t = theirs(xt)
    out = ours.forward(x, train)
    np.testing.assert_allclose(out, out_t.detach().numpy(), atol=ATOL, rtol=1e-10)
    g = np.random.default_rng(1).normal(size=out.shape)
    out_t.backward(t(g))
    dx = ours.backward(g)
    np.testing.assert_allclose(dx, xt.grad.numpy(), atol=ATOL, rtol=1e-10)
    for k, v in torch_grads(ours, theirs).items():
        np.testing.assert_allclose(ours.grads[k], v, atol=ATOL, rtol=1e-10)


def test_dense():
    rng = np.random.default_rng(0)
    compare(Dense(7, 3, "xavier", rng), tnn.Linear(7, 3).double(), rng.normal(size=(5, 7)))


@pytest.mark.parametrize(("name", "module"), [
    ("relu", tnn.ReLU()), ("sigmoid", tnn.Sigmoid()), ("tanh", tnn.Tanh()), ("elu", tnn.ELU()),
    ("leaky_relu", tnn.LeakyReLU(0.01)), ("softplus", tnn.Softplus()),
    ("gelu", tnn.GELU(approximate="tanh")),
])
def test_activations(name, module):
    compare(Activation(name), module, np.random.default_rng(2).normal(size=(3, 2, 4, 5)))


@pytest.mark.parametrize(("C", "D", "k", "s", "p", "d", "mode", "shape"), [
    (1, 8, 3, 1, 1, 1, "zeros", (4, 8, 8)),
    (3, 4, 5, 2, 2, 1, "zeros", (1, 9, 7)),
    (2, 3, 3, 2, 1, 2, "reflect", (2, 7, 8)),
    (2, 2, 3, 1, 1, 1, "circular", (3, 5, 5)),
    (2, 2, 2, 3, 1, 1, "replicate", (2, 7, 7)),
])
def test_conv2d(C, D, k, s, p, d, mode, shape):
    rng = np.random.default_rng(3)
    ours = Conv2D(C, D, k, s, p, d, mode, rng=rng)
    theirs = tnn.Conv2d(C, D, k, s, p, d, padding_mode=mode).double()
    compare(ours, theirs, rng.normal(size=(shape[0], C, *shape[1:])))


@pytest.mark.parametrize(("k", "s", "p", "shape"), [
    (2, None, 0, (2, 3, 8, 8)), (3, 2, 1, (1, 2, 7, 9)), (2, 1, 1, (3, 1, 5, 5)), (3, 3, 0, (1, 1, 7, 7)),
])
def test_pooling(k, s, p, shape):
    x = np.random.default_rng(4).normal(size=shape)
    compare(MaxPool2D(k, s, p), tnn.MaxPool2d(k, s, p), x)
    compare(AvgPool2D(k, s, p), tnn.AvgPool2d(k, s, p), x)


def test_normalize_is_torch_normalize():
    class Norm(tnn.Module):
        def forward(self, x):
            return tnn.functional.normalize(x, dim=1)

    compare(Normalize(), Norm(), np.random.default_rng(9).normal(size=(5, 4)))


def test_max_pooling_breaks_ties_as_torch():
    x = np.maximum(np.random.default_rng(8).normal(size=(4, 3, 6, 6)), 0.0)  # many all-zero windows
    x[0, 0, :2, :2] = 1.0
    compare(MaxPool2D(2), tnn.MaxPool2d(2), x)
    compare(MaxPool2D(3, 1, 1), tnn.MaxPool2d(3, 1, 1), x)


@pytest.mark.parametrize("shape", [(8, 5), (4, 3, 5, 5), (1, 2, 3, 4)])
def test_batchnorm_train_eval_and_running_statistics(shape):
    rng = np.random.default_rng(5)
    ours = BatchNorm(shape[1])
    ours.params["gamma"][...] = rng.uniform(0.5, 2, shape[1])
    ours.params["beta"][...] = rng.normal(size=shape[1])
    theirs = (tnn.BatchNorm1d if len(shape) == 2 else tnn.BatchNorm2d)(shape[1]).double()
    for _ in range(3):  # three training batches move the running statistics
        compare(ours, theirs, rng.normal(1.0, 2.0, size=shape), train=True)
    np.testing.assert_allclose(ours.running_mean, theirs.running_mean.numpy(), atol=ATOL)
    np.testing.assert_allclose(ours.running_var, theirs.running_var.numpy(), atol=ATOL)
    compare(ours, theirs, rng.normal(1.0, 2.0, size=shape), train=False)


class TorchResidual(tnn.Module):
    def __init__(self, body, projection):
        super().__init__()
        self.body, self.projection = body, projection

    def forward(self, x):
        return self.body(x) + (self.projection(x) if self.projection is not None else x)


def test_residual_with_strided_projection():
    rng = np.random.default_rng(6)
    ours = Residual([Conv2D(2, 4, 3, 2, 1, rng=rng), Activation("relu")], (2, 7, 7), rng=rng)
    body = tnn.Sequential(tnn.Conv2d(2, 4, 3, 2, 1), tnn.ReLU()).double()
    proj = tnn.Conv2d(2, 4, 1, 2).double()
    copy_into(ours.body.layers[0], body[0])
    copy_into(ours.projection, proj)
    x = rng.normal(size=(3, 2, 7, 7))
    xt = t(x, grad=True)
    out_t = TorchResidual(body, proj)(xt)
    out = ours.forward(x, True)
    np.testing.assert_allclose(out, out_t.detach().numpy(), atol=ATOL)
    g = rng.normal(size=out.shape)
    out_t.backward(t(g))
    np.testing.assert_allclose(ours.backward(g), xt.grad.numpy(), atol=ATOL)
    np.testing.assert_allclose(ours.projection.grads["w"], proj.weight.grad.numpy(), atol=ATOL)
    np.testing.assert_allclose(ours.body.layers[0].grads["w"], body[0].weight.grad.numpy(), atol=ATOL)


def test_default_cnn_trains_like_torch_for_twenty_adam_steps():
    """The ConvNet lab's default network (plus batchnorm) on random digits-sized batches:
    losses and all parameters stay equal to torch's to rounding after 20 Adam steps."""
    rng = np.random.default_rng(7)
    spec = [{"type": "conv", "filters": 8, "kernel": 3, "padding": 1}, {"type": "batchnorm"},
            {"type": "relu"}, {"type": "maxpool", "size": 2},
            {"type": "conv", "filters": 16, "kernel": 3, "padding": 1}, {"type": "relu"},
            {"type": "maxpool", "size": 2}]
    model = build(spec, (1, 8, 8), num_classes=10, rng=rng)
    theirs = tnn.Sequential(
        tnn.Conv2d(1, 8, 3, padding=1), tnn.BatchNorm2d(8), tnn.ReLU(), tnn.MaxPool2d(2),
        tnn.Conv2d(8, 16, 3, padding=1), tnn.ReLU(), tnn.MaxPool2d(2), tnn.Flatten(), tnn.Linear(64, 10),
    ).double()
    for ours_layer, their_layer in zip(model.layers, theirs, strict=True):
        assert isinstance(ours_layer, Flatten) == isinstance(their_layer, tnn.Flatten)
        copy_into(ours_layer, their_layer)
    opt = optimizers.make("adam", model.parameters(), lr=0.01)
    topt = torch.optim.Adam(theirs.parameters(), lr=0.01)
    for _ in range(20):
        x, y = rng.random((16, 1, 8, 8)), rng.integers(0, 10, 16)
        trace = model.loss_and_grads(x, y)
        opt.step(model.gradients())
        topt.zero_grad()
        loss = tnn.functional.cross_entropy(theirs(t(x)), torch.tensor(y))
        loss.backward()
        topt.step()
        assert trace.loss == pytest.approx(loss.item(), abs=1e-10)
    for ours_layer, their_layer in zip(model.layers, theirs, strict=True):
        if isinstance(ours_layer, Conv2D):
            np.testing.assert_allclose(ours_layer.params["w"], their_layer.weight.detach().numpy(), atol=1e-9)
        if isinstance(ours_layer, Dense):
            np.testing.assert_allclose(ours_layer.params["W"].T, their_layer.weight.detach().numpy(),
                                       atol=1e-9)
