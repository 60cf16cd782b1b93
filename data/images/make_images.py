"""How data/images/*.png were made (run once by hand; not needed at run time).

    python -m venv /tmp/prep && /tmp/prep/bin/pip install pillow numpy
    pip download scikit-image==0.26.0 --no-deps -d /tmp/x && cd /tmp/x && unzip -q *.whl 'skimage/data/*'
    PYTHONPATH=<repo> /tmp/prep/bin/python data/images/make_images.py /tmp/x/skimage/data

Each photo is shrunk with Pillow (a box reduction, then Lanczos to the exact size) so its longer
side is 256 px, and written by engine.png with the None, Sub and Up row filters only (the ones
NumPy decodes without a per-pixel loop).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from PIL import Image

from engine import png

OUT = Path(__file__).resolve().parent
SOURCES = {  # our name → (scikit-image file, mode)
    "astronaut": ("astronaut.png", "RGB"),
    "cat": ("chelsea.png", "RGB"),
    "coffee": ("coffee.png", "RGB"),
    "camera": ("camera.png", "L"),
    "brick": ("brick.png", "L"),
}


def shrink(img: Image.Image, side: int = 256) -> Image.Image:
    scale = side / max(img.size)
    size = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
    return img.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)


def main(src: Path) -> None:
    for name, (file, mode) in SOURCES.items():
        img = shrink(Image.open(src / file).convert(mode))
        pixels = np.asarray(img, dtype=np.uint8)
        (OUT / f"{name}.png").write_bytes(png.encode(pixels, filters=(0, 1, 2)))
        print(name, pixels.shape)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
