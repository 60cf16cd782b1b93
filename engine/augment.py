"""Augmentations of image batches, each image with its own random draw from a Generator.

Images (N, C, H, W) in [0, 1]; every function returns a new array and is the identity (a
copy) at strength 0. What comes in from outside an image is 0 (the digits' background).
- `shift`: each image moved by its own (dy, dx), uniform integers in [−k, k]:
      out[n, c, i, j] = x[n, c, i − dy_n, j − dx_n], or 0 outside the image.
- `noise`: + N(0, σ²) per pixel, clipped to [0, 1].
- `crop_resize`: a random crop of area s·H·W, s ~ U[1 − strength, 1], aspect ratio
  r ~ logU[3/4, 4/3] (h = H·√(s/r), w = W·√(s·r), at most H, W), anywhere inside the image,
  resized back to H × W (bilinear), as SimCLR's RandomResizedCrop.
- `rotate`: by θ ~ U[−max, max] degrees about the image centre (bilinear).
- `flip`: mirrored left–right with probability p.
- `blur`: Gaussian blur of σ ~ U[0, max σ] pixels (separable, radius ⌈2·max σ⌉, edges
  repeated; σ = 0 leaves the image as it was).
- `contrast`: x̄ + c (x − x̄) with c ~ U[1 − s, 1 + s] and x̄ the image's mean, clipped to [0, 1].
- `cutout`: a size × size square at a uniform random centre set to 0 (it may stick out of the
  image, as in DeVries & Taylor's cutout).
`affine` is the sampler under crop_resize and rotate: output pixel p (centred coordinates, in
(row, column) order) reads the input at A_n p + t_n by bilinear interpolation. `geometric`
composes crop, flip, rotation and shift into one such map per image (one interpolation instead
of one per transform: sharper views, and faster); with only flips and shifts it reproduces
`flip` and `shift` exactly, since their maps land on whole pixels.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

Array = np.ndarray


def shift(images: Array, max_shift: int, rng: np.random.Generator) -> Array:
    """Each image moved by its own random (dy, dx) ∈ [−max_shift, max_shift]²."""
    k = int(max_shift)
    if k < 0:
        raise ValueError(f"max_shift must not be negative, got {max_shift}")
    if k == 0:
        return images.copy()
    N = len(images)
    dy = rng.integers(-k, k + 1, N)
    dx = rng.integers(-k, k + 1, N)
    return shift_by(images, dy, dx)


def shift_by(images: Array, dy: Array, dx: Array) -> Array:
    """Image n moved down by dy[n] and right by dx[n] pixels (negative: up, left), zero-filled."""
    k = int(max(np.abs(dy).max(initial=0), np.abs(dx).max(initial=0)))
    N, _, H, W = images.shape
    padded = np.pad(images, ((0, 0), (0, 0), (k, k), (k, k)))
    win = sliding_window_view(padded, (H, W), axis=(2, 3))  # (N, C, 2k+1, 2k+1, H, W)
    return win[np.arange(N), :, k - np.asarray(dy), k - np.asarray(dx)].copy()


def noise(images: Array, std: float, rng: np.random.Generator) -> Array:
    """images + N(0, std²) per pixel, clipped to [0, 1]."""
    if std < 0:
        raise ValueError(f"noise must not be negative, got {std}")
    if std == 0:
        return images.copy()
    return np.clip(images + rng.normal(0.0, std, images.shape), 0.0, 1.0)


def augment(images: Array, max_shift: int = 0, noise_std: float = 0.0,
            rng: np.random.Generator | None = None) -> Array:
    """Shift, then noise; the identity (a copy) when both are off."""
    rng = rng if rng is not None else np.random.default_rng(0)
    out = shift(images, max_shift, rng) if max_shift else images.copy()
    return noise(out, noise_std, rng) if noise_std else out


def affine(images: Array, A: Array, t: Array) -> Array:
    """Image n resampled at A[n] (2, 2) · p + t[n] (2,) for every output pixel p, in (row,
    column) coordinates centred on the image; bilinear, 0 outside the image."""
    N, _, H, W = images.shape
    cy, cx = (H - 1) / 2, (W - 1) / 2
    ii, jj = np.meshgrid(np.arange(H) - cy, np.arange(W) - cx, indexing="ij")
    y = A[:, 0, 0, None, None] * ii + A[:, 0, 1, None, None] * jj + (cy + t[:, 0])[:, None, None]
    x = A[:, 1, 0, None, None] * ii + A[:, 1, 1, None, None] * jj + (cx + t[:, 1])[:, None, None]
    y0, x0 = np.floor(y), np.floor(x)
    wy, wx = (y - y0).reshape(N, 1, -1), (x - x0).reshape(N, 1, -1)
    # A one-pixel frame of zeros; indices beyond it are clipped onto it, so they read 0.
    Wp = W + 2
    flat = np.pad(images, ((0, 0), (0, 0), (1, 1), (1, 1))).reshape(N, images.shape[1], -1)
    Y0 = np.clip(y0.astype(np.int64) + 1, 0, H + 1).reshape(N, 1, -1)
    X0 = np.clip(x0.astype(np.int64) + 1, 0, W + 1).reshape(N, 1, -1)
    Y1, X1 = np.minimum(Y0 + 1, H + 1), np.minimum(X0 + 1, W + 1)

    def at(Y: Array, X: Array) -> Array:  # gathered per image, every channel alike: (N, C, H·W)
        return np.take_along_axis(flat, np.broadcast_to(Y * Wp + X, (N, flat.shape[1], H * W)), axis=2)

    out = ((1 - wy) * ((1 - wx) * at(Y0, X0) + wx * at(Y0, X1))
           + wy * ((1 - wx) * at(Y1, X0) + wx * at(Y1, X1)))
    return out.reshape(images.shape)


def _crop_map(N: int, H: int, W: int, strength: float, rng: np.random.Generator) -> tuple[Array, Array]:
    if not 0.0 <= strength < 1.0:
        raise ValueError(f"crop strength must be in [0, 1), got {strength}")
    s = rng.uniform(1.0 - strength, 1.0, N)
    r = np.exp(rng.uniform(np.log(3 / 4), np.log(4 / 3), N))
    h, w = np.minimum(np.sqrt(s / r), 1.0) * H, np.minimum(np.sqrt(s * r), 1.0) * W
    t = np.stack([rng.uniform(-1, 1, N) * (H - h) / 2, rng.uniform(-1, 1, N) * (W - w) / 2], axis=1)
    A = np.zeros((N, 2, 2))
    A[:, 0, 0], A[:, 1, 1] = h / H, w / W
    return A, t


def _rotation_map(N: int, max_degrees: float, rng: np.random.Generator) -> Array:
    if max_degrees < 0:
        raise ValueError(f"rotation must not be negative, got {max_degrees}")
    theta = np.deg2rad(rng.uniform(-max_degrees, max_degrees, N))
    c, s = np.cos(theta), np.sin(theta)
    return np.stack([np.stack([c, -s], axis=1), np.stack([s, c], axis=1)], axis=1)


def crop_resize(images: Array, strength: float, rng: np.random.Generator) -> Array:
    """A random crop of s ∈ [1 − strength, 1] of the area (aspect 3/4 … 4/3), resized back."""
    if strength == 0:
        return images.copy()
    N, _, H, W = images.shape
    return affine(images, *_crop_map(N, H, W, strength, rng))


def rotate(images: Array, max_degrees: float, rng: np.random.Generator) -> Array:
    """Each image turned by its own θ ~ U[−max_degrees, max_degrees] about its centre."""
    if max_degrees == 0:
        return images.copy()
    return affine(images, _rotation_map(len(images), max_degrees, rng), np.zeros((len(images), 2)))


def geometric(images: Array, crop: float, flip_p: float, max_degrees: float, max_shift: int,
              rng: np.random.Generator) -> Array:
    """Crop & resize, then flip, then rotate, then shift, as one map per image.

    Each transform maps output to input coordinates, p ↦ A_k p + t_k; applied one after the
    other, the last one's output pixel p reads the original at M_crop(M_flip(M_rot(M_shift(p)))).
    The draws come from `rng` in that order, transform by transform, for the whole batch.
    """
    N, _, H, W = images.shape
    A, t = np.tile(np.eye(2), (N, 1, 1)), np.zeros((N, 2))

    def then(Ak: Array, tk: Array) -> None:  # M ← M ∘ M_k: p ↦ A (A_k p + t_k) + t
        nonlocal A, t
        t = np.einsum("nij,nj->ni", A, tk) + t
        A = A @ Ak

    if crop:
        then(*_crop_map(N, H, W, crop, rng))
    if flip_p:
        if not 0.0 <= flip_p <= 1.0:
            raise ValueError(f"flip probability must be in [0, 1], got {flip_p}")
        Af = np.tile(np.eye(2), (N, 1, 1))
        Af[rng.random(N) < flip_p, 1, 1] = -1.0
        then(Af, np.zeros((N, 2)))
    if max_degrees:
        then(_rotation_map(N, max_degrees, rng), np.zeros((N, 2)))
    if max_shift:
        k = int(max_shift)
        if k < 0:
            raise ValueError(f"max_shift must not be negative, got {max_shift}")
        dy, dx = rng.integers(-k, k + 1, N), rng.integers(-k, k + 1, N)
        then(np.tile(np.eye(2), (N, 1, 1)), -np.stack([dy, dx], axis=1).astype(np.float64))
    return affine(images, A, t)


def flip(images: Array, p: float, rng: np.random.Generator) -> Array:
    """Each image mirrored left–right with probability p."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"flip probability must be in [0, 1], got {p}")
    out = images.copy()
    if p == 0:
        return out
    mask = rng.random(len(images)) < p
    out[mask] = images[mask][..., ::-1]
    return out


