"""The kernel gallery: the classic image kernels by name, and normalising a kernel.

Kernels are float64 (kh, kw) weights for cross-correlation, what conv2d computes:
    out[i, j] = Σ_u Σ_v x[i + u − ⌊kh/2⌋, j + v − ⌊kw/2⌋] · w[u, v].
So the shift kernels are named by what they do under cross-correlation: "shift_left" has its 1
right of the centre (out[i, j] = x[i, j + 1]: the picture moves left). True convolution turns the
kernel by 180° first, so there the same kernel moves the picture the other way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from math import comb

import numpy as np

MAX_SIZE = 15


def identity(k: int = 3) -> np.ndarray:
    """1 at the centre of an odd k × k kernel: the picture as it is."""
    if k % 2 == 0:
        raise ValueError("identity needs an odd size (an even kernel has no centre)")
    w = np.zeros((k, k))
    w[k // 2, k // 2] = 1.0
    return w


def _one_at(r: int, c: int) -> np.ndarray:
    w = np.zeros((3, 3))
    w[r, c] = 1.0
    return w


def box_blur(k: int = 3) -> np.ndarray:
    """1/k² · ones(k, k): every output the mean of its k × k neighbourhood."""
    return np.full((k, k), 1.0 / (k * k))


def gaussian(k: int = 3) -> np.ndarray:
    """Binomial weights C(k−1, i)·C(k−1, j) / 4^(k−1): a Gaussian of variance (k−1)/4 per axis
    (3 × 3: [1 2 1]ᵀ[1 2 1] / 16), summing to 1."""
    row = np.array([comb(k - 1, i) for i in range(k)], dtype=np.float64)
    return np.outer(row, row) / row.sum() ** 2


def sharpen(k: int = 3) -> np.ndarray:
    """2 · identity − box blur (the slide's sharpen): the picture plus its detail."""
    return 2 * identity(k) - box_blur(k)


@dataclass(frozen=True)
class KernelInfo:
    name: str
    title: str
    effect: str  # what it does to a picture, under cross-correlation
    make: Callable[[int], np.ndarray]
    sizes: tuple[int, ...]  # the sizes it comes in
    default: int = 3


_ODD = tuple(range(1, MAX_SIZE + 1, 2))
_ALL = tuple(range(1, MAX_SIZE + 1))


def _fixed(values) -> Callable[[int], np.ndarray]:
    w = np.array(values, dtype=np.float64)
    return lambda k: w.copy()


GALLERY: dict[str, KernelInfo] = {k.name: k for k in [
    KernelInfo("identity", "Identity", "leaves the picture unchanged", identity, _ODD),
    KernelInfo("shift_left", "Shift left", "moves the picture one pixel left (its 1 is right of "
               "centre: out[i, j] = x[i, j + 1])", lambda k: _one_at(1, 2), (3,)),
    KernelInfo("shift_right", "Shift right", "moves the picture one pixel right (its 1 is left of "
               "centre: out[i, j] = x[i, j − 1])", lambda k: _one_at(1, 0), (3,)),
    KernelInfo("shift_up", "Shift up", "moves the picture one pixel up (its 1 is below centre)",
               lambda k: _one_at(2, 1), (3,)),
    KernelInfo("shift_down", "Shift down", "moves the picture one pixel down (its 1 is above centre)",
               lambda k: _one_at(0, 1), (3,)),
    KernelInfo("box_blur", "Box blur (1/k² · ones)", "averages each k × k neighbourhood", box_blur, _ALL),
    KernelInfo("gaussian", "Gaussian blur", "a weighted average, nearer pixels weigh more", gaussian, _ALL),
    KernelInfo("sharpen", "Sharpen (2·identity − box blur)", "adds the detail a blur removes", sharpen, _ODD),
    KernelInfo("sobel_x", "Sobel x (vertical edges)", "positive where it gets brighter to the right, "
               "negative where darker", _fixed([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]), (3,)),
    KernelInfo("sobel_y", "Sobel y (horizontal edges)", "positive where it gets brighter downwards, "
               "negative where darker", _fixed([[-1, -2, -1], [0, 0, 0], [1, 2, 1]]), (3,)),
    KernelInfo("laplacian", "Laplacian", "second derivative: zero on flat and evenly sloped parts, "
               "signed at spots and lines", _fixed([[0, 1, 0], [1, -4, 1], [0, 1, 0]]), (3,)),
    KernelInfo("emboss", "Emboss", "a relief lit from the bottom right",
               _fixed([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]]), (3,)),
    KernelInfo("outline", "Outline", "large where a pixel differs from its neighbours",
               _fixed([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]]), (3,)),
]}


def make(name: str, size: int | None = None) -> np.ndarray:
    """The gallery kernel `name` at `size` (its default when None). KeyError / ValueError."""
    if name not in GALLERY:
        raise KeyError(f"kernel must be one of {sorted(GALLERY)}, not {name!r}")
    info = GALLERY[name]
    k = info.default if size is None else int(size)
    if k not in info.sizes:
        raise ValueError(f"kernel {name} comes in sizes {list(info.sizes)}, not {k}")
    return info.make(k)


def describe(name: str) -> dict:
    info = GALLERY[name]
    return {"name": name, "title": info.title, "effect": info.effect, "sizes": list(info.sizes),
            "default_size": info.default, "weights": make(name).tolist()}


def normalise(w: np.ndarray) -> np.ndarray:
    """w / Σw, so a flat picture keeps its brightness; a kernel summing to 0 (an edge detector)
    is divided by Σ|w| / 2 instead (its positive half then sums to 1); all zeros stay zeros."""
    w = np.asarray(w, dtype=np.float64)
    total = w.sum()
    if abs(total) > 1e-12 * max(1.0, np.abs(w).sum()):
        return w / total
    half = np.abs(w).sum() / 2
    return w / half if half > 0 else w.copy()


def centred(w: np.ndarray, k: int) -> np.ndarray:
    """w (kh, kw) placed at the centre of a k × k kernel (zeros around), or cropped to its
    central k × k when larger."""
    w = np.asarray(w, dtype=np.float64)
    out = np.zeros((k, k))
    src_r, dst_r = _overlap(w.shape[0], k)
    src_c, dst_c = _overlap(w.shape[1], k)
    out[dst_r, dst_c] = w[src_r, src_c]
    return out


def _overlap(n: int, k: int) -> tuple[slice, slice]:
    """Slices (source, destination) that put the centre of an n-line kernel on a k-line one."""
    if n <= k:
        start = (k - n) // 2
        return slice(0, n), slice(start, start + n)
    start = (n - k) // 2
    return slice(start, start + k), slice(0, k)
