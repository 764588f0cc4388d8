"""The whole-pipeline SavedModel (`PoseExtractor.save`): saved once, loaded here and in a fresh
process, it gives the Python extractor's people exactly (1 and 2 scales, number_people_max, a
batch, a list of sizes, an empty batch)."""

import json
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

import openpose_tf
from openpose_tf import geometry, pose_models, synthetic
from openpose_tf.extractor import PoseExtractor

MODEL = pose_models.get("BODY_25")
IMAGE_W, IMAGE_H = 400, 300


class MapsNetwork(tf.Module):
    """A saveable stand-in network: OpenPose-style maps of known people (a variable, resized to
    each input's size / 8) plus a small term from the input pixels, so the input warp and the
    normalisation count."""

    def __init__(self):
        super().__init__()
        net_w, net_h = geometry.net_input_size(IMAGE_W, IMAGE_H, "-1x368")
        rng = np.random.default_rng(4)
        people = synthetic.random_crowd(MODEL, rng, 4, net_h, net_w, min_size=130,
                                        max_size=200)
        self.maps = tf.Variable(synthetic.render_net_output(MODEL, people, net_h, net_w)[None])

    @tf.function(autograph=False)
    def __call__(self, x):
        size = tf.shape(x)[1:3] // 8
        maps = tf.image.resize(self.maps, size)
        seen = tf.nn.avg_pool2d(tf.reduce_mean(x, axis=-1, keepdims=True), 8, 8, "VALID")
        return tf.tile(maps, [tf.shape(x)[0], 1, 1, 1]) + 0.02 * seen


def images(count, width=IMAGE_W, height=IMAGE_H, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (count, height, width, 3), np.uint8)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    network = MapsNetwork()
    extractors = {}
    for scales, top in ((1, -1), (2, 3)):
        extractor = PoseExtractor(network, MODEL, scale_number=scales, number_people_max=top)
        path = tmp_path_factory.mktemp("pipeline") / f"s{scales}"
        extractor.save(path)
        extractors[scales] = (extractor, path)
    return extractors


def assert_same(expected, got):
    assert len(expected) == len(got)
    for e, g in zip(expected, got):
        np.testing.assert_array_equal(g.keypoints, e.keypoints)
        np.testing.assert_array_equal(g.scores, e.scores)
        assert g.scale_net_to_output == e.scale_net_to_output


@pytest.mark.parametrize("scales", [1, 2])
def test_saved_pipeline_equals_the_extractor(saved, scales):
    extractor, path = saved[scales]
    loaded = openpose_tf.load_saved_model(path)
    assert loaded.metadata["pose_model"] == "BODY_25"
    batch = images(2)
    expected = extractor(batch)
    assert all(len(p.keypoints) >= 3 for p in expected)
    assert_same(expected, loaded(batch))
    mixed = [images(1, 333, 251, seed=1)[0], batch[0], images(1, 240, 420, seed=2)[0]]
    assert_same(extractor(mixed), loaded(mixed))
    empty = loaded.serve(images=tf.zeros([0, 50, 60, 3], tf.uint8))
    assert empty["keypoints"].shape[0] == 0 and empty["people_per_image"].shape[0] == 0
    with pytest.raises(tf.errors.InvalidArgumentError, match="images must be non-empty"):
        loaded.serve(images=tf.zeros([1, 0, 64, 3], tf.uint8))
    with pytest.raises(ValueError, match=r"must be a non-empty \[H, W, 3\] uint8 BGR array"):
        loaded([np.zeros((4, 4, 3), np.float32)])


def test_loads_in_a_fresh_process(saved, tmp_path):
    extractor, path = saved[1]
    batch = images(2, seed=5)
    np.save(tmp_path / "images.npy", batch)
    script = (
        "import json, sys, numpy as np, openpose_tf\n"
        f"pipeline = openpose_tf.load_saved_model({str(path)!r})\n"
        f"people = pipeline(np.load({str(tmp_path / 'images.npy')!r}))\n"
        "print(json.dumps([p.keypoints.tolist() for p in people]))\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    got = json.loads(result.stdout.strip().splitlines()[-1])
    expected = extractor(batch)
    for e, g in zip(expected, got):
        np.testing.assert_array_equal(np.asarray(g, np.float32).reshape(-1, 25, 3), e.keypoints)
