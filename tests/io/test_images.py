"""Reading images: every mode to 8-bit RGB, EXIF rotation, and every failure as ImageReadError."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageFile

from segview.errors import ImageReadError
from segview.io import images
from segview.io.images import is_image_file, read_image, read_image_size, to_rgb8
from segview.io.pixel_budget import PixelBudgetError

RNG_IMAGE = np.random.default_rng(7).integers(0, 256, (48, 64, 3), dtype=np.uint8)


def _save(image: Image.Image, path: Path, **params) -> Path:
    image.save(path, **params)
    return path


def _encoded(fmt: str, size: tuple[int, int] = (64, 48)) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(RNG_IMAGE[: size[1], : size[0]]).save(buffer, fmt)
    return buffer.getvalue()


def _png_claiming(width: int, height: int) -> bytes:
    """A tiny valid 1×1 PNG whose IHDR is patched to claim width × height (CRC fixed)."""
    data = bytearray(_encoded("PNG", (1, 1)))
    assert data[12:16] == b"IHDR"
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


# --- failures ------------------------------------------------------------------------------------


def test_pillow_truncated_loading_stays_off():
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_missing_file(tmp_path):
    path = tmp_path / "nope.png"
    for reader in (read_image, read_image_size):
        with pytest.raises(ImageReadError, match="not found.*nope.png"):
            reader(path)


def test_folder_is_not_an_image(tmp_path):
    with pytest.raises(ImageReadError, match="is a folder"):
        read_image(tmp_path)


def test_text_file_is_not_an_image(tmp_path):
    path = tmp_path / "notes.png"
    path.write_text("these are not pixels\n" * 20)
    for reader in (read_image, read_image_size):
        with pytest.raises(ImageReadError, match=r"notes\.png is not an image"):
            reader(path)


def test_zero_byte_file(tmp_path):
    path = tmp_path / "empty.jpg"
    path.write_bytes(b"")
    with pytest.raises(ImageReadError, match=r"empty\.jpg is empty \(0 bytes\)"):
        read_image(path)


@pytest.mark.parametrize("fmt, suffix", [("JPEG", ".jpg"), ("PNG", ".png")])
def test_truncated_file(tmp_path, fmt, suffix):
    data = _encoded(fmt)
    path = tmp_path / f"cut{suffix}"
    path.write_bytes(data[: len(data) // 2])
    assert read_image_size(path) == (64, 48)  # the header survived: the size is still known
    with pytest.raises(ImageReadError, match=rf"cut\{suffix} is truncated or corrupt"):
        read_image(path)


def test_decompression_bomb_header_is_refused_without_decoding(tmp_path):
    path = tmp_path / "bomb.png"
    path.write_bytes(_png_claiming(100_000, 100_000))  # 10^10 pixels: 30 GB if it were allocated
    for reader in (read_image, read_image_size):
        with pytest.raises(ImageReadError, match=r"bomb\.png is too large"):
            reader(path)


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")  # the app filters it (images.py)
def test_the_pixel_budget_is_checked_from_the_header_and_says_how_to_raise_it(tmp_path, max_pixels):
    path = tmp_path / "big.png"
    path.write_bytes(_png_claiming(4000, 3000))  # a 12 MP header over a 1-pixel body
    max_pixels(10_000_000)
    for reader in (read_image, read_image_size):
        with pytest.raises(PixelBudgetError, match=r"big\.png is too large.*budget of 10 megapixels.*--max-pixels"):
            reader(path)
    max_pixels(12_000_000)  # exactly the budget is allowed; Pillow's bomb limit moved with it
    assert read_image_size(path) == (4000, 3000)


def test_pillows_bomb_limit_is_the_pixel_budget(tmp_path, max_pixels):
    max_pixels(1000)
    assert 2 * Image.MAX_IMAGE_PIXELS == 1000
    path = _save(Image.fromarray(np.zeros((40, 30, 3), np.uint8)), tmp_path / "a.png")  # 1200 pixels
    with pytest.raises(PixelBudgetError, match="budget of 0.001 megapixels"):
        read_image(path)


@pytest.mark.parametrize(
    "error", [Image.DecompressionBombError("bomb"), OSError("disk gone"), SyntaxError("broken PNG file")]
)
def test_errors_while_decoding_become_image_read_errors(tmp_path, monkeypatch, error):
    path = _save(Image.fromarray(RNG_IMAGE), tmp_path / "a.png")

    def failing_load(self):
        raise error

    monkeypatch.setattr(ImageFile.ImageFile, "load", failing_load)
    with pytest.raises(ImageReadError, match=r"a\.png is truncated or corrupt") as info:
        read_image(path)
    assert info.value.__cause__ is error


@pytest.mark.filterwarnings("ignore::UserWarning:PIL.TiffImagePlugin")
@settings(max_examples=150)
@given(data=st.binary(max_size=2048), suffix=st.sampled_from([".png", ".jpg"]))
def test_random_bytes_give_an_array_or_image_read_error(tmp_path_factory, data, suffix):
    path = tmp_path_factory.mktemp("fuzz") / f"x{suffix}"
    path.write_bytes(data)
    _array_or_image_read_error(path)


@pytest.mark.filterwarnings("ignore::UserWarning:PIL.TiffImagePlugin")  # Pillow's notes on damaged TIFF tags
@settings(max_examples=150)
@given(
    fmt=st.sampled_from(["PNG", "JPEG", "TIFF"]),
    cut=st.integers(8, 4000),
    flips=st.lists(st.tuples(st.integers(0, 4000), st.integers(0, 255)), max_size=6),
)
def test_damaged_real_files_give_an_array_or_image_read_error(tmp_path_factory, fmt, cut, flips):
    data = bytearray(_encoded(fmt, (24, 16))[:cut])
    for position, value in flips:
        if position < len(data):
            data[position] = value
    path = tmp_path_factory.mktemp("fuzz") / f"x.{fmt.lower()}"
    path.write_bytes(bytes(data))
    _array_or_image_read_error(path)


def _array_or_image_read_error(path: Path) -> None:
    try:
        array = read_image(path)
    except ImageReadError:
        return
    assert array.dtype == np.uint8 and array.ndim == 3 and array.shape[2] == 3
    assert read_image_size(path) == (array.shape[1], array.shape[0])


# --- modes ---------------------------------------------------------------------------------------


def test_rgb_png_round_trips(tmp_path):
    path = _save(Image.fromarray(RNG_IMAGE), tmp_path / "rgb.png")
    assert np.array_equal(read_image(path), RNG_IMAGE)
    assert read_image_size(path) == (64, 48)


def test_encoded_bytes_are_read_and_named_in_errors():
    assert np.array_equal(read_image(_encoded("PNG")), RNG_IMAGE)
    assert read_image_size(_encoded("JPEG")) == (64, 48)
    with pytest.raises(ImageReadError, match="imageData of a.json is not an image"):
        read_image(b"garbage" * 10, name="imageData of a.json")


def test_16_bit_grayscale_png_scales_full_range(tmp_path):
    values = np.array([[0, 257, 257 * 100, 65535]], dtype=np.uint16)
    path = _save(Image.fromarray(values), tmp_path / "deep.png")
    assert Image.open(path).mode == "I;16"
    rgb = read_image(path)
    assert rgb.shape == (1, 4, 3)
    assert rgb[0, :, 0].tolist() == [0, 1, 100, 255]
    assert np.array_equal(rgb[..., 0], rgb[..., 2])


def test_32_bit_integer_tiff_is_stretched(tmp_path):
    values = np.array([[0, 500, 1000]], dtype=np.int32)
    path = _save(Image.fromarray(values), tmp_path / "int.tif")
    assert Image.open(path).mode == "I"
    assert read_image(path)[0, :, 1].tolist() == [0, 128, 255]


def test_float_tiff_is_stretched_and_non_finite_is_black(tmp_path):
    values = np.array([[0.0, 0.25, 1.0, np.nan, np.inf]], dtype=np.float32)
    path = _save(Image.fromarray(values), tmp_path / "float.tif")
    assert Image.open(path).mode == "F"
    assert read_image(path)[0, :, 0].tolist() == [0, 64, 255, 0, 0]


def test_grayscale_and_one_bit(tmp_path):
    gray = np.array([[0, 77, 255]], dtype=np.uint8)
    rgb = read_image(_save(Image.fromarray(gray), tmp_path / "l.png"))
    assert rgb.tolist() == [[[0, 0, 0], [77, 77, 77], [255, 255, 255]]]
    bits = Image.fromarray(np.array([[True, False]])).convert("1")
    assert read_image(_save(bits, tmp_path / "one.png")).tolist() == [[[255, 255, 255], [0, 0, 0]]]


def test_palette_without_and_with_transparency(tmp_path):
    image = Image.fromarray(np.array([[0, 1, 2]], dtype=np.uint8), mode="P")
    image.putpalette([10, 20, 30, 200, 100, 50, 0, 0, 255])
    plain = read_image(_save(image, tmp_path / "p.png"))
    assert plain.tolist() == [[[10, 20, 30], [200, 100, 50], [0, 0, 255]]]
    see_through = read_image(_save(image, tmp_path / "pt.png", transparency=1))
    assert see_through.tolist() == [[[10, 20, 30], [255, 255, 255], [0, 0, 255]]]


def test_alpha_is_composited_on_white(tmp_path):
    rgba = np.array([[[200, 0, 0, 255], [200, 0, 0, 0], [0, 0, 0, 128]]], dtype=np.uint8)
    assert read_image(_save(Image.fromarray(rgba), tmp_path / "a.png")).tolist() == [
        [[200, 0, 0], [255, 255, 255], [127, 127, 127]]
    ]
    la = Image.fromarray(rgba[..., [0, 3]], mode="LA")
    assert read_image(_save(la, tmp_path / "la.png")).tolist() == [
        [[200, 200, 200], [255, 255, 255], [127, 127, 127]]
    ]


def test_cmyk_jpeg(tmp_path):
    path = _save(Image.new("CMYK", (16, 8), (0, 255, 255, 0)), tmp_path / "cmyk.jpg", quality=95)
    assert Image.open(path).mode == "CMYK"
    rgb = read_image(path).astype(int)
    assert rgb.shape == (8, 16, 3)
    assert np.abs(rgb - [255, 0, 0]).max() <= 3


def test_unsupported_mode_is_explained(tmp_path, monkeypatch):
    path = _save(Image.fromarray(RNG_IMAGE), tmp_path / "odd.png")
    with pytest.raises(ValueError):
        to_rgb8(Image.new("La", (2, 2)))

    def unsupported(image):
        raise ValueError("conversion from RGB to RGB not supported")

    monkeypatch.setattr(images, "to_rgb8", unsupported)
    with pytest.raises(ImageReadError, match=r"odd\.png has pixel mode RGB.*Convert it to RGB"):
        read_image(path)


@pytest.mark.parametrize("orientation, k", [(6, -1), (8, 1)])
@pytest.mark.parametrize("fmt, suffix", [("JPEG", ".jpg"), ("PNG", ".png")])
def test_exif_orientation(tmp_path, orientation, k, fmt, suffix):
    stored = np.zeros((24, 40, 3), dtype=np.uint8)
    stored[:8, :8] = 255  # a white block in the stored top-left corner
    image = Image.fromarray(stored)
    exif = image.getexif()
    exif[0x0112] = orientation
    path = _save(image, tmp_path / f"o{orientation}{suffix}", exif=exif, quality=95)
    rgb = read_image(path)
    assert rgb.shape == (40, 24, 3)
    assert read_image_size(path) == (24, 40)  # (width, height) as displayed, like the array
    expected = np.rot90(stored, k)  # 6: rotate clockwise to display; 8: counter-clockwise
    assert np.abs(rgb.astype(int) - expected).max() <= 40


def test_is_image_file():
    assert is_image_file("a/b.JPG") and is_image_file("x.tiff")
    assert not is_image_file("x.json") and not is_image_file("png")


@pytest.mark.parametrize("fmt,suffix", [("JPEG", ".jpg"), ("PNG", ".png")])
def test_thumbnail_is_small_rotated_and_close_to_the_image(tmp_path, fmt, suffix):
    yy, xx = np.mgrid[0:400, 0:600]
    gradient = np.stack([xx * 255 // 599, yy * 255 // 399, np.full_like(xx, 128)], axis=2).astype(np.uint8)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise when shown
    path = _save(Image.fromarray(gradient), tmp_path / f"big{suffix}", exif=exif.tobytes())
    full = read_image(path)
    thumb = images.read_thumbnail(path, 64)
    assert max(thumb.shape[:2]) == 64 and thumb.shape[0] > thumb.shape[1]  # portrait once rotated
    small = np.asarray(Image.fromarray(full).resize((thumb.shape[1], thumb.shape[0]), Image.Resampling.BOX))
    assert np.abs(small.astype(int) - thumb.astype(int)).mean() < 8


def test_thumbnail_of_a_truncated_file_is_an_image_read_error(tmp_path):
    path = tmp_path / "cut.jpg"
    path.write_bytes(_encoded("JPEG", (64, 48))[:200])
    with pytest.raises(ImageReadError, match="cut.jpg"):
        images.read_thumbnail(path, 32)
