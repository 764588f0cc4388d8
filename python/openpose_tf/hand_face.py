"""OpenPose's hand and face keypoints on top of the body (its handDetector / faceDetector and
handExtractorCaffe / faceExtractorCaffe), float32 and float64 where OpenPose uses them.

1. Regions from each person's body keypoints (image pixels):
   - hand (`hand_rectangles`): for each of left and right, when wrist, elbow and shoulder all
     score above 0.03, a square of side `1.5 max(|wrist-elbow|, 0.9 |elbow-shoulder|)` centred at
     `wrist + 0.33 (wrist - elbow)`; else zeros.
   - face (`face_rectangles`): with neck and nose above 0.25, the nose-neck cue (the mean of the
     nose, eye and ear with `0.85 (|nose-eye| + |nose-ear| + |neck-nose|)` for a profile with one
     side's eye and ear, else the neck-nose midpoint with `2 |neck-nose|`), plus the eyes' cue
     (their midpoint, `3 |lEye-rEye|`) and the ears' cue (midpoint, `2 |lEar-rEar|`) when both
     are visible, averaged; MPI: the head with `1.33 |neck-head|`.
2. Each region is cropped by `cv2.warpAffine(INTER_LINEAR | WARP_INVERSE_MAP)` to the net
   resolution (black outside the image), the crop-to-image matrix being `[[s, 0, x], [0, s, y]]`,
   `s = side / min(net W, net H)`; the left hand is mirrored (`[[-s, 0, x + w], ...]`).
3. All crops of a call go through the network together (normalised as OpenPose's), then
   `ops.resize_and_merge` (8x, as OpenPose) and `ops.maximum` over the parts (no threshold, no
   offset); keypoint = `(float)(M . (x, y))` in double, score = the maximum.
4. Hands with `scale_number > 1`: the region is re-centred with side
   `(round(w * scale) / 2) * 2` for scales `1 - r/2 + r i / (n - 1)`; the first scale is kept
   unless a later one has a strictly higher mean score over the 21 parts.
A region too small (hand: min side <= 1 or area <= 10; face: min side <= 40) gives zeros.
"""

from __future__ import annotations

import numpy as np

from openpose_tf import pose_models

HAND_THRESHOLD = np.float32(0.03)
FACE_THRESHOLD = np.float32(0.25)
HAND_RENDER_THRESHOLD = 0.2    # OpenPose's --hand_render_threshold
FACE_RENDER_THRESHOLD = 0.4    # OpenPose's --face_render_threshold
_F = np.float32


def _distance(a, b) -> np.float32:
    dx, dy = _F(a[0]) - _F(b[0]), _F(a[1]) - _F(b[1])
    return _F(np.sqrt(_F(dx * dx + dy * dy)))


def _part(model, *names) -> int | None:
    for name in names:
        if name in model.part_names:
            return model.part_names.index(name)
    return None


def hand_rectangles(keypoints, pose_model) -> np.ndarray:
    """`[T, 2, 4]` float32 (x, y, width, height) of each person's left and right hand regions
    (zeros where a hand has no region) from body keypoints `[T, P, 3]`."""
    model = pose_models.get(pose_model)
    keypoints = np.asarray(keypoints, np.float32).reshape(-1, model.num_parts, 3)
    sides = []
    for side in ("L", "R"):
        parts = [_part(model, side + name) for name in ("Wrist", "Elbow", "Shoulder")]
        if None in parts:
            raise ValueError(f"{model.name} has no {side}Wrist/{side}Elbow/{side}Shoulder: "
                             "hands need them")
        sides.append(parts)
    out = np.zeros((len(keypoints), 2, 4), np.float32)
    for t, person in enumerate(keypoints):
        for h, (wrist, elbow, shoulder) in enumerate(sides):
            w, e, s = person[wrist], person[elbow], person[shoulder]
            if not (w[2] > HAND_THRESHOLD and e[2] > HAND_THRESHOLD and s[2] > HAND_THRESHOLD):
                continue
            ratio = _F(0.33)
            x = _F(w[0] + _F(ratio * _F(w[0] - e[0])))
            y = _F(w[1] + _F(ratio * _F(w[1] - e[1])))
            side_len = _F(_F(1.5) * max(_distance(w, e), _F(_F(0.9) * _distance(e, s))))
            half = _F(side_len / _F(2))
            out[t, h] = (_F(x - half), _F(y - half), side_len, side_len)
    return out


