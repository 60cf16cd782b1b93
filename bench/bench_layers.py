"""ConvNet training speed: the engine's CNN against PyTorch CPU and against a plain loop, in
one process, on the ConvNet lab's default (digits 8×8, batch 32, conv 8 3×3 → ReLU → max pool
→ conv 16 3×3 → ReLU → max pool → dense 10, Adam lr 0.01).

A step is one mini-batch: forward, softmax cross-entropy, backward, optimizer update. Prints
steps/s of the engine (NumPy, float64), of torch.nn with torch.optim.Adam in float32 (torch's
default) and float64 (the engine's precision), the ratio engine / torch (target ≥ 0.5× the
float32 model), the plain-loop reference (one example and output position at a time, the
window's inner product in NumPy: how a direct port of ConvNetJS computes) and the trainer's
rate including its per-epoch test evaluation, and how many steps and seconds the default
takes to pass 95 % test accuracy (the test set checked every 15 steps, as a page would). Both
libraries get one thread (one worker process per core serves the playground): set
BENCH_THREADS to change it. Run: python -m bench.bench_layers
"""

from __future__ import annotations

import os

THREADS = os.environ.setdefault("BENCH_THREADS", "1")
for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, THREADS)  # before NumPy loads its BLAS

import time  # noqa: E402

import numpy as np  # noqa: E402

from bench.timing import best_rates  # noqa: E402
from engine import optimizers  # noqa: E402
from engine.image_trainer import ImageConfig, ImageTrainer  # noqa: E402
from engine.nn import softmax_cross_entropy  # noqa: E402

try:
    import torch
except ImportError:  # torch is optional: its lines are skipped
    torch = None

BATCH = 32


def batches(trainer: ImageTrainer):
    """An endless cycle over the trainer's first epoch of mini-batches."""
    X, y = trainer._X_epoch, trainer._y_epoch
    starts = list(range(0, len(X) - BATCH + 1, BATCH))
    i = 0
    while True:
        s = starts[i % len(starts)]
        yield X[s : s + BATCH], y[s : s + BATCH]
        i += 1


def engine_step(trainer: ImageTrainer):
    model = trainer.model
    opt = optimizers.make("adam", model.parameters(), lr=0.01)
    data = batches(trainer)

    def step():
        x, y = next(data)
        model.loss_and_grads(x, y)
        opt.step(model.gradients())

    return step


