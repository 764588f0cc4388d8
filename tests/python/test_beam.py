"""`openpose-tf beam` on the DirectRunner: a folder of small images and a short video written here,
a random-weight network converted here. The JSON equals what `openpose-tf run` writes for the
same inputs, byte for byte; broken inputs land in the dead letters; a second run changes nothing;
the COCO file equals run's."""

import json

import cv2
import numpy as np
import pytest

from openpose_tf import beam, cli

NET = ["--net_resolution", "-1x64"]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("inputs")
    rng = np.random.default_rng(7)
    for name, (h, w) in (("img1", (60, 80)), ("img2", (45, 100)), ("img3", (60, 80))):
        cv2.imwrite(str(folder / f"{name}.png"), rng.integers(0, 256, (h, w, 3), np.uint8))
    writer = cv2.VideoWriter(str(folder / "clip.avi"), cv2.VideoWriter_fourcc(*"MJPG"), 10.0,
                             (96, 64))
    for _ in range(7):
        writer.write(rng.integers(0, 256, (64, 96, 3), np.uint8))
    writer.release()
    (folder / "broken4.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    (folder / "notes.txt").write_text("neither an image nor a video")
    return folder


@pytest.fixture(scope="module")
def run_json(model_dir, inputs, tmp_path_factory):
    """What `openpose-tf run` writes: the image folder, then the video with --frame_step 2, one
    image per network call (as `beam` by default)."""
    out = tmp_path_factory.mktemp("run")
    common = ["--model", str(model_dir), "--no_progress", "--batch_size", "1"] + NET
    code = cli.main(["run", "--image_dir", str(inputs), "--write_json", str(out / "json"),
                     "--write_coco_json", str(out / "coco.json")] + common)
    assert code == 1  # broken4.jpg is unreadable
    assert cli.main(["run", "--video", str(inputs / "clip.avi"), "--frame_step", "2",
                     "--write_json", str(out / "json")] + common) == 0
    return out


def files(folder):
    return {p.name: p.read_bytes() for p in folder.glob("*_keypoints.json")}


def test_beam_writes_run_json_and_dead_letters_and_reruns_idempotently(
        model_dir, inputs, run_json, tmp_path, capsys):
    out = tmp_path / "beam"
    args = ["beam", "--model", str(model_dir), "--input", str(inputs / "*"), "--output",
            str(out), "--frame_step", "2", "--frames_per_range", "3",
            "--runner", "DirectRunner"] + NET
    assert cli.main(args) == 1, capsys.readouterr().err  # dead letters
    want = files(run_json / "json")
    assert sorted(want) == ["clip_000000000000_keypoints.json", "clip_000000000002_keypoints.json",
                            "clip_000000000004_keypoints.json", "clip_000000000006_keypoints.json",
                            "img1_keypoints.json", "img2_keypoints.json", "img3_keypoints.json"]
    assert files(out) == want
    letters = (out / beam.DEAD_LETTERS_FILE).read_text()
    dead = [json.loads(line) for line in letters.splitlines()]
    assert [(d["input"].rsplit("/", 1)[1], d["frame"]) for d in dead] == \
        [("broken4.jpg", None), ("notes.txt", None)]
    assert "not a readable image" in dead[0]["reason"]
    assert "not an image or video" in dead[1]["reason"]
    assert not list(out.glob(".*"))  # no temporary file left

    # A second run (from the saved whole-pipeline model) finds every frame done: nothing changes.
    before = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in out.glob("*_keypoints.json")}
    again = ["beam", "--pipeline_model", str(out / "pipeline_model"), "--input",
             str(inputs / "*"), "--output", str(out), "--frame_step", "2"]
    assert cli.main(again) == 1
    assert {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in out.glob("*_keypoints.json")} \
        == before
    assert (out / beam.DEAD_LETTERS_FILE).read_text() == letters


