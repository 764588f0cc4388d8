"""The whole pose pipeline as one TensorFlow graph: `PoseExtractor.save(DIR)` and
`load_saved_model(DIR)`.

The serving signature takes `images`, a uint8 BGR batch `[N, H, W, 3]` (one size per call, any
size), and returns `keypoints` `[T, P, 3]` and `scores` `[T]` for the T people of the whole batch,
`people_per_image` `[N]` (row lengths: image n owns the next `people_per_image[n]` rows) and
`scale_net_to_output` `[N]`. Inside: OpenPose's geometry (net input size, scales, scaleNetToOutput)
in TensorFlow with OpenPose's float32/double rounding, the input warp (`graph_warp`, equal to
`cv2.warpAffine`), the normalisation, the network once per scale, `openpose_tf.postprocess` and
`--number_people_max`: the same people as `PoseExtractor` gives in Python. An extractor with hands
and faces adds `hand_left`, `hand_right` `[T, 21, 3]` and `face` `[T, 70, 3]` (the same
`openpose_tf.hand_face` ops as in Python, their networks saved with the body's).

Loading needs our op library first: use `openpose_tf.load_saved_model(DIR)` (or call
`openpose_tf.ops.load_library()` before `tf.saved_model.load`); `import openpose_tf` alone does not
load it, so that importing the package stays cheap.
"""

from __future__ import annotations

import json
import pathlib

import numpy as np
import tensorflow as tf

from openpose_tf import geometry, graph_warp, hand_face, ops, pose_models
from openpose_tf.extractor import call_network

METADATA = "openpose_tf.json"
_F32, _F64 = tf.float32, tf.float64


def _round_positive(value_f32):
    """positiveIntRound on a float32 tensor: int(v + 0.5f)."""
    return tf.cast(tf.floor(value_f32 + 0.5), tf.int32)


def _scale_factor(source, target):
    """resizeGetScaleFactor in double: min over dims with source > 1 of (t - 1) / (s - 1)."""
    ratios = [tf.where(s > 1, tf.cast(t - 1, _F64) / tf.cast(tf.maximum(s - 1, 1), _F64),
                       tf.constant(np.inf, _F64)) for s, t in zip(source, target)]
    ratio = tf.minimum(ratios[0], ratios[1])
    return tf.where(tf.math.is_inf(ratio), tf.constant(1.0, _F64), ratio)


def _net_size(width, height, net_resolution, dynamic):
    """geometry.net_input_size with a tensor image size."""
    net_w, net_h = geometry.parse_resolution(net_resolution)
    geometry.net_input_size(16, 16, net_resolution, dynamic)  # the static checks
    sixteenth = tf.constant(1 / 16, _F32)
    if net_w <= 0:
        by_aspect = tf.constant(net_h, _F32) * tf.cast(width, _F32) / tf.cast(height, _F32)
        if dynamic > 0:
            by_aspect = tf.minimum(tf.constant(net_h * dynamic * 16 / 9, _F32), by_aspect)
        return 16 * _round_positive(sixteenth * by_aspect), tf.constant(net_h)
    if net_h <= 0:
        by_aspect = tf.constant(net_w, _F32) * tf.cast(height, _F32) / tf.cast(width, _F32)
        if dynamic > 0:
            by_aspect = tf.minimum(tf.constant(net_w * dynamic * 9 / 16, _F32), by_aspect)
        return tf.constant(net_w), 16 * _round_positive(sixteenth * by_aspect)
    return tf.constant(net_w), tf.constant(net_h)


