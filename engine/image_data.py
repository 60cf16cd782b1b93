"""Image classification sets: the UCI handwritten digits shipped in data/ and the generated
shapes, with a seeded, stratified train/test split.

An `ImageSet` holds images (N, 1, H, W) as float64 in [0, 1] and integer labels (N,). The
digits are 1,797 8×8 images with pixel counts 0…16 (divided by 16 here), ten classes;
`data/README.md` names the source, licence and citation. Arrays returned are read-only views
of one cached copy, so a caller that wants to change them copies first.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from engine import shapes

Array = np.ndarray
DATA_DIR = Path(__file__).resolve().parents[1] / "data"
DIGITS_FILE = DATA_DIR / "digits.csv.gz"
DIGIT_CLASSES = tuple(str(d) for d in range(10))


@dataclass(frozen=True)
class ImageSet:
    name: str
    images: Array  # (N, 1, H, W) in [0, 1]
    labels: Array  # (N,) int64 in 0 … K − 1
    classes: tuple[str, ...]

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(self.images.shape[1:])  # type: ignore[return-value]

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def __len__(self) -> int:
        return len(self.labels)


@lru_cache(maxsize=1)
def _digits() -> tuple[Array, Array]:
    with gzip.open(DIGITS_FILE, "rt") as f:
        table = np.loadtxt(f, delimiter=",")
    if table.shape != (1797, 65):
        raise ValueError(f"{DIGITS_FILE} should hold 1797 rows of 64 pixels and a label, not {table.shape}")
    images = (table[:, :64] / 16.0).reshape(-1, 1, 8, 8)
    labels = table[:, 64].astype(np.int64)
    images.flags.writeable = False
    labels.flags.writeable = False
    return images, labels


def load_digits() -> ImageSet:
    """The 1,797 UCI digits, 8×8, pixels in [0, 1] (the file's 0…16 divided by 16)."""
    images, labels = _digits()
    return ImageSet("digits", images, labels, DIGIT_CLASSES)


def make_shapes(n: int = 1000, size: int = 12, noise: float = 0.1, seed: int = 0) -> ImageSet:
    """`n` generated shapes of size×size from `seed` (see engine.shapes)."""
    images, labels = shapes.generate(n, size, noise, np.random.default_rng(seed))
    return ImageSet("shapes", images, labels, shapes.CLASSES)


DATASETS = ("digits", "shapes")


def load(name: str, n: int = 1000, size: int = 12, noise: float = 0.1, seed: int = 0) -> ImageSet:
    """An image set by registry name; n, size and noise only shape the generated "shapes"."""
    if name == "digits":
        return load_digits()
    if name == "shapes":
        return make_shapes(n, size, noise, seed)
    raise KeyError(f"unknown image set {name!r}; choose one of {list(DATASETS)}")


def split(images: Array, labels: Array, train_ratio: float, rng: np.random.Generator
          ) -> tuple[Array, Array, Array, Array]:
    """(X_train, y_train, X_test, y_test): each class split in the same ratio (stratified),
    both parts shuffled by `rng`. round(train_ratio · n_class) images of a class train."""
    if not 0.0 < train_ratio <= 1.0:
        raise ValueError(f"train_ratio must be above 0 and at most 1, got {train_ratio}")
    train, test = [], []
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        k = round(train_ratio * len(idx))
        train.append(idx[:k])
        test.append(idx[k:])
    tr = rng.permutation(np.concatenate(train))
    te = rng.permutation(np.concatenate(test))
    return images[tr], labels[tr], images[te], labels[te]
