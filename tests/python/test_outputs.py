"""The writers beside the JSON: rendering (OpenPose's CPU renderer rules and colours),
`--keypoint_scale`, `--write_coco_json`'s layout, video frames and their names."""

import json

import cv2
import numpy as np
import pytest

from openpose_tf import coco_json, media, outputs, pose_models, render
from openpose_tf.common import People
from openpose_tf.outputs import OutputOptions, Outputs

COCO = pose_models.get("COCO")


def coco_person(points):
    """A COCO person `[18, 3]` with the given {part: (x, y)} at score 0.9."""
    person = np.zeros((18, 3), np.float32)
    for part, (x, y) in points.items():
        person[part] = (x, y, 0.9)
    return person


def test_render_follows_openpose_cpu_renderer():
    image = np.zeros((300, 400, 3), np.uint8)
    # Neck (1) to RShoulder (2): a horizontal limb; the box is 100x0 -> area 0: nothing drawn.
    flat = coco_person({1: (100, 150), 2: (200, 150)})
    assert not render.draw_people(image, flat[None], "COCO", alpha=1.0).any()
    # Add RElbow (3) below: box 100x100, ratio max(100/400, 100/300) = 1/3,
    # t = max(round(sqrt(120000) / 75 / 3), 2) = 2: limbs 2 px wide (round(1.5) = 2), joints
    # circles of radius 1 and line width 2 (ratio > 0.05).
    person = coco_person({1: (100, 150), 2: (200, 150), 3: (200, 250)})
    out = render.draw_people(image, person[None], "COCO", alpha=1.0)
    r, g, b = COCO.colors[2]  # limb 1-2 takes the colour of part 2
    assert tuple(out[150, 150]) == (b, g, r)
    assert tuple(out[200, 200]) == tuple(reversed(COCO.colors[3]))  # limb 2-3: part 3's colour
    assert not out[160, 150].any() and not out[100, 100].any()
    expected = image.copy()
    cv2.line(expected, (100, 150), (200, 150), (b, g, r), 2, cv2.LINE_8)
    cv2.line(expected, (200, 150), (200, 250), tuple(reversed(COCO.colors[3])), 2, cv2.LINE_8)
    for part in (1, 2, 3):
        x, y = person[part, :2].astype(int)
        cv2.circle(expected, (x, y), 1, tuple(reversed(COCO.colors[part])), 2, cv2.LINE_8)
    np.testing.assert_array_equal(out, expected)
    # Parts at or below the render threshold are not drawn; alpha blends over the image.
    person = coco_person({1: (100, 150), 2: (200, 150), 3: (200, 250), 4: (250, 250)})
    person[3, 2] = 0.05
    grey = np.full_like(image, 100)
    blended = render.draw_people(grey, person[None], "COCO", alpha=0.6)
    assert tuple(blended[200, 200]) == (100, 100, 100)
    assert tuple(blended[150, 150]) == tuple(
        int(np.floor(100 + 0.6 * (c - 100) + 0.5)) for c in (b, g, r))
    assert not render.draw_people(grey, person[None], "COCO", blend_original=False)[10, 10].any()
    with pytest.raises(ValueError, match="uint8"):
        render.draw_people(image.astype(np.float32), person[None], "COCO")


def test_keypoint_scale_modes():
    keypoints = np.array([[[0, 0, 0], [99, 49, 0.5], [49.5, 24.5, 1]]], np.float32)
    size = (100, 50)
    for mode in (0, 2):
        np.testing.assert_array_equal(outputs.scale_keypoints(keypoints, mode, size), keypoints)
    np.testing.assert_allclose(outputs.scale_keypoints(keypoints, 1, size, 2.5)[0, 1],
                               [99 / 2.5, 49 / 2.5, 0.5], rtol=1e-6)
    np.testing.assert_allclose(outputs.scale_keypoints(keypoints, 3, size)[0, 1:, :2],
                               [[1, 1], [0.5, 0.5]], rtol=1e-6)
    plus_minus = outputs.scale_keypoints(keypoints, 4, size)
    np.testing.assert_allclose(plus_minus[0, :, :2], [[-1, -1], [1, 1], [0, 0]], atol=1e-6)
    np.testing.assert_array_equal(plus_minus[..., 2], keypoints[..., 2])  # scores untouched
    with pytest.raises(ValueError, match=r"keypoint_scale must be one of \[0, 1, 2, 3, 4\]"):
        outputs.scale_keypoints(keypoints, 5, size)


