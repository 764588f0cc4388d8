"""End to end on real photos with a real trained network (tf-pose-estimation's mobilenet_v2_small,
a frozen TF1 graph with OpenPose's COCO output layout), read from ../shared: the people of each
photo come out with keypoints inside the image, identical on every route (TF2 PoseExtractor,
TF1 Session with graph.attach, postprocess in a tf.function, the whole-pipeline SavedModel, the
CLI), in both variants and with 1 and 2 scales. Skipped when ../shared is absent."""

import json
import os
import pathlib

import cv2
import numpy as np
import pytest
import tensorflow as tf

import openpose_tf
from openpose_tf import cli, geometry, openpose_json
from openpose_tf import graph as opgraph
from openpose_tf.extractor import PoseExtractor

SHARED = pathlib.Path(os.environ.get("OPENPOSE_TF_SHARED",
                                     pathlib.Path(__file__).resolve().parents[3] / "shared"))
GRAPH = SHARED / "models" / "tfpose_mobilenet_v2_small" / "graph_opt.pb"
IMAGES = SHARED / "images"
OUTPUT = "Openpose/concat_stage7:0"
# People per photo, pinned after looking at the rendered pictures (net_resolution -1x368):
# p1 a footballer kicking, p2 two men seated side by side, p3 three astronauts (legs cut by the
# frame), golf one golfer mid-swing.
PEOPLE = {"p1.jpg": 1, "p2.jpg": 2, "p3.jpg": 3, "golf.jpg": 1}


@pytest.fixture(scope="module")
def network():
    if not GRAPH.is_file():
        pytest.skip(f"{GRAPH} missing: the real network is read from ../shared, never copied")
    return opgraph.FrozenGraphNetwork(GRAPH, "image:0", OUTPUT, "bgr255")


@pytest.fixture(scope="module")
def photos(network):
    return {name: cv2.imread(str(IMAGES / name)) for name in PEOPLE}


def check_people(found, image, expected):
    assert len(found.keypoints) == expected
    h, w = image.shape[:2]
    for person in found.keypoints:
        seen = person[person[:, 2] > 0]
        assert len(seen) >= 8  # a real skeleton, not a stray pair
        assert np.all((seen[:, 0] >= 0) & (seen[:, 0] < w) & (seen[:, 1] >= 0) & (seen[:, 1] < h))


@pytest.mark.parametrize("variant,scales", [("gpu", 1), ("cpu", 1), ("gpu", 2)])
def test_people_on_real_photos(network, photos, variant, scales):
    extractor = PoseExtractor(network, "COCO", variant=variant, scale_number=scales)
    found = extractor(list(photos.values()))
    assert len(found) == len(PEOPLE)
    for (name, image), people in zip(photos.items(), found):
        check_people(people, image, PEOPLE[name])
    # The three astronauts stand side by side: their necks (part 1) are well apart.
    necks = sorted(found[2].keypoints[:, 1, 0])
    assert np.all(np.diff(necks) > 0.2 * photos["p3.jpg"].shape[1])


def test_every_route_gives_the_same_keypoints(network, photos, tmp_path):
    extractor = PoseExtractor(network, "COCO")
    expected = dict(zip(photos, extractor(list(photos.values()))))

    # TF1: the graph imported as it is, our ops attached to its output, fed its own input.
    graph = tf.Graph()
    with graph.as_default():
        tf.compat.v1.import_graph_def(opgraph.read_graph_def(GRAPH), name="")
        scale = tf.compat.v1.placeholder(tf.float32, [])
        keypoints, scores = opgraph.attach(graph.get_tensor_by_name(OUTPUT), "COCO",
                                           scale_factor=scale)
        with tf.compat.v1.Session(graph=graph) as session:
            for name, image in photos.items():
                h, w = image.shape[:2]
                [s0] = geometry.scale_sizes(w, h, geometry.net_input_size(w, h))
                feed = {"image:0": geometry.warp_input(image, s0)[None].astype(np.float32),
                        scale: geometry.scale_net_to_output(w, h, (s0.width, s0.height))}
                k, _ = session.run([keypoints, scores], feed)
                np.testing.assert_array_equal(np.asarray(k.to_list()[0], np.float32).reshape(
                    -1, 18, 3), expected[name].keypoints)

    # TF2: postprocess inside a tf.function on the network's output.
    @tf.function
    def people(net_input, scale):
        return openpose_tf.postprocess(network(net_input), "COCO", scale_factor=scale)

    image = photos["p3.jpg"]
    h, w = image.shape[:2]
    [s0] = geometry.scale_sizes(w, h, geometry.net_input_size(w, h))
    k, _ = people(tf.constant(geometry.warp_input(image, s0)[None], tf.float32),
                  tf.constant(geometry.scale_net_to_output(w, h, (s0.width, s0.height))))
    np.testing.assert_array_equal(k[0].numpy(), expected["p3.jpg"].keypoints)

    # The whole pipeline as one SavedModel, network included.
    extractor.save(tmp_path / "pipeline")
    loaded = openpose_tf.load_saved_model(tmp_path / "pipeline")
    for name, got in zip(photos, loaded(list(photos.values()))):
        np.testing.assert_array_equal(got.keypoints, expected[name].keypoints)

    # The CLI on the folder.
    assert cli.main(["run", "--frozen_graph", str(GRAPH), "--model_pose", "COCO", "--image_dir",
                     str(IMAGES), "--write_json", str(tmp_path / "json"), "--no_progress"]) == 0
    for name in photos:  # the same pipeline at the same batch size (1): the same bytes
        text = (tmp_path / "json" / f"{pathlib.Path(name).stem}_keypoints.json").read_text()
        assert text == openpose_json.people_json(expected[name].keypoints)
        assert len(json.loads(text)["people"]) == PEOPLE[name]


