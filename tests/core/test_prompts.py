"""The prompt transforms: a prompt at image pixel (x, y) reaches the model frame at the right place for
any image size and aspect ratio, and a mask over the model frame comes back aligned with the image."""

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from segview.core.prompts import (
    LONG_SIDE,
    PromptSet,
    from_model_frame,
    image_to_frame,
    logits_to_image,
    logits_to_mask,
    prompt_arrays,
    resized_shape,
    to_model_frame,
)

sizes = st.integers(min_value=1, max_value=6000)
long_sides = st.sampled_from([256, 1024])
stretches = st.booleans()  # SAM pads the image into the square frame; the SAM 2 family stretches it to fill it


@st.composite
def image_points(draw):
    height, width = draw(sizes), draw(sizes)
    x = draw(st.floats(0, width, exclude_max=True))
    y = draw(st.floats(0, height, exclude_max=True))
    return height, width, x, y


@given(sizes, sizes, long_sides)
def test_the_longer_side_fills_the_frame(height, width, long_side):
    new_h, new_w = resized_shape(height, width, long_side)
    assert max(new_h, new_w) == long_side
    assert 1 <= min(new_h, new_w) <= long_side
    # both sides are scaled alike, to within SAM's rounding (or one pixel at least)
    scale = long_side / max(height, width)
    assert abs(new_h - height * scale) <= 0.5 or new_h == 1
    assert abs(new_w - width * scale) <= 0.5 or new_w == 1


@given(sizes, sizes, long_sides)
def test_a_stretched_image_fills_the_whole_frame(height, width, long_side):
    assert resized_shape(height, width, long_side, stretch=True) == (long_side, long_side)


@given(image_points(), long_sides, stretches)
def test_a_point_lands_inside_the_images_part_of_the_frame_and_comes_back(point, long_side, stretch):
    height, width, x, y = point
    new_h, new_w = resized_shape(height, width, long_side, stretch)
    fx, fy = to_model_frame(np.array([x, y]), height, width, long_side, stretch)
    assert 0 <= fx <= new_w and 0 <= fy <= new_h
    # relative position is kept: the same fraction of the image's width and height
    assert fx / new_w == pytest.approx(x / width, abs=1e-9)
    assert fy / new_h == pytest.approx(y / height, abs=1e-9)
    bx, by = from_model_frame(np.array([fx, fy]), height, width, long_side, stretch)
    assert (bx, by) == pytest.approx((x, y), rel=1e-9, abs=1e-9)


@st.composite
def pixel_centres(draw):
    height, width = draw(sizes), draw(sizes)
    column, row = draw(st.integers(0, width - 1)), draw(st.integers(0, height - 1))
    return height, width, column + 0.5, row + 0.5


@given(pixel_centres(), stretches)
def test_a_blob_at_the_prompt_in_the_frame_comes_back_under_the_prompt(point, stretch):
    """The decoder answers with logits over the frame (256 × 256 for SAM): a blob drawn there at the
    frame position of a click on a pixel must cover that pixel once mapped back to the image."""
    height, width, x, y = point
    size = 256
    fx, fy = to_model_frame(np.array([x, y]), height, width, stretch=stretch) * (size / LONG_SIDE)
    rows, cols = np.mgrid[0:size, 0:size]
    radius = 3.0
    logits = (radius**2 - ((cols + 0.5 - fx) ** 2 + (rows + 0.5 - fy) ** 2)).astype(np.float32)
    mask = logits_to_image(logits, height, width, stretch=stretch) > 0
    assert mask.shape == (height, width)
    assert mask[int(y), int(x)]
    # and it is local: a blob of ~3 logits-pixels (12 frame pixels) covers a small part of a large image
    ys, xs = np.nonzero(mask)
    reach_x, reach_y = ((width, height) if stretch else (max(height, width),) * 2)
    assert np.abs(xs + 0.5 - x).max() <= 4 * radius * 4 * reach_x / LONG_SIDE + 2
    assert np.abs(ys + 0.5 - y).max() <= 4 * radius * 4 * reach_y / LONG_SIDE + 2


@given(sizes, sizes)
def test_the_frame_holds_the_image_top_left_and_zeros_elsewhere(height, width):
    height, width = min(height, 1500), min(width, 1500)  # keeps the test fast; the shapes are what matter
    image = np.full((height, width, 3), 200, np.uint8)
    frame = image_to_frame(image, 256)
    new_h, new_w = resized_shape(height, width, 256)
    assert frame.shape == (256, 256, 3) and frame.dtype == np.float32
    assert np.all(frame[:new_h, :new_w] == 200)
    assert np.all(frame[new_h:] == 0) and np.all(frame[:, new_w:] == 0)
    assert np.all(image_to_frame(image, 256, stretch=True) == 200)  # stretched: the image everywhere


def test_prompt_arrays_scale_points_and_box_and_clip_to_the_image():
    prompts = PromptSet().with_point(100, 50).with_point(-10, 400, positive=False).with_box(300, 10, 20, 150)
    points, labels, box = prompt_arrays(prompts, height=200, width=400)  # frame: 512 × 1024 of 1024
    assert points.ravel().tolist() == pytest.approx([256.0, 128.0, 0.0, 512.0])
    assert labels.tolist() == [1, 0]
    assert box.tolist() == pytest.approx([51.2, 25.6, 768.0, 384.0])


def test_an_empty_prompt_is_false_and_a_box_alone_is_a_prompt():
    assert not PromptSet()
    assert PromptSet().with_box(0, 0, 5, 5)
    assert PromptSet().with_point(1, 1).points == ((1.0, 1.0, True),)


@given(sizes, sizes, st.integers(0, 2**32 - 1), stretches)
@example(1, 1, 255, False)  # a 1x1 image whose one sample misses the positive logits: an empty mask, not an IndexError
def test_the_cropped_mask_is_the_full_resampling_thresholded(height, width, seed, stretch):
    """logits_to_mask resamples only the object's box: the same pixels as the whole image's resampling."""
    import cv2

    height, width = min(height, 2500), min(width, 2500)  # keeps the test fast; scale factors still vary
    rng = np.random.default_rng(seed)
    logits = cv2.resize(rng.normal(size=(8, 8)).astype(np.float32), (256, 256)) * 10 - rng.uniform(0, 15)
    full = logits_to_image(logits, height, width, stretch=stretch) > 0
    crop = logits_to_mask(logits, height, width, stretch=stretch)
    assert np.array_equal(crop.to_full(height, width), full)
    if full.any():
        assert crop.mask[0].any() and crop.mask[-1].any() and crop.mask[:, 0].any() and crop.mask[:, -1].any()
