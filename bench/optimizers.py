"""Optimizer paths: 7 optimizers × 16 start points × 1000 steps, vectorized vs one path at a time.

`python -m bench.optimizers` prints updates per second (one update = one step of one path)
for the vectorized race (engine.paths.Race: one (P, 2) block and one optimizer per kind, one
surface call for all 112 paths, with stopping checks and recording) and for a plain Python
loop over the paths (one engine optimizer over a (1, 2) array, a gradient, a step; nothing
else), and the ratio. It also checks that both ended at the same points (deterministic
optimizers; SGD's noise comes from a different stream, so it differs by design).
"""

from __future__ import annotations

import time

import numpy as np

from engine import optimizers, paths, surfaces

KINDS = ["gd", "sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"]
STEPS = 1000
LR = {"gd": 0.001, "sgd": 0.001, "momentum": 0.0005, "nesterov": 0.0005,
      "adagrad": 0.3, "rmsprop": 0.01, "adam": 0.05}


def make_runs() -> list[paths.RunSpec]:
    xs = np.linspace(-1.8, 1.8, 4)
    ys = np.linspace(-0.5, 2.5, 4)
    starts = [(float(x), float(y)) for x in xs for y in ys]  # 16 start points
    return [paths.RunSpec(k, s, LR[k]) for k in KINDS for s in starts]


def plain_loop(surface: surfaces.Surface, run: paths.RunSpec, rng: np.random.Generator) -> np.ndarray:
    """One path, step by step: the reference a student would write first."""
    engine_name, extra = paths.KINDS[run.optimizer]
    p = np.array([run.start], dtype=np.float64)
    opt = optimizers.make(engine_name, [p], lr=run.lr)
    for _ in range(STEPS):
        g = surface.stochastic_grad(p, rng, **extra) if run.optimizer == "sgd" else surface.grad(p)
        opt.step([g])
    return p[0]


def main() -> None:
    surface = surfaces.make("rosenbrock")
    runs = make_runs()
    stop = paths.StopRules(max_iterations=STEPS, grad_tol=0.0)  # every path runs all steps
    n_updates = len(runs) * STEPS

    t0 = time.perf_counter()
    race = paths.run(surface, runs, stop)
    vec = time.perf_counter() - t0

    t0 = time.perf_counter()
    rng = np.random.default_rng(0)
    with np.errstate(all="ignore"):  # a diverging path overflows in the plain loop
        ends = [plain_loop(surface, r, rng) for r in runs]
    loop = time.perf_counter() - t0

    same = all(
        np.allclose(race.theta[race.row[i]], end, rtol=1e-10, atol=1e-12)
        for i, (r, end) in enumerate(zip(runs, ends, strict=True))
        if r.optimizer != "sgd" and race.status(i)["stop_reason"] != "diverged"
    )
    diverged = sum(race.status(i)["stop_reason"] == "diverged" for i in range(len(runs)))
    print(f"optimizer paths on {surface.name}: {len(KINDS)} optimizers × {len(runs) // len(KINDS)} "
          f"start points × {STEPS} steps = {n_updates} updates")
    print(f"  vectorized race     {vec:8.3f} s  {n_updates / vec:12,.0f} updates/s")
    print(f"  per-path loop       {loop:8.3f} s  {n_updates / loop:12,.0f} updates/s")
    print(f"  ratio               {loop / vec:8.1f} × faster vectorized")
    print(f"  same end points (deterministic optimizers, {diverged} diverged paths left out): "
          f"{'yes' if same else 'NO'}")


if __name__ == "__main__":
    main()
