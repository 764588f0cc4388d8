"""The pipeline's batch rule, end to end: an image's people do not depend on its batch-mates, and
every route gives the same bytes at the same batch size.

Two small frozen TF1 graphs built here: `plain` (a stride-8 convolution) and `batch_norm` (the
same with `FusedBatchNorm` and `is_training=True`, as graphs frozen from TF1 training code keep,
so its output for an image depends on the other images of the batch). `run` on a folder of mixed
sizes and on a video, `PoseExtractor`, the whole-pipeline SavedModel and `beam`."""

import pathlib

import cv2
import numpy as np
import pytest
import tensorflow as tf

import openpose_tf
from openpose_tf import cli, graph, pipeline
from openpose_tf.extractor import PoseExtractor

SIZES = {"a": (64, 80), "b": (64, 80), "c": (48, 100), "d": (64, 80), "e": (64, 80),
         "f": (48, 100)}
NET = ["--net_resolution", "-1x64", "--model_pose", "BODY_25", "--input_tensor", "image:0",
       "--output_tensor", "out:0", "--input_format", "openpose", "--no_progress"]


def write_graph(path: pathlib.Path, batch_norm: bool = False,
                shape_rounding: bool = False) -> pathlib.Path:
    """`shape_rounding`: outputs scaled by 1 + 1e-4 * batch size, a stand-in (visible in the
    JSON's 6 digits) for convolutions whose rounding depends on the batch's shape."""
    g = tf.Graph()
    with g.as_default():
        x = tf.compat.v1.placeholder(tf.float32, [None, None, None, 3], name="image")
        weights = np.random.default_rng(1).normal(0, 0.2, (8, 8, 3, 78)).astype(np.float32)
        y = tf.nn.conv2d(x, tf.constant(weights), 8, "SAME")
        if batch_norm:
            y, _, _ = tf.compat.v1.nn.fused_batch_norm(y, tf.ones([78]), tf.zeros([78]),
                                                       is_training=True)
        if shape_rounding:
            y = y * (1 + 1e-4 * tf.cast(tf.shape(x)[0], tf.float32))
        tf.identity(0.5 * y, name="out")
    path.write_bytes(g.as_graph_def().SerializeToString())
    return path


@pytest.fixture(scope="module")
def graphs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("graphs")
    return {"plain": write_graph(folder / "plain.pb"),
            "batch_norm": write_graph(folder / "batch_norm.pb", batch_norm=True),
            "shape_rounding": write_graph(folder / "shape_rounding.pb", shape_rounding=True)}


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    folder = tmp_path_factory.mktemp("photos")
    rng = np.random.default_rng(3)
    for name, (h, w) in SIZES.items():
        cv2.imwrite(str(folder / f"{name}.png"), rng.integers(0, 256, (h, w, 3), np.uint8))
    return folder


def run_json(network_file, folder, out, *extra):
    """`openpose-tf run` over `folder`: {file name: bytes} of the JSON it wrote."""
    code = cli.main(["run", "--frozen_graph", str(network_file), "--image_dir", str(folder),
                     "--write_json", str(out)] + NET + list(extra))
    assert code == 0
    files = {p.name: p.read_bytes() for p in pathlib.Path(out).glob("*_keypoints.json")}
    assert files
    return files


def people_count(files):
    import json

    return sum(len(json.loads(text)["people"]) for text in files.values())


def subset(photos, tmp_path, names):
    folder = tmp_path / ("only_" + "".join(names))
    folder.mkdir()
    for name in names:
        (folder / f"{name}.png").write_bytes((photos / f"{name}.png").read_bytes())
    return folder


def test_the_ops_of_batch_statistics_are_found(graphs):
    plain = graph.FrozenGraphNetwork(graphs["plain"], "image:0", "out:0", "openpose")
    mixed = graph.FrozenGraphNetwork(graphs["batch_norm"], "image:0", "out:0", "openpose")
    assert plain.batch_statistics is None and pipeline.batch_mixing(plain) is None
    assert mixed.batch_statistics == "1 FusedBatchNormV3 op with is_training=True"
    assert "batch statistics" in pipeline.batch_mixing(mixed)

    class BatchMean(tf.Module):  # no telltale op: found by running it
        @tf.function
        def __call__(self, x):
            return tf.nn.avg_pool2d(x - tf.reduce_mean(x, axis=0), 8, 8, "VALID")

    assert "changed by" in pipeline.batch_mixing(BatchMean())


