"""PoseExtractor: keypoints come back in image pixels through OpenPose's whole geometry (net input
size, scales, warp, scaleNetToOutput, the 0.5 offset), for portrait, landscape and odd sizes, 1 and
3 scales, batches and lists of sizes; number_people_max; input errors."""

import numpy as np
import pytest
import tensorflow as tf

import geometry_reference as reference
from openpose_tf import geometry, pose_models, synthetic
from openpose_tf.extractor import PoseExtractor
from openpose_tf.net_input import normalise

MODEL = pose_models.get("BODY_25")


class DrawingNetwork:
    """A stand-in network that "sees" known people: for a net input of one of the registered image
    sizes it renders OpenPose-style maps of those people mapped by OpenPose's corner-aligned warp
    (image pixel p -> net input pixel p * scaleInputToNet), at 1/8 resolution; black maps for the
    images a call is padded with. Traceable: the drawing runs in a tf.numpy_function."""

    def __init__(self):
        self.people = {}  # (image w, h) -> per image of the batch, [P, 3] arrays in image pixels
        self.calls = []

    def __call__(self, x):
        out = tf.numpy_function(self._draw, [x], tf.float32, stateful=True)
        out.set_shape([None, None, None, MODEL.num_channels])
        return out

    def _draw(self, x):
        n, h, w, _ = x.shape
        self.calls.append((n, h, w))
        (img_w, img_h), crowds = next(
            (size, crowds) for size, crowds in self.people.items()
            if len(crowds) <= n and (w, h) in self._net_sizes(size))
        s = geometry.resize_scale_factor((img_w, img_h), (w, h))
        maps = [synthetic.render_net_output(MODEL, [p * [s, s, 1] for p in crowd], h, w)
                for crowd in crowds]
        maps += [np.zeros_like(maps[0])] * (n - len(maps))
        return np.stack(maps).astype(np.float32)

    def _net_sizes(self, size):
        net = geometry.net_input_size(*size, "-1x368")
        return {(s.width, s.height) for s in geometry.scale_sizes(*size, net, 3, 0.25)}


def crowd(image_w, image_h, count, seed):
    """People of 130-200 net-input pixels (the size OpenPose's nets resolve well), drawn in the
    net input of scale 0 and returned in image pixels."""
    rng = np.random.default_rng(seed)
    net_w, net_h = geometry.net_input_size(image_w, image_h, "-1x368")
    s = geometry.resize_scale_factor((image_w, image_h), (net_w, net_h))
    people = synthetic.random_crowd(MODEL, rng, count, int(s * (image_h - 1)) + 1,
                                    int(s * (image_w - 1)) + 1, min_size=130, max_size=200)
    return [np.concatenate([p[:, :2] / s, p[:, 2:]], axis=1) for p in people]


def assert_found(people, found, image_scale):
    """Every drawn person is one found person: its found parts within OpenPose's own accuracy on
    clean maps (about a heatmap pixel, in image pixels), and at most 4 parts lost (with several
    scales, parts at the bottom/right edge can fade: smaller scales' inputs are floored to
    multiples of 16 pixels and end before the image does, as in OpenPose)."""
    assert len(found.keypoints) == len(people)
    for person in people:
        best = np.inf
        for k in found.keypoints:
            both = (person[:, 2] > 0) & (k[:, 2] > 0)
            if both.sum() >= (person[:, 2] > 0).sum() - 4:
                best = min(best, np.abs(k[both, :2] - person[both, :2]).mean())
        assert best < 2.5 * image_scale, (best, image_scale)


@pytest.mark.parametrize("image_w,image_h,scales", [
    (1312, 736, 1), (736, 1312, 1), (1001, 677, 3), (500, 333, 1)])
def test_keypoints_in_image_pixels(image_w, image_h, scales):
    network = DrawingNetwork()
    people = [crowd(image_w, image_h, 3, seed=i + image_w) for i in range(2)]
    network.people[(image_w, image_h)] = people
    extractor = PoseExtractor(network, MODEL, scale_number=scales, batch_size=2,
                              one_image_per_call=False)
    images = np.zeros((2, image_h, image_w, 3), np.uint8)
    found = extractor(images)
    assert len(network.calls) == scales  # one network call per scale for the whole batch
    image_scale = geometry.scale_net_to_output(
        image_w, image_h, geometry.net_input_size(image_w, image_h, "-1x368"))
    for n in range(2):
        assert_found(people[n], found[n], image_scale)


