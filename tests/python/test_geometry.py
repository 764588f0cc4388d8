"""openpose_tf.geometry (TensorFlow, the only geometry the pipeline runs) against OpenPose's
formulas: the worked example of docs/algorithms.md#back-to-image-pixels (1920x1080) and
hand-computed cases as numbers, and every branch (a -1 width or height, fixed sizes, the dynamic
cap or none, 1-4 scales, portrait, landscape, odd and 1-pixel sizes) against the NumPy
transcription of OpenPose's code in geometry_reference.py, both eagerly and inside a traced
graph."""

import cv2
import numpy as np
import pytest
import tensorflow as tf

import geometry_reference as reference
from openpose_tf import geometry

SIZES = [(1920, 1080), (1080, 1920), (1, 1), (1, 480), (640, 1), (2, 2), (37, 53), (333, 251),
         (4000, 1000), (1000, 4000), (656, 368), (1001, 677), (17, 3000)]
RESOLUTIONS = [("-1x368", 1.0), ("-1x368", -1.0), ("-1x368", 0.5), ("656x-1", 1.0),
               ("656x-1", -1.0), ("656x368", 1.0), ("320x176", -1.0), ("-1x16", 1.0)]
SCALES = [(1, 0.25), (2, 0.3), (3, 0.25), (4, 0.25)]


def test_openpose_worked_example_1920x1080():
    # 1920x1080 with -1x368 -> 656x368, scaleInputToNet 367/1079, netSize (653, 367),
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
    # A 1-pixel dimension has no corner-aligned ratio: OpenPose takes the other one (or 1).
    assert geometry.resize_scale_factor((1, 480), (16, 368)) == 367 / 479
    assert geometry.resize_scale_factor((1, 1), (16, 16)) == 1.0


@pytest.mark.parametrize("resolution,dynamic", RESOLUTIONS)
def test_every_branch_equals_openposes_formulas(resolution, dynamic):
    checked = 0
    for width, height in SIZES:
        net = reference.net_input_size(width, height, resolution, dynamic)
        assert geometry.net_input_size(width, height, resolution, dynamic) == net
        for number, gap in SCALES:
            want = reference.scale_sizes(width, height, net, number, gap)
            got = geometry.scale_sizes(width, height, net, number, gap)
            assert [(s.width, s.height, s.input_to_net) for s in got] == \
                [(s.width, s.height, s.input_to_net) for s in want]
            checked += 1
        assert geometry.scale_net_to_output(width, height, net) == \
            reference.scale_net_to_output(width, height, net)
    assert checked == len(SIZES) * len(SCALES)


def test_the_same_numbers_inside_a_graph():
    """The pipeline traces the geometry with unknown image sizes: same numbers as eagerly."""
    @tf.function(input_signature=[tf.TensorSpec([], tf.int32)] * 2)
    def traced(width, height):
        net_w, net_h = geometry.net_size(width, height, "-1x368", 1.0)
        out = geometry.scales(width, height, net_w, net_h, 3, 0.25)
        return [tf.stack([tf.cast(w, tf.float64), tf.cast(h, tf.float64), s]) for w, h, s in out], \
            geometry.net_to_output(width, height, out[0][0], out[0][1])

    for width, height in SIZES:
        scales, to_output = traced(width, height)
        net = reference.net_input_size(width, height, "-1x368")
        want = reference.scale_sizes(width, height, net, 3, 0.25)
        assert [tuple(s.numpy()) for s in scales] == \
            [(s.width, s.height, s.input_to_net) for s in want]
        assert float(to_output) == reference.scale_net_to_output(width, height, net)


@pytest.mark.parametrize("resolution,pattern", [
    ("650x368", "multiples of 16"), ("-1x-1", "only one"), ("368", "WIDTHxHEIGHT"),
    ("-1x16384", "at most 4096")])
def test_resolution_errors(resolution, pattern):
    with pytest.raises(ValueError, match=pattern):
        geometry.net_input_size(640, 480, resolution)


def test_scale_errors():
    with pytest.raises(ValueError, match=r"all scales must lie in \[0, 1\]"):
        geometry.scale_sizes(640, 480, (496, 368), scale_number=5, scale_gap=0.3)
    with pytest.raises(ValueError, match="scale_number must be >= 1"):
        geometry.scale_sizes(640, 480, (496, 368), scale_number=0)
    with pytest.raises(ValueError, match="the image must be non-empty"):
        geometry.net_input_size(0, 480)


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
                       person(0, 0, 10, 10), person(0, 0, 20, 20), person(-4, -4, -2, -2)])
    scores = np.array([1, 0.5, 0.5, 0.5, 1, 1], np.float32)
    people[:, 2, 0] = np.arange(6)  # tells identical people apart (score 0: not in the box)

    def kept(top):
        k, s = geometry.keep_top_people(tf.RaggedTensor.from_row_lengths(people, [6]),
                                        tf.RaggedTensor.from_row_lengths(scores, [6]), top)
        return [int(p[2, 0]) for p in k[0].numpy()]

    # Final scores 1, 5, 5, 5, 20 and 4: OpenPose's box starts at max 0, so all-negative
    # coordinates still span up to 0 (area 16). With 2 kept: 20 and the first 5 (its tie rule).
    assert kept(2) == [1, 4]
    assert kept(3) == [1, 2, 4]
    assert kept(-1) == list(range(6)) and kept(9) == list(range(6))


def test_keep_top_people_equals_openposes_rule():
    rng = np.random.default_rng(7)
    counts = [0, 1, 4, 6]
    keypoints = rng.uniform(-5, 100, (sum(counts), 3, 3)).astype(np.float32)
    keypoints[..., 2] = rng.choice([0.0, 0.5], keypoints.shape[:2])
    scores = rng.choice([0.25, 0.5, 0.75], sum(counts)).astype(np.float32)
    ragged_k = tf.RaggedTensor.from_row_lengths(keypoints, counts)
    ragged_s = tf.RaggedTensor.from_row_lengths(scores, counts)
    checked = 0
    for top in (1, 2, 4, 5):
        kept_k, kept_s = geometry.keep_top_people(ragged_k, ragged_s, top)
        start = 0
        for n, count in enumerate(counts):
            k, s = keypoints[start:start + count], scores[start:start + count]
            start += count
            kept = reference.keep_top_people(k, s, top)
            np.testing.assert_array_equal(kept_k[n].numpy(), k[kept])
            np.testing.assert_array_equal(kept_s[n].numpy(), s[kept])
            checked += len(kept)
    assert checked > 20


def test_scale_sizes_round_in_double_as_openpose():
    """OpenPose's positiveIntRound is a template: `netW * s` (a double) gets its + 0.5 in double.
    A product just below 303.5 rounds to 303 (-> 288 after the floor to 16); in float it would
    be 303.5 -> 304 (-> 304)."""
    gap = 1 - 303.4999999 / 656
    second = geometry.scale_sizes(1920, 1080, (656, 368), 2, gap)[1]
    assert second.width == 288
    assert reference.scale_sizes(1920, 1080, (656, 368), 2, gap)[1].width == 288