def face_rectangles(keypoints, pose_model) -> np.ndarray:
    """`[T, 4]` float32 (x, y, width, height) of each person's face region (zeros where there is
    none) from body keypoints `[T, P, 3]`."""
    model = pose_models.get(pose_model)
    keypoints = np.asarray(keypoints, np.float32).reshape(-1, model.num_parts, 3)
    neck, nose = _part(model, "Neck"), _part(model, "Nose", "Head")
    l_ear, r_ear = _part(model, "LEar", "Head"), _part(model, "REar", "Head")
    l_eye, r_eye = _part(model, "LEye", "Head"), _part(model, "REye", "Head")
    if None in (neck, nose, l_ear, r_ear, l_eye, r_eye):
        raise ValueError(f"{model.name} has no Neck and Nose (or Head): faces need them")
    head_only = nose == l_ear == r_ear  # MPI
    out = np.zeros((len(keypoints), 4), np.float32)
    for t, p in enumerate(keypoints):
        above = {i: bool(p[i, 2] > FACE_THRESHOLD) for i in (neck, nose, l_ear, r_ear, l_eye,
                                                             r_eye)}
        px = py = size = _F(0)
        counter = 0
        if head_only:
            if above[neck] and above[nose]:
                px, py = p[nose, 0], p[nose, 1]
                size = _F(_F(1.33) * _distance(p[neck], p[nose]))
        else:
            if above[neck] and above[nose]:
                profile = above[l_eye] == above[l_ear] and above[r_eye] == above[r_ear] and \
                    above[l_eye] != above[r_eye]
                if profile:
                    eye, ear = (l_eye, l_ear) if above[l_eye] else (r_eye, r_ear)
                    px = _F(px + _F(_F(_F(p[eye, 0] + p[ear, 0]) + p[nose, 0]) / _F(3)))
                    py = _F(py + _F(_F(_F(p[eye, 1] + p[ear, 1]) + p[nose, 1]) / _F(3)))
                    size = _F(size + _F(_F(0.85) * _F(_F(
                        _distance(p[nose], p[eye]) + _distance(p[nose], p[ear]))
                        + _distance(p[neck], p[nose]))))
                else:
                    px = _F(px + _F(_F(p[neck, 0] + p[nose, 0]) / _F(2)))
                    py = _F(py + _F(_F(p[neck, 1] + p[nose, 1]) / _F(2)))
                    size = _F(size + _F(_F(2) * _distance(p[neck], p[nose])))
                counter += 1
            for a, b, factor in ((l_eye, r_eye, 3), (l_ear, r_ear, 2)):
                if above[a] and above[b]:
                    px = _F(px + _F(_F(p[a, 0] + p[b, 0]) / _F(2)))
                    py = _F(py + _F(_F(p[a, 1] + p[b, 1]) / _F(2)))
                    size = _F(size + _F(_F(factor) * _distance(p[a], p[b])))
                    counter += 1
            if counter > 0:
                px, py, size = _F(px / _F(counter)), _F(py / _F(counter)), \
                    _F(size / _F(counter))
        half = _F(size / _F(2))
        out[t] = (_F(px - half), _F(py - half), size, size)
    return out


def hand_matrix(rect, net_side: int, mirror: bool) -> np.ndarray:
    """The crop-to-image matrix of a hand region (handExtractorCaffe's cropFrame): float32
    scale `w / side`, stored as double; the left hand is mirrored."""
    x, y, w, _ = (_F(v) for v in rect)
    scale = _F(w / _F(net_side))
    return np.array([[-scale if mirror else scale, 0.0, _F(x + w) if mirror else x],
                     [0.0, scale, y]], np.float64)


def face_matrix(rect, net_side: int) -> np.ndarray:
    """The crop-to-image matrix of a face region (faceExtractorCaffe): scale
    `max(w, h) / (double)side`."""
    x, y, w, h = (_F(v) for v in rect)
    scale = float(max(w, h)) / float(net_side)
    return np.array([[scale, 0.0, float(x)], [0.0, scale, float(y)]], np.float64)