def torch_step(trainer: ImageTrainer, dtype):
    nn = torch.nn
    model = nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(64, 10),
    ).to(dtype)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    pairs = [(torch.tensor(x, dtype=dtype), torch.tensor(y)) for x, y in
             (next(d) for d in [batches(trainer)] * (len(trainer.X_train) // BATCH))]
    it = iter(range(10**12))

    def step():
        x, y = pairs[next(it) % len(pairs)]
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()

    return step


# ----- the plain-loop reference: every example and output position in a Python loop ---------
def loop_conv(x, w, b):
    N, _, H, W = x.shape
    D, _, k, _ = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    wf = w.reshape(D, -1)
    out = np.empty((N, D, H, W))
    for n in range(N):
        for i in range(H):
            for j in range(W):
                out[n, :, i, j] = wf @ xp[n, :, i : i + k, j : j + k].ravel() + b
    return out, xp


def loop_conv_back(dout, xp, w):
    N, D, H, W = dout.shape
    k = w.shape[-1]
    wf = w.reshape(D, -1)
    dw, dxp = np.zeros_like(wf), np.zeros_like(xp)
    for n in range(N):
        for i in range(H):
            for j in range(W):
                g = dout[n, :, i, j]
                dw += np.outer(g, xp[n, :, i : i + k, j : j + k].ravel())
                dxp[n, :, i : i + k, j : j + k] += (g @ wf).reshape(-1, k, k)
    return dxp[:, :, 1:-1, 1:-1], dw.reshape(w.shape), dout.sum(axis=(0, 2, 3))


def loop_pool(x):
    N, C, H, W = x.shape
    out, arg = np.empty((N, C, H // 2, W // 2)), np.empty((N, C, H // 2, W // 2), dtype=int)
    for n in range(N):
        for c in range(C):
            for i in range(H // 2):
                for j in range(W // 2):
                    win = x[n, c, 2 * i : 2 * i + 2, 2 * j : 2 * j + 2].ravel()
                    arg[n, c, i, j] = win.argmax()
                    out[n, c, i, j] = win[arg[n, c, i, j]]
    return out, arg


def loop_pool_back(dout, arg, shape):
    dx = np.zeros(shape)
    N, C, Ho, Wo = dout.shape
    for n in range(N):
        for c in range(C):
            for i in range(Ho):
                for j in range(Wo):
                    u, v = divmod(arg[n, c, i, j], 2)
                    dx[n, c, 2 * i + u, 2 * j + v] += dout[n, c, i, j]
    return dx


def loop_loss_and_grads(p, x, y):
    """(loss, [dw1, db1, dw2, db2, dW, db]) of the default network, loop by loop."""
    z1, xp1 = loop_conv(x, p[0], p[1])
    a1 = np.maximum(z1, 0)
    h1, arg1 = loop_pool(a1)
    z2, xp2 = loop_conv(h1, p[2], p[3])
    a2 = np.maximum(z2, 0)
    h2, arg2 = loop_pool(a2)
    f = h2.reshape(len(x), -1)
    logits = np.array([f[n] @ p[4] + p[5] for n in range(len(x))])
    loss, dz, _ = softmax_cross_entropy(logits, y)
    dW = sum(np.outer(f[n], dz[n]) for n in range(len(x)))
    df = np.array([p[4] @ dz[n] for n in range(len(x))]).reshape(h2.shape)
    dz2 = loop_pool_back(df, arg2, a2.shape) * (z2 > 0)
    dh1, dw2, db2 = loop_conv_back(dz2, xp2, p[2])
    dz1 = loop_pool_back(dh1, arg1, a1.shape) * (z1 > 0)
    _, dw1, db1 = loop_conv_back(dz1, xp1, p[0])
    return loss, [dw1, db1, dw2, db2, dW, dz.sum(axis=0)]


def loop_step(trainer: ImageTrainer):
    params = [p.copy() for p in trainer.model.parameters()]
    opt = optimizers.make("adam", params, lr=0.01)
    data = batches(trainer)
    x, y = next(batches(trainer))
    loss, grads = loop_loss_and_grads(params, x, y)
    ref = trainer.model.loss_and_grads(x, y)  # the same numbers, or the comparison is void
    assert abs(loss - ref.loss) < 1e-12
    for g, r in zip(grads, trainer.model.gradients(), strict=True):
        np.testing.assert_allclose(g, r, atol=1e-12)

    def step():
        xb, yb = next(data)
        opt.step(loop_loss_and_grads(params, xb, yb)[1])

    return step


def time_to_95() -> tuple[int, int, float, float]:
    """(steps, epochs, seconds, test accuracy) until the default passes 95 % on the test set."""
    tr = ImageTrainer(ImageConfig())
    start = time.perf_counter()
    while tr.test_evaluation().accuracy < 0.95 and tr.epoch < 50:
        tr.step(15)
    return tr.step_count, tr.epoch, time.perf_counter() - start, tr.test_evaluation().accuracy


def main() -> None:
    trainer = ImageTrainer(ImageConfig())
    print(f"ConvNet on the digits, batch {BATCH}, {trainer.model.num_parameters} parameters "
          f"({trainer.model.describe()}); {THREADS} thread(s) for NumPy's BLAS and torch")
    fns, names = [engine_step(trainer)], ["engine, NumPy float64"]
    if torch is not None:
        torch.set_num_threads(int(THREADS))
        fns += [torch_step(trainer, torch.float32), torch_step(trainer, torch.float64)]
        names += [f"PyTorch {torch.__version__} CPU float32", f"PyTorch {torch.__version__} CPU float64"]
    rates = best_rates(*fns)
    (loop_rate,) = best_rates(loop_step(trainer), rounds=1)
    steps = ImageTrainer(ImageConfig())
    (epochs,) = best_rates(lambda: steps.run_epochs(1), rounds=3)
    for name, r in zip(names, rates, strict=True):
        ratio = "" if r is rates[0] else f" | engine / this {rates[0] / r:5.2f}" + (
            " (target ≥ 0.5)" if "float32" in name else "")
        print(f"  {name:<34} {r:8.0f} steps/s{ratio}")
    if torch is None:
        print("  PyTorch: not installed, comparison skipped (pip install torch==2.13.0)")
    print(f"  {'plain loop, NumPy float64':<34} {loop_rate:8.1f} steps/s | engine / this "
          f"{rates[0] / loop_rate:5.0f}")
    print(f"  {'trainer incl. per-epoch test eval':<34} {epochs * steps.batches_per_epoch:8.0f} steps/s "
          f"({steps.batches_per_epoch} steps an epoch)")
    n, ep, sec, acc = min((time_to_95() for _ in range(3)), key=lambda r: r[2])
    print(f"  default ConvNet passes 95 % test accuracy after {n} steps ({ep} epochs, batch {BATCH}) "
          f"in {sec:.2f} s (best of 3): {100 * acc:.1f} %")


if __name__ == "__main__":
    main()