def test_people_do_not_depend_on_batch_mates(graphs, photos, tmp_path, capsys):
    """Every call is padded to the batch size: only the batch size may change a result."""
    network = graphs["shape_rounding"]
    one = run_json(network, photos, tmp_path / "one", "--batch_size", "1")
    four = run_json(network, photos, tmp_path / "four", "--batch_size", "4")
    assert people_count(one) > 0  # something to compare
    assert sorted(one) == sorted(four) == [f"{n}_keypoints.json" for n in sorted(SIZES)]
    assert one != four  # the stand-in rounds by batch shape
    # Other batch-mates (or none) at the same batch size: the same bytes.
    for names in (["a", "d"], ["e"], ["c", "e", "f"]):
        got = run_json(network, subset(photos, tmp_path, names), tmp_path / "".join(names),
                       "--batch_size", "4")
        assert got == {k: four[k] for k in got}
    assert "one image at a time" not in capsys.readouterr().err


def test_a_network_with_batch_statistics_is_called_one_image_at_a_time(graphs, photos, tmp_path,
                                                                        capsys):
    one = run_json(graphs["batch_norm"], photos, tmp_path / "one", "--batch_size", "1")
    four = run_json(graphs["batch_norm"], photos, tmp_path / "four", "--batch_size", "4")
    err = capsys.readouterr().err
    assert "the network is called one image at a time" in err and "FusedBatchNormV3" in err
    assert people_count(one) > 0
    assert four == one
    # Forced the other way, batch-mates change people: what the rule prevents.
    forced = run_json(graphs["batch_norm"], photos, tmp_path / "forced", "--batch_size", "4",
                      "--one_image_per_call", "no")
    assert forced != one


def test_a_video_gives_the_same_json_for_every_batch_size(graphs, tmp_path):
    video = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (96, 64))
    rng = np.random.default_rng(5)
    for _ in range(6):
        writer.write(rng.integers(0, 256, (64, 96, 3), np.uint8))
    writer.release()
    for kind in ("plain", "batch_norm"):
        results = []
        for batch in ("1", "4"):
            out = tmp_path / f"{kind}{batch}"
            assert cli.main(["run", "--frozen_graph", str(graphs[kind]), "--video", str(video),
                             "--write_json", str(out), "--batch_size", batch] + NET) == 0
            results.append({p.name: p.read_bytes() for p in out.iterdir()})
        assert len(results[0]) == 6 and results[0] == results[1], kind


def test_every_route_writes_the_same_bytes(graphs, photos, tmp_path):
    """`run`, PoseExtractor, the whole-pipeline SavedModel and `beam` at batch size 4."""
    from openpose_tf import openpose_json

    want = run_json(graphs["shape_rounding"], photos, tmp_path / "run", "--batch_size", "4")
    network = graph.FrozenGraphNetwork(graphs["shape_rounding"], "image:0", "out:0", "openpose")
    extractor = PoseExtractor(network, "BODY_25", net_resolution="-1x64", batch_size=4)
    images = [cv2.imread(str(photos / f"{name}.png")) for name in SIZES]

    def as_json(people):
        return {f"{name}_keypoints.json": openpose_json.people_json(p.keypoints).encode()
                for name, p in zip(SIZES, people)}

    assert as_json(extractor(images)) == want
    extractor.save(tmp_path / "pipeline")
    loaded = openpose_tf.load_saved_model(tmp_path / "pipeline")
    assert loaded.batch_size == 4 and not loaded.one_image_per_call
    assert as_json(loaded(images)) == want
    out = tmp_path / "beam"
    assert cli.main(["beam", "--pipeline_model", str(tmp_path / "pipeline"), "--input",
                     str(photos / "*.png"), "--output", str(out)]) == 0
    assert {p.name: p.read_bytes() for p in out.glob("*_keypoints.json")} == want


def test_one_trace_for_every_image_size(graphs):
    network = graph.FrozenGraphNetwork(graphs["plain"], "image:0", "out:0", "openpose")
    extractor = PoseExtractor(network, "BODY_25", net_resolution="-1x64", scale_number=2)
    rng = np.random.default_rng(0)
    sizes = [(64, 80), (48, 100), (100, 48), (33, 47), (64, 80)]
    found = extractor([rng.integers(0, 256, size + (3,), np.uint8) for size in sizes])
    assert len(found) == len(sizes)
    assert extractor._traced.experimental_get_tracing_count() == 1
