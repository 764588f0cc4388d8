"""`openpose-tf run` on folders of images with a random-weight network converted in the test:
OpenPose JSON per image, unreadable images reported and skipped, resume after an interrupted run,
OpenPose's `--net_resolution -1x368` syntax."""

import json
import os
import signal
import stat
import subprocess
import sys
import time

import cv2
import numpy as np
import pytest

from openpose_tf import cli
from openpose_tf.extractor import PoseExtractor

class Killed(Exception):
    """Stands for the process being stopped mid-run."""


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
    real_call = PoseExtractor.people_or_errors
    calls, kill_at = [], [2]

    def interrupted(self, batch, *args):
        calls.append(len(batch))
        if len(calls) in kill_at:
            raise Killed  # the run dies while the second image is being processed
        return real_call(self, batch, *args)

    monkeypatch.setattr(PoseExtractor, "people_or_errors", interrupted)
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
    assert cli.main(["run", "--model", str(model_dir), "--image_dir", str(tmp_path),
                     "--frame_step", "0"]) == 2
    assert "--frame_step must be >= 1, got 0" in capsys.readouterr().err


def test_bench_prints_every_stage(model_dir, capsys):
    assert cli.main(["bench", "--model", str(model_dir), "--net_resolution", "128x64",
                     "--repeats", "1", "--people", "2"]) == 0
    out = capsys.readouterr().out
    assert "TensorFlow" in out and "BODY_25 at 128x64" in out
    for stage in ("decode", "network", "resize_and_merge", "nms", "paf_scores",
                  "assemble_people", "postprocess", "render"):
        assert stage in out
    assert cli.main(["bench", "--model", str(model_dir), "--net_resolution", "-1x368"]) == 2


def test_video_to_json_images_video_and_coco(model_dir, tmp_path, capsys):
    clip = tmp_path / "clip.avi"
    rng = np.random.default_rng(1)
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"MJPG"), 12.0, (96, 64))
    for _ in range(5):
        writer.write(rng.integers(0, 256, (64, 96, 3), np.uint8))
    writer.release()
    out = tmp_path / "out"
    code = cli.main(["run", "--model", str(model_dir), "--video", str(clip), "--frame_step", "2",
                     "--write_json", str(out / "json"), "--write_images", str(out / "img"),
                     "--write_video", str(out / "rendered.avi"), "--write_coco_json",
                     str(out / "coco.json"), "--net_resolution", "-1x64", "--no_progress"])
    assert code == 0, capsys.readouterr().err
    names = ["clip_000000000000", "clip_000000000002", "clip_000000000004"]
    assert sorted(p.name for p in (out / "json").iterdir()) == \
        [f"{n}_keypoints.json" for n in names]
    assert sorted(p.name for p in (out / "img").iterdir()) == [f"{n}_rendered.png" for n in names]
    video = cv2.VideoCapture(str(out / "rendered.avi"))
    assert video.get(cv2.CAP_PROP_FRAME_COUNT) == 3 and video.get(cv2.CAP_PROP_FPS) == 12.0
    assert (video.get(cv2.CAP_PROP_FRAME_WIDTH), video.get(cv2.CAP_PROP_FRAME_HEIGHT)) == (96, 64)
    video.release()
    coco = json.loads((out / "coco.json").read_text())
    assert {entry["image_id"] for entry in coco} <= {0, 2, 4}
    assert not list(out.glob(".*"))  # no temporary file left
    assert "wrote" in capsys.readouterr().err


def test_coco_json_needs_numbered_names(model_dir, images, tmp_path, capsys):
    assert cli.main(["run", "--model", str(model_dir), "--image_dir", str(images),
                     "--write_coco_json", str(tmp_path / "c.json")]) == 2
    assert "ending in a number" in capsys.readouterr().err
    assert not (tmp_path / "c.json").exists()