def crop(image: np.ndarray, matrix: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The `size` (W, H) crop whose pixel (x, y) is image pixel `matrix . (x, y, 1)`."""
    import cv2

    return cv2.warpAffine(image, matrix, size, flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0))


def to_image(maxima: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Maximum's `[K, 3]` (x, y, value) in crop pixels -> keypoints in image pixels:
    `(float)(M . (x, y, 1))` in double, the value as the score."""
    xy = maxima[:, :2].astype(np.float64)
    out = np.empty_like(maxima, dtype=np.float32)
    out[:, 0] = (matrix[0, 0] * xy[:, 0] + matrix[0, 1] * xy[:, 1] + matrix[0, 2])
    out[:, 1] = (matrix[1, 0] * xy[:, 0] + matrix[1, 1] * xy[:, 1] + matrix[1, 2])
    out[:, 2] = maxima[:, 2]
    return out


def rescaled_hand(rect, scale: np.float32) -> np.ndarray:
    """`rect` re-centred with side `(round(w * scale) / 2) * 2` (OpenPose's multi-scale hand)."""
    x, y, w, h = (_F(v) for v in rect)
    new_w = _F(int(_F(w * scale) + _F(0.5)) // 2 * 2)
    new_h = _F(int(_F(h * scale) + _F(0.5)) // 2 * 2)
    cx, cy = _F(x + _F(w / _F(2))), _F(y + _F(h / _F(2)))
    return np.array([_F(cx - _F(new_w / _F(2))), _F(cy - _F(new_h / _F(2))), new_w, new_h],
                    np.float32)


def average_score(keypoints) -> np.float32:
    """OpenPose's getAverageScore: the scores summed in float32, in part order, over the count."""
    total = _F(0)
    for score in keypoints[:, 2]:
        total = _F(total + score)
    return _F(total / _F(len(keypoints)))


def hand_scales(number: int, scale_range: float) -> list[np.float32]:
    if number < 1:
        raise ValueError(f"hand_scale_number must be >= 1, got {number}")
    if number == 1:
        return [_F(1)]
    first = _F(_F(1) - _F(_F(scale_range) / _F(2)))
    return [_F(first + _F(_F(_F(scale_range) * _F(i)) / _F(number - 1.0))) for i in range(number)]


class KeypointNetwork:
    """A hand or face network (`[N, H, W, 3]` normalised -> `[N, H/8, W/8, K+1]`) with OpenPose's
    resize (8x) and Maximum over the K parts: `maxima(crops)` -> `[N, K, 3]` in crop pixels."""

    def __init__(self, network, pose_model, net_resolution="368x368", variant="gpu",
                 batch_size=16, input_format=None):
        from openpose_tf import extractor, geometry

        self.network = network
        self.model = pose_models.get(pose_model)
        width, height = geometry.parse_resolution(net_resolution)
        if width <= 0 or height <= 0:
            raise ValueError(f"the {self.model.name.lower()} net resolution must be positive "
                             f"WxH, got {net_resolution!r}")
        self.size = (width, height)
        self.side = min(width, height)
        self.variant = variant
        self.batch_size = int(batch_size)
        self.input_format = extractor.check_input_format(
            input_format or getattr(network, "input_format", "openpose"))

    def maxima(self, crops: np.ndarray) -> np.ndarray:
        import tensorflow as tf

        from openpose_tf import extractor, ops

        parts = self.model.num_parts
        out = []
        for i in range(0, len(crops), self.batch_size):
            net_out = self.network(tf.constant(extractor.normalise(
                crops[i:i + self.batch_size], self.input_format)))
            if isinstance(net_out, dict):
                net_out = net_out["net_output"] if "net_output" in net_out else \
                    next(iter(net_out.values()))
            if net_out.shape[-1] != parts + 1:
                raise ValueError(f"the {self.model.name.lower()} network must output "
                                 f"{parts + 1} channels ({parts} parts and the background), "
                                 f"got shape {list(net_out.shape)}")
            h, w = int(net_out.shape[1]), int(net_out.shape[2])
            heat = ops.resize_and_merge(net_out, (8 * h, 8 * w), [1.0], self.variant)
            out.append(ops.maximum(heat[..., :parts]).numpy())
        return np.concatenate(out) if out else np.zeros((0, parts, 3), np.float32)


def hand_keypoints(images, bodies, network: KeypointNetwork, pose_model, scale_number=1,
                   scale_range=0.4):
    """Left and right hand keypoints `[T, 21, 3]` of every image's people (`bodies[i]`: image
    i's body keypoints `[T, P, 3]`), all crops in one batch of network calls."""
    scales = hand_scales(scale_number, scale_range)
    rects = [hand_rectangles(body, pose_model) for body in bodies]
    jobs, crops = [], []  # (image, person, hand, scale, matrix)
    for i, (image, image_rects) in enumerate(zip(images, rects)):
        for t, person in enumerate(image_rects):
            for h, rect in enumerate(person):
                w, ht = rect[2], rect[3]
                if not (min(w, ht) > 1 and _F(w * ht) > 10):
                    continue
                for s, scale in enumerate(scales):
                    r = rect if scale_number == 1 else rescaled_hand(rect, scale)
                    matrix = hand_matrix(r, network.side, mirror=(h == 0))
                    jobs.append((i, t, h, s, matrix))
                    crops.append(crop(image, matrix, network.size))
    out = [np.zeros((2, len(r), 21, 3), np.float32) for r in rects]
    if not crops:
        return out
    maxima = network.maxima(np.stack(crops))
    best = {}
    for (i, t, h, s, matrix), found in zip(jobs, maxima):
        estimate = to_image(found, matrix)
        mean = average_score(estimate)
        if s == 0 or mean > best[i, t, h]:
            best[i, t, h] = mean
            out[i][h, t] = estimate
    return out


def face_keypoints(images, bodies, network: KeypointNetwork, pose_model):
    """Face keypoints `[T, 70, 3]` of every image's people, all crops in one batch."""
    rects = [face_rectangles(body, pose_model) for body in bodies]
    jobs, crops = [], []
    for i, (image, image_rects) in enumerate(zip(images, rects)):
        for t, rect in enumerate(image_rects):
            if not min(rect[2], rect[3]) > 40:
                continue
            matrix = face_matrix(rect, network.side)
            jobs.append((i, t, matrix))
            crops.append(crop(image, matrix, network.size))
    out = [np.zeros((len(r), 70, 3), np.float32) for r in rects]
    if crops:
        for (i, t, matrix), found in zip(jobs, network.maxima(np.stack(crops))):
            out[i][t] = to_image(found, matrix)
    return out
