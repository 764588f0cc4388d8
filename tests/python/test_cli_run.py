"""`openpose-tf run` on folders of images with a random-weight network converted in the test:
OpenPose JSON per image, unreadable images reported and skipped, resume after an interrupted run,
OpenPose's `--net_resolution -1x368` syntax."""

import json

import cv2
import numpy as np
import pytest

import caffe_files
from openpose_tf import cli
from openpose_tf import net as opnet
from openpose_tf.extractor import PoseExtractor
from openpose_tf.net import export

# Stride 8 and BODY_25's 78 output channels: a stand-in for OpenPose's network.
STRIDE8 = """
name: "stride8"
input: "data"
input_dim: 1 input_dim: 3 input_dim: 16 input_dim: 16
layer { name: "c1" type: "Convolution" bottom: "data" top: "c1"
  convolution_param { num_output: 8 kernel_size: 3 stride: 2 pad: 1 } }
layer { name: "r1" type: "ReLU" bottom: "c1" top: "c1" }
layer { name: "c2" type: "Convolution" bottom: "c1" top: "c2"
  convolution_param { num_output: 8 kernel_size: 3 stride: 2 pad: 1 } }
layer { name: "r2" type: "ReLU" bottom: "c2" top: "c2" }
layer { name: "net_output" type: "Convolution" bottom: "c2" top: "net_output"
  convolution_param { num_output: 78 kernel_size: 3 stride: 2 pad: 1 } }
"""


class Killed(Exception):
    """Stands for the process being stopped mid-run."""


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("model")
    proto = folder / "net.prototxt"
    proto.write_text(STRIDE8)
    caffe_files.random_caffemodel(proto, folder / "w.caffemodel", seed=3)
    out = folder / "converted"
    export.save(opnet.from_caffe(proto, folder / "w.caffemodel"), out, pose_model="BODY_25")
    return out


@pytest.fixture
def images(tmp_path):
    folder = tmp_path / "images"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for name, (h, w) in (("a", (120, 160)), ("b", (90, 200)), ("c", (120, 160))):
        cv2.imwrite(str(folder / f"{name}.png"), rng.integers(0, 256, (h, w, 3), np.uint8))
    (folder / "broken.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    (folder / "notes.txt").write_text("not an image extension: ignored")
    return folder


def test_folder_to_openpose_json(model_dir, images, tmp_path, capsys):
    out = tmp_path / "json"
    code = cli.main(["run", "--model", str(model_dir), "--image_dir", str(images),
                     "--write_json", str(out), "--net_resolution", "-1x128", "--no_progress"])
    assert code == 1  # one unreadable image
    err = capsys.readouterr().err
    assert "skipped" in err and "broken.jpg" in err
    assert sorted(p.name for p in out.iterdir()) == [
        "a_keypoints.json", "b_keypoints.json", "c_keypoints.json"]
    for path in out.iterdir():
        text = path.read_text()
        assert text.startswith('{"version":1.3,"people":[') and not text.endswith("\n")
        for person in json.loads(text)["people"]:
            assert len(person["pose_keypoints_2d"]) == 75


def test_resume_after_an_interrupted_run(model_dir, images, tmp_path, monkeypatch, capsys):
    (images / "broken.jpg").unlink()
    out = tmp_path / "json"
    args = ["run", "--model", str(model_dir), "--image_dir", str(images), "--write_json",
            str(out), "--net_resolution=-1x128", "--batch_size", "1", "--no_progress"]
    real_call = PoseExtractor.__call__
    calls, kill_at = [], [2]

    def interrupted(self, batch):
        calls.append(len(batch))
        if len(calls) in kill_at:
            raise Killed  # the run dies while the second image is being processed
        return real_call(self, batch)

    monkeypatch.setattr(PoseExtractor, "__call__", interrupted)
    with pytest.raises(Killed):
        cli.main(args)
    assert [p.name for p in out.iterdir()] == ["a_keypoints.json"]  # no half file
    first = (out / "a_keypoints.json").stat().st_mtime_ns
    calls.clear()
    kill_at.clear()
    assert cli.main(args) == 0
    assert len(calls) == 2  # only b and c were done again
    assert (out / "a_keypoints.json").stat().st_mtime_ns == first
    assert "1 already done" in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == [
        "a_keypoints.json", "b_keypoints.json", "c_keypoints.json"]


def test_openpose_flag_syntax():
    assert cli.openpose_syntax(["run", "--net_resolution", "-1x368", "--scale_number", "2"]) == \
        ["run", "--net_resolution=-1x368", "--scale_number", "2"]
    assert cli.openpose_syntax(["--number_people_max", "-1"]) == ["--number_people_max=-1"]
    args = cli.build_parser().parse_args(cli.openpose_syntax(
        ["run", "--model", "m", "--image", "x.png", "--net_resolution", "-1x368"]))
    assert args.net_resolution == "-1x368"


def test_errors_are_reported(model_dir, tmp_path, capsys):
    assert cli.main(["run", "--model", str(model_dir), "--image_dir",
                     str(tmp_path / "none")]) == 2
    assert "is not a folder" in capsys.readouterr().err
    assert cli.main(["run", "--model", str(model_dir), "--image_dir", str(tmp_path),
                     "--net_resolution", "650x368"]) == 2
    assert "multiples of 16" in capsys.readouterr().err


def test_bench_prints_every_stage(model_dir, capsys):
    assert cli.main(["bench", "--model", str(model_dir), "--net_resolution", "128x64",
                     "--repeats", "1", "--people", "2"]) == 0
    out = capsys.readouterr().out
    assert "TensorFlow" in out and "BODY_25 at 128x64" in out
    for stage in ("decode", "network", "resize_and_merge", "nms", "paf_scores",
                  "assemble_people", "postprocess"):
        assert stage in out
    assert cli.main(["bench", "--model", str(model_dir), "--net_resolution", "-1x368"]) == 2
