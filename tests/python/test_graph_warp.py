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
        for n in range(2):
            np.testing.assert_array_equal(got[n], geometry.warp_input(images[n], scale))


def test_weight_tables_sum_to_one():
    for cubic in (False, True):
        table = graph_warp.weights_2d(cubic)
        assert (table.reshape(1024, -1).sum(axis=1) == 32768).all()
