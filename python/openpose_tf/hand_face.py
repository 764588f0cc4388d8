"""OpenPose's hand and face keypoints on top of the body (its handDetector / faceDetector and
handExtractorCaffe / faceExtractorCaffe), in TensorFlow ops with OpenPose's float32 and float64
arithmetic: a stage of `openpose_tf.pipeline.estimate`, so every route (PoseExtractor, the
whole-pipeline SavedModel) runs this code.

1. Regions from each person's body keypoints (image pixels):
   - hand (`hand_rectangles`): for each of left and right, when wrist, elbow and shoulder all
     score above 0.03, a square of side `1.5 max(|wrist-elbow|, 0.9 |elbow-shoulder|)` centred at
     `wrist + 0.33 (wrist - elbow)`; else zeros.
   - face (`face_rectangles`): with neck and nose above 0.25, the nose-neck cue (the mean of the
     nose, eye and ear with `0.85 (|nose-eye| + |nose-ear| + |neck-nose|)` for a profile with one
     side's eye and ear, else the neck-nose midpoint with `2 |neck-nose|`), plus the eyes' cue
     (their midpoint, `3 |lEye-rEye|`) and the ears' cue (midpoint, `2 |lEar-rEar|`) when both
     are visible, averaged; MPI: the head with `1.33 |neck-head|`.
2. Each region is cropped to the net resolution by OpenCV's `warpAffine(INTER_LINEAR |
   WARP_INVERSE_MAP)` (`graph_warp.warp_crops`, equal to OpenCV pixel for pixel; black outside
   the image) with the crop-to-image matrix `[[s, 0, x], [0, s, y]]`, `s = side / min(net W, H)`;
   the left hand is mirrored (`[[-s, 0, x + w], ...]`).
3. The crops go through the network `batch_size` at a time (the last batch padded, so a crop's
   result never depends on how many others there are), normalised as OpenPose's, then
   `ops.resize_and_merge` (8x, as OpenPose) and `ops.maximum` over the parts (no threshold, no
   offset); keypoint = `(float)(M . (x, y))` in double, score = the maximum.
4. Hands with `scale_number > 1`: the region is re-centred with side `(round(w * scale) / 2) * 2`
   for scales `1 - r/2 + r i / (n - 1)`; the first scale is kept unless a later one has a strictly
   higher mean score (float32, summed in part order) over the 21 parts.
A region too small (hand: min side <= 1 or area <= 10; face: min side <= 40) gives zeros.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from openpose_tf import geometry, graph_warp, pose_models
from openpose_tf.common import check_batch_size
from openpose_tf.net_input import call_network, check_input_format, normalise

HAND_THRESHOLD = 0.03
FACE_THRESHOLD = 0.25
_F32, _F64 = tf.float32, tf.float64


def _c(value):
    return tf.constant(value, _F32)


def _divide(x, y):
    """x / y, rounded as IEEE division also inside a graph: Grappler turns a division by a
    constant into a multiplication by its reciprocal (x / 3 -> x * 0.33333334), which rounds
    differently; DivNoNan (the same for y != 0) is left alone."""
    return tf.math.divide_no_nan(x, y)


def _distance(a, b):
    """getDistance: sqrt(dx * dx + dy * dy) in float32 (a, b: [..., >= 2])."""
    dx, dy = a[..., 0] - b[..., 0], a[..., 1] - b[..., 1]
    return tf.sqrt(dx * dx + dy * dy)


def _part(model, *names) -> int | None:
    for name in names:
        if name in model.part_names:
            return model.part_names.index(name)
    return None


def _square(x, y, side):
    """(x - side/2, y - side/2, side, side) as [..., 4]."""
    half = side / _c(2)
    return tf.stack([x - half, y - half, side, side], axis=-1)


def hand_parts(model) -> list[list[int]]:
    """[[wrist, elbow, shoulder] of the left hand, ... of the right] of a body model."""
    sides = []
    for side in ("L", "R"):
        parts = [_part(model, side + name) for name in ("Wrist", "Elbow", "Shoulder")]
        if None in parts:
            raise ValueError(f"{model.name} has no {side}Wrist/{side}Elbow/{side}Shoulder: "
                             "hands need them")
        sides.append(parts)
    return sides


def face_parts(model) -> tuple[int, ...]:
    """(neck, nose, lEar, rEar, lEye, rEye) of a body model (MPI: Head for the last five)."""
    parts = (_part(model, "Neck"), _part(model, "Nose", "Head"), _part(model, "LEar", "Head"),
             _part(model, "REar", "Head"), _part(model, "LEye", "Head"),
             _part(model, "REye", "Head"))
    if None in parts:
        raise ValueError(f"{model.name} has no Neck and Nose (or Head): faces need them")
    return parts


def hand_rectangles(keypoints, pose_model):
    """`[T, 2, 4]` float32 (x, y, width, height) of each person's left and right hand regions
    (zeros where a hand has no region) from body keypoints `[T, P, 3]`."""
    model = pose_models.get(pose_model)
    k = tf.reshape(tf.convert_to_tensor(keypoints, _F32), [-1, model.num_parts, 3])
    hands = []
    for wrist, elbow, shoulder in hand_parts(model):
        w, e, s = k[:, wrist], k[:, elbow], k[:, shoulder]
        valid = (w[:, 2] > HAND_THRESHOLD) & (e[:, 2] > HAND_THRESHOLD) & \
            (s[:, 2] > HAND_THRESHOLD)
        x = w[:, 0] + _c(0.33) * (w[:, 0] - e[:, 0])
        y = w[:, 1] + _c(0.33) * (w[:, 1] - e[:, 1])
        side = _c(1.5) * tf.maximum(_distance(w, e), _c(0.9) * _distance(e, s))
        hands.append(tf.where(valid[:, None], _square(x, y, side), tf.zeros([1, 4], _F32)))
    return tf.stack(hands, axis=1)


def face_rectangles(keypoints, pose_model):
    """`[T, 4]` float32 (x, y, width, height) of each person's face region (zeros where there is
    none) from body keypoints `[T, P, 3]`."""
    model = pose_models.get(pose_model)
    k = tf.reshape(tf.convert_to_tensor(keypoints, _F32), [-1, model.num_parts, 3])
    neck, nose, l_ear, r_ear, l_eye, r_eye = (k[:, i] for i in face_parts(model))
    above = [p[:, 2] > FACE_THRESHOLD for p in (neck, nose, l_ear, r_ear, l_eye, r_eye)]
    a_neck, a_nose, a_lear, a_rear, a_leye, a_reye = above
    neck_nose = a_neck & a_nose
    zero = tf.zeros_like(neck[:, 0])
    if len(set(face_parts(model)[1:4])) == 1:  # MPI: the head
        size = tf.where(neck_nose, _c(1.33) * _distance(neck, nose), zero)
        return _square(tf.where(neck_nose, nose[:, 0], zero),
                       tf.where(neck_nose, nose[:, 1], zero), size)
    profile = tf.equal(a_leye, a_lear) & tf.equal(a_reye, a_rear) & tf.not_equal(a_leye, a_reye)
    eye = tf.where(a_leye[:, None], l_eye, r_eye)
    ear = tf.where(a_leye[:, None], l_ear, r_ear)
    side_point = _divide((eye[:, :2] + ear[:, :2]) + nose[:, :2], _c(3))
    side_size = _c(0.85) * ((_distance(nose, eye) + _distance(nose, ear)) +
                            _distance(neck, nose))
    cues = [  # (present, point [T, 2], size), in OpenPose's order
        (neck_nose, tf.where(profile[:, None], side_point, (neck[:, :2] + nose[:, :2]) / _c(2)),
         tf.where(profile, side_size, _c(2) * _distance(neck, nose))),
        (a_leye & a_reye, (l_eye[:, :2] + r_eye[:, :2]) / _c(2), _c(3) * _distance(l_eye, r_eye)),
        (a_lear & a_rear, (l_ear[:, :2] + r_ear[:, :2]) / _c(2), _c(2) * _distance(l_ear, r_ear)),
    ]
    point, size, counter = tf.zeros_like(neck[:, :2]), zero, tf.zeros_like(zero)
    for present, cue_point, cue_size in cues:
        point = tf.where(present[:, None], point + cue_point, point)
        size = tf.where(present, size + cue_size, size)
        counter = counter + tf.cast(present, _F32)
    some = counter > 0
    point = tf.where(some[:, None], point / tf.maximum(counter, 1)[:, None], point)
    size = tf.where(some, size / tf.maximum(counter, 1), size)
    return _square(point[:, 0], point[:, 1], size)


def hand_matrices(rects, net_side: int, mirror):
    """Crop-to-image matrices `[M, 2, 3]` float64 of hand regions `[M, 4]` (cropFrame): the
    float32 scale `w / side`; `mirror` `[M]` (the left hand) flips x about the region."""
    rects = tf.convert_to_tensor(rects, _F32)
    x, y, w = rects[:, 0], rects[:, 1], rects[:, 2]
    scale = _divide(w, _c(net_side))
    m00 = tf.where(mirror, -scale, scale)
    m02 = tf.where(mirror, x + w, x)
    zero = tf.zeros_like(x, _F64)
    return tf.reshape(tf.stack([tf.cast(m00, _F64), zero, tf.cast(m02, _F64), zero,
                                tf.cast(scale, _F64), tf.cast(y, _F64)], axis=1), [-1, 2, 3])


def face_matrices(rects, net_side: int):
    """Crop-to-image matrices `[M, 2, 3]` of face regions: scale `max(w, h) / (double)side`."""
    rects = tf.convert_to_tensor(rects, _F32)
    scale = _divide(tf.cast(tf.maximum(rects[:, 2], rects[:, 3]), _F64),
                    tf.constant(net_side, _F64))
    zero = tf.zeros_like(scale)
    return tf.reshape(tf.stack([scale, zero, tf.cast(rects[:, 0], _F64), zero, scale,
                                tf.cast(rects[:, 1], _F64)], axis=1), [-1, 2, 3])


def to_image(maxima, matrices):
    """Maximum's `[M, K, 3]` (x, y, value) in crop pixels -> keypoints in image pixels:
    `(float)(M . (x, y, 1))` in double, the value as the score."""
    x, y = tf.cast(maxima[..., 0], _F64), tf.cast(maxima[..., 1], _F64)
    m = matrices[:, None, :, :]
    image_x = m[..., 0, 0] * x + m[..., 0, 1] * y + m[..., 0, 2]
    image_y = m[..., 1, 0] * x + m[..., 1, 1] * y + m[..., 1, 2]
    return tf.stack([tf.cast(image_x, _F32), tf.cast(image_y, _F32), maxima[..., 2]], axis=-1)


def rescaled_hands(rects, scale: float):
    """Hand regions `[M, 4]` re-centred with side `(round(w * scale) / 2) * 2` (OpenPose's
    multi-scale hand; `scale` a float32 value)."""
    rects = tf.convert_to_tensor(rects, _F32)
    x, y, w, h = (rects[:, i] for i in range(4))

    def side(length):
        return tf.cast(tf.cast(length * _c(scale) + _c(0.5), tf.int32) // 2 * 2, _F32)

    new_w, new_h = side(w), side(h)
    cx, cy = x + w / _c(2), y + h / _c(2)
    return tf.stack([cx - new_w / _c(2), cy - new_h / _c(2), new_w, new_h], axis=1)


def average_score(keypoints):
    """getAverageScore of `[M, K, 3]`: the scores summed in float32 in part order, over K. (A
    cumulative sum, whose last entry adds in order: a chain of adds would be regrouped into an
    AddN by Grappler inside a graph, which sums in another order.)"""
    total = tf.math.cumsum(keypoints[:, :, 2], axis=1)[:, -1]
    return _divide(total, _c(keypoints.shape[1]))


def hand_scales(number: int, scale_range: float) -> list[float]:
    """OpenPose's hand scales `1 - r/2 + r i / (n - 1)` in float32 (1 for one scale)."""
    if number < 1:
        raise ValueError(f"hand_scale_number must be >= 1, got {number}")
    f = np.float32
    if number == 1:
        return [1.0]
    first = f(f(1) - f(f(scale_range) / f(2)))
    return [float(f(first + f(f(f(scale_range) * f(i)) / f(number - 1.0))))
            for i in range(number)]