def test_graph_errors(network, tmp_path):
    with pytest.raises(ValueError, match="not found in the graph"):
        opgraph.FrozenGraphNetwork(GRAPH, "nope:0", OUTPUT)
    (tmp_path / "bad.pb").write_bytes(b"\x00garbage")
    with pytest.raises(ValueError, match="not a binary GraphDef"):
        opgraph.FrozenGraphNetwork(tmp_path / "bad.pb")
    with pytest.raises(ValueError, match="must have 78 channels for BODY_25"):
        PoseExtractor(network, "BODY_25")([np.zeros((64, 64, 3), np.uint8)])


def test_frozen_graph_example(network, tmp_path, monkeypatch, capsys):
    import runpy

    example = pathlib.Path(__file__).resolve().parents[2] / "examples" / "frozen_graph.py"
    monkeypatch.setattr("sys.argv", ["frozen_graph.py", str(GRAPH), str(IMAGES / "p2.jpg"),
                                     str(tmp_path / "people.png")])
    runpy.run_path(str(example), run_name="__main__")
    assert "2 people; drawn in" in capsys.readouterr().out
    assert cv2.imread(str(tmp_path / "people.png")).shape == cv2.imread(
        str(IMAGES / "p2.jpg")).shape


@pytest.mark.parametrize("variant", ["gpu", "cpu"])
def test_fused_equals_composed_on_real_network_output(network, photos, variant):
    """The fused ops.peaks_and_paf_scores (postprocess's default) against the composed ops on a
    real network's output for every photo, bit for bit: real maps have background noise, soft
    tails and near-threshold values that synthetic crowds lack."""
    from openpose_tf import ops

    for name, image in photos.items():
        h, w = image.shape[:2]
        [s0] = geometry.scale_sizes(w, h, geometry.net_input_size(w, h))
        net = network(tf.constant(geometry.warp_input(image, s0)[None], tf.float32))
        got = ops.peaks_and_paf_scores(net, "COCO", variant=variant)
        maps = ops.resize_and_merge(net, variant=variant)
        peaks, counts = ops.nms(maps, 0.05, 127, (0.5, 0.5), variant, channels=(0, 18))
        scores = ops.paf_scores(maps, peaks, counts, "COCO", channel_begin=19)
        for g, want in zip(got, (peaks, counts, scores)):
            np.testing.assert_array_equal(g.numpy(), want.numpy(), err_msg=name)
        assert counts.numpy().sum() >= 10 * PEOPLE[name]


def test_batch_statistics_of_the_real_graph_are_found(network, photos):
    """tf-pose-estimation's graph keeps batch-statistics batch norms (frozen from training code):
    asked for batches, the extractor still calls it one image at a time, so a photo's people do
    not change with the photos it is batched with."""
    assert network.batch_statistics == "39 FusedBatchNorm ops with is_training=True"
    with pytest.warns(UserWarning, match="one image at a time"):
        batched = PoseExtractor(network, "COCO", batch_size=4)
    assert batched.one_image_per_call
    same_size = [photos["p1.jpg"]] * 3 + [photos["golf.jpg"][:photos["p1.jpg"].shape[0],
                                                              :photos["p1.jpg"].shape[1]]]
    alone = PoseExtractor(network, "COCO")([photos["p1.jpg"]])[0]
    for got in batched(same_size)[:3]:
        np.testing.assert_array_equal(got.keypoints, alone.keypoints)
    assert len(alone.keypoints) == PEOPLE["p1.jpg"]
