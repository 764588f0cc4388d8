"""OpenPose's image <-> network geometry written out in NumPy with OpenPose's float32/double
rounding, straight from its source (scaleAndSizeExtractor.cpp, openCv.cpp resizeGetScaleFactor,
poseExtractorCaffe.cpp scaleNetToOutput, keepTopNPeople.cpp): the reference the package's
TensorFlow geometry (`openpose_tf.geometry`, the only one the pipeline runs) is tested against.
`round⁺` is OpenPose's positiveIntRound, `int(v + 0.5f)`."""

from __future__ import annotations

import dataclasses

import numpy as np

from openpose_tf.geometry import parse_resolution
from openpose_tf.render import keypoints_box  # getKeypointsRectangle (also drawing's)

NET_MULTIPLE = 16


def _round_positive(value) -> int:
    """OpenPose's positiveIntRound with a float argument: int(v + 0.5f) in float."""
    return int(np.float32(value) + np.float32(0.5))


def _round_positive_double(value: float) -> int:
    """positiveIntRound with a double argument: the + 0.5f happens in double."""
    return int(float(value) + 0.5)


def net_input_size(image_width: int, image_height: int, net_resolution="-1x368",
                   dynamic: float = 1.0) -> tuple[int, int]:
    """(width, height) of scale 0's net input (scaleAndSizeExtractor.cpp:37-106).

    A dimension <= 0 follows the image's aspect ratio, rounded to a multiple of 16; with
    `dynamic > 0` (OpenPose's `--net_resolution_dynamic`, which its wrapper sets to -1 except for
    image folders) it is also capped at `dynamic` times 16:9. Given dimensions must be multiples of
    16, and at most one may be <= 0.
    """
    width, height = parse_resolution(net_resolution) if isinstance(net_resolution, str) \
        else tuple(int(v) for v in net_resolution)
    if image_width <= 0 or image_height <= 0:
        raise ValueError(f"the image must be non-empty, got {image_width}x{image_height}")
    for value in (width, height):
        if value > 0 and value % NET_MULTIPLE:
            raise ValueError(f"net_resolution dimensions must be multiples of 16, got "
                             f"{width}x{height}")
    if width <= 0 and height <= 0:
        raise ValueError(f"only one net_resolution dimension may be <= 0, got {width}x{height}")
    f32 = np.float32
    sixteenth = f32(1) / f32(16)
    if width <= 0:
        by_aspect = f32(height) * f32(image_width) / f32(image_height)
        if dynamic > 0:
            by_aspect = min(f32(height * dynamic * 16 / 9), by_aspect)
        width = NET_MULTIPLE * _round_positive(sixteenth * by_aspect)
    elif height <= 0:
        by_aspect = f32(width) * f32(image_height) / f32(image_width)
        if dynamic > 0:
            by_aspect = min(f32(width * dynamic * 9 / 16), by_aspect)
        height = NET_MULTIPLE * _round_positive(sixteenth * by_aspect)
    return width, height


def resize_scale_factor(source: tuple[int, int], target: tuple[int, int]) -> float:
    """OpenPose's resizeGetScaleFactor (openCv.cpp): the largest corner-aligned scale that fits
    `source` (w, h) into `target` (w, h), in double."""
    ratios = [(t - 1) / (s - 1) for s, t in zip(source, target) if s > 1]
    return min(ratios) if ratios else 1.0


@dataclasses.dataclass(frozen=True)
class Scale:
    width: int             # net input size of this scale
    height: int
    input_to_net: float    # OpenPose's scaleInputToNetInputs[i]


def scale_sizes(image_width: int, image_height: int, net_size: tuple[int, int],
                scale_number: int = 1, scale_gap: float = 0.25) -> list[Scale]:
    """Each scale's net input size and image-to-net factor (scaleAndSizeExtractor.cpp:72-88)."""
    if scale_number < 1:
        raise ValueError(f"scale_number must be >= 1, got {scale_number}")
    if not scale_gap > 0:
        raise ValueError(f"scale_gap must be > 0, got {scale_gap}")
    net_w, net_h = net_size
    scales = []
    for i in range(scale_number):
        s = 1.0 - i * scale_gap
        if not 0.0 <= s <= 1.0:
            raise ValueError(f"all scales must lie in [0, 1]: 1 - {i} * {scale_gap} = {s}")
        tw = min(max(_round_positive_double(net_w * s) // NET_MULTIPLE * NET_MULTIPLE, 1), net_w)
        th = min(max(_round_positive_double(net_h * s) // NET_MULTIPLE * NET_MULTIPLE, 1), net_h)
        scales.append(Scale(tw, th, resize_scale_factor((image_width, image_height), (tw, th))))
    return scales


def scale_net_to_output(image_width: int, image_height: int,
                        heatmap_size: tuple[int, int]) -> float:
    """OpenPose's scaleNetToOutput (poseExtractorCaffe.cpp:306-310): heatmap pixels (at scale 0's
    net input size `heatmap_size` (w, h)) -> image pixels, as a float32 value."""
    to_net = resize_scale_factor((image_width, image_height), heatmap_size)
    net_w = _round_positive_double(to_net * image_width)
    net_h = _round_positive_double(to_net * image_height)
    ratios = [(s - 1) / (n - 1) for s, n in ((image_width, net_w), (image_height, net_h)) if n > 1]
    return float(np.float32(min(ratios) if ratios else 1.0))


def keep_top_people(keypoints: np.ndarray, scores: np.ndarray, number_people_max: int):
    """OpenPose's keepTopNPeople (keepTopNPeople.cpp, `--number_people_max`): the indices of the
    people kept, in their order. Ranked by score * sqrt(area of the box of the keypoints with
    score > 0.05), float32; ties at the threshold keep the first ones. All people when
    `number_people_max` <= 0 or there are not more people than that."""
    count = len(keypoints)
    if number_people_max <= 0 or count <= number_people_max:
        return np.arange(count)
    final = np.empty(count, np.float32)
    for p in range(count):
        final[p] = np.float32(scores[p]) * np.sqrt(_box_area(keypoints[p]), dtype=np.float32)
    threshold = np.sort(final)[::-1][number_people_max - 1]
    above = int(np.sum(final > threshold))
    kept, on_threshold = [], 0
    for p in range(count):
        if final[p] >= threshold:
            on_threshold += final[p] == threshold
            if final[p] > threshold or on_threshold <= number_people_max - above:
                kept.append(p)
    return np.array(kept, np.int64)


def _box_area(person: np.ndarray) -> np.float32:
    """getKeypointsRectangle(..., 0.05).area(), as keepTopNPeople ranks people."""
    box = keypoints_box(person, 0.05)
    return np.float32(0) if box is None else box[2] * box[3]