def test_beam_coco_file_equals_runs(model_dir, inputs, run_json, tmp_path):
    out = tmp_path / "beam"
    code = cli.main(["beam", "--model", str(model_dir), "--input", str(inputs / "img*.png"),
                     "--output", str(out), "--write_coco_json", str(out / "coco.json")] + NET)
    assert code == 0
    assert (out / "coco.json").read_bytes() == (run_json / "coco.json").read_bytes()
    assert files(out) == {k: v for k, v in files(run_json / "json").items()
                          if k.startswith("img")}


def test_video_ranges_cover_every_step_once():
    split = beam.SplitInputs(frame_step=3, frames_per_range=10)
    assert split.span == 9  # whole steps: every range starts on a processed frame
    assert beam.SplitInputs(frame_step=4, frames_per_range=2).span == 4


def test_beam_refuses_a_model_that_is_not_a_pipeline(model_dir, tmp_path, capsys):
    code = cli.main(["beam", "--pipeline_model", str(model_dir), "--input", str(tmp_path),
                     "--output", str(tmp_path / "out")])
    assert code == 2
    assert "not a whole-pipeline SavedModel" in capsys.readouterr().err


def test_only_beam_passes_unknown_options_on(capsys):
    with pytest.raises(SystemExit):
        cli.main(["bench", "--model", "m", "--runner", "DirectRunner"])
    assert "unrecognized arguments: --runner DirectRunner" in capsys.readouterr().err


