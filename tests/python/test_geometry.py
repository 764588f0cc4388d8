"""openpose_tf.geometry: OpenPose's net input sizes, scales, scaleNetToOutput, input warp and
keepTopNPeople, against the spec's worked example and hand-computed cases."""

import cv2
import numpy as np
import pytest

from openpose_tf import geometry


def test_openpose_worked_example_1920x1080():
    # Spec 6.2/6.5: 1920x1080 with -1x368 -> 656x368, scaleInputToNet 367/1079, netSize (653, 367),
    # scaleNetToOutput min(1919/652, 1079/366) = 2.943252.
    assert geometry.net_input_size(1920, 1080, "-1x368") == (656, 368)
    [scale] = geometry.scale_sizes(1920, 1080, (656, 368))
    assert (scale.width, scale.height) == (656, 368)
    assert scale.input_to_net == pytest.approx(367 / 1079, rel=1e-15)
    assert geometry.scale_net_to_output(1920, 1080, (656, 368)) == np.float32(1919 / 652)


def test_net_sizes_and_scales():
    assert geometry.net_input_size(1080, 1920, "-1x368") == (208, 368)  # portrait
    assert geometry.net_input_size(4000, 1000, "-1x368", dynamic=1.0) == (656, 368)  # 16:9 cap
    assert geometry.net_input_size(4000, 1000, "-1x368", dynamic=-1) == (1472, 368)
    assert geometry.net_input_size(640, 480, "656x-1", dynamic=-1) == (656, 496)
    assert geometry.net_input_size(640, 480, "656x368") == (656, 368)
    scales = geometry.scale_sizes(1920, 1080, (656, 368), scale_number=3, scale_gap=0.25)
    assert [(s.width, s.height) for s in scales] == [(656, 368), (480, 272), (320, 176)]
    assert scales[1].input_to_net == pytest.approx(min(479 / 1919, 271 / 1079))


@pytest.mark.parametrize("resolution,pattern", [
    ("650x368", "multiples of 16"), ("-1x-1", "only one"), ("368", "WIDTHxHEIGHT")])
def test_resolution_errors(resolution, pattern):
    with pytest.raises(ValueError, match=pattern):
        geometry.net_input_size(640, 480, resolution)


def test_scale_errors():
    with pytest.raises(ValueError, match=r"all scales must lie in \[0, 1\]"):
        geometry.scale_sizes(640, 480, (496, 368), scale_number=5, scale_gap=0.3)
    with pytest.raises(ValueError, match="scale_number must be >= 1"):
        geometry.scale_sizes(640, 480, (496, 368), scale_number=0)


@pytest.mark.parametrize("size", [(37, 53), (480, 640), (700, 300)])
def test_warp_matches_opencv_with_openposes_matrix(size):
    rng = np.random.default_rng(size[0])
    image = rng.integers(0, 256, size + (3,), dtype=np.uint8)
    net = geometry.net_input_size(size[1], size[0], "-1x368")
    for scale in geometry.scale_sizes(size[1], size[0], net, 2, 0.25):
        got = geometry.warp_input(image, scale)
        s = scale.input_to_net
        flags = cv2.INTER_CUBIC if s > 1 else cv2.INTER_LINEAR
        want = cv2.warpAffine(image, np.array([[s, 0, 0], [0, s, 0]]),
                              (scale.width, scale.height), flags=flags,
                              borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0))
        np.testing.assert_array_equal(got, want)
        # Anchored top-left: the padding is at the right or bottom, black.
        assert got.shape == (scale.height, scale.width, 3)
        margin = int(2 * max(s, 1)) + 2  # the interpolation kernel's reach past the last pixel
        assert not got[round(s * (size[0] - 1)) + margin:].any()
        assert not got[:, round(s * (size[1] - 1)) + margin:].any()


def test_keep_top_people_as_openpose():
    def person(x0, y0, x1, y1):
        return np.array([[x0, y0, 1.0], [x1, y1, 1.0], [0, 0, 0.0]], np.float32)

    people = np.stack([person(0, 0, 1, 1), person(0, 0, 10, 10), person(0, 0, 10, 10),
                       person(0, 0, 10, 10), person(0, 0, 20, 20)])
    scores = np.array([1, 0.5, 0.5, 0.5, 1], np.float32)
    # Final scores 1, 5, 5, 5, 20: with 2 kept, 20 and the first 5 (OpenPose's tie rule).
    np.testing.assert_array_equal(geometry.keep_top_people(people, scores, 2), [1, 4])
    np.testing.assert_array_equal(geometry.keep_top_people(people, scores, -1), range(5))
    np.testing.assert_array_equal(geometry.keep_top_people(people, scores, 9), range(5))
    # OpenPose's box starts at max 0: all-negative coordinates still span up to 0.
    assert geometry._box_area(person(-4, -4, -2, -2)) == 16