class KeypointNetwork:
    """A hand or face network (`[N, H, W, 3]` normalised -> `[N, H/8, W/8, K+1]`) with OpenPose's
    resize (8x) and Maximum over the K parts: `maxima(crops)` -> `[M, K, 3]` in crop pixels.

    `batch_size` crops go through the network per call; the last call is padded with black crops
    so that every call has the same shape (TensorFlow's convolutions may round differently for
    other batch shapes): a crop's keypoints do not depend on the other crops."""

    def __init__(self, network, pose_model, net_resolution="368x368", variant="gpu",
                 batch_size=1, input_format=None):
        self.network = network
        self.model = pose_models.get(pose_model)
        width, height = geometry.parse_resolution(net_resolution)
        if width <= 0 or height <= 0:
            raise ValueError(f"the {self.model.name.lower()} net resolution must be positive "
                             f"WxH, got {net_resolution!r}")
        self.net_resolution = net_resolution
        self.size = (width, height)
        self.side = min(width, height)
        self.variant = variant
        self.batch_size = check_batch_size(batch_size)
        self.input_format = check_input_format(
            input_format or getattr(network, "input_format", "openpose"))

    def _chunk(self, crops):
        from openpose_tf import ops

        out = call_network(self.network, normalise(crops, self.input_format))
        parts = self.model.num_parts
        if out.shape[-1] is not None and out.shape[-1] != parts + 1:
            raise ValueError(f"the {self.model.name.lower()} network must output {parts + 1} "
                             f"channels ({parts} parts and the background), got shape "
                             f"{list(out.shape)}")
        size = tf.shape(out)[1:3] * 8
        heat = ops.resize_and_merge(out, size, [1.0], self.variant)
        return ops.maximum(heat[..., :parts])

    def maxima(self, crops):
        """`[M, K, 3]` float32 maxima of uint8 crops `[M, H, W, 3]`."""
        crops = tf.convert_to_tensor(crops, tf.uint8)
        count, b = tf.shape(crops)[0], self.batch_size
        padded = tf.pad(crops, [[0, (b - count % b) % b], [0, 0], [0, 0], [0, 0]])
        chunks = tf.reshape(padded, [-1, b, self.size[1], self.size[0], 3])
        found = tf.map_fn(self._chunk, chunks, fn_output_signature=tf.TensorSpec(
            [b, self.model.num_parts, 3], _F32))
        return tf.reshape(found, [-1, self.model.num_parts, 3])[:count]


