"""Skeletons drawn as OpenPose draws them (renderPoseKeypointsCpu / renderKeypointsCpu).

Per person, sizes follow the person's box (keypoints with score > 0.1) relative to the image:
`ratio = min(1, max(box_w / W, box_h / H))`, `t = max(round(sqrt(W*H) * c * ratio), 2)`; limbs
are `max(1, round(l t))` wide (body c = 1/75, l = 0.75; hands 1/50, 0.75; faces 1/75, 0.334),
joints are circles of radius `t // 2` and line width
`max(1, t if ratio > 0.05 else -1)` (so never filled, as in OpenPose). A limb is drawn when both
its parts score above `render_threshold` (OpenPose's `--render_threshold`, 0.05) and takes the
colour of its second part; joints take their own colour. Limbs first, then joints, person by
person, with OpenCV's 8-connected lines and circles.

`alpha` blends the drawing over the image (OpenPose's `--alpha_pose`, 0.6, used by its GPU
renderer); `alpha=1` gives OpenPose's CPU renderer pixel for pixel. `blend_original=False` draws on
black (OpenPose's `--disable_blending`).
"""

from __future__ import annotations

import math

import numpy as np

from openpose_tf import pose_models

RENDER_THRESHOLD = 0.05   # OpenPose's --render_threshold default
ALPHA_POSE = 0.6          # OpenPose's --alpha_pose default (POSE_DEFAULT_ALPHA_KEYPOINT)
HAND_RENDER_THRESHOLD = 0.2   # OpenPose's --hand_render_threshold default
FACE_RENDER_THRESHOLD = 0.4   # OpenPose's --face_render_threshold default
_BOX_THRESHOLD = 0.1


def _round(value) -> int:
    """OpenPose's positiveIntRound: int(v + 0.5)."""
    return int(value + 0.5)


def draw_people(image: np.ndarray, keypoints, pose_model="BODY_25",
                render_threshold: float = RENDER_THRESHOLD, alpha: float = ALPHA_POSE,
                blend_original: bool = True, hands=None, face=None,
                hand_threshold: float = HAND_RENDER_THRESHOLD,
                face_threshold: float = FACE_RENDER_THRESHOLD) -> np.ndarray:
    """A copy of the BGR uint8 `image` `[H, W, 3]` with `keypoints` `[T, P, 3]` (image pixels,
    e.g. `People.keypoints`) drawn in OpenPose's colours; `hands` (`(left, right)`, each
    `[T, 21, 3]`) and `face` (`[T, 70, 3]`) are drawn over them with their own thresholds
    (OpenPose's --hand_render_threshold 0.2 and --face_render_threshold 0.4), sizes and colours."""
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"image must be a [H, W, 3] uint8 BGR array, got {image.dtype} "
                         f"{list(image.shape)}")
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must lie in [0, 1], got {alpha}")
    base = image if blend_original else np.zeros_like(image)
    canvas = base.copy()
    _draw(canvas, keypoints, pose_models.get(pose_model), render_threshold)
    for hand in hands if hands is not None else ():
        _draw(canvas, hand, pose_models.get("HAND"), hand_threshold)
    if face is not None:
        _draw(canvas, face, pose_models.get("FACE"), face_threshold)
    if alpha == 1.0:
        return canvas
    blended = base.astype(np.float32) + np.float32(alpha) * (
        canvas.astype(np.float32) - base.astype(np.float32))
    return np.clip(np.floor(blended + 0.5), 0, 255).astype(np.uint8)


def _draw(canvas: np.ndarray, keypoints, model, threshold: float) -> None:
    """renderKeypointsCpu for one set of keypoints, in place."""
    import cv2

    if not model.colors:
        raise ValueError(f"{model.name} has no render colours")
    keypoints = np.asarray(keypoints, np.float32).reshape(-1, model.num_parts, 3)
    height, width = canvas.shape[:2]
    for person in keypoints:
        box = keypoints_box(person, _BOX_THRESHOLD)
        if box is None or box[2] * box[3] <= 0:
            continue
        ratio = min(1.0, max(float(box[2]) / width, float(box[3]) / height))
        thickness = max(_round(math.sqrt(width * height) * model.render_circle_ratio * ratio), 2)
        circle_width = max(1, thickness if ratio > 0.05 else -1)
        line_width = max(1, _round(thickness * model.render_line_ratio))
        radius = thickness // 2
        visible = person[:, 2] > threshold
        centres = [(_round(x), _round(y)) for x, y in person[:, :2]]
        for a, b in model.render_pairs:
            if visible[a] and visible[b]:
                cv2.line(canvas, centres[a], centres[b], _bgr(model, b), line_width, cv2.LINE_8)
        for part in np.flatnonzero(visible):
            cv2.circle(canvas, centres[part], radius, _bgr(model, part), circle_width,
                       cv2.LINE_8)


def _bgr(model, part) -> tuple[int, int, int]:
    r, g, b = model.colors[part % len(model.colors)]
    return (b, g, r)


def keypoints_box(person: np.ndarray, threshold: float = 0.05):
    """OpenPose's getKeypointsRectangle: `(x, y, width, height)` (float32) of the keypoints
    scoring above `threshold`, or None. OpenPose starts the maxima at 0 and the minima at FLT_MAX,
    so all-negative coordinates give a box from the minimum to 0."""
    f32 = np.float32
    min_x = min_y = f32(np.finfo(np.float32).max)
    max_x = max_y = f32(0)
    for x, y, score in np.asarray(person, np.float32):
        if score > f32(threshold):
            max_x, min_x = max(max_x, x), min(min_x, x)
            max_y, min_y = max(max_y, y), min(min_y, y)
    if max_x >= min_x and max_y >= min_y:
        return min_x, min_y, f32(max_x - min_x), f32(max_y - min_y)
    return None
