"""The depth lab's speed: a lockstep step of its default comparison (two sigmoid networks of 30
layers of 16 on the digits, plain and residual, batch 32), what a frame costs on top, and the
work units it is charged (step_cost), all against references measured in the same process.

Prints
- steps/s of the lockstep step, and the ratio to a hand-written NumPy step of the same two
  networks (plain matmuls and the same updates, no layer objects: the library's overhead);
- the time of one frame's readings (per-layer numbers, histograms, test metrics, history,
  JSON), as a multiple of one lockstep step, and a frame's size in KB;
- seconds per work unit of the depth runner against the MLP lab's runner on its largest
  network (both charged by their step_cost against NP_MAX_WORK_PER_FRAME): near 1, a frame
  budget means about the same time in both labs. The LAYER_WORK that would make it exactly 1
  is printed too;
- the time of the page's default signal-propagation study (tanh, 20 layers of 64, six
  initializers) against one lockstep step.
One BLAS thread (one worker process per core serves the playground). Run: python -m bench.bench_depth
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before NumPy loads its BLAS
os.environ.setdefault("OMP_NUM_THREADS", "1")

import json
import time

from app.labs.depth import session as depth_session
from app.labs.mlp.session import MLPConfigIn, MLPRunner
from app.settings import Settings
from engine import activations, deepnet, propagation
from engine.nn import softmax_cross_entropy


def mean_time(fn, seconds):
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds or n == 0:
        fn()
        n += 1
    return (time.perf_counter() - start) / n


def best_times(*fns, rounds=5, seconds=0.4):
    """Best mean seconds per call of each fn over `rounds` interleaved runs of about `seconds`
    each: load from other processes hits every side alike."""
    for fn in fns:
        fn()
    best = [float("inf")] * len(fns)
    for _ in range(rounds):
        for i, fn in enumerate(fns):
            best[i] = min(best[i], mean_time(fn, seconds))
    return best


sigmoid = activations.sigmoid  # the engine's own (overflow-safe): the reference saves only bookkeeping


class HandWritten:
    """The same two networks as plain NumPy: lists of (W, b), forward and backward by hand."""

    def __init__(self, runner: depth_session.DepthRunner) -> None:
        self.nets = []
        for run in runner.trainer.runs:
            pairs = [(layer.params["W"].copy(), layer.params["b"].copy())
                     for _, layer in deepnet.dense_layers(run.model)]
            self.nets.append((pairs, run.spec.residual))
        d = runner.trainer.data
        self.x, self.y = d.X_train[:32], d.y_train[:32]

    def step(self, lr: float = 0.1) -> None:
        last = len(self.nets[0][0]) - 1  # the output layer's index
        for pairs, residual in self.nets:
            W0, b0 = pairs[0]
            hs, acts = [self.x @ W0 + b0], []
            for k, (W, b) in enumerate(pairs[1:], start=1):
                a = sigmoid(hs[-1])
                acts.append(a)
                z = a @ W + b
                hs.append(hs[-1] + z if residual and k != last else z)
            g = softmax_cross_entropy(hs[-1], self.y)[1]
            for k in range(last, 0, -1):  # g is dL/dh_{k+1} (dL/dlogits first)
                W, b = pairs[k]
                a = acts[k - 1]
                dh = (g @ W.T) * a * (1 - a)
                if residual and k != last:
                    dh += g  # the skip path
                W -= lr * (a.T @ g)
                b -= lr * g.sum(axis=0)
                g = dh
            W0 -= lr * (self.x.T @ g)
            b0 -= lr * g.sum(axis=0)


def main() -> None:
    settings = Settings()
    runner = depth_session.DepthRunner(depth_session.DepthConfigIn(), settings)
    hand = HandWritten(runner)
    mlp = MLPRunner(MLPConfigIn(dataset="spiral", hidden=[8] * 6, batch_size=10), settings)
    speed = 2  # the page's default steps per frame

    def play():  # what the stream's player does for one frame
        runner.advance(speed)
        return json.dumps(runner.frame(), separators=(",", ":"))

    inits = ["zeros", "small_uniform", "tf_uniform", "xavier", "he", "orthogonal"]
    runner.advance(200)
    t_step, t_hand, t_play, t_mlp, t_prop = best_times(
        lambda: runner.advance(1), hand.step, play, lambda: mlp.advance(1),
        lambda: propagation.propagate_all(20, 64, "tanh", inits, n=128))
    print(f"lockstep step (2 × 30 layers of 16, batch 32): {1 / t_step:6.1f} steps/s "
          f"= {t_hand / t_step:.2f}× a hand-written NumPy step of the same networks ({1 / t_hand:.1f}/s)")
    t_frame = t_play - speed * t_step
    size = len(play().encode())
    print(f"a frame at the default speed ({speed} steps): {t_play * 1e3:.1f} ms, of which the frame "
          f"(readings, histograms, metrics, history, JSON) {t_frame * 1e3:.1f} ms = {t_frame / t_step:.2f} "
          f"lockstep steps; {size / 1024:.1f} KB; at most {1 / t_play:.0f} frames/s on one core")
    # Work units: examples × parameters of arithmetic, plus LAYER_WORK per layer for the fixed
    # cost of its calls. Calibrated so that a unit takes as long as a unit of the arithmetic alone.
    arithmetic = sum(32 * run.num_parameters for run in runner.trainer.runs)
    layers = sum(len(run.leaves) for run in runner.trainer.runs)
    fair = (t_step - t_hand) * (arithmetic / t_hand) / layers
    per_unit = (t_step / runner.step_cost()) / (t_mlp / mlp.step_cost())
    print(f"work: a lockstep step is charged {runner.step_cost():,} units "
          f"(LAYER_WORK = {depth_session.LAYER_WORK}); the layers' fixed cost measured here is "
          f"{fair:,.0f} units each; a unit takes {per_unit:.2f}× "
          "as long as one of the MLP lab's (6 × 8 tanh, batch 10)")
    most = settings.max_work_per_frame // runner.step_cost()
    print(f"NP_MAX_WORK_PER_FRAME lets a frame run {most} lockstep steps ({most * t_step:.2f} s here)")
    print(f"signal-propagation study (tanh, 20 × 64, 6 initializers): {t_prop * 1e3:.0f} ms "
          f"= {t_prop / t_step:.1f} lockstep steps")


if __name__ == "__main__":
    main()
