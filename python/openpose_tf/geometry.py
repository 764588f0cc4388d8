"""OpenPose's image <-> network geometry, in TensorFlow ops with OpenPose's float32/double
rounding. This is the only implementation: the pipeline (`openpose_tf.pipeline`) traces it for
every route (PoseExtractor, `run`, the whole-pipeline SavedModel, `beam`), and the Python-value
front ends at the end (`net_input_size`, `scale_sizes`, `scale_net_to_output`, `warp_input`) call
the same functions eagerly, for examples and tests. No result depends on the installed OpenCV.

- net input size (scaleAndSizeExtractor.cpp:37-106): `--net_resolution` "-1x368": a dimension
  <= 0 follows the image's aspect ratio, `16 * round⁺(ratio / 16)`; with `dynamic > 0`
  (`--net_resolution_dynamic`) capped at `dynamic` times 16:9.
- scales (scaleAndSizeExtractor.cpp:72-88): scale i is `1 - i * scale_gap` of scale 0's size,
  floored to multiples of 16; its image-to-net factor is OpenPose's resizeGetScaleFactor,
  `min((w_net - 1) / (w - 1), (h_net - 1) / (h - 1))` in double (corner-aligned).
- scaleNetToOutput (poseExtractorCaffe.cpp:306-310): heatmap pixels -> image pixels, not exactly
  1 / scaleInputToNetInput: OpenPose rounds the net-sized image first.
- keepTopNPeople (`--number_people_max`): score * sqrt(area of the box of the keypoints scoring
  above 0.05), float32; ties at the threshold keep the first people.

`round⁺` is OpenPose's positiveIntRound, `int(v + 0.5f)`.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import tensorflow as tf

NET_MULTIPLE = 16
# The largest net input side (a limit of ours, not OpenPose's): the network's first activations
# are [N, H, W, 64+] float32, so 4096 x 4096 already needs several GiB per image. Checked for a
# given dimension before the run, for one that follows the aspect ratio per image (pipeline).
MAX_NET_SIDE = 4096
_F32, _F64 = tf.float32, tf.float64


def parse_resolution(text: str) -> tuple[int, int]:
    """"656x368" or "-1x368" -> (width, height); OpenPose's flag syntax."""
    try:
        width, height = (int(v) for v in str(text).lower().split("x"))
    except ValueError as err:
        raise ValueError(f"a resolution is WIDTHxHEIGHT (e.g. -1x368), got {text!r}") from err
    return width, height


def check_net_resolution(net_resolution, dynamic: float = 1.0) -> tuple[int, int]:
    """The static checks of `--net_resolution` (and `--net_resolution_dynamic`): given
    dimensions are multiples of 16 up to MAX_NET_SIDE, at most one is <= 0. Returns (w, h)."""
    width, height = parse_resolution(net_resolution) if isinstance(net_resolution, str) \
        else tuple(int(v) for v in net_resolution)
    for value in (width, height):
        if value > 0 and value % NET_MULTIPLE:
            raise ValueError(f"net_resolution dimensions must be multiples of 16, got "
                             f"{width}x{height}")
        if value > MAX_NET_SIDE:
            raise ValueError(f"net_resolution dimensions must be at most {MAX_NET_SIDE} (the "
                             f"network's activations would not fit in memory), got "
                             f"{width}x{height}")
    if width <= 0 and height <= 0:
        raise ValueError(f"only one net_resolution dimension may be <= 0, got {width}x{height}")
    if not np.isfinite(dynamic) or abs(dynamic) > MAX_NET_SIDE:
        raise ValueError(f"net_resolution_dynamic must be a finite ratio (-1: no cap), got "
                         f"{dynamic}")
    return width, height


def check_scales(scale_number: int, scale_gap: float) -> None:
    """`--scale_number` >= 1, `--scale_gap` > 0 and every scale `1 - i * gap` in [0, 1]."""
    if scale_number < 1:
        raise ValueError(f"scale_number must be >= 1, got {scale_number}")
    if not scale_gap > 0:
        raise ValueError(f"scale_gap must be > 0, got {scale_gap}")
    for i in range(scale_number):
        s = 1.0 - i * scale_gap
        if not 0.0 <= s <= 1.0:
            raise ValueError(f"all scales must lie in [0, 1]: 1 - {i} * {scale_gap} = {s}")


