"""What a run writes for each frame, as OpenPose's flags ask, in one place for the CLI and Beam.

- `--write_json DIR`: `DIR/<name>_keypoints.json` (openpose_json), keypoints in `--keypoint_scale`
  units;
- `--write_images DIR`: `DIR/<name>_rendered.<--write_images_format>` (render);
- `--write_video FILE`: every rendered frame, in order (media.VideoWriter);
- `--write_coco_json FILE`: one COCO results file for the run (coco_json).

Per-frame files are written to a temporary name, then renamed. A frame is `done` when every
per-frame file it needs exists; runs that write a video or a COCO file need every frame again.
"""

from __future__ import annotations

import dataclasses
import pathlib

import numpy as np

from openpose_tf import coco_json, media, openpose_json, pose_models, render
from openpose_tf.common import write_atomic


@dataclasses.dataclass
class OutputOptions:
    write_json: str | None = None
    write_images: str | None = None
    write_images_format: str = "png"
    write_video: str | None = None
    write_video_fps: float = -1.0     # -1: the source video's rate (30 for images)
    write_coco_json: str | None = None
    keypoint_scale: int = 0
    render_threshold: float = render.RENDER_THRESHOLD
    alpha_pose: float = render.ALPHA_POSE
    disable_blending: bool = False
    hand_render_threshold: float = render.HAND_RENDER_THRESHOLD
    face_render_threshold: float = render.FACE_RENDER_THRESHOLD


def images_format(options: OutputOptions) -> str:
    """`--write_images_format` as a bare lower-case extension (`.PNG` -> `png`)."""
    return options.write_images_format.lstrip(".").lower()


def check_options(options: OutputOptions) -> None:
    """Refuses, before any frame, what the writers could not do: a `--keypoint_scale` OpenPose
    does not have, an image format OpenCV cannot encode here (or a path in its place), a video
    frame rate that is not a positive finite number (-1: the source's), thresholds or opacity
    that are not numbers."""
    import math

    check_keypoint_scale(options.keypoint_scale)
    if options.write_images:
        image_format = images_format(options)
        if not (image_format.isascii() and image_format.isalnum()) or \
                not _can_encode(image_format):
            raise ValueError(f"--write_images_format {options.write_images_format!r}: OpenCV "
                             f"cannot write that here (e.g. png, jpg, bmp, tiff, webp)")
    for flag in ("render_threshold", "hand_render_threshold", "face_render_threshold",
                 "alpha_pose"):
        value = getattr(options, flag)
        if not math.isfinite(value):  # NaN would draw nothing, silently
            raise ValueError(f"--{flag} must be a finite number, got {value}")
    fps = options.write_video_fps
    if options.write_video and fps != -1 and not (math.isfinite(fps) and 0 < fps <= 1000):
        raise ValueError(f"--write_video_fps must be in (0, 1000] (or -1: the input's), got {fps}")


def _can_encode(image_format: str) -> bool:
    import cv2

    try:
        return bool(cv2.imencode("." + image_format, np.zeros((2, 2, 3), np.uint8))[0])
    except cv2.error:
        return False


class Outputs:
    def __init__(self, options: OutputOptions, pose_model, source_fps: float = 30.0):
        self.options = options
        self.model = pose_models.get(pose_model)
        check_options(options)
        self.json_dir = pathlib.Path(options.write_json) if options.write_json else None
        self.images_dir = pathlib.Path(options.write_images) if options.write_images else None
        self.image_format = images_format(options)
        fps = options.write_video_fps if options.write_video_fps > 0 else source_fps
        if not (np.isfinite(fps) and 0 < fps <= 1000):  # a container's odd rate
            fps = 30.0
        self.video = media.VideoWriter(options.write_video, fps) if options.write_video \
            else None
        self.coco = coco_json.CocoResults(self.model) if options.write_coco_json else None

    @property
    def writes_anything(self) -> bool:
        return any((self.json_dir, self.images_dir, self.video, self.coco))

    def done(self, name: str) -> bool:
        """True when `name`'s per-frame files all exist and no whole-run file needs it."""
        if self.video or self.coco or not (self.json_dir or self.images_dir):
            return False
        return all(path.exists() for path in self._paths(name))

    def _paths(self, name):
        if self.json_dir:
            yield openpose_json.json_path(self.json_dir, name)
        if self.images_dir:
            yield self.images_dir / f"{name}_rendered.{self.image_format}"

    def write(self, name: str, image, people) -> np.ndarray:
        """Writes one frame's outputs (`people`: a `common.People`); returns the body
        keypoints as written (in `--keypoint_scale` units)."""
        keypoints = scaled_keypoints(people, image, self.options.keypoint_scale)
        if self.coco:
            self.coco.add(name, keypoints["pose_keypoints_2d"], people.scores)
        if self.json_dir:
            write_atomic(openpose_json.json_path(self.json_dir, name), keypoints_json(keypoints))
        if self.images_dir or self.video:
            rendered = render_frame(image, people, self.model, self.options)
            if self.images_dir:
                media.write_image(self.images_dir / f"{name}_rendered.{self.image_format}",
                                  rendered)
            if self.video:
                self.video.write(rendered, name)
        return keypoints["pose_keypoints_2d"]

    def close(self, complete: bool = True) -> list[pathlib.Path]:
        """Finishes the whole-run files (only a complete run leaves them); returns those
        written."""
        written = []
        if self.video:
            path = self.video.close(complete)
            written += [path] if path else []
        if self.coco and complete:
            self.coco.write(self.options.write_coco_json)
            written.append(pathlib.Path(self.options.write_coco_json))
        return written


