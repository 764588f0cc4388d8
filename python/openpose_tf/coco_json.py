"""OpenPose's `--write_coco_json`: one COCO keypoint-results file for a whole run (cocoJsonSaver).

An entry per person: `image_id` (the number at the end of the image or frame name, as OpenPose's
getLastNumber: `COCO_val2014_000000000192` -> 192), `category_id` 1, the 17 COCO keypoints
`x,y,v` (`v` 1 when the part was found, else `-1,-1,0`) and the person's score. Laid out as
OpenPose writes it (its human-readable jsonOfstream: tabs and newlines), numbers as
`std::ostream << float`.

Where we differ: OpenPose has no COCO order for MPI (it stops with an error; so do we, before
the run) and applies BODY_25's order to BODY_25B, whose first 17 parts are already in COCO's
order (we use those). With `--number_people_max`, OpenPose's scores are not filtered with the
keypoints (its saver then stops on the size mismatch); ours are the kept people's scores.
"""

from __future__ import annotations

import re

import numpy as np

from openpose_tf import pose_models
from openpose_tf.common import write_atomic
from openpose_tf.openpose_json import format_number


def image_id(name: str) -> int:
    """OpenPose's getLastNumber: the digits at the end of `name`."""
    match = re.search(r"(\d+)$", name)
    if match is None:
        raise ValueError(f"--write_coco_json needs image names ending in a number (COCO's "
                         f"COCO_val2014_000000000192.jpg -> image_id 192), got {name!r}")
    return int(match.group(1))


def check_unique_ids(names) -> None:
    """Refuses names whose image ids collide (`p1` and `handsup1` are both 1): one COCO file
    cannot tell their people apart."""
    seen: dict[int, str] = {}
    for name in names:
        number = image_id(name)
        if number in seen:
            raise ValueError(f"--write_coco_json: {seen[number]!r} and {name!r} both give "
                             f"image_id {number} (the number ending the name, as OpenPose); "
                             f"rename one or write the COCO file per folder")
        seen[number] = name


def check_model(pose_model) -> pose_models.PoseModel:
    model = pose_models.get(pose_model)
    if len(model.coco_order) != 17:
        raise ValueError(f"--write_coco_json: {model.name} has no COCO keypoint order "
                         f"(OpenPose writes COCO JSON for BODY_25, COCO and BODY_25B)")
    return model


class CocoResults:
    """Collects people image by image; `text()` / `write(path)` give OpenPose's file."""

    def __init__(self, pose_model):
        self.model = check_model(pose_model)
        self.entries: list[str] = []

    def add(self, name: str, keypoints, scores) -> None:
        keypoints = np.asarray(keypoints, np.float32).reshape(-1, self.model.num_parts, 3)
        scores = np.asarray(scores, np.float32).reshape(-1)
        if len(scores) != len(keypoints):
            raise ValueError(f"{len(keypoints)} people but {len(scores)} scores")
        number = image_id(name)
        for person, score in zip(keypoints, scores):
            values = []
            for part in self.model.coco_order:
                x, y, s = person[part]
                valid = s > 0
                values += [format_number(x if valid else -1.0),
                           format_number(y if valid else -1.0), "1" if valid else "0"]
            self.entries.append(
                f'{{\n\t\t"image_id":{number},\n\t\t"category_id":1,\n\t\t"keypoints":[\n\t\t\t'
                f'{",".join(values)}\n\t\t],\n\t\t"score":{format_number(score)}\n\t}}')

    def text(self) -> str:
        return "[\n\t" + ",\n\t".join(self.entries) + "\n]\n"

    def write(self, path) -> None:
        write_atomic(path, self.text())