def test_demo_writes_json_and_a_picture(tmp_path, capsys):
    assert cli.main(["demo", "--people", "2", "--output", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert out.strip().splitlines()[-1] == "recovered 4/4 people (both builds)"
    assert "resize_and_merge" in out and "assemble_people" in out
    assert cv2.imread(str(tmp_path / "demo_rendered.png")).shape == (736, 1312, 3)
    assert len(json.loads((tmp_path / "demo_gpu_keypoints.json").read_text())["people"]) == 2


def test_an_image_the_network_cannot_take_is_skipped_and_reported(model_dir, tmp_path, capsys):
    folder = tmp_path / "in"
    folder.mkdir()
    cv2.imwrite(str(folder / "a_thin.png"), np.zeros((3000, 3, 3), np.uint8))  # no net column
    cv2.imwrite(str(folder / "b_fine.png"), np.zeros((40, 60, 3), np.uint8))
    out = tmp_path / "json"
    code = cli.main(["run", "--model", str(model_dir), "--image_dir", str(folder),
                     "--write_json", str(out), "--net_resolution", "-1x128", "--no_progress"])
    assert code == 1
    assert "skipped a_thin (3x3000)" in capsys.readouterr().err
    assert [p.name for p in out.iterdir()] == ["b_fine_keypoints.json"]


def test_outputs_are_readable_as_the_umask_says(model_dir, images, tmp_path):
    (images / "broken.jpg").unlink()
    old = os.umask(0o022)
    try:
        assert cli.main(["run", "--model", str(model_dir), "--image_dir", str(images),
                         "--write_json", str(tmp_path / "json"), "--write_images",
                         str(tmp_path / "img"), "--net_resolution", "-1x64",
                         "--no_progress"]) == 0
    finally:
        os.umask(old)
    written = list((tmp_path / "json").iterdir()) + list((tmp_path / "img").iterdir())
    assert len(written) == 6
    assert {stat.S_IMODE(p.stat().st_mode) for p in written} == {0o644}


def test_colliding_coco_ids_are_refused_before_the_run(model_dir, tmp_path, capsys):
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("p1", "handsup1"):
        cv2.imwrite(str(folder / f"{name}.png"), np.zeros((40, 60, 3), np.uint8))
    assert cli.main(["run", "--model", str(model_dir), "--image_dir", str(folder),
                     "--write_coco_json", str(tmp_path / "c.json"), "--write_json",
                     str(tmp_path / "json"), "--no_progress"]) == 2
    err = capsys.readouterr().err
    assert "'handsup1' and 'p1' both give image_id 1" in err
    assert not (tmp_path / "json").exists() and not (tmp_path / "c.json").exists()


def test_a_rerun_says_what_was_already_done(model_dir, tmp_path, capsys):
    clip = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (96, 64))
    for _ in range(4):
        writer.write(np.random.default_rng(2).integers(0, 256, (64, 96, 3), np.uint8))
    writer.release()
    args = ["run", "--model", str(model_dir), "--video", str(clip), "--write_json",
            str(tmp_path / "json"), "--net_resolution", "-1x64", "--no_progress", "--profile"]
    assert cli.main(args) == 0
    first = capsys.readouterr().err
    assert "4 frames processed" in first and "0 already done, 0 skipped" in first
    assert "time per stage: decode" in first and "pipeline" in first and "write" in first
    assert "stages on clip_000000000003 (scale 0, measured apart): warp" in first
    assert "network" in first and "post-processing" in first
    assert cli.main(args) == 0
    again = [line for line in capsys.readouterr().err.splitlines() if "processed" in line]
    assert again and again[0].startswith("openpose-tf run: 0 frames processed") and \
        "4 already done, 0 skipped" in again[0]


def test_a_wrong_pose_model_is_refused_once_before_the_run(model_dir, images, tmp_path, capsys):
    assert cli.main(["run", "--model", str(model_dir), "--model_pose", "COCO", "--image_dir",
                     str(images), "--write_json", str(tmp_path / "json")]) == 2
    err = capsys.readouterr().err
    assert err.count("error") == 1
    assert "the network outputs 78 channels, the pose model COCO has 57; give --model_pose " \
           "BODY_25" in err
    assert not (tmp_path / "json").exists()


def test_ctrl_c_ends_with_one_line_and_no_half_file(model_dir, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(300):  # about 20 ms each at -1x368: the run lasts seconds, not less
        cv2.imwrite(str(folder / f"img{i:03d}.png"), np.full((240, 320, 3), i % 256, np.uint8))
    out = tmp_path / "json"
    child = subprocess.Popen(
        [sys.executable, "-m", "openpose_tf", "run", "--model", str(model_dir), "--image_dir",
         str(folder), "--write_json", str(out), "--net_resolution", "-1x368", "--no_progress"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not (out.is_dir() and len(list(out.iterdir())) >= 3):
        assert child.poll() is None and time.monotonic() < deadline, "the run never got going"
        time.sleep(0.05)
    child.send_signal(signal.SIGINT)
    _, err = child.communicate(timeout=60)
    assert child.returncode == 130, err
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1] == \
        "openpose-tf: interrupted; finished outputs are kept, a re-run goes on from there"
    files = [p.name for p in out.iterdir()]
    assert 3 <= len(files) < 300 and all(f.endswith("_keypoints.json") for f in files)


def test_demo_refuses_a_model_it_cannot_draw(capsys):
    assert cli.main(["demo", "--model_pose", "HAND"]) == 2
    assert "the demo draws body models" in capsys.readouterr().err


@pytest.mark.parametrize("flags,message", [
    (["--write_images_format", "xyz"], "OpenCV cannot write that here"),
    (["--write_images_format", "../evil"], "OpenCV cannot write that here"),
    (["--write_images_format", "exr"], "OpenCV cannot write that here"),
    (["--write_video_fps", "inf"], "--write_video_fps must be in"),
    (["--write_video_fps", "0"], "--write_video_fps must be in"),
    (["--max_image_pixels", "0"], "--max_image_pixels must be >= 1")])
def test_output_flags_are_checked_before_any_frame(model_dir, images, tmp_path, capsys, flags,
                                                   message):
    args = ["run", "--model", str(model_dir), "--image_dir", str(images), "--write_images",
            str(tmp_path / "img"), "--write_video", str(tmp_path / "v.avi"), "--no_progress"]
    assert cli.main(args + flags) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "img").exists()


def test_hostile_files_in_a_folder_are_skipped_and_the_rest_is_written(model_dir, tmp_path,
                                                                        capsys):
    """A name that is not UTF-8, a PNG whose header declares 10^10 pixels, an image 1 pixel wide,
    a FIFO (never opened): each skipped with its reason or left out, the good images written,
    valid JSON (--keypoint_scale 3)."""
    import struct
    import zlib

    folder = tmp_path / "in"
    folder.mkdir()
    good = cv2.imencode(".png", np.full((40, 60, 3), 90, np.uint8))[1].tobytes()
    (folder / "a1.png").write_bytes(good)
    (folder / os.fsdecode(b"b\xff2.png")).write_bytes(good)

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + \
            struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)

    (folder / "bomb3.png").write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 100000, 100000, 8, 2, 0,
                                                          0, 0)) +
        chunk(b"IDAT", zlib.compress(b"\x00" * 100)) + chunk(b"IEND", b""))
    cv2.imwrite(str(folder / "thin4.png"), np.zeros((50, 1, 3), np.uint8))
    os.mkfifo(folder / "fifo5.png")
    out = tmp_path / "json"
    code = cli.main(["run", "--model", str(model_dir), "--image_dir", str(folder), "--write_json",
                     str(out), "--keypoint_scale", "3", "--no_progress"])
    err = capsys.readouterr().err
    assert code == 1
    assert "bomb3.png: its header declares too many pixels" in err
    assert "skipped thin4 (1x50): the image is too thin" in err
    written = sorted(os.fsencode(p.name) for p in out.iterdir())
    assert written == [b"a1_keypoints.json", b"b\xff2_keypoints.json"]
    for path in out.iterdir():
        json.loads(path.read_text())