def blur(images: Array, max_sigma: float, rng: np.random.Generator) -> Array:
    """Each image blurred by a Gaussian of its own σ ~ U[0, max_sigma] pixels."""
    if max_sigma < 0:
        raise ValueError(f"blur σ must not be negative, got {max_sigma}")
    if max_sigma == 0:
        return images.copy()
    N, _, H, W = images.shape
    R = int(min(np.ceil(2 * max_sigma), max(H, W) // 2))
    sigma = rng.uniform(0.0, max_sigma, N)
    k = np.arange(-R, R + 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        kern = np.exp(-(k[None] ** 2) / (2 * sigma[:, None] ** 2))
    kern[sigma < 1e-3] = (k == 0)  # σ ≈ 0: the identity, not 0/0
    kern /= kern.sum(axis=1, keepdims=True)
    padded = np.pad(images, ((0, 0), (0, 0), (0, 0), (R, R)), mode="edge")
    rows = np.einsum("nchwk,nk->nchw", sliding_window_view(padded, 2 * R + 1, axis=3), kern)
    padded = np.pad(rows, ((0, 0), (0, 0), (R, R), (0, 0)), mode="edge")
    return np.einsum("nchwk,nk->nchw", sliding_window_view(padded, 2 * R + 1, axis=2), kern)


def contrast(images: Array, strength: float, rng: np.random.Generator) -> Array:
    """x̄ + c (x − x̄), c ~ U[1 − strength, 1 + strength] per image, clipped to [0, 1]."""
    if not 0.0 <= strength <= 1.0:
        raise ValueError(f"contrast strength must be in [0, 1], got {strength}")
    if strength == 0:
        return images.copy()
    c = rng.uniform(1.0 - strength, 1.0 + strength, len(images))[:, None, None, None]
    mean = images.mean(axis=(1, 2, 3), keepdims=True)
    return np.clip(mean + c * (images - mean), 0.0, 1.0)


def cutout(images: Array, size: int, rng: np.random.Generator) -> Array:
    """A size × size square of each image, centred at a uniform random pixel, set to 0."""
    size = int(size)
    if size < 0:
        raise ValueError(f"cutout size must not be negative, got {size}")
    if size == 0:
        return images.copy()
    N, _, H, W = images.shape
    top = rng.integers(0, H, N) - size // 2
    left = rng.integers(0, W, N) - size // 2
    i, j = np.arange(H)[None, :, None], np.arange(W)[None, None, :]
    inside = ((i >= top[:, None, None]) & (i < (top + size)[:, None, None])
              & (j >= left[:, None, None]) & (j < (left + size)[:, None, None]))
    return np.where(inside[:, None], 0.0, images)
