"""openpose_tf.openpose_json: OpenPose's --write_json bytes, against hand-written expected text."""

import json

import numpy as np
import pytest

from openpose_tf import openpose_json

EMPTY_KEYS = ('"face_keypoints_2d":[],"hand_left_keypoints_2d":[],"hand_right_keypoints_2d":[],'
              '"pose_keypoints_3d":[],"face_keypoints_3d":[],"hand_left_keypoints_3d":[],'
              '"hand_right_keypoints_3d":[]')


def test_byte_layout_of_two_people():
    keypoints = np.array([[[123.4567, 0.5, 0.912345], [0, 0, 0]],
                          [[1919.25, 1079.0, 1.2e-05], [-0.0, 3e7, 1]]], np.float32)
    want = ('{"version":1.3,"people":['
            '{"person_id":[-1],"pose_keypoints_2d":[123.457,0.5,0.912345,0,0,0],' + EMPTY_KEYS +
            '},{"person_id":[-1],"pose_keypoints_2d":[1919.25,1079,1.2e-05,-0,3e+07,1],' +
            EMPTY_KEYS + '}]}')
    assert openpose_json.people_json(keypoints) == want


def test_nobody():
    assert openpose_json.people_json(np.zeros((0, 25, 3))) == '{"version":1.3,"people":[]}'


def test_other_keys_and_ids():
    pose = np.ones((1, 2, 3), np.float32)
    hand = np.full((1, 21, 3), 0.25, np.float32)
    text = openpose_json.people_json(pose, person_ids=[7], hand_left_keypoints_2d=hand)
    data = json.loads(text)
    assert data["people"][0]["person_id"] == [7]
    assert data["people"][0]["hand_left_keypoints_2d"] == [0.25] * 63
    assert data["people"][0]["face_keypoints_2d"] == []
    assert list(data["people"][0]) == ["person_id"] + list(openpose_json.KEYS)
    with pytest.raises(ValueError, match="unknown keys"):
        openpose_json.people_json(pose, hands=hand)


def test_round_trip_and_file_name(tmp_path):
    rng = np.random.default_rng(0)
    keypoints = rng.uniform(0, 1000, (3, 25, 3)).astype(np.float32)
    path = openpose_json.write_people_json(tmp_path, "COCO_val2014_000000000192", keypoints)
    assert path.name == "COCO_val2014_000000000192_keypoints.json"
    raw = path.read_bytes()
    assert not raw.endswith(b"\n") and b" " not in raw
    data = json.loads(raw)
    got = np.array([p["pose_keypoints_2d"] for p in data["people"]]).reshape(3, 25, 3)
    np.testing.assert_allclose(got, keypoints, rtol=1e-5)  # 6 significant digits
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left