def test_inputs_that_would_share_an_output_name_are_refused(model_dir, tmp_path, capsys):
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("a.jpg", "a.png"):
        cv2.imwrite(str(folder / name), np.zeros((40, 60, 3), np.uint8))
    assert cli.main(["run", "--model", str(model_dir), "--image_dir", str(folder),
                     "--write_json", str(tmp_path / "json")]) == 2
    assert "'a.jpg' and 'a.png' would write the same outputs" in capsys.readouterr().err
    assert not (tmp_path / "json").exists()


def test_convert_never_overwrites_its_own_inputs(tmp_path, capsys):
    import caffe_files
    from conftest import STRIDE8

    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "net.prototxt").write_text(STRIDE8)
    caffe_files.random_caffemodel(folder / "net.prototxt", folder / "w.caffemodel", seed=1)
    assert cli.main(["convert", str(folder / "net.prototxt"), str(folder / "w.caffemodel"),
                     "-o", str(folder), "--overwrite"]) == 2
    assert "holds the input" in capsys.readouterr().err
    assert sorted(p.name for p in folder.iterdir()) == ["net.prototxt", "w.caffemodel"]


def test_a_dead_runs_partial_video_is_removed(tmp_path):
    from openpose_tf import media

    dead = tmp_path / ".v.partial-999999999.avi"  # no such process
    dead.write_bytes(b"half a video")
    writer = media.VideoWriter(tmp_path / "v.avi", 10.0)
    assert not dead.exists()
    assert writer.tmp.name == f".v.partial-{os.getpid()}.avi"


def test_postprocess_refuses_a_zero_scale_factor():
    import openpose_tf

    with pytest.raises(ValueError, match="scale_factor must be finite and > 0, got 0"):
        openpose_tf.postprocess(np.zeros((1, 8, 8, 78), np.float32), "BODY_25", scale_factor=0)
