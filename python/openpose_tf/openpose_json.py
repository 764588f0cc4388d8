"""OpenPose's `--write_json` files, byte for byte (peopleJsonSaver / jsonOfstream).

One line, no spaces, no trailing newline:
`{"version":1.3,"people":[{"person_id":[-1],"pose_keypoints_2d":[x0,y0,c0,...],
"face_keypoints_2d":[],"hand_left_keypoints_2d":[],"hand_right_keypoints_2d":[],
"pose_keypoints_3d":[],"face_keypoints_3d":[],"hand_left_keypoints_3d":[],
"hand_right_keypoints_3d":[]}]}`. Numbers as C++'s `ostream << float` writes them (`%g`, 6
significant digits: `0`, `123.457`, `1.2e-05`); `version` is the bare number 1.3; missing keypoints
are `0,0,0`; keys not computed are `[]`. Files are named `<image stem>_keypoints.json` and written
to a temporary name first, then renamed, so an interrupted run never leaves half a file.
"""

from __future__ import annotations

import math
import pathlib

import numpy as np

from openpose_tf.common import write_atomic

# OpenPose's key order (wPeopleJsonSaver.hpp).
KEYS = ("pose_keypoints_2d", "face_keypoints_2d", "hand_left_keypoints_2d",
        "hand_right_keypoints_2d", "pose_keypoints_3d", "face_keypoints_3d",
        "hand_left_keypoints_3d", "hand_right_keypoints_3d")


def format_number(value) -> str:
    """A float32 as `std::ofstream << float` writes it: printf's %g with 6 significant digits.
    A non-finite value is refused (JSON has no NaN or Infinity)."""
    value = float(np.float32(value))
    if not math.isfinite(value):
        raise ValueError(f"a JSON file cannot hold {value}; no keypoint should be non-finite")
    return format(value, "g")


def _array(values) -> str:
    return "[" + ",".join(format_number(v) for v in values) + "]"


def people_json(pose_keypoints, person_ids=None, **other) -> str:
    """The JSON text of one image.

    Args:
      pose_keypoints: `[T, P, 3]` (x, y, score) per person, e.g. one image of
        `openpose_tf.postprocess`'s ragged keypoints.
      person_ids: T ids; OpenPose writes -1 without tracking (the default).
      **other: any of the other keys of `KEYS` as `[T, K, 3]` (or 4 for 3-D) arrays; the keys not
        given are written empty, as OpenPose does when they are not computed.
    """
    unknown = set(other) - set(KEYS)
    if unknown:
        raise ValueError(f"unknown keys {sorted(unknown)}; known: {', '.join(KEYS)}")
    arrays = {"pose_keypoints_2d": np.asarray(pose_keypoints, np.float32)}
    arrays.update({k: np.asarray(v, np.float32) for k, v in other.items() if v is not None})
    # OpenPose: the number of people is the largest first dimension over the arrays.
    people = max((a.shape[0] for a in arrays.values() if a.ndim >= 2), default=0)
    ids = [-1] * people if person_ids is None else [int(i) for i in person_ids]
    if len(ids) != people:
        raise ValueError(f"person_ids has {len(ids)} entries for {people} people")
    rows = []
    for t in range(people):
        fields = [f'"person_id":[{ids[t]}]']
        for key in KEYS:
            array = arrays.get(key)
            flat = array[t].reshape(-1) if array is not None and t < array.shape[0] else ()
            fields.append(f'"{key}":{_array(flat)}')
        rows.append("{" + ",".join(fields) + "}")
    return '{"version":1.3,"people":[' + ",".join(rows) + "]}"


def json_path(out_dir, name) -> pathlib.Path:
    """OpenPose's file name for image or frame `name`: `<dir>/<name>_keypoints.json`."""
    return pathlib.Path(out_dir) / f"{name}_keypoints.json"


def write_people_json(out_dir, name, pose_keypoints, **kwargs) -> pathlib.Path:
    """Writes one image's people as OpenPose does; returns the file's path."""
    path = json_path(out_dir, name)
    write_atomic(path, people_json(pose_keypoints, **kwargs))
    return path