def test_an_image_the_network_cannot_take_is_a_dead_letter(model_dir, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    cv2.imwrite(str(folder / "thin.png"), np.zeros((3000, 3, 3), np.uint8))  # no net columns
    cv2.imwrite(str(folder / "fine.png"), np.zeros((40, 60, 3), np.uint8))
    out = tmp_path / "out"
    code = cli.main(["beam", "--model", str(model_dir), "--input", str(folder / "*.png"),
                     "--output", str(out), "--batch_size", "2"] + NET)
    assert code == 1
    assert sorted(files(out)) == ["fine_keypoints.json"]
    (dead,) = [json.loads(line) for line in (out / beam.DEAD_LETTERS_FILE).read_text().splitlines()]
    assert dead["input"].endswith("thin.png") and "inference failed" in dead["reason"]


def test_beam_with_hands_and_faces_writes_run_json(model_dir, hand_face_models, tmp_path):
    """`beam --hand --face` (the stages inside the whole-pipeline SavedModel) writes `run`'s JSON
    byte for byte, on many random-weight people."""
    folder = tmp_path / "in"
    folder.mkdir()
    cv2.imwrite(str(folder / "a.png"),
                np.random.default_rng(0).integers(0, 256, (120, 160, 3), np.uint8))
    stages = NET + ["--hand", "--hand_model", str(hand_face_models["hand"]), "--face",
                    "--face_model", str(hand_face_models["face"]), "--hand_net_resolution",
                    "64x64", "--face_net_resolution", "64x64", "--hand_scale_number", "2"]
    assert cli.main(["run", "--model", str(model_dir), "--image_dir", str(folder), "--write_json",
                     str(tmp_path / "run"), "--batch_size", "1", "--no_progress"] + stages) == 0
    assert cli.main(["beam", "--model", str(model_dir), "--input", str(folder / "*.png"),
                     "--output", str(tmp_path / "beam")] + stages) == 0
    want = files(tmp_path / "run")
    people = json.loads(want["a_keypoints.json"])["people"]
    assert len(people) > 20 and any(any(p["face_keypoints_2d"]) for p in people)
    assert files(tmp_path / "beam") == want


def test_a_truncated_jpeg_is_read_as_openpose_reads_it_by_run_and_beam(model_dir, tmp_path):
    """OpenPose's cv::imread decodes a truncated JPEG (libjpeg fills the missing rows); run and
    beam both do the same (media.decode_image), so both write its JSON, the same bytes."""
    from openpose_tf import media

    folder = tmp_path / "in"
    folder.mkdir()
    image = cv2.GaussianBlur(np.random.default_rng(4).integers(0, 256, (60, 80, 3), np.uint8),
                             (5, 5), 2)
    data = cv2.imencode(".jpg", image)[1].tobytes()
    (folder / "cut.jpg").write_bytes(data[:len(data) * 2 // 3])
    decoded = media.decode_image((folder / "cut.jpg").read_bytes())
    np.testing.assert_array_equal(decoded, cv2.imread(str(folder / "cut.jpg")))
    assert cv2.imdecode(np.frombuffer(data[:len(data) * 2 // 3], np.uint8), 1) is None
    assert cli.main(["run", "--model", str(model_dir), "--image_dir", str(folder),
                     "--write_json", str(tmp_path / "run"), "--no_progress"] + NET) == 0
    assert cli.main(["beam", "--model", str(model_dir), "--input", str(folder / "*.jpg"),
                     "--output", str(tmp_path / "beam")] + NET) == 0
    assert files(tmp_path / "beam") == files(tmp_path / "run") != {}


def test_a_glob_that_matches_nothing_is_said(model_dir, tmp_path, capsys):
    folder = tmp_path / "in"
    folder.mkdir()
    cv2.imwrite(str(folder / "a.png"), np.zeros((40, 60, 3), np.uint8))
    code = cli.main(["beam", "--model", str(model_dir), "--input", str(folder / "*.png"),
                     "--input", str(folder / "none*.jpg"), "--output", str(tmp_path / "out")]
                    + NET)
    assert code == 1
    assert f"--input {folder / 'none*.jpg'} matches no file" in capsys.readouterr().err
    assert files(tmp_path / "out") != {}


def test_a_name_that_is_not_utf8_is_a_dead_letter_and_an_unwritable_output_refused(
        model_dir, tmp_path, capsys):
    import os

    folder = tmp_path / "in"
    folder.mkdir()
    cv2.imwrite(str(folder / "good.png"), np.zeros((40, 60, 3), np.uint8))
    with open(os.path.join(os.fsencode(folder), b"bad\xff2.png"), "wb") as f:  # Latin-1 name
        f.write(cv2.imencode(".png", np.zeros((40, 60, 3), np.uint8))[1].tobytes())
    out = tmp_path / "out"
    code = cli.main(["beam", "--model", str(model_dir), "--input", str(folder / "*.png"),
                     "--output", str(out)] + NET)
    assert code == 1
    assert sorted(files(out)) == ["good_keypoints.json"]
    (dead,) = [json.loads(line) for line in (out / beam.DEAD_LETTERS_FILE).read_text().splitlines()]
    assert dead["input"].endswith("bad\\xff2.png") and "not UTF-8" in dead["reason"]
    code = cli.main(["beam", "--model", str(model_dir), "--input", str(folder / "*.png"),
                     "--output", str(folder / "good.png" / "out")] + NET)
    assert code == 2 and "cannot write there" in capsys.readouterr().err


def test_the_same_name_in_two_folders_is_refused_before_the_job(model_dir, tmp_path, capsys):
    for folder in ("x", "y"):
        (tmp_path / folder).mkdir()
        cv2.imwrite(str(tmp_path / folder / "img1.png"), np.zeros((40, 60, 3), np.uint8))
    code = cli.main(["beam", "--model", str(model_dir), "--input", str(tmp_path / "x/*.png"),
                     "--input", str(tmp_path / "y/*.png"), "--output", str(tmp_path / "out")]
                    + NET)
    err = capsys.readouterr().err
    assert code == 2 and "would write the same outputs" in err and str(tmp_path / "x") in err
    assert not (tmp_path / "out" / "img1_keypoints.json").exists()
    cv2.imwrite(str(tmp_path / "y" / "img1.png"), np.zeros((40, 60, 3), np.uint8))
    (tmp_path / "y" / "img1.png").rename(tmp_path / "y" / "photo1.png")  # same COCO id as img1
    code = cli.main(["beam", "--model", str(model_dir), "--input", str(tmp_path / "x/*.png"),
                     "--input", str(tmp_path / "y/*.png"), "--output", str(tmp_path / "out"),
                     "--write_coco_json", str(tmp_path / "coco.json")] + NET)
    assert code == 2 and "both give image_id 1" in capsys.readouterr().err
