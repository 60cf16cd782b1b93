"""Where PyTorch is installed (pip install torch), the engine must agree with it to rounding.

CI does not install torch (the hand-computed tests cover the formulas there); on a machine
with torch these tests compare whole trajectories and gradients with torch.optim/autograd.
"""

from __future__ import annotations

import numpy as np
import pytest

from engine import optimizers
from engine.mlp import MLP

torch = pytest.importorskip("torch")

CASES = [
    ("sgd", {"lr": 0.1, "weight_decay": 0.01}, "SGD", {"lr": 0.1, "weight_decay": 0.01}),
    ("momentum", {"lr": 0.05, "momentum": 0.9, "dampening": 0.1}, "SGD",
     {"lr": 0.05, "momentum": 0.9, "dampening": 0.1}),
    ("nesterov", {"lr": 0.05, "momentum": 0.8}, "SGD", {"lr": 0.05, "momentum": 0.8, "nesterov": True}),
    ("adagrad", {"lr": 0.1, "lr_decay": 0.01, "initial_accumulator_value": 0.1}, "Adagrad",
     {"lr": 0.1, "lr_decay": 0.01, "initial_accumulator_value": 0.1}),
    ("rmsprop", {"lr": 0.01, "centered": True, "momentum": 0.5}, "RMSprop",
     {"lr": 0.01, "centered": True, "momentum": 0.5}),
    ("adam", {"lr": 0.01, "amsgrad": True, "weight_decay": 0.1, "beta1": 0.8, "beta2": 0.99}, "Adam",
     {"lr": 0.01, "amsgrad": True, "weight_decay": 0.1, "betas": (0.8, 0.99)}),
]


@pytest.mark.parametrize(("name", "hp", "torch_name", "torch_hp"), CASES)
def test_fifty_steps_match_torch_optim(name, hp, torch_name, torch_hp):
    rng = np.random.default_rng(0)
    A = rng.uniform(0.5, 3, (3, 2))
    p0 = rng.normal(size=(3, 2))
    p = p0.copy()
    opt = optimizers.make(name, [p], **hp)
    tp = torch.tensor(p0.copy(), requires_grad=True)
    topt = getattr(torch.optim, torch_name)([tp], **torch_hp)
    for _ in range(50):  # f(p) = Σ A p² + sin p
        opt.step([2 * A * p + np.cos(p)])
        topt.zero_grad()
        (torch.tensor(A) * tp**2 + torch.sin(tp)).sum().backward()
        topt.step()
    np.testing.assert_allclose(p, tp.detach().numpy(), rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    ("loss", "out"), [("squared", "tanh"), ("bce", "sigmoid"), ("softmax_ce", "softmax")]
)
def test_mlp_gradients_match_autograd(loss, out):
    rng = np.random.default_rng(1)
    k = 3 if loss == "softmax_ce" else 1
    model = MLP([2, 4, 3, k], "tanh", out, "xavier", rng)
    X = rng.normal(size=(6, 2))
    if loss == "softmax_ce":
        t = rng.integers(0, k, 6)
    elif loss == "bce":
        t = rng.integers(0, 2, (6, 1)).astype(float)
    else:
        t = rng.choice([-1.0, 1.0], (6, 1))
    trace = model.loss_and_grads(X, t, loss)

    Ws = [torch.tensor(W, requires_grad=True) for W in model.W]
    bs = [torch.tensor(b, requires_grad=True) for b in model.b]
    a = torch.tensor(X)
    for i, (W, b) in enumerate(zip(Ws, bs, strict=True)):
        z = a @ W + b
        a = torch.tanh(z) if i < len(Ws) - 1 else z
    tt = torch.tensor(t)
    if loss == "squared":
        value = 0.5 * ((torch.tanh(a) - tt) ** 2).sum() / len(X)
    elif loss == "bce":
        value = torch.nn.functional.binary_cross_entropy_with_logits(a, tt)
    else:
        value = torch.nn.functional.cross_entropy(a, tt)
    value.backward()
    assert trace.loss == pytest.approx(value.item(), abs=1e-12)
    for dW, W in zip(trace.dW, Ws, strict=True):
        np.testing.assert_allclose(dW, W.grad.numpy(), atol=1e-12)
    for db, b in zip(trace.db, bs, strict=True):
        np.testing.assert_allclose(db, b.grad.numpy(), atol=1e-12)


@pytest.mark.parametrize(("name", "params", "torch_name", "torch_params"), [
    ("step", {"step_size": 7, "gamma": 0.5}, "StepLR", {"step_size": 7, "gamma": 0.5}),
    ("exponential", {"gamma": 0.95}, "ExponentialLR", {"gamma": 0.95}),
    ("cosine", {"T_max": 20, "eta_min": 0.01}, "CosineAnnealingLR", {"T_max": 20, "eta_min": 0.01}),
])
def test_schedules_match_torch_lr_scheduler(name, params, torch_name, torch_params):
    """The learning rate of updates 1 … 60 (t = 0 … 59), past T_max too."""
    from engine import schedules

    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=0.3)
    sched = getattr(torch.optim.lr_scheduler, torch_name)(opt, **torch_params)
    theirs = []
    for _ in range(60):
        theirs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    ours = [schedules.lr_at(name, 0.3, t, **params) for t in range(60)]
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)