def scaled_keypoints(people, image, keypoint_scale: int) -> dict:
    """One frame's keypoints in `--keypoint_scale` units by `openpose_json.KEYS` name
    (`run`'s JSON files and `serve`'s answers are both made of this)."""
    height, width = image.shape[:2]

    def scaled(keypoints):
        return None if keypoints is None else scale_keypoints(
            keypoints, keypoint_scale, (width, height), people.scale_net_to_output)

    return {"pose_keypoints_2d": scaled(people.keypoints),
            "face_keypoints_2d": scaled(people.face),
            "hand_left_keypoints_2d": scaled(people.hand_left),
            "hand_right_keypoints_2d": scaled(people.hand_right)}


def frame_json(people, image, keypoint_scale: int = 0) -> str:
    """The text of one frame's `<name>_keypoints.json`, byte for byte what `run` writes."""
    return keypoints_json(scaled_keypoints(people, image, keypoint_scale))


def keypoints_json(keypoints: dict) -> str:
    """`scaled_keypoints`' result as the text of a `<name>_keypoints.json`."""
    other = {key: value for key, value in keypoints.items() if key != "pose_keypoints_2d"}
    return openpose_json.people_json(keypoints["pose_keypoints_2d"], **other)


def render_frame(image, people, model, options: OutputOptions):
    """One frame's rendered picture (OpenPose's renderer, the options' thresholds and
    blending)."""
    hands = None if people.hand_left is None else (people.hand_left, people.hand_right)
    o = options
    return render.draw_people(image, people.keypoints, model, o.render_threshold, o.alpha_pose,
                              not o.disable_blending, hands, people.face,
                              o.hand_render_threshold, o.face_render_threshold)


# OpenPose's --keypoint_scale (flagsToScaleMode, keypointScaler.cpp).
KEYPOINT_SCALES = {0: "input image pixels", 1: "net output (heatmap) pixels",
                   2: "output pixels (= input pixels: no --output_resolution here)",
                   3: "[0, 1] of the image", 4: "[-1, 1] of the image"}


def check_keypoint_scale(keypoint_scale: int) -> int:
    if keypoint_scale not in KEYPOINT_SCALES:
        raise ValueError(f"keypoint_scale must be one of {sorted(KEYPOINT_SCALES)} "
                         f"({'; '.join(f'{k}: {v}' for k, v in KEYPOINT_SCALES.items())}), got "
                         f"{keypoint_scale}")
    return keypoint_scale


def scale_keypoints(keypoints: np.ndarray, keypoint_scale: int, image_size: tuple[int, int],
                    scale_net_to_output: float = 1.0) -> np.ndarray:
    """Keypoints `[..., 3]` in image pixels -> OpenPose's `--keypoint_scale` units (x and y only,
    scores kept; missing `0,0,0` keypoints are scaled too, as OpenPose does). `image_size` is
    (width, height); `scale_net_to_output` is OpenPose's scaleNetToOutput (for mode 1). float32
    arithmetic, as OpenPose's scaleKeypoints2d.

    Where we differ: an image 1 pixel wide (or high) has no `1 / (W - 1)`; OpenPose divides by
    zero and writes inf/NaN. Here that dimension's factor is 0 (its only pixel is the start of
    the range: 0 with mode 3, -1 with mode 4), so the JSON stays valid."""
    check_keypoint_scale(keypoint_scale)
    out = np.array(keypoints, np.float32, copy=True)
    if keypoint_scale in (0, 2):
        return out
    f32 = np.float32
    width, height = image_size
    if keypoint_scale == 1:
        sx = sy = f32(1.0 / float(f32(scale_net_to_output)))
        offset = None
    else:
        span = f32(1) if keypoint_scale == 3 else f32(2)
        offset = None if keypoint_scale == 3 else f32(-1)
        sx, sy = (span / (f32(side) - f32(1)) if side > 1 else f32(0) for side in (width, height))
    out[..., 0] *= sx
    out[..., 1] *= sy
    if offset is not None:
        out[..., :2] += offset
    return out
