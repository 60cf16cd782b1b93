"""QR codes (ISO/IEC 18004, model 2) for join links, drawn on the server as SVG.

Byte mode, versions 1–10 (up to 213 bytes at level M: any join URL), error-correction levels
L, M, Q, H; the mask is the one with the lowest penalty score, as the standard asks. It
follows the structure of Nayuki's reference-quality qrcodegen: encode the bytes into data
codewords, add Reed–Solomon error correction per block over GF(256) (x⁸ + x⁴ + x³ + x² + 1),
interleave the blocks, draw the function patterns (finders, separators, timing, alignment,
format and version information), place the codewords in the two-column zigzag, then pick the
mask. `matrix(text)` gives the modules (True = dark) as a NumPy array; `svg(text)` the picture
with its 4-module quiet zone. tests/test_scale_qr.py decodes the result back with its own
reader (format BCH check, unmasking, de-interleaving, Reed–Solomon syndromes) and compares a
fixed input with a matrix made by an independent encoder.
"""

from __future__ import annotations

import numpy as np

Array = np.ndarray
LEVELS = {"L": 1, "M": 0, "Q": 3, "H": 2}  # the two format bits of each level
MAX_VERSION = 10
# Per level, indexed by version (0 unused): error-correction codewords per block, and blocks.
ECC_PER_BLOCK = {
    "L": (0, 7, 10, 15, 20, 26, 18, 20, 24, 30, 18),
    "M": (0, 10, 16, 26, 18, 24, 16, 18, 22, 22, 26),
    "Q": (0, 13, 22, 18, 26, 18, 24, 18, 22, 20, 24),
    "H": (0, 17, 28, 22, 16, 22, 28, 26, 26, 24, 28),
}
BLOCKS = {
    "L": (0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 4),
    "M": (0, 1, 1, 1, 2, 2, 4, 4, 4, 5, 5),
    "Q": (0, 1, 1, 2, 2, 4, 4, 6, 6, 8, 8),
    "H": (0, 1, 1, 2, 4, 4, 4, 5, 6, 8, 8),
}


# ---- Reed–Solomon over GF(256) -------------------------------------------------------------

def _gf_mul(x: int, y: int) -> int:
    """Product in GF(2⁸) modulo x⁸ + x⁴ + x³ + x² + 1 (0x11D)."""
    z = 0
    for i in range(7, -1, -1):
        z = (z << 1) ^ ((z >> 7) * 0x11D)
        z ^= ((y >> i) & 1) * x
    return z


def _rs_divisor(degree: int) -> list[int]:
    """Coefficients (highest power first, leading 1 dropped) of Π_{i<degree} (x − α^i), α = 2."""
    result = [0] * (degree - 1) + [1]
    root = 1
    for _ in range(degree):
        for j in range(degree):
            result[j] = _gf_mul(result[j], root)
            if j + 1 < degree:
                result[j] ^= result[j + 1]
        root = _gf_mul(root, 0x02)
    return result


def _rs_remainder(data: list[int], divisor: list[int]) -> list[int]:
    """The error-correction codewords: data · x^degree mod the generator polynomial."""
    result = [0] * len(divisor)
    for b in data:
        factor = b ^ result.pop(0)
        result.append(0)
        for i, coef in enumerate(divisor):
            result[i] ^= _gf_mul(coef, factor)
    return result


# ---- capacity ------------------------------------------------------------------------------

def _raw_modules(version: int) -> int:
    """Modules left for data and error correction once the function patterns are drawn."""
    result = (16 * version + 128) * version + 64
    if version >= 2:
        n = version // 7 + 2
        result -= (25 * n - 10) * n - 55
        if version >= 7:
            result -= 36
    return result


def data_codewords(version: int, level: str) -> int:
    return _raw_modules(version) // 8 - ECC_PER_BLOCK[level][version] * BLOCKS[level][version]


def alignment_positions(version: int) -> list[int]:
    """Row/column centres of the alignment patterns (none in version 1)."""
    if version == 1:
        return []
    n = version // 7 + 2
    step = (version * 8 + n * 3 + 5) // (n * 4 - 4) * 2
    size = version * 4 + 17
    return [6, *sorted(size - 7 - i * step for i in range(n - 1))]


# ---- encoding ------------------------------------------------------------------------------