def _scales(width, height, net_w, net_h, scale_number, scale_gap):
    """geometry.scale_sizes: [(width, height, input_to_net float64)] per scale."""
    geometry.scale_sizes(2, 2, (16, 16), scale_number, scale_gap)  # the static checks
    scales = []
    for i in range(scale_number):
        s = 1.0 - i * scale_gap
        sizes = [tf.minimum(tf.maximum(_round_positive(tf.cast(tf.cast(n, _F64) * s, _F32))
                                       // 16 * 16, 1), n) for n in (net_w, net_h)]
        scales.append((*sizes, _scale_factor((width, height), sizes)))
    return scales


def _scale_net_to_output(width, height, heat_w, heat_h):
    """geometry.scale_net_to_output as a float32 tensor."""
    to_net = _scale_factor((width, height), (heat_w, heat_h))
    net = [_round_positive(tf.cast(to_net * tf.cast(n, _F64), _F32)) for n in (width, height)]
    return tf.cast(_scale_factor(net, (width, height)), _F32)


def normalise(images_u8, input_format):
    """extractor.normalise in TensorFlow."""
    x = tf.cast(images_u8, _F32)
    if input_format == "openpose":
        return x * tf.constant(1 / 256, _F32) - tf.constant(0.5, _F32)
    if input_format == "bgr255":
        return x
    x = tf.reverse(x, axis=[-1])
    # divide_no_nan: a true division also in a graph, as NumPy's (Grappler would turn "/ 255"
    # into "* (1/255)", which rounds differently).
    return x if input_format == "rgb255" else tf.math.divide_no_nan(x, tf.constant(255, _F32))


def keep_top_people(keypoints, scores, number_people_max):
    """geometry.keep_top_people on ragged `[N, (T), P, 3]` / `[N, (T)]`, in TensorFlow."""
    if number_people_max <= 0:
        return keypoints, scores
    points = keypoints.flat_values
    confident = points[..., 2] > 0.05
    big = tf.constant(np.finfo(np.float32).max, _F32)

    def extent(axis):
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


class PosePipeline(tf.Module):
    """The SavedModel's object: `serve(images)` is the serving signature."""

    def __init__(self, extractor):
        super().__init__(name="openpose_tf_pipeline")
        self.network = extractor.network
        self.config = dict(
            pose_model=extractor.model.name, net_resolution=extractor.net_resolution,
            net_resolution_dynamic=extractor.net_resolution_dynamic,
            scale_number=extractor.scale_number, scale_gap=extractor.scale_gap,
            number_people_max=extractor.number_people_max, variant=extractor.variant,
            input_format=extractor.input_format, postprocess_args=extractor.postprocess_args)
        self._model = extractor.model
        self._hand, self._face = extractor.hand, extractor.face
        for kind, stage in (("hand", extractor.hand), ("face", extractor.face)):
            if stage is not None:
                setattr(self, f"{kind}_network", stage.network)  # tracked: saved with the model
                self.config[kind] = dict(net_resolution=stage.net_resolution,
                                         batch_size=stage.batch_size,
                                         input_format=stage.input_format)
        if extractor.hand is not None:
            self.config["hand"].update(scale_number=extractor.hand_scale_number,
                                       scale_range=extractor.hand_scale_range)
        self.serve = tf.function(self._serve, input_signature=[
            tf.TensorSpec([None, None, None, 3], tf.uint8, name="images")])

    def _serve(self, images):
        import openpose_tf

        c = self.config
        height, width = tf.shape(images)[1], tf.shape(images)[2]
        net_w, net_h = _net_size(width, height, c["net_resolution"],
                                 c["net_resolution_dynamic"])
        scales = _scales(width, height, net_w, net_h, c["scale_number"], c["scale_gap"])
        outputs = [call_network(self.network, normalise(graph_warp.warp_input(images, s, w, h),
                                            c["input_format"])) for w, h, s in scales]
        heat_w, heat_h = scales[0][0], scales[0][1]
        scale = _scale_net_to_output(width, height, heat_w, heat_h)
        keypoints, scores = openpose_tf.postprocess(
            outputs if len(outputs) > 1 else outputs[0], self._model,
            target_size=tf.stack([heat_h, heat_w]),
            scale_ratios=tf.cast(tf.stack([s for _, _, s in scales]), _F32),
            scale_factor=scale, variant=c["variant"], **c["postprocess_args"])
        keypoints, scores = keep_top_people(keypoints, scores, c["number_people_max"])
        out = {"keypoints": keypoints.flat_values, "scores": scores.flat_values,
               "people_per_image": scores.row_lengths(),
               "scale_net_to_output": tf.fill(tf.shape(images)[:1], scale)}
        image_index = tf.cast(scores.value_rowids(), tf.int32)
        if self._hand is not None:
            out["hand_left"], out["hand_right"] = hand_face.hand_keypoints(
                images, image_index, out["keypoints"], self._hand, self._model,
                c["hand"]["scale_number"], c["hand"]["scale_range"])
        if self._face is not None:
            out["face"] = hand_face.face_keypoints(images, image_index, out["keypoints"],
                                                   self._face, self._model)
        return out


def save(extractor, directory) -> pathlib.Path:
    """Writes `extractor` (network included) as one SavedModel; see the module docstring."""
    ops.load_library()
    pipeline = PosePipeline(extractor)
    directory = pathlib.Path(directory)
    tf.saved_model.save(pipeline, str(directory), signatures={"serving_default": pipeline.serve})
    (directory / METADATA).write_text(json.dumps(
        {"kind": "pose_pipeline", "tensorflow": tf.__version__, **pipeline.config}, indent=1))
    return directory


class SavedPipeline:
    """A pipeline written by `PoseExtractor.save`, called like the extractor."""

    def __init__(self, directory):
        directory = pathlib.Path(directory)
        ops.load_library()
        self.metadata = json.loads((directory / METADATA).read_text()) \
            if (directory / METADATA).exists() else {}
        self.model = tf.saved_model.load(str(directory))
        self.serve = self.model.signatures["serving_default"]

    def __call__(self, images):
        """`images`: uint8 BGR `[N, H, W, 3]` or a list of `[H, W, 3]` (called per size).
        Returns one `extractor.People` per image."""
        from openpose_tf.extractor import People, group_by_size

        images, by_size = group_by_size(images)
        result = [None] * len(images)
        for indices in by_size.values():
            out = self.serve(images=tf.constant(np.stack([images[i] for i in indices])))
            counts = out["people_per_image"].numpy()
            starts = np.concatenate([[0], np.cumsum(counts)])
            extra = {k: out[k].numpy() for k in ("hand_left", "hand_right", "face") if k in out}
            for j, i in enumerate(indices):
                rows = slice(starts[j], starts[j + 1])
                result[i] = People(out["keypoints"].numpy()[rows], out["scores"].numpy()[rows],
                                   float(out["scale_net_to_output"].numpy()[j]),
                                   **{k: v[rows] for k, v in extra.items()})
        return result


def load_saved_model(directory) -> SavedPipeline:
    """Loads a whole-pipeline SavedModel (our op library first)."""
    return SavedPipeline(directory)
