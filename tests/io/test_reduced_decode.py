"""A big JPEG decodes reduced (the preview the window shows first); other formats say they cannot."""

import numpy as np
from PIL import Image

from segview.io.images import read_image, read_reduced


def test_a_jpeg_decodes_at_a_power_of_two_scale_with_its_exif_rotation(tmp_path):
    rgb = np.zeros((600, 800, 3), np.uint8)
    rgb[:, :400] = (200, 40, 40)
    path = tmp_path / "photo.jpg"
    Image.fromarray(rgb).save(path, quality=95)
    reduced = read_reduced(path, 200)
    assert reduced.shape == (150, 200, 3)  # 1/4: the smallest scale still 200 pixels long
    assert reduced[75, 40, 0] > 150 and reduced[75, 160, 0] < 60
    rotated = tmp_path / "rotated.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # displayed turned a quarter
    Image.fromarray(rgb).save(rotated, quality=95, exif=exif)
    assert read_reduced(rotated, 200).shape[:2] == (200, 150)
    assert read_image(rotated).shape[:2] == (800, 600)


def test_formats_without_reduced_decoding_give_none(tmp_path):
    path = tmp_path / "mask.png"
    Image.fromarray(np.zeros((60, 80, 3), np.uint8)).save(path)
    assert read_reduced(path, 20) is None
