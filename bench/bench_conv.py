"""The engine's convolution against a plain nested loop and torch CPU, measured in one process.

A 256×256×3 image, 16 filters of 5×5, padding 2 (78.6 M multiply-adds): engine.conv.conv2d
(every window as a strided view, one tensordot: im2col without a copy loop) and
engine.conv.conv2d_taps (one matrix product per kernel tap) against engine.conv.conv2d_naive
(the plain loop; timed on a 24×24 crop and scaled by the multiply-adds, since the full image
would take minutes) and torch.nn.functional.conv2d on the CPU where torch is installed. Also the
lab's image filter (a 15×15 blur of the RGB image) and one step-by-step frame. Ratios only.
Run: python -m bench.bench_conv
"""

from __future__ import annotations

import time

import numpy as np

from app.labs.convolution.session import ConvStepRunner, StepIn
from app.settings import Settings
from engine import conv, filtering, images, kernels


def seconds(fn, at_least: float = 0.5) -> float:
    """Seconds per call of fn (after one warm-up call), the best of a few runs."""
    fn()
    best, spent, runs = float("inf"), 0.0, 0
    while spent < at_least or runs < 3:
        t = time.perf_counter()
        fn()
        dt = time.perf_counter() - t
        best, spent, runs = min(best, dt), spent + dt, runs + 1
    return best


def main() -> None:
    rng = np.random.default_rng(0)
    x = images.load("astronaut", "rgb")[None]  # (1, 3, 256, 256)
    w = rng.normal(size=(16, 3, 5, 5))
    b = rng.normal(size=16)
    macs = 256 * 256 * 16 * 3 * 5 * 5

    t_view = seconds(lambda: conv.conv2d(x, w, b, padding=2))
    t_taps = seconds(lambda: conv.conv2d_taps(x, w, b, padding=2))
    crop = x[:, :, :24, :24]
    t_crop = seconds(lambda: conv.conv2d_naive(crop, w, b, padding=2), at_least=0.2)
    t_naive = t_crop * macs / (24 * 24 * 16 * 3 * 5 * 5)
    np.testing.assert_allclose(conv.conv2d(crop, w, b, padding=2), conv.conv2d_naive(crop, w, b, padding=2),
                               atol=1e-9)

    print("256×256×3 image, 16 filters of 5×5, padding 2 (78.6 M multiply-adds)")
    print(f"  engine conv2d (strided view + tensordot) : 1.00   ({macs / t_view / 1e6:,.0f} M "
          "multiply-adds/s)")
    print(f"  engine conv2d_taps (one product per tap) : {t_view / t_taps:5.2f}× the speed of conv2d")
    print(f"  plain nested loop (conv2d_naive)          : {t_view / t_naive:.5f}× (conv2d is "
          f"{t_naive / t_view:,.0f}× faster)")
    try:
        import torch
    except ImportError:
        print("  torch CPU                                : not installed (pip install torch==2.13.0)")
    else:
        xt, wt, bt = torch.tensor(x), torch.tensor(w), torch.tensor(b)
        with torch.no_grad():
            t_torch = seconds(lambda: torch.nn.functional.conv2d(xt, wt, bt, padding=2))
            out = torch.nn.functional.conv2d(xt, wt, bt, padding=2).numpy()
        np.testing.assert_allclose(conv.conv2d(x, w, b, padding=2), out, atol=1e-9)
        threads = torch.get_num_threads()
        print(f"  torch CPU (float64, {threads} threads)            : {t_view / t_torch:5.2f}× the speed of "
              f"conv2d: conv2d at {t_torch / t_view:.2f}× torch, conv2d_taps at "
              f"{t_torch / t_taps:.2f}× torch")

    blur = kernels.make("box_blur", 15)
    t_blur_view = seconds(lambda: conv.conv2d(x[0][:, None], blur[None, None], padding=7), at_least=0.3)
    t_blur = seconds(lambda: filtering.apply(x[0], blur, padding="same"), at_least=0.3)
    print("The image filter: a 15×15 blur of the 256×256 RGB picture (each channel alone)")
    print(f"  filtering.apply (conv2d_taps)            : {t_blur_view / t_blur:5.2f}× the speed of conv2d's "
          "strided view (which copies 65,536 windows of 225 taps)")

    runner = ConvStepRunner(StepIn(), Settings())
    runner.advance(12)
    t_frame = seconds(runner.frame, at_least=0.2)
    print("One step-by-step frame (7×7 input, 3×3 kernel)")
    print(f"  frames the runner builds per frame the stream sends at 30/s: {1 / 30 / t_frame:,.0f}")


if __name__ == "__main__":
    main()
