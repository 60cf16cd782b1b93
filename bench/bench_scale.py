"""The scale lab's cost: seconds per cell and per preset sweep, the checkpoints' overhead, and
training FLOPs per second, against a reference measured in the same process (plain mini-batch
steps of the same MLP with the image trainer, no checkpoints).

A cell is one network trained to its budget plus its log-spaced checkpoints (an exact test
evaluation each) and a final exact pass over the training set; a random-features cell is one
eigendecomposition and its gradient-descent path. The overhead ratio is a cell's time over
the reference's time for the same number of steps (1.0 = checkpoints cost nothing). A sweep
is its cells one after another, as one training thread of a worker runs them. One BLAS thread
(one worker process per core): set BENCH_THREADS to change it. Run: python -m bench.bench_scale
"""

from __future__ import annotations

import os

THREADS = os.environ.setdefault("BENCH_THREADS", "1")
for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, THREADS)  # before NumPy loads its BLAS

import json  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from app.labs.scale.session import SweepIn  # noqa: E402
from engine.image_trainer import ImageTrainer  # noqa: E402
from engine.scale_cells import CellConfig, image_config, run_cell, shape  # noqa: E402
from engine.sweeps import aggregate, double_descent, scaling_fits  # noqa: E402

PRESETS = Path(__file__).resolve().parents[1] / "presets"


def best_time(fn, rounds=3):
    """Shortest of `rounds` runs: other work on the machine only ever adds time."""
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def reference_step_seconds(config: CellConfig) -> float:
    """Seconds per plain mini-batch step of the cell's network (no checkpoints)."""
    trainer = ImageTrainer(image_config(config))
    trainer.step(20)
    return best_time(lambda: trainer.step(100)) / 100


def definition(name: str) -> SweepIn:
    params = json.loads((PRESETS / f"{name}.json").read_text())["params"]
    body = {k: v for k, v in params.items() if k in SweepIn.model_fields}
    for k in ("widths", "depths", "train_sizes", "seeds"):
        if k in body:
            body[k] = [int(x) for x in str(body[k]).split(",")]
    return SweepIn(**body)


def main() -> None:
    base = CellConfig(width=32, train_size=1438, steps=400)
    ref = reference_step_seconds(base)
    print(f"reference: {ref * 1e3:.2f} ms per plain step of the 64-32-10 MLP, batch 32 "
          f"({1 / ref:.0f} steps/s)\n")
    print(f"{'cell':44} {'seconds':>8} {'× ref steps':>12} {'overhead':>9} {'GFLOP/s':>8}")
    cells = [
        ("mlp 32 units, 1438 images, 400 steps", base),
        ("mlp 128 units, 1438 images, 400 steps", base.with_changes(width=128)),
        ("mlp 32 units, 50 images, 400 steps", base.with_changes(train_size=50)),
        ("cnn 8 filters, 1438 images, 400 steps", base.with_changes(model="cnn", width=8)),
        ("random features p=200, n=200", CellConfig(model="random_features", width=200, train_size=200,
                                                   label_noise=0.2)),
        ("random features p=2000, n=200", CellConfig(model="random_features", width=2000, train_size=200,
                                                    label_noise=0.2)),
    ]
    for name, config in cells:
        seconds = best_time(lambda config=config: run_cell(config))
        s = shape(config)
        if config.model == "random_features":
            print(f"{name:44} {seconds:8.3f} {seconds / ref:12.0f} {'':>9} {s.flops / seconds / 1e9:8.2f}")
            continue
        own = reference_step_seconds(config) * config.steps
        gflops = s.flops / seconds / 1e9
        print(f"{name:44} {seconds:8.3f} {seconds / ref:12.0f} {seconds / own:9.2f} {gflops:8.2f}")

    print(f"\n{'preset sweep':24} {'cells':>5} {'seconds':>8} {'s a cell':>9} {'× ref steps':>12}  "
          "what it shows")
    for name in ("scale-more-data", "scale-bigger-model", "scale-double-descent"):
        d = definition(name)
        configs = d.cells()
        start = time.perf_counter()
        results = [(c, run_cell(c)) for c in configs]
        seconds = time.perf_counter() - start
        if d.model == "random_features":
            dd = double_descent(aggregate(results))
            at = dd["at_threshold"]
            shows = (f"peak {at['value']:.1%} at p = {at['width']} (neighbours {at['left']['value']:.1%}, "
                     f"{at['right']['value']:.1%}); widest {dd['widest']['value']:.1%}")
        else:
            axis = "train_size" if len(d.widths) == 1 else "parameters"
            fit = scaling_fits(results)[axis]["fit"]
            shows = f"α = {fit['alpha']:.2f}, floor {fit['floor']:.1%}, R² {fit['r2']:.2f} against {axis}"
        per_cell = seconds / len(configs)
        print(f"{name:24} {len(configs):5d} {seconds:8.2f} {per_cell:9.3f} {seconds / ref:12.0f}  {shows}")


if __name__ == "__main__":
    main()