def test_coco_json_layout_and_ids():
    results = coco_json.CocoResults("COCO")
    person = coco_person({0: (10.5, 20.25), 15: (1, 2), 14: (3, 4)})
    results.add("COCO_val2014_000000000192", person[None], [0.75])
    expected_points = ["10.5", "20.25", "1", "1", "2", "1", "3", "4", "1"] + ["-1", "-1", "0"] * 14
    assert results.text() == (
        '[\n\t{\n\t\t"image_id":192,\n\t\t"category_id":1,\n\t\t"keypoints":[\n\t\t\t'
        + ",".join(expected_points) + '\n\t\t],\n\t\t"score":0.75\n\t}\n]\n')
    results.add("clip_000000000007", np.stack([person, person]), [0.5, 0.25])
    parsed = json.loads(results.text())
    assert [e["image_id"] for e in parsed] == [192, 7, 7]
    assert all(len(e["keypoints"]) == 51 for e in parsed)
    assert coco_json.CocoResults("BODY_25").text() == "[\n\t\n]\n"
    with pytest.raises(ValueError, match="ending in a number"):
        coco_json.image_id("golf")
    with pytest.raises(ValueError, match="MPI has no COCO keypoint order"):
        coco_json.CocoResults("MPI")
    # BODY_25's parts in COCO order: nose, LEye(16), REye(15), LEar(18), REar(17), ...
    assert pose_models.get("BODY_25").coco_order[:5] == (0, 16, 15, 18, 17)


def write_video(path, frames, fps=10.0):
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps,
                             frames[0].shape[1::-1])
    for frame in frames:
        writer.write(frame)
    writer.release()


def test_video_frames_are_named_and_stepped(tmp_path):
    frames = [np.full((48, 64, 3), 20 * i, np.uint8) for i in range(7)]
    write_video(tmp_path / "clip.avi", frames)
    assert media.video_properties(tmp_path / "clip.avi") == (7, 10.0)
    names = [f.name for f in media.video_frames(tmp_path / "clip.avi", 3)]
    assert names == ["clip_000000000000", "clip_000000000003", "clip_000000000006"]
    skipped = media.video_frames(tmp_path / "clip.avi", 1, lambda n: n.endswith("1"))
    read = list(skipped)
    assert [f.name[-2:] for f in read] == ["00", "02", "03", "04", "05", "06"]
    assert abs(int(read[1].image.mean()) - 40) <= 2  # MJPG is lossy
    (tmp_path / "bad.avi").write_bytes(b"not a video")
    with pytest.raises(ValueError, match="cannot open it as a video"):
        media.video_properties(tmp_path / "bad.avi")
    with pytest.raises(ValueError, match="frame_step must be >= 1"):
        list(media.video_frames(tmp_path / "clip.avi", 0))


def test_outputs_write_and_resume(tmp_path):
    options = OutputOptions(write_json=str(tmp_path / "j"), write_images=str(tmp_path / "i"),
                            keypoint_scale=3)
    outputs = Outputs(options, "COCO")
    image = np.zeros((101, 201, 3), np.uint8)
    person = coco_person({1: (100, 50), 2: (200, 50), 3: (200, 100)})
    assert not outputs.done("x")
    outputs.write("x", image, People(person[None], np.array([0.5], np.float32)))
    assert outputs.done("x")
    written = json.loads((tmp_path / "j" / "x_keypoints.json").read_text())
    assert written["people"][0]["pose_keypoints_2d"][3:6] == [0.5, 0.5, 0.9]
    rendered = cv2.imread(str(tmp_path / "i" / "x_rendered.png"))
    assert rendered.shape == image.shape and rendered.any()
    # A video or a COCO file needs every frame: nothing counts as done.
    video = Outputs(OutputOptions(write_json=str(tmp_path / "j"),
                                  write_video=str(tmp_path / "v.avi")), "COCO")
    assert not video.done("x")
    video.write("x", image, People(person[None], np.array([0.5], np.float32)))
    with pytest.raises(ValueError, match="frames of one size"):
        video.write("y", np.zeros((50, 50, 3), np.uint8), People(person[:0], np.zeros(0)))
    assert video.close(complete=False) == [] and not list(tmp_path.glob("*.avi"))
    with pytest.raises(ValueError, match="must end in one of .avi, .mp4"):
        Outputs(OutputOptions(write_video=str(tmp_path / "v.gif")), "COCO")


def test_a_one_pixel_dimension_scales_to_the_start_of_the_range_not_nan():
    from openpose_tf import openpose_json

    keypoints = np.array([[[0, 5, 0.5], [0, 0, 0]]], np.float32)
    three = outputs.scale_keypoints(keypoints, 3, (1, 11))
    np.testing.assert_array_equal(three[0, 0], [0, 0.5, 0.5])
    four = outputs.scale_keypoints(keypoints, 4, (1, 11))
    np.testing.assert_array_equal(four[0, 0], [-1, 0, 0.5])
    assert "nan" not in openpose_json.people_json(four).lower()
    with pytest.raises(ValueError, match="cannot hold nan"):
        openpose_json.people_json(np.full((1, 2, 3), np.nan, np.float32))
