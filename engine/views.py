"""Two random views of every image: the "transform input image" step of contrastive learning.

An `Augmentation` holds one strength per transform of `engine.augment` (0 turns it off); the
views apply them in SimCLR's order — crop and resize, flip, rotate, shift (composed into one
resampling), contrast, blur, noise, cutout — each image drawing its own random parameters
from the Generator passed in, so a seed reproduces every view. `TRANSFORMS` is the registry
the API and the page use: the name, what the strength means, its unit, range and the value a
toggle switches on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, fields

import numpy as np

from engine import augment

Array = np.ndarray


@dataclass(frozen=True)
class Transform:
    name: str
    label: str  # what the page calls it
    strength: str  # what the number means
    unit: str
    lo: float
    hi: float
    on: float  # the strength a toggle switches on
    integer: bool
    apply: Callable[[Array, float, np.random.Generator], Array]


TRANSFORMS: dict[str, Transform] = {t.name: t for t in (
    Transform("crop", "Crop & resize", "area removed at most (crop keeps 1 − this … 1 of the area)", "",
              0.0, 0.8, 0.3, False, augment.crop_resize),
    Transform("flip", "Flip left–right", "probability", "", 0.0, 1.0, 0.5, False, augment.flip),
    Transform("rotate", "Rotation", "largest angle", "°", 0.0, 45.0, 15.0, False, augment.rotate),
    Transform("shift", "Shift", "largest move", "px", 0, 3, 1, True, augment.shift),
    Transform("contrast", "Contrast", "largest change of contrast", "", 0.0, 0.9, 0.4, False,
              augment.contrast),
    Transform("blur", "Blur", "largest Gaussian σ", "px", 0.0, 2.0, 0.6, False, augment.blur),
    Transform("noise", "Gaussian noise", "σ of the pixel noise", "", 0.0, 0.5, 0.1, False, augment.noise),
    Transform("cutout", "Cutout", "side of the square removed", "px", 0, 6, 3, True, augment.cutout),
)}
ORDER = tuple(TRANSFORMS)


@dataclass(frozen=True)
class Augmentation:
    """Strength of each transform (0 = off); the defaults suit the 8×8 digits."""

    crop: float = 0.3
    flip: float = 0.0  # mirrored digits are other symbols: off for the digits
    rotate: float = 15.0
    shift: int = 1
    contrast: float = 0.4
    blur: float = 0.6
    noise: float = 0.1
    cutout: int = 0

    def __post_init__(self) -> None:
        for f in fields(self):
            t, v = TRANSFORMS[f.name], getattr(self, f.name)
            if not t.lo <= v <= t.hi:
                raise ValueError(f"{f.name} strength must be in [{t.lo:g}, {t.hi:g}], got {v}")

    def active(self) -> dict[str, float]:
        """The transforms switched on, in the order they apply."""
        return {k: v for k, v in asdict(self).items() if v}

    @classmethod
    def off(cls) -> Augmentation:
        return cls(**{name: 0 for name in ORDER})


GEOMETRIC = ("crop", "flip", "rotate", "shift")


def apply(images: Array, aug: Augmentation, rng: np.random.Generator) -> Array:
    """One random view of each image (N, C, H, W) → (N, C, H, W), a new array.

    Crop, flip, rotation and shift are composed into one resampling (augment.geometric); the
    photometric transforms follow one by one.
    """
    out = np.array(images, dtype=np.float64, copy=True)
    active = aug.active()
    if any(k in active for k in GEOMETRIC):
        out = augment.geometric(out, aug.crop, aug.flip, aug.rotate, aug.shift, rng)
    for name, strength in active.items():
        if name not in GEOMETRIC:
            out = TRANSFORMS[name].apply(out, strength, rng)
    return out


def two_views(images: Array, aug: Augmentation, rng: np.random.Generator) -> tuple[Array, Array]:
    """Two independent random views of each image: the positive pairs of a batch."""
    return apply(images, aug, rng), apply(images, aug, rng)