def test_a_list_of_sizes_is_batched_per_size():
    network = DrawingNetwork()
    sizes = [(800, 600), (600, 800), (800, 600)]
    network.people[(800, 600)] = [crowd(800, 600, 2, seed=1), crowd(800, 600, 2, seed=3)]
    network.people[(600, 800)] = [crowd(600, 800, 2, seed=2)]
    images = [np.zeros((h, w, 3), np.uint8) for w, h in sizes]
    found = PoseExtractor(network, MODEL, batch_size=2, one_image_per_call=False)(images)
    # One call per size, each padded to the batch size with black images.
    assert sorted(network.calls) == sorted([(2, 368, 496), (2, 368, 272)])
    assert_found(network.people[(800, 600)][0], found[0], 2.0)
    assert_found(network.people[(600, 800)][0], found[1], 2.5)
    assert_found(network.people[(800, 600)][1], found[2], 2.0)


def test_number_people_max_keeps_the_largest():
    network = DrawingNetwork()
    people = crowd(1312, 736, 4, seed=5)
    network.people[(1312, 736)] = [people]
    everyone = PoseExtractor(network, MODEL)(np.zeros((1, 736, 1312, 3), np.uint8))[0]
    top = PoseExtractor(network, MODEL, number_people_max=2)(
        np.zeros((1, 736, 1312, 3), np.uint8))[0]
    kept = reference.keep_top_people(everyone.keypoints, everyone.scores, 2)
    np.testing.assert_array_equal(top.keypoints, everyone.keypoints[kept])
    assert len(top.keypoints) == 2


def test_input_errors_and_formats():
    extractor = PoseExtractor(DrawingNetwork(), MODEL)
    with pytest.raises(ValueError, match=r"image 0 must be a non-empty \[H, W, 3\] uint8 BGR "
                                         r"array, got float32 \[4, 4, 3\]"):
        extractor([np.zeros((4, 4, 3), np.float32)])
    with pytest.raises(ValueError, match="multiples of 16"):
        PoseExtractor(DrawingNetwork(), MODEL, net_resolution="650x368")(
            [np.zeros((4, 4, 3), np.uint8)])
    with pytest.raises(ValueError, match="input_format must be one of"):
        PoseExtractor(DrawingNetwork(), MODEL, input_format="yuv")
    bgr = np.array([[[0, 128, 255]]], np.uint8)
    np.testing.assert_array_equal(normalise(bgr), [[[-0.5, 0.0, 255 / 256 - 0.5]]])
    np.testing.assert_array_equal(normalise(bgr, "rgb255"), [[[255, 128, 0]]])
    np.testing.assert_array_equal(normalise(bgr, "bgr255"), [[[0, 128, 255]]])


def test_no_keypoint_depends_on_opencv(monkeypatch):
    """The pipeline is TensorFlow ops only: with OpenCV unimportable and its geometric functions
    poisoned, the extractor gives the same people (OpenCV stays for decoding, encoding, video and
    drawing)."""
    import sys

    import cv2

    network = DrawingNetwork()
    people = crowd(500, 333, 2, seed=9)
    network.people[(500, 333)] = [people]
    images = np.zeros((1, 333, 500, 3), np.uint8)
    expected = PoseExtractor(network, MODEL, scale_number=2)(images)[0]
    assert len(expected.keypoints) == 2

    def poisoned(*args, **kwargs):
        raise AssertionError("OpenCV called on the keypoint path")

    for name in ("warpAffine", "resize", "remap", "getAffineTransform", "imdecode"):
        monkeypatch.setattr(cv2, name, poisoned)
    monkeypatch.setitem(sys.modules, "cv2", None)
    got = PoseExtractor(network, MODEL, scale_number=2)(images)[0]
    np.testing.assert_array_equal(got.keypoints, expected.keypoints)
    np.testing.assert_array_equal(got.scores, expected.scores)


def test_an_elongated_image_whose_net_input_is_too_large_is_refused():
    class Zeros:
        def __call__(self, x):
            shape = tf.shape(x)
            return tf.zeros(tf.stack([shape[0], shape[1] // 8, shape[2] // 8, 78]))

    extractor = PoseExtractor(Zeros(), MODEL, net_resolution_dynamic=-1)
    assert len(extractor([np.zeros((64, 600, 3), np.uint8)])[0].keypoints) == 0
    with pytest.raises(tf.errors.InvalidArgumentError, match="would exceed 4096 pixels"):
        extractor([np.zeros((16, 9000, 3), np.uint8)])
    with pytest.raises(ValueError, match="at most 4096"):
        PoseExtractor(Zeros(), MODEL, net_resolution="8192x-1")