def _data_bits(payload: bytes, version: int, level: str) -> list[int]:
    """Mode indicator, character count, bytes, terminator and padding, as data codewords."""
    bits: list[int] = []

    def put(value: int, length: int) -> None:
        bits.extend((value >> i) & 1 for i in range(length - 1, -1, -1))

    put(0b0100, 4)  # byte mode
    put(len(payload), 8 if version <= 9 else 16)
    for b in payload:
        put(b, 8)
    capacity = data_codewords(version, level) * 8
    put(0, min(4, capacity - len(bits)))
    put(0, (-len(bits)) % 8)
    words = [int("".join(map(str, bits[i:i + 8])), 2) for i in range(0, len(bits), 8)]
    pad = 0xEC
    while len(words) < capacity // 8:
        words.append(pad)
        pad ^= 0xEC ^ 0x11
    return words


def _interleaved(words: list[int], version: int, level: str) -> list[int]:
    """Split into blocks, append each block's error correction, interleave column-wise."""
    blocks, ecc = BLOCKS[level][version], ECC_PER_BLOCK[level][version]
    raw = _raw_modules(version) // 8
    short = blocks - raw % blocks
    short_len = raw // blocks
    divisor = _rs_divisor(ecc)
    out_blocks, k = [], 0
    for i in range(blocks):
        n = short_len - ecc + (0 if i < short else 1)
        data = words[k:k + n]
        k += n
        out_blocks.append((data, _rs_remainder(data, divisor)))
    result = []
    for i in range(short_len - ecc + 1):  # data codewords, the long blocks' extra last
        result += [d[i] for d, _ in out_blocks if i < len(d)]
    for i in range(ecc):
        result += [e[i] for _, e in out_blocks]
    return result


def _format_bits(level: str, mask: int) -> int:
    data = LEVELS[level] << 3 | mask
    rem = data
    for _ in range(10):
        rem = (rem << 1) ^ ((rem >> 9) * 0x537)
    return (data << 10 | rem) ^ 0x5412


def _version_bits(version: int) -> int:
    rem = version
    for _ in range(12):
        rem = (rem << 1) ^ ((rem >> 11) * 0x1F25)
    return version << 12 | rem


class _Symbol:
    """The module grid being drawn: `dark[y, x]` and which modules are function patterns."""

    def __init__(self, version: int) -> None:
        self.version = version
        self.size = version * 4 + 17
        self.dark = np.zeros((self.size, self.size), dtype=bool)
        self.function = np.zeros((self.size, self.size), dtype=bool)
        self._function_patterns()

    def set(self, x: int, y: int, dark: bool) -> None:
        self.dark[y, x] = dark
        self.function[y, x] = True

    def _function_patterns(self) -> None:
        size = self.size
        for i in range(size):  # timing patterns
            self.set(6, i, i % 2 == 0)
            self.set(i, 6, i % 2 == 0)
        for cx, cy in ((3, 3), (size - 4, 3), (3, size - 4)):  # finders with their separators
            for dy in range(-4, 5):
                for dx in range(-4, 5):
                    x, y = cx + dx, cy + dy
                    if 0 <= x < size and 0 <= y < size:
                        d = max(abs(dx), abs(dy))
                        self.set(x, y, d not in (2, 4))
        centres = alignment_positions(self.version)
        last = len(centres) - 1
        for i, cy in enumerate(centres):
            for j, cx in enumerate(centres):
                if (i, j) in ((0, 0), (0, last), (last, 0)):
                    continue  # where the finders are
                for dy in range(-2, 3):
                    for dx in range(-2, 3):
                        self.set(cx + dx, cy + dy, max(abs(dx), abs(dy)) != 1)
        self.format(0, "L")  # reserves the format areas; drawn for real with the mask
        if self.version >= 7:
            bits = _version_bits(self.version)
            for i in range(18):
                bit = (bits >> i) & 1 == 1
                a, b = size - 11 + i % 3, i // 3
                self.set(a, b, bit)
                self.set(b, a, bit)

    def format(self, mask: int, level: str) -> None:
        bits = _format_bits(level, mask)
        size = self.size

        def bit(i: int) -> bool:
            return (bits >> i) & 1 == 1

        for i in range(6):
            self.set(8, i, bit(i))
        self.set(8, 7, bit(6))
        self.set(8, 8, bit(7))
        self.set(7, 8, bit(8))
        for i in range(9, 15):
            self.set(14 - i, 8, bit(i))
        for i in range(8):
            self.set(size - 1 - i, 8, bit(i))
        for i in range(8, 15):
            self.set(8, size - 15 + i, bit(i))
        self.set(8, size - 8, True)  # the dark module

    def place(self, codewords: list[int]) -> None:
        """Codeword bits (most significant first) up and down two-column strips from the right."""
        bits = [(w >> (7 - j)) & 1 == 1 for w in codewords for j in range(8)]
        i, size = 0, self.size
        right = size - 1
        while right >= 1:
            if right == 6:
                right = 5  # the vertical timing pattern's column is skipped
            for vert in range(size):
                for j in range(2):
                    x = right - j
                    upward = ((right + 1) & 2) == 0
                    y = size - 1 - vert if upward else vert
                    if not self.function[y, x] and i < len(bits):
                        self.dark[y, x] = bits[i]
                        i += 1
            right -= 2