def _round_positive(value):
    """positiveIntRound, `int(v + 0.5f)`, on a float32 or float64 tensor: OpenPose's template adds
    0.5 in the argument's own type (float for the aspect-ratio size, double for the scales and
    netSize). (Values are clamped below 2^30 first, which changes no size the pipeline takes and
    keeps the int cast defined.)"""
    return tf.cast(tf.floor(tf.minimum(value, 2.0**30) + 0.5), tf.int32)


def scale_factor(source, target):
    """OpenPose's resizeGetScaleFactor in double: the largest corner-aligned scale that fits
    `source` (w, h) into `target` (w, h): min over dims with source > 1 of (t - 1) / (s - 1)."""
    ratios = [tf.where(s > 1, tf.cast(t - 1, _F64) / tf.cast(tf.maximum(s - 1, 1), _F64),
                       tf.constant(np.inf, _F64)) for s, t in zip(source, target)]
    ratio = tf.minimum(ratios[0], ratios[1])
    return tf.where(tf.math.is_inf(ratio), tf.constant(1.0, _F64), ratio)


def net_size(width, height, net_resolution, dynamic=1.0):
    """(width, height) int32 tensors of scale 0's net input for an image of `width` x `height`
    (tensors or ints)."""
    net_w, net_h = check_net_resolution(net_resolution, dynamic)
    sixteenth = tf.constant(1 / 16, _F32)
    width, height = tf.cast(width, _F32), tf.cast(height, _F32)
    if net_w <= 0:
        by_aspect = tf.constant(net_h, _F32) * width / height
        if dynamic > 0:
            by_aspect = tf.minimum(tf.constant(net_h * dynamic * 16 / 9, _F32), by_aspect)
        return NET_MULTIPLE * _round_positive(sixteenth * by_aspect), tf.constant(net_h)
    if net_h <= 0:
        by_aspect = tf.constant(net_w, _F32) * height / width
        if dynamic > 0:
            by_aspect = tf.minimum(tf.constant(net_w * dynamic * 9 / 16, _F32), by_aspect)
        return tf.constant(net_w), NET_MULTIPLE * _round_positive(sixteenth * by_aspect)
    return tf.constant(net_w), tf.constant(net_h)