def _crop_and_find(images, image_index, matrices, network: KeypointNetwork):
    crops = graph_warp.warp_crops(images, image_index, matrices, *network.size)
    return to_image(network.maxima(crops), matrices)


def hand_keypoints(images, image_index, keypoints, network: KeypointNetwork, pose_model,
                   scale_number=1, scale_range=0.4):
    """Left and right hand keypoints `[T, 21, 3]` each of T people: `keypoints` `[T, P, 3]`
    their bodies, person t in `images[image_index[t]]` (uint8 `[N, H, W, 3]`)."""
    rects = hand_rectangles(keypoints, pose_model)                  # [T, 2, 4]
    people = tf.shape(rects)[0]
    flat = tf.reshape(rects, [-1, 4])                               # row 2t + h
    valid = (tf.minimum(flat[:, 2], flat[:, 3]) > _c(1)) & (flat[:, 2] * flat[:, 3] > _c(10))
    rows = tf.cast(tf.where(valid)[:, 0], tf.int32)
    chosen, mirror = tf.gather(flat, rows), tf.equal(rows % 2, 0)   # hand 0 (left) mirrored
    index = tf.gather(tf.convert_to_tensor(image_index, tf.int32), rows // 2)
    best = best_score = None
    for i, scale in enumerate(hand_scales(scale_number, scale_range)):
        regions = chosen if scale_number == 1 else rescaled_hands(chosen, scale)
        found = _crop_and_find(images, index, hand_matrices(regions, network.side, mirror),
                               network)
        if i == 0:
            best, best_score = found, average_score(found)
        else:
            score = average_score(found)
            better = score > best_score
            best = tf.where(better[:, None, None], found, best)
            best_score = tf.where(better, score, best_score)
    parts = network.model.num_parts
    out = tf.scatter_nd(rows[:, None], best, tf.stack([2 * people, parts, 3]))
    out = tf.reshape(out, [-1, 2, parts, 3])
    return out[:, 0], out[:, 1]


def face_keypoints(images, image_index, keypoints, network: KeypointNetwork, pose_model):
    """Face keypoints `[T, 70, 3]` of T people (as hand_keypoints)."""
    rects = face_rectangles(keypoints, pose_model)
    rows = tf.cast(tf.where(tf.minimum(rects[:, 2], rects[:, 3]) > _c(40))[:, 0], tf.int32)
    index = tf.gather(tf.convert_to_tensor(image_index, tf.int32), rows)
    found = _crop_and_find(images, index, face_matrices(tf.gather(rects, rows), network.side),
                           network)
    return tf.scatter_nd(rows[:, None], found,
                         tf.stack([tf.shape(rects)[0], network.model.num_parts, 3]))
