"""The join page's QR code is scannable: a reader written here from the standard's tables
(not from the encoder's code) decodes what app.labs.scale.qr draws, checking the format and
version BCH codes and every block's Reed–Solomon syndromes; a fixed input equals the matrix an
independent encoder made. (zbarimg decoded PNGs of these symbols, versions 1–10, levels
L–H, when the encoder was written.)"""

from __future__ import annotations

import re

import numpy as np
import pytest

from app.labs.scale import qr

# ---- an independent reader -------------------------------------------------------------------

# ISO/IEC 18004 table E.1: alignment pattern centres, versions 2–10.
ALIGN = {2: [6, 18], 3: [6, 22], 4: [6, 26], 5: [6, 30], 6: [6, 34], 7: [6, 22, 38], 8: [6, 24, 42],
         9: [6, 26, 46], 10: [6, 28, 50]}
# Table 9: per version, the blocks as (count, codewords c, data codewords k).
BLOCKS = {
    "L": {1: [(1, 26, 19)], 2: [(1, 44, 34)], 3: [(1, 70, 55)], 4: [(1, 100, 80)], 5: [(1, 134, 108)],
          6: [(2, 86, 68)], 7: [(2, 98, 78)], 8: [(2, 121, 97)], 9: [(2, 146, 116)],
          10: [(2, 86, 68), (2, 87, 69)]},
    "M": {1: [(1, 26, 16)], 2: [(1, 44, 28)], 3: [(1, 70, 44)], 4: [(2, 50, 32)], 5: [(2, 67, 43)],
          6: [(4, 43, 27)], 7: [(4, 49, 31)], 8: [(2, 60, 38), (2, 61, 39)], 9: [(3, 58, 36), (2, 59, 37)],
          10: [(4, 69, 43), (1, 70, 44)]},
}
LEVEL_BITS = {1: "L", 0: "M", 3: "Q", 2: "H"}

EXP = [0] * 512
LOG = [0] * 256
_v = 1
for _i in range(255):
    EXP[_i] = _v
    LOG[_v] = _i
    _v <<= 1
    if _v & 0x100:
        _v ^= 0x11D
for _i in range(255, 512):
    EXP[_i] = EXP[_i - 255]


def gf_mul(a: int, b: int) -> int:
    return 0 if a == 0 or b == 0 else EXP[LOG[a] + LOG[b]]


def bch(value: int, bits: int, generator: int, gen_degree: int) -> int:
    """value · x^gen_degree mod generator, by long division."""
    rem = value << gen_degree
    for shift in range(bits + gen_degree - 1, gen_degree - 1, -1):
        if rem >> shift & 1:
            rem ^= generator << (shift - gen_degree)
    return rem


def function_modules(version: int) -> np.ndarray:
    size = 17 + 4 * version
    f = np.zeros((size, size), dtype=bool)
    f[:9, :9] = f[:9, size - 8:] = f[size - 8:, :9] = True  # finders, separators, format areas
    f[6, :] = f[:, 6] = True  # timing
    centres = ALIGN.get(version, [])
    for cy in centres:
        for cx in centres:
            in_finder = (cy < 9 and cx < 9) or (cy < 9 and cx >= size - 8) or (cy >= size - 8 and cx < 9)
            if not in_finder:
                f[cy - 2:cy + 3, cx - 2:cx + 3] = True
    if version >= 7:
        f[:6, size - 11:size - 8] = f[size - 11:size - 8, :6] = True
    return f


