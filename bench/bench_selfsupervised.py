"""Contrastive training speed against supervised training of the same encoder, in one process.

The self-supervised lab's default: digits 8×8, the encoder conv 8 → pool → conv 16 → pool →
dense 16 and its projection head (dense 32 → ReLU → dense 16 → normalise), N = 32 images a
step, τ = 0.2, Adam lr 0.01, the default augmentations. A contrastive step makes two views of
each image (2N = 64), runs both networks forward and backward with NT-Xent and updates; the
supervised reference step is the same encoder with a dense output layer on N = 32 images of
one view each (its augmentation included), cross-entropy, backward, update. Prints steps/s of
each and their ratio, then where a contrastive step's time goes (views, forward + backward,
NT-Xent alone) and the frame's extra work (the held-out set's embedding and 2-D view).
Best of interleaved rounds, one BLAS thread (set BENCH_THREADS to change it).
Run: python -m bench.bench_selfsupervised
"""

from __future__ import annotations

import os

THREADS = os.environ.setdefault("BENCH_THREADS", "1")
for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, THREADS)  # before NumPy loads its BLAS

import functools  # noqa: E402

import numpy as np  # noqa: E402

from bench import timing  # noqa: E402
from engine import contrastive, optimizers, views  # noqa: E402
from engine.contrastive_trainer import ContrastiveConfig, ContrastiveTrainer, build_networks  # noqa: E402
from engine.nn import Dense, softmax_cross_entropy  # noqa: E402

N = 32


best_rates = functools.partial(timing.best_rates, seconds=0.5)


def supervised_step(trainer: ContrastiveTrainer):
    """The same encoder (same initial weights) + a dense output layer, cross-entropy on N images."""
    c = trainer.config
    encoder, _ = build_networks(c, trainer.data.image_shape, np.random.default_rng([c.seed, 1]))
    out = Dense(16, 10, rng=np.random.default_rng(6))
    opt = optimizers.make("adam", [*encoder.parameters(), out.params["W"], out.params["b"]], lr=c.lr)
    rng = np.random.default_rng(7)
    X, y = trainer.X_train, trainer.y_train

    def step():
        idx = rng.choice(len(X), N, replace=False)
        x = views.apply(X[idx], c.augmentation, rng)
        _, dlogits, _ = softmax_cross_entropy(out.forward(encoder.forward(x, train=True), train=True), y[idx])
        encoder.backward(out.backward(dlogits))
        opt.step([*encoder.gradients(), out.grads["W"], out.grads["b"]])

    return step


def main() -> None:
    trainer = ContrastiveTrainer(ContrastiveConfig(batch_size=N))
    sup = supervised_step(trainer)
    ssl, sup_rate = best_rates(lambda: trainer.step(1), sup)
    print(f"contrastive step, N = {N} (2N = {2 * N} views): {ssl:8.1f} steps/s")
    print(f"supervised step, same encoder, N = {N}:      {sup_rate:8.1f} steps/s")
    print(f"ratio contrastive / supervised:            {ssl / sup_rate:8.2f}×  "
          f"(two views per image: about 0.5× is the arithmetic's share)")

    c = trainer.config
    rng = np.random.default_rng(0)
    x = trainer.X_train[:N]
    z = trainer.batch.z
    make_views = lambda: views.two_views(x, c.augmentation, rng)  # noqa: E731
    loss = lambda: contrastive.nt_xent(z, c.tau)  # noqa: E731

    def picture():
        trainer._eval = None  # the frame's held-out embedding and 2-D view, not cached
        trainer.evaluate()

    v, ell, pic = best_rates(make_views, loss, picture, rounds=3)
    per_step = 1.0 / ssl
    print(f"  views of 2N images:      {1e3 / v:7.2f} ms  ({100 / v / per_step:4.0f} % of a step)")
    print(f"  NT-Xent value + gradient: {1e3 / ell:6.2f} ms  ({100 / ell / per_step:4.0f} % of a step)")
    print(f"  a frame's held-out picture ({len(trainer.X_test)} images): {1e3 / pic:6.2f} ms "
          f"= {ssl / pic:.2f} steps")


if __name__ == "__main__":
    main()
