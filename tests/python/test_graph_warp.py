"""The in-graph input warp (whole-pipeline SavedModel) against cv2.warpAffine, pixel for pixel."""

import cv2
import numpy as np
import pytest
import tensorflow as tf

from openpose_tf import geometry, graph_warp


@pytest.mark.parametrize("height,width,net_w,net_h", [
    (100, 150, 656, 368),    # enlarging: cubic
    (480, 640, 656, 368),    # shrinking: linear
    (1080, 1920, 656, 368),
    (200, 120, 224, 368),    # portrait, padded on the right
    (37, 53, 128, 96),       # odd sizes, raw noise (saturation of the cubic)
    (368, 656, 656, 368),    # scale 1: a copy
])
def test_matches_opencv(height, width, net_w, net_h):
    rng = np.random.default_rng(height * width)
    images = rng.integers(0, 256, (2, height, width, 3), np.uint8)
    if height > 50:
        images = np.stack([cv2.GaussianBlur(im, (5, 5), 1.5) for im in images])
    for scale in geometry.scale_sizes(width, height, (net_w, net_h), 2, 0.3):
        got = graph_warp.warp_input(tf.constant(images), scale.input_to_net, scale.width,
                                    scale.height).numpy()
        s = scale.input_to_net
        for n in range(2):  # OpenPose's own call (resizeFixedAspectRatio)
            want = cv2.warpAffine(images[n], np.array([[s, 0, 0], [0, s, 0]]),
                                  (scale.width, scale.height),
                                  flags=cv2.INTER_CUBIC if s > 1 else cv2.INTER_LINEAR,
                                  borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0))
            np.testing.assert_array_equal(got[n], want)


def test_weight_tables_sum_to_one():
    for cubic in (False, True):
        table = graph_warp.weights_2d(cubic)
        assert (table.reshape(1024, -1).sum(axis=1) == 32768).all()


def test_fixed_point_warp_refuses_bad_arguments():
    from openpose_tf import ops

    images = tf.zeros([2, 5, 6, 3], tf.uint8)
    xs, ys = tf.zeros([1, 4], tf.int32), tf.zeros([1, 3], tf.int32)
    table = graph_warp.weights_2d(False)
    assert ops.fixed_point_warp(images, [1], xs, ys, table).shape == (1, 3, 4, 3)
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"image_index\[0\] = 2 is not an image of the batch of 2"):
        ops.fixed_point_warp(images, [2], xs, ys, table)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"must lie in \[-65536, 65536\]"):
        ops.fixed_point_warp(images, [0], xs, ys, np.full([1024, 2, 2], 70000, np.int32))
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"\[1024, T, T\] table"):
        ops.fixed_point_warp(images, [0], xs, ys, np.zeros([1024, 3, 3], np.int32))
    with pytest.raises((ValueError, tf.errors.InvalidArgumentError), match="one K|Dimensions"):
        ops.fixed_point_warp(images, [0, 1], xs, ys, table)
    # Nothing to warp: an empty result, also from an empty batch.
    empty = ops.fixed_point_warp(tf.zeros([0, 5, 6, 3], tf.uint8), tf.zeros([0], tf.int32),
                                 tf.zeros([0, 4], tf.int32), tf.zeros([0, 3], tf.int32), table)
    assert empty.shape == (0, 3, 4, 3)