def mask_pattern(mask: int, size: int) -> Array:
    """Where mask `mask` (0–7) inverts a module: (size, size) bool, [y, x]."""
    y, x = np.indices((size, size))
    return [
        (x + y) % 2 == 0,
        y % 2 == 0,
        x % 3 == 0,
        (x + y) % 3 == 0,
        (x // 3 + y // 2) % 2 == 0,
        x * y % 2 + x * y % 3 == 0,
        (x * y % 2 + x * y % 3) % 2 == 0,
        ((x + y) % 2 + x * y % 3) % 2 == 0,
    ][mask]


def penalty(dark: Array) -> int:
    """The standard's penalty score: runs of five or more, 2×2 blocks, finder-like patterns
    (1:1:3:1:1 with four light modules beside, counting the light border), dark balance."""
    size = len(dark)
    score = 0
    for lines in (dark, dark.T):
        for line in lines:
            score += _line_penalty(line, size)
    tl = dark[:-1, :-1]
    same = (tl == dark[1:, :-1]) & (tl == dark[:-1, 1:]) & (tl == dark[1:, 1:])
    score += 3 * int(same.sum())
    total, darks = size * size, int(dark.sum())
    k = -(-abs(darks * 20 - total * 10) // total) - 1
    return score + 10 * k


def _line_penalty(line: Array, size: int) -> int:
    score, color, run = 0, False, 0
    history = [0] * 7

    def add(length: int) -> None:
        if history[0] == 0:
            length += size  # the light border before the symbol
        history.insert(0, length)
        history.pop()

    def finder_like() -> int:
        n = history[1]
        core = n > 0 and history[2] == history[4] == history[5] == n and history[3] == n * 3
        return (int(core and history[0] >= n * 4 and history[6] >= n)
                + int(core and history[6] >= n * 4 and history[0] >= n))

    for module in line:
        if module == color:
            run += 1
            if run == 5:
                score += 3
            elif run > 5:
                score += 1
        else:
            add(run)
            if not color:
                score += finder_like() * 40
            color, run = bool(module), 1
    if color:  # end of the line: a light border follows
        add(run)
        run = 0
    add(run + size)
    return score + finder_like() * 40


def matrix(text: str | bytes, level: str = "M", mask: int | None = None) -> Array:
    """The QR symbol of `text` (UTF-8) as a (size, size) bool array, True = dark, [row, col]:
    the smallest version that holds it at `level`, the best mask unless one is given."""
    if level not in LEVELS:
        raise ValueError(f"level must be one of {list(LEVELS)}")
    payload = text.encode("utf-8") if isinstance(text, str) else bytes(text)
    for version in range(1, MAX_VERSION + 1):
        header = 4 + (8 if version <= 9 else 16)
        if header + 8 * len(payload) <= data_codewords(version, level) * 8:
            break
    else:
        raise ValueError(f"{len(payload)} bytes do not fit a version-{MAX_VERSION} QR code at level {level}")
    codewords = _interleaved(_data_bits(payload, version, level), version, level)
    symbol = _Symbol(version)
    symbol.place(codewords)
    data = ~symbol.function
    best: tuple[int, Array] | None = None
    for m in range(8) if mask is None else (mask,):
        symbol.format(m, level)
        candidate = symbol.dark ^ (mask_pattern(m, symbol.size) & data)
        score = penalty(candidate)
        if best is None or score < best[0]:
            best = (score, candidate)
    return best[1]


def svg(text: str | bytes, level: str = "M", quiet: int = 4, title: str = "") -> str:
    """The symbol as an SVG picture: one path of dark modules on white, quiet zone included,
    scaling to any size (crisp edges)."""
    m = matrix(text, level)
    size = len(m) + 2 * quiet
    path = "".join(f"M{x + quiet},{y + quiet}h1v1h-1z" for y, x in zip(*np.nonzero(m), strict=True))
    label = f"<title>{_escape(title)}</title>" if title else ""
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" '
            f'shape-rendering="crispEdges" role="img">{label}'
            f'<rect width="{size}" height="{size}" fill="#fff"/><path d="{path}" fill="#000"/></svg>')


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