def scales(width, height, net_w, net_h, scale_number=1, scale_gap=0.25):
    """Each scale's `(width, height, input_to_net)`: int32, int32 and float64 (OpenPose's
    scaleInputToNetInputs[i]) tensors."""
    check_scales(scale_number, scale_gap)
    out = []
    for i in range(scale_number):
        s = 1.0 - i * scale_gap
        sizes = [tf.minimum(tf.maximum(_round_positive(tf.cast(n, _F64) * s)  # in double
                                       // NET_MULTIPLE * NET_MULTIPLE, 1), n)
                 for n in (net_w, net_h)]
        out.append((*sizes, scale_factor((width, height), sizes)))
    return out


def net_to_output(width, height, heat_w, heat_h):
    """OpenPose's scaleNetToOutput as a float32 tensor: heatmap pixels (at scale 0's net input
    size `heat_w` x `heat_h`) -> pixels of the `width` x `height` image."""
    to_net = scale_factor((width, height), (heat_w, heat_h))
    net = [_round_positive(to_net * tf.cast(n, _F64)) for n in (width, height)]  # in double
    return tf.cast(scale_factor(net, (width, height)), _F32)


def keep_top_people(keypoints, scores, number_people_max):
    """OpenPose's keepTopNPeople on ragged `[N, (T), P, 3]` / `[N, (T)]`: the kept people of each
    image, in their order (all when `number_people_max` <= 0 or an image has no more)."""
    if number_people_max <= 0:
        return keypoints, scores
    points = keypoints.flat_values
    confident = points[..., 2] > 0.05
    big = tf.constant(np.finfo(np.float32).max, _F32)

    def extent(axis):  # getKeypointsRectangle: maxima start at 0, minima at FLT_MAX
        high = tf.reduce_max(tf.where(confident, points[..., axis], 0.0), axis=1)
        low = tf.reduce_min(tf.where(confident, points[..., axis], big), axis=1)
        return high, low

    (max_x, min_x), (max_y, min_y) = extent(0), extent(1)
    area = tf.where((max_x >= min_x) & (max_y >= min_y), (max_x - min_x) * (max_y - min_y), 0.0)
    final = scores.with_flat_values(scores.flat_values * tf.sqrt(area))
    dense = final.to_tensor(default_value=-np.inf)
    counts = final.row_lengths()
    k = number_people_max
    padded = tf.pad(dense, [[0, 0], [0, k]], constant_values=-np.inf)
    ranked = tf.sort(padded, direction="DESCENDING")
    threshold = ranked[:, k - 1:k]
    above = dense > threshold
    ties = tf.cumsum(tf.cast(dense == threshold, tf.int64), axis=1)
    room = k - tf.reduce_sum(tf.cast(above, tf.int64), axis=1, keepdims=True)
    keep = above | ((dense == threshold) & (ties <= room)) | (counts <= k)[:, None]
    mask = tf.RaggedTensor.from_tensor(keep, lengths=counts)
    return tf.ragged.boolean_mask(keypoints, mask), tf.ragged.boolean_mask(scores, mask)


# Python-value front ends of the functions above, for examples, tests and tools.

def _evaluate(fn):
    """`fn()`'s tensors as NumPy values: eagerly, or in a Session of its own when called while a
    TF1 graph is being built (the same ops either way)."""
    with tf.init_scope():
        if tf.executing_eagerly():
            return tf.nest.map_structure(np.asarray, fn())
    with tf.Graph().as_default() as graph, tf.compat.v1.Session(graph=graph) as session:
        return session.run(fn())


@dataclasses.dataclass(frozen=True)
class Scale:
    width: int             # net input size of this scale
    height: int
    input_to_net: float    # OpenPose's scaleInputToNetInputs[i]


def _check_image_size(width: int, height: int) -> None:
    if width <= 0 or height <= 0:
        raise ValueError(f"the image must be non-empty, got {width}x{height}")


def net_input_size(image_width: int, image_height: int, net_resolution="-1x368",
                   dynamic: float = 1.0) -> tuple[int, int]:
    """(width, height) of scale 0's net input for an image of this size (see `net_size`)."""
    _check_image_size(image_width, image_height)
    width, height = _evaluate(
        lambda: net_size(image_width, image_height, net_resolution, dynamic))
    return int(width), int(height)


def resize_scale_factor(source: tuple[int, int], target: tuple[int, int]) -> float:
    """OpenPose's resizeGetScaleFactor of (w, h) sizes, as a Python float (see `scale_factor`)."""
    return float(_evaluate(lambda: scale_factor(source, target)))


def scale_sizes(image_width: int, image_height: int, net_size_wh: tuple[int, int],
                scale_number: int = 1, scale_gap: float = 0.25) -> list[Scale]:
    """Each scale's net input size and image-to-net factor (see `scales`)."""
    values = _evaluate(lambda: scales(image_width, image_height, *net_size_wh, scale_number,
                                      scale_gap))
    return [Scale(int(w), int(h), float(s)) for w, h, s in values]


def scale_net_to_output(image_width: int, image_height: int,
                        heatmap_size: tuple[int, int]) -> float:
    """OpenPose's scaleNetToOutput (see `net_to_output`) as a Python float (a float32 value)."""
    _check_image_size(image_width, image_height)
    return float(_evaluate(lambda: net_to_output(image_width, image_height, *heatmap_size)))


def warp_input(image: np.ndarray, scale: Scale) -> np.ndarray:
    """One scale's net input from a BGR uint8 image `[H, W, 3]`, as OpenPose builds it
    (resizeFixedAspectRatio: `cv2.warpAffine` anchored top-left, black padding; reproduced by
    `graph_warp`): `[h, w, 3]` uint8."""
    from openpose_tf import graph_warp

    return _evaluate(lambda: graph_warp.warp_input(
        tf.constant(np.asarray(image, np.uint8)[None]), scale.input_to_net, scale.width,
        scale.height))[0]
