"""The convolution lab's engine pieces: PNG reading, the shipped images, the kernel gallery, the
step-by-step trace, filtering, the layer on a volume and the parameter calculator — each against
the plain loop (engine.conv.conv2d_naive) or a hand-worked case."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest

from engine import conv, conv_params, conv_trace, conv_volume, filtering, images, kernels, png

# ---- PNG ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(5, 7), (6, 4, 2), (9, 11, 3), (3, 8, 4)])
@pytest.mark.parametrize("kind", [0, 1, 2, 3, 4])
def test_png_round_trip_with_every_row_filter(shape, kind):
    pixels = np.random.default_rng(kind).integers(0, 256, size=shape, dtype=np.uint8)
    data = png.encode(pixels, filters=(kind,))
    idat = dict(png._chunks(data))[b"IDAT"]
    assert zlib.decompress(idat)[0] == kind  # the rows really use that filter
    np.testing.assert_array_equal(png.decode(data), pixels)


def test_png_paeth_row_by_hand():
    """A 2×2 grey image whose second row is Paeth-filtered, written byte by byte."""
    # raw rows [10, 20] and [30, 25]; row 2 with Paeth: x0 − paeth(0, 10, 0) = 30 − 10 = 20,
    # x1 − paeth(a=30, b=20, c=10): p = 40, |p−a| = 10, |p−b| = 20, |p−c| = 30 → a = 30: 25 − 30 = −5
    body = bytes([0, 10, 20, 4, 20, (25 - 30) % 256])
    ihdr = struct.pack(">IIBBBBB", 2, 2, 8, 0, 0, 0, 0)

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    data = png.SIGNATURE + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(body)) + chunk(b"IEND", b"")
    np.testing.assert_array_equal(png.decode(data), [[10, 20], [30, 25]])


def test_png_refuses_what_it_cannot_read():
    with pytest.raises(ValueError, match="not a PNG"):
        png.decode(b"GIF89a....")
    data = bytearray(png.encode(np.zeros((2, 2), np.uint8)))
    data[8 + 8 + 8] = 16  # bit depth 16
    with pytest.raises(ValueError, match="only 8-bit"):
        png.decode(bytes(data))


# ---- the shipped images ------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(images.IMAGES))
def test_shipped_images_are_small_real_pictures(name):
    p = images.pixels(name)
    assert p.dtype == np.uint8 and max(p.shape[:2]) == 256 and min(p.shape[:2]) >= 128
    assert p.std() > 20  # a photo, not a flat field
    info = images.describe(name)
    assert info["licence"] in {"CC0", "public domain"}
    x = images.load(name, "rgb")
    assert x.shape == (3, *p.shape[:2]) and x.min() >= 0 and x.max() <= 255


def test_grey_is_the_luma_and_rgb_repeats_a_grey_image():
    pix = np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255]]], dtype=np.uint8)
    np.testing.assert_allclose(images.to_array(pix, "grey")[0, 0], [0.299 * 255, 0.587 * 255, 0.114 * 255])
    grey = np.array([[7, 9]], dtype=np.uint8)
    np.testing.assert_array_equal(images.to_array(grey, "rgb"), [[[7, 9]]] * 3)
    rgba = np.zeros((1, 1, 4), np.uint8)
    assert images.to_array(rgba, "rgb").shape == (3, 1, 1)  # alpha dropped


def test_area_resize_averages_blocks_and_keeps_the_mean():
    x = np.arange(16.0).reshape(1, 4, 4)
    np.testing.assert_allclose(images.resize(x, 2, 2)[0], [[2.5, 4.5], [10.5, 12.5]])
    y = np.random.default_rng(0).uniform(0, 255, size=(3, 37, 23))
    small = images.resize(y, 10, 7)
    np.testing.assert_allclose(small.mean(axis=(1, 2)), y.mean(axis=(1, 2)), rtol=1e-12)
    np.testing.assert_allclose(images.area_matrix(3, 7).sum(axis=1), 1.0)
    assert images.fit(y, 16).shape == (3, 16, 10)


# ---- the kernel gallery ------------------------------------------------------------------------


def dot(size=7, at=(3, 3)):
    x = np.zeros((1, size, size))
    x[0, at[0], at[1]] = 1.0
    return x


@pytest.mark.parametrize(("name", "moved"), [("shift_left", (3, 2)), ("shift_right", (3, 4)),
                                             ("shift_up", (2, 3)), ("shift_down", (4, 3))])
def test_shift_kernels_move_the_picture_under_cross_correlation_and_back_under_convolution(name, moved):
    w = kernels.make(name)
    out = filtering.apply(dot(), w, padding=1)
    assert tuple(np.argwhere(out[0] == 1)[0]) == moved
    back = filtering.apply(dot(), w, padding=1, flip=True)  # true convolution: the other way
    assert tuple(np.argwhere(back[0] == 1)[0]) == (6 - moved[0], 6 - moved[1])


def test_moved_by_finds_the_shift_and_nothing_else():
    x = np.random.default_rng(2).uniform(0, 255, size=(3, 20, 24))
    for name, move in [("shift_left", (0, -1)), ("shift_up", (-1, 0)), ("identity", (0, 0))]:
        assert filtering.moved_by(x, filtering.apply(x, kernels.make(name))) == move
        back = filtering.apply(x, kernels.make(name), flip=True)
        assert filtering.moved_by(x, back) == (-move[0], -move[1])
    assert filtering.moved_by(x, filtering.apply(x, kernels.make("box_blur"))) is None
    assert filtering.moved_by(x, filtering.apply(x, kernels.make("shift_left"), repeat=2)) == (0, -2)


def test_gallery_kernels_by_hand():
    np.testing.assert_array_equal(kernels.make("gaussian") * 16, [[1, 2, 1], [2, 4, 2], [1, 2, 1]])
    np.testing.assert_allclose(kernels.make("sharpen"), 2 * kernels.identity(3) - np.ones((3, 3)) / 9)
    np.testing.assert_allclose(kernels.make("box_blur", 5), np.full((5, 5), 0.04))
    for name in kernels.GALLERY:
        for k in kernels.GALLERY[name].sizes:
            w = kernels.make(name, k)
            assert w.shape == (k, k)
            if name in {"box_blur", "gaussian", "sharpen", "identity"} or name.startswith("shift"):
                assert w.sum() == pytest.approx(1.0)  # brightness kept
    with pytest.raises(ValueError, match="sizes"):
        kernels.make("sobel_x", 5)
    with pytest.raises(KeyError, match="kernel must be one of"):
        kernels.make("nope")


def test_normalise():
    np.testing.assert_allclose(kernels.normalise(np.ones((3, 3))), np.ones((3, 3)) / 9)
    np.testing.assert_allclose(kernels.normalise(kernels.make("sobel_x")).clip(0).sum(), 1.0)
    np.testing.assert_array_equal(kernels.normalise(np.zeros((2, 2))), 0)


def test_centred_places_and_crops():
    w = kernels.centred(kernels.make("sobel_x"), 5)
    np.testing.assert_array_equal(w[1:4, 1:4], kernels.make("sobel_x"))
    assert w.sum() == 0 and np.abs(w).sum() == 8
    np.testing.assert_array_equal(kernels.centred(kernels.make("laplacian"), 1), [[-4]])


# ---- the step-by-step trace --------------------------------------------------------------------

LECTURE_X = np.array([[3, 3, 2, 1, 0, 1, 2], [0, 0, 1, 3, 1, 2, 1], [3, 1, 2, 2, 3, 0, 1],
                      [2, 0, 0, 2, 2, 1, 0], [2, 0, 0, 0, 1, 3, 2], [1, 2, 3, 0, 1, 1, 0],
                      [0, 1, 2, 1, 0, 2, 3]], dtype=float)
LECTURE_W = np.array([[0, 1, 2], [2, 2, 0], [0, 1, 2]], dtype=float)


def test_the_lecture_7x7_first_window_by_hand():
    t = conv_trace.trace(LECTURE_X, LECTURE_W)
    assert t.out.shape == (5, 5) and t.positions == 25
    first = t.window(0, 0)
    # 3·0 + 3·1 + 2·2 + 0·2 + 0·2 + 1·0 + 3·0 + 1·1 + 2·2 = 12
    np.testing.assert_array_equal(first["products"][0], [[0, 3, 4], [0, 0, 0], [0, 1, 4]])
    assert first["sum"] == 12.0
    assert t.window(4, 4)["rows"] == [4, 5, 6] and t.position(24) == (4, 4)


CASES = [
    # (C, H, W, kh, kw, stride, padding, dilation, mode, flip, bias)
    (1, 7, 7, 3, 3, 1, 0, 1, "zeros", False, 0.0),
    (1, 8, 8, 3, 3, 3, 0, 1, "zeros", True, 0.5),
    (3, 9, 6, 2, 3, 2, "same", 1, "reflect", False, -1.0),
    (2, 6, 7, 3, 3, 1, 2, 2, "circular", True, 0.0),
    (1, 5, 5, 4, 4, 1, "same", 1, "replicate", False, 2.0),
    (1, 16, 16, 7, 7, 4, 7, 1, "zeros", False, 0.0),
]


@pytest.mark.parametrize("case", CASES)
def test_trace_terms_add_up_to_the_plain_loop(case):
    C, H, W, kh, kw, s, p, d, mode, flip, b = case
    rng = np.random.default_rng(3)
    x, w = rng.integers(-5, 6, (C, H, W)).astype(float), rng.integers(-3, 4, (C, kh, kw)).astype(float)
    t = conv_trace.trace(x, w, b, s, p, d, mode, flip)
    naive = conv.conv2d_naive(x[None], w[None], np.array([b]), s, p, d, mode, flip)[0, 0]
    np.testing.assert_allclose(t.out, naive, atol=1e-12)
    np.testing.assert_allclose(t.products.sum(axis=(2, 3, 4)) + b, naive, atol=1e-12)
    i, j = t.position(t.positions - 1)
    win = t.window(i, j)
    np.testing.assert_allclose(win["values"] * t.applied, win["products"])
    np.testing.assert_allclose(t.padded[:, win["rows"]][:, :, win["cols"]], win["values"])


@pytest.mark.parametrize("case", CASES)
def test_conv2d_taps_equals_the_plain_loop(case):
    C, H, W, kh, kw, s, p, d, mode, flip, b = case
    rng = np.random.default_rng(4)
    x, w = rng.normal(size=(2, C, H, W)), rng.normal(size=(3, C, kh, kw))
    bias = np.array([b, 1.0, -2.0])
    np.testing.assert_allclose(conv.conv2d_taps(x, w, bias, s, p, d, mode, flip),
                               conv.conv2d_naive(x, w, bias, s, p, d, mode, flip), atol=1e-12)


def test_the_floor_and_the_lines_it_throws_away():
    """8 pixels, k = 3, stride 3: ⌊(8 − 2 − 1) / 3⌋ + 1 = 2 outputs, remainder 2: the last two
    rows are never under the window."""
    t = conv_trace.trace(np.ones((8, 8)), np.ones((3, 3)), stride=3)
    h = t.height
    assert (h.numerator, h.out, h.remainder) == (5, 2, 2)
    np.testing.assert_array_equal(t.rows_used, [True] * 6 + [False] * 2)
    t = conv_trace.trace(np.ones((7, 7)), np.ones((1, 1)), stride=2)  # 1×1 at stride 2 skips odd rows
    np.testing.assert_array_equal(t.rows_used, [True, False] * 3 + [True])
    assert conv_trace.axis_size(5, 7, (0, 0)).out <= 0  # the kernel does not fit


def test_padding_sources():
    t = conv_trace.trace(np.zeros((4, 5)), np.ones((3, 3)), padding=2, mode="reflect")
    np.testing.assert_array_equal(t.source_rows, [2, 1, 0, 1, 2, 3, 2, 1])
    t = conv_trace.trace(np.zeros((4, 5)), np.ones((3, 3)), padding=1, mode="zeros")
    np.testing.assert_array_equal(t.source_cols, [-1, 0, 1, 2, 3, 4, -1])
    t = conv_trace.trace(np.zeros((4, 4)), np.ones((3, 3)), padding=2, mode="circular")
    np.testing.assert_array_equal(t.source_rows, [2, 3, 0, 1, 2, 3, 0, 1])


def test_same_with_stride_two_is_tensorflows_ceil():
    same = conv_trace.same_explained(7, 3, 2)
    assert same == {"n": 7, "stride": 2, "out": 4, "total": 2, "before": 1, "after": 1}
    assert conv_trace.same_explained(8, 3, 2) == {"n": 8, "stride": 2, "out": 4, "total": 1,
                                                  "before": 0, "after": 1}
    t = conv_trace.trace(np.ones((8, 8)), np.ones((3, 3)), stride=2, padding="same")
    assert t.out.shape == (4, 4)


# ---- filtering, the layer, the calculator ------------------------------------------------------


def test_filtering_is_per_channel_and_repeats():
    x = np.random.default_rng(0).uniform(0, 255, size=(3, 12, 10))
    w = kernels.make("sobel_x")
    out = filtering.apply(x, w, padding=1, mode="replicate")
    for c in range(3):
        np.testing.assert_allclose(out[c], conv.conv2d_naive(x[None, c:c + 1], w[None, None], padding=1,
                                                             mode="replicate")[0, 0], atol=1e-9)
    # a 3×3 box blur twice is one 5×5 triangle kernel (away from the borders)
    twice = filtering.apply(x, kernels.make("box_blur"), padding=0, repeat=2)
    tri = np.convolve(np.ones(3), np.ones(3)) / 9
    once = filtering.apply(x, np.outer(tri, tri), padding=0)
    np.testing.assert_allclose(twice, once, atol=1e-9)
    assert filtering.receptive_field(3, 1) == 3 and filtering.receptive_field(3, 7) == 15
    assert filtering.receptive_field(3, 2, stride=2) == 7


def test_layer_channel_responses_add_up():
    x = images.load("astronaut", "rgb", (32, 32))
    w, b, names = conv_volume.designed_filters(6, 5)
    b = np.arange(6.0)
    lt = conv_volume.layer(x, w, b, padding=2)
    assert lt.out.shape == (6, 32, 32) and lt.per_channel.shape == (6, 3, 32, 32)
    np.testing.assert_allclose(lt.per_channel.sum(axis=1) + b[:, None, None], lt.out, atol=1e-9)
    assert lt.parameters == {"weights_per_filter": 75, "weights": 450, "biases": 6, "total": 456}
    assert names[0] == "vertical edges"
    assert conv_volume.layer(x, w, b).out.shape == (6, 28, 28)  # no padding: 32 − 5 + 1
    wr, _, _ = conv_volume.random_filters(4, 3, 3, seed=7)
    np.testing.assert_array_equal(wr, conv_volume.random_filters(4, 3, 3, seed=7)[0])
    x2 = np.random.default_rng(1).normal(size=(3, 9, 8))
    lt = conv_volume.layer(x2, wr, None, stride=2, padding=1, flip=True)
    naive = conv.conv2d_naive(x2[None], wr, None, 2, 1, 1, "zeros", True)[0]
    np.testing.assert_allclose(lt.out, naive, atol=1e-12)
    np.testing.assert_allclose(lt.per_channel.sum(axis=1), lt.out, atol=1e-12)


def test_the_lecture_parameter_question():
    r = conv_params.compare(224, 224, 3, units=1024, filters=1024, kh=3)
    fc, cv = r["fully_connected"], r["convolutional"]
    assert fc["weights"] == 150_528 * 1024 and fc["parameters"] == 154_141_696
    assert cv["weights"] == 27_648 and cv["biases"] == 1024 and cv["parameters"] == 28_672
    assert "154,141,696" in fc["written"] and "28,672" in cv["written"]
    assert cv["output"] == [224, 224, 1024] and cv["activations"] == 224 * 224 * 1024
    assert fc["activation_bytes"] == 4096
    valid = conv_params.convolutional(32, 32, 3, 6, 5, 5, padding=0)
    assert valid["output"] == [28, 28, 6]
    with pytest.raises(ValueError, match="does not fit"):
        conv_params.convolutional(4, 4, 3, 1, 7, 7, padding=0)
