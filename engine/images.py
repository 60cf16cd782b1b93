"""The small real images the convolution lab ships (data/images/), and turning pixels into arrays.

Pixels are read once (engine.png) and kept as uint8; the lab computes on float64 arrays of
shape (C, H, W) with values 0–255, C = 1 (grey) or 3 (RGB), so a neighbourhood reads as the
intensities a student knows. Grey is the luma of ITU-R BT.601: 0.299 R + 0.587 G + 0.114 B.
Resizing averages areas (each output pixel the mean of the input area it covers, fractions
included), as matrices: out = R_h · x · R_wᵀ.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from engine import png

DATA = Path(__file__).resolve().parent.parent / "data" / "images"
LUMA = np.array([0.299, 0.587, 0.114])
CHANNELS = ("grey", "rgb")


@dataclass(frozen=True)
class ImageInfo:
    name: str  # the API and URL name
    title: str
    credit: str  # photographer / source and licence, as data/README.md gives them
    licence: str


IMAGES: dict[str, ImageInfo] = {i.name: i for i in [
    ImageInfo("astronaut", "Astronaut Eileen Collins", "NASA (via scikit-image)", "public domain"),
    ImageInfo("cat", "Chelsea the cat", "Stefan van der Walt (via scikit-image)", "CC0"),
    ImageInfo("coffee", "Coffee cup", "Rachel Michetti (via scikit-image)", "CC0"),
    ImageInfo("camera", "Photographer (grey)", "Lav Varshney (via scikit-image)", "CC0"),
    ImageInfo("brick", "Brick wall (grey)", "CC0Textures (via scikit-image)", "CC0"),
]}


@lru_cache(maxsize=len(IMAGES))
def pixels(name: str) -> np.ndarray:
    """A shipped image's uint8 pixels, (H, W) or (H, W, 3). KeyError for an unknown name."""
    if name not in IMAGES:
        raise KeyError(f"image must be one of {sorted(IMAGES)}, not {name!r}")
    out = png.read(DATA / f"{name}.png")
    out.setflags(write=False)
    return out


def describe(name: str) -> dict:
    p = pixels(name)
    info = IMAGES[name]
    return {"name": name, "title": info.title, "credit": info.credit, "licence": info.licence,
            "height": int(p.shape[0]), "width": int(p.shape[1]),
            "channels": 1 if p.ndim == 2 else int(p.shape[2])}


def to_array(pix: np.ndarray, channels: str = "grey") -> np.ndarray:
    """uint8 pixels (H, W) or (H, W, C ∈ 1–4; alpha dropped) → float64 (C, H, W), 0–255:
    C = 1 for "grey" (luma), 3 for "rgb" (a grey image repeated)."""
    if channels not in CHANNELS:
        raise ValueError(f"channels must be one of {list(CHANNELS)}, not {channels!r}")
    a = np.asarray(pix, dtype=np.float64)
    if a.ndim == 2:
        a = a[:, :, None]
    if a.ndim != 3 or a.shape[2] not in (1, 2, 3, 4):
        raise ValueError(f"pixels must be (H, W) or (H, W, 1–4 channels), not {a.shape}")
    colour = a[:, :, :3] if a.shape[2] >= 3 else np.repeat(a[:, :, :1], 3, axis=2)
    if channels == "grey":
        grey = a[:, :, 0] if a.shape[2] <= 2 else colour @ LUMA
        return grey[None]
    return np.ascontiguousarray(colour.transpose(2, 0, 1))


def area_matrix(n_out: int, n_in: int) -> np.ndarray:
    """R (n_out, n_in): row i averages the input interval [i·n_in/n_out, (i+1)·n_in/n_out)."""
    edges = np.arange(n_out + 1) * (n_in / n_out)
    lo, hi = edges[:-1, None], edges[1:, None]
    cells = np.arange(n_in)[None, :]
    overlap = np.clip(np.minimum(hi, cells + 1) - np.maximum(lo, cells), 0, None)
    return overlap / overlap.sum(axis=1, keepdims=True)


def resize(x: np.ndarray, height: int, width: int) -> np.ndarray:
    """x (C, H, W) → (C, height, width) by area averaging (shrinking or growing)."""
    if height < 1 or width < 1:
        raise ValueError("the size must be at least 1×1")
    return area_matrix(height, x.shape[1]) @ x @ area_matrix(width, x.shape[2]).T


def fit(x: np.ndarray, side: int) -> np.ndarray:
    """x (C, H, W) shrunk (area averaging) so its longer side is at most `side`."""
    H, W = x.shape[1:]
    if max(H, W) <= side:
        return x
    scale = side / max(H, W)
    return resize(x, max(1, round(H * scale)), max(1, round(W * scale)))


def load(name: str, channels: str = "grey", size: tuple[int, int] | None = None) -> np.ndarray:
    """A shipped image as float64 (C, H, W), 0–255, optionally resized to size = (h, w)."""
    x = to_array(pixels(name), channels)
    return resize(x, *size) if size else x


def levels(x: np.ndarray, top: int = 9) -> np.ndarray:
    """Intensities 0–255 as small integers 0…top (rounded), for a patch a person can add up."""
    return np.rint(np.asarray(x, dtype=np.float64) * (top / 255.0))