MASKS = [
    lambda y, x: (y + x) % 2 == 0, lambda y, x: y % 2 == 0, lambda y, x: x % 3 == 0,
    lambda y, x: (y + x) % 3 == 0, lambda y, x: (y // 2 + x // 3) % 2 == 0,
    lambda y, x: (y * x) % 2 + (y * x) % 3 == 0, lambda y, x: ((y * x) % 2 + (y * x) % 3) % 2 == 0,
    lambda y, x: ((y + x) % 2 + (y * x) % 3) % 2 == 0,
]


def read_format(m: np.ndarray) -> tuple[str, int]:
    size = len(m)
    first = [m[8, 0], m[8, 1], m[8, 2], m[8, 3], m[8, 4], m[8, 5], m[8, 7], m[8, 8], m[7, 8],
             m[5, 8], m[4, 8], m[3, 8], m[2, 8], m[1, 8], m[0, 8]]  # bits 14 … 0
    second = [m[size - 1 - i, 8] for i in range(7)] + [m[8, size - 8 + i] for i in range(8)]
    word = int("".join("1" if b else "0" for b in first), 2)
    assert word == int("".join("1" if b else "0" for b in second), 2), "the two format copies differ"
    raw = word ^ 0x5412
    data, check = raw >> 10, raw & 0x3FF
    assert bch(data, 5, 0x537, 10) == check, "format information fails its BCH check"
    assert m[size - 8, 8], "the dark module is missing"
    return LEVEL_BITS[data >> 3], data & 7


def read(m: np.ndarray) -> bytes:
    """The bytes of a byte-mode QR symbol (True = dark), checking every code on the way."""
    size = len(m)
    version = (size - 17) // 4
    assert size == 17 + 4 * version
    level, mask = read_format(m)
    if version >= 7:
        bits = 0
        for i in range(18):
            assert m[i // 3, size - 11 + i % 3] == m[size - 11 + i % 3, i // 3]
            bits |= int(m[i // 3, size - 11 + i % 3]) << i
        assert bits >> 12 == version and bch(version, 6, 0x1F25, 12) == bits & 0xFFF
    f = function_modules(version)
    stream = []
    x = size - 1
    upward = True
    while x > 0:
        if x == 6:
            x -= 1
        rows = range(size - 1, -1, -1) if upward else range(size)
        for y in rows:
            for xx in (x, x - 1):
                if not f[y, xx]:
                    stream.append(int(m[y, xx]) ^ int(MASKS[mask](y, xx)))
        upward = not upward
        x -= 2
    words = [int("".join(map(str, stream[i:i + 8])), 2) for i in range(0, len(stream) - len(stream) % 8, 8)]
    groups = [(c, k) for count, c, k in BLOCKS[level][version] for _ in range(count)]
    blocks: list[list[int]] = [[] for _ in groups]
    pos = 0
    for i in range(max(k for _, k in groups)):
        for b, (_, k) in enumerate(groups):
            if i < k:
                blocks[b].append(words[pos])
                pos += 1
    ecc = groups[0][0] - groups[0][1]
    for _ in range(ecc):
        for b in range(len(groups)):
            blocks[b].append(words[pos])
            pos += 1
    data: list[int] = []
    for block, (_c, k) in zip(blocks, groups, strict=True):
        for j in range(ecc):  # the codeword polynomial vanishes at α^0 … α^(ecc−1)
            s = 0
            for w in block:
                s = gf_mul(s, EXP[j]) ^ w
            assert s == 0, f"a block fails its Reed–Solomon check (syndrome {j})"
        data += block[:k]
    bits = "".join(f"{w:08b}" for w in data)
    assert bits[:4] == "0100", "not byte mode"
    count_bits = 8 if version <= 9 else 16
    n = int(bits[4:4 + count_bits], 2)
    start = 4 + count_bits
    return bytes(int(bits[start + 8 * i:start + 8 * i + 8], 2) for i in range(n))


# ---- tests -----------------------------------------------------------------------------------

# A version-3-M symbol (mask 2) from an independent encoder, for a payload that fills it.
KNOWN_TEXT = "http://192.168.100.20:8000/join/K7QX2MNPRT"
KNOWN = [
    "#######..##...#..#.#..#######", "#.....#..#####.#..#...#.....#", "#.###.#.#.##...#..##..#.###.#",
    "#.###.#.###.#.#.#####.#.###.#", "#.###.#.#.#.##.##..#..#.###.#", "#.....#.#.###.###.#...#.....#",
    "#######.#.#.#.#.#.#.#.#######", "........####..##..#..........", "#.#####...##..#####.#.#####..",
    "#.#....#####.#.##..#..#.#...#", "#..#.###.#.######.#....##....", "#..###....#.#...#.##.##.#..#.",
    "########....#.#####.##.#.##..", "#####...###.#.#....#..#.#.#.#", "##..#.####.##..##.#..##...#..",
    "#...##...##.#.....####.#...#.", "###...###..#..#..###.#....#..", "##.#.#..##....######.##.###.#",
    "#.#.#.#.###..#.###....#..##..", "#.####.#.#.##...#....##.#..#.", "#.#..##.....#.#..#..#####.###",
    "........#.###.#..####...#####", "#######..##.#.##.####.#.###..", "#.....#.##.##...#.#.#...#..##",
    "#.###.#.##.......#..#########", "#.###.#.##.##...###..#.#...##", "#.###.#.##..######....#.##.#.",
    "#.....#...##.###...###.##..#.", "#######.#.#..#...#.......##..",
]


def test_matches_an_independent_encoder_for_a_fixed_input():
    expected = np.array([[c == "#" for c in row] for row in KNOWN])
    np.testing.assert_array_equal(qr.matrix(KNOWN_TEXT, "M", mask=2), expected)
    assert read(expected) == KNOWN_TEXT.encode()


@pytest.mark.parametrize("text", [
    "http://127.0.0.1:8000/join/K7QX2",
    "http://192.168.1.20:8000/join/B7QXK",
    "HELLO",
    "https://lecture.example.org:8443/join/" + "Z" * 40,
    "étudiants → /join/K7QX2",
    "x" * 150,
])
@pytest.mark.parametrize("level", ["L", "M"])
def test_reader_decodes_what_the_encoder_draws(text, level):
    m = qr.matrix(text, level)
    assert m.dtype == bool and m.shape[0] == m.shape[1]
    assert read_format(m)[0] == level
    assert read(m) == text.encode("utf-8")


def test_every_version_and_mask_decodes():
    rng = np.random.default_rng(0)
    for version in range(1, 11):
        capacity = qr.data_codewords(version, "M") - (2 if version <= 9 else 3)
        payload = bytes(rng.integers(0, 256, capacity).tolist())
        for mask in (0, 5, 7):
            m = qr.matrix(payload, "M", mask=mask)
            assert len(m) == 17 + 4 * version
            assert read_format(m) == ("M", mask)
            assert read(m) == payload


def test_smallest_version_and_best_mask():
    assert len(qr.matrix("HELLO")) == 21  # version 1
    assert len(qr.matrix("http://127.0.0.1:8000/join/K7QX2")) == 29  # 32 bytes: version 3 at M
    m = qr.matrix("http://127.0.0.1:8000/join/K7QX2")
    _, chosen = read_format(m)
    scores = [qr.penalty(qr.matrix("http://127.0.0.1:8000/join/K7QX2", mask=k)) for k in range(8)]
    assert scores[chosen] == min(scores)


def test_too_long_is_a_clear_error():
    with pytest.raises(ValueError, match="do not fit a version-10 QR code"):
        qr.matrix("x" * 300)


def test_svg_draws_the_matrix_with_a_quiet_zone():
    text = "http://127.0.0.1:8000/join/K7QX2"
    picture = qr.svg(text, title="Join <code>")
    m = qr.matrix(text)
    size = len(m) + 8
    assert f'viewBox="0 0 {size} {size}"' in picture and "<title>Join &lt;code&gt;</title>" in picture
    cells = {(int(x) - 4, int(y) - 4) for x, y in re.findall(r"M(\d+),(\d+)h1v1h-1z", picture)}
    assert cells == {(x, y) for y, x in zip(*np.nonzero(m), strict=True)}
