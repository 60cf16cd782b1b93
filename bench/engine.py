"""Engine speed against hand-vectorized NumPy of the same maths, measured in one process.

Prints, for the TF Playground default (spiral, 2-4-2-1 tanh, batch 10, lr 0.03, 250 training
points) and for 6 hidden layers of 8: epochs/s of the engine's Trainer with its NumPy updates,
epochs/s of a plain hand-written NumPy loop, their ratio (target ≥ 0.8); epochs/s of the
compiled loop (engine.fused, the default) and its ratio to the NumPy engine (what it must pay
for numba: ≥ 2); and the time of a full frame (one epoch +
train/test loss + 100×100 output grid + all neuron grids) against the hand-written epoch +
grid (target ratio ≤ 1.5). Run: python -m bench.engine
"""

from __future__ import annotations

import functools

import numpy as np

from app.labs.mlp.session import MLPConfigIn, MLPRunner
from app.settings import Settings
from bench import timing
from engine.trainer import MLPConfig, Trainer


def hand_setup(cfg: MLPConfig, trainer: Trainer):
    Ws = [W.copy() for W in trainer.model.W]
    bs = [b.copy() for b in trainer.model.b]
    return trainer.F_train.copy(), trainer.T_train.copy(), Ws, bs


def hand_epoch(X, T, Ws, bs, lr, batch, rng):
    """One epoch of mini-batch SGD on ½(tanh out − t)², written out by hand."""
    perm = rng.permutation(len(X))
    Xp, Tp = X[perm], T[perm]
    L = len(Ws)
    for s in range(0, len(X), batch):
        x, t = Xp[s : s + batch], Tp[s : s + batch]
        acts = [x]
        for W, b in zip(Ws, bs, strict=True):
            acts.append(np.tanh(acts[-1] @ W + b))
        d = (acts[-1] - t) * (1 - acts[-1] ** 2) / len(x)
        for l in range(L - 1, -1, -1):
            dW = acts[l].T @ d
            db = d.sum(axis=0)
            if l:
                d = (d @ Ws[l].T) * (1 - acts[l] ** 2)
            Ws[l] -= lr * dW
            bs[l] -= lr * db


def hand_grid(Ws, bs, res):
    g = np.linspace(-6, 6, res)
    x1, x2 = np.meshgrid(g, g[::-1])
    a = np.column_stack([x1.ravel(), x2.ravel()])
    outs = []
    for W, b in zip(Ws, bs, strict=True):
        a = np.tanh(a @ W + b)
        outs.append(a)
    return outs


best_rates = functools.partial(timing.best_rates, seconds=0.3)  # short: a frame is quick


def bench(name: str, hidden: tuple[int, ...]) -> None:
    cfg = MLPConfig(dataset="spiral", hidden=hidden, activation="tanh", lr=0.03, batch_size=10)
    trainer = Trainer(cfg, compiled=False)
    compiled = Trainer(cfg)
    X, T, Ws, bs = hand_setup(cfg, trainer)
    rng = np.random.default_rng(0)

    engine_eps, hand_eps, compiled_eps = best_rates(
        lambda: trainer.run_epochs(1), lambda: hand_epoch(X, T, Ws, bs, 0.03, 10, rng),
        lambda: compiled.run_epochs(1),
    )

    def engine_frame():
        trainer.run_epochs(1)
        trainer.metrics()
        trainer.grids(100)

    def hand_frame():
        hand_epoch(X, T, Ws, bs, 0.03, 10, rng)
        hand_grid(Ws, bs, 100)

    engine_fps, hand_fps = best_rates(engine_frame, hand_frame)
    runner = MLPRunner(MLPConfigIn(dataset="spiral", hidden=list(hidden)), Settings())  # compiled

    def served_frame():
        runner.advance(runner.trainer.batches_per_epoch)
        runner.frame()

    (served_fps,) = best_rates(served_frame, rounds=2)
    print(f"{name}: engine (NumPy) {engine_eps:8.0f} epochs/s | hand NumPy {hand_eps:8.0f} epochs/s | "
          f"ratio {engine_eps / hand_eps:4.2f} (target ≥ 0.8)")
    print(f"{name}: engine (compiled) {compiled_eps:8.0f} epochs/s | ratio to the NumPy engine "
          f"{compiled_eps / engine_eps:4.2f} (target ≥ 2)")
    print(f"{name}: full frame engine {1000 / engine_fps:6.2f} ms | "
          f"hand epoch+grid {1000 / hand_fps:6.2f} ms | "
          f"ratio {hand_fps / engine_fps:4.2f} (target ≤ 1.5) | served frame incl. encoding "
          f"{1000 / served_fps:6.2f} ms")


if __name__ == "__main__":
    bench("2-4-2-1 (TF default)", (4, 2))
    bench("6 × 8 hidden", (8,) * 6)
