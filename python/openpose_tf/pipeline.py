"""OpenPose's poseExtractor flow, from uint8 BGR images to people, as TensorFlow ops: the one
implementation that every route runs. `PoseExtractor` (and so `openpose-tf run`) traces
`estimate` once with a shape-polymorphic signature and calls it; the whole-pipeline SavedModel
(and so `beam`) traces the same function. A photo's people are the same bytes on every route.

`estimate(images)` for a batch of one size: OpenPose's geometry (`geometry`: net input size,
scales, scaleNetToOutput), the input warp (`graph_warp`, OpenCV's fixed-point warpAffine in TF
ops), the normalisation, the network once per scale, `openpose_tf.postprocess`,
`--number_people_max`, then the hand and face stages (`hand_face`).

The batch rule (`BatchedPipeline`): images are grouped by size and go through `estimate`
`batch_size` at a time, the last call of a size padded with black images, so every call has the
same shape and an image's people never depend on its batch-mates (TensorFlow's convolutions may
round differently for another batch shape, never for other batch-mates). A network whose output
for an image depends on the other images of its batch (batch statistics, e.g. `FusedBatchNorm`
with `is_training=True`, common in graphs frozen from TF1 training code) is called one image at a
time: `batch_mixing` finds it.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from openpose_tf import geometry, graph_warp, hand_face, pose_models
from openpose_tf.common import People, median_ms
from openpose_tf.net_input import call_network, group_by_size, normalise

IMAGES_SIGNATURE = tf.TensorSpec([None, None, None, 3], tf.uint8, name="images")
OUTPUT_EXTRAS = ("hand_left", "hand_right", "face")


def estimate(images, network, pose_model, *, net_resolution="-1x368", net_resolution_dynamic=1.0,
             scale_number=1, scale_gap=0.25, number_people_max=-1, variant="gpu",
             input_format="openpose", postprocess_args=None, hand=None, face=None,
             hand_scale_number=1, hand_scale_range=0.4) -> dict:
    """The people of a uint8 BGR batch `[N, H, W, 3]` (one size): a dict of `keypoints`
    `[T, P, 3]` and `scores` `[T]` for the T people of the batch, `people_per_image` `[N]` (row
    lengths), `scale_net_to_output` `[N]`, and with `hand` / `face` (`hand_face.KeypointNetwork`)
    `hand_left`, `hand_right` `[T, 21, 3]`, `face` `[T, 70, 3]`. The arguments are
    `PoseExtractor`'s."""
    import openpose_tf

    model = pose_models.get(pose_model)
    height, width = tf.shape(images)[1], tf.shape(images)[2]
    with tf.control_dependencies([tf.debugging.Assert(
            (tf.shape(images)[0] == 0) | (tf.minimum(height, width) > 0),
            ["images must be non-empty [N, H, W, 3] (H, W > 0), got shape", tf.shape(images)])]):
        images = tf.identity(images)
    net_w, net_h = geometry.net_size(width, height, net_resolution, net_resolution_dynamic)
    with tf.control_dependencies([
            tf.debugging.assert_less_equal(
                tf.maximum(net_w, net_h), geometry.MAX_NET_SIDE,
                message=f"the net input would exceed {geometry.MAX_NET_SIDE} pixels (an image "
                        f"this elongated needs a smaller --net_resolution or "
                        f"--net_resolution_dynamic)"),
            tf.debugging.assert_positive(
                tf.minimum(net_w, net_h),
                message="the image is too thin: its net input would have no column or row "
                        "at this net_resolution")]):
        net_w, net_h = tf.identity(net_w), tf.identity(net_h)
    scales = geometry.scales(width, height, net_w, net_h, scale_number, scale_gap)
    outputs = [call_network(network, normalise(graph_warp.warp_input(images, s, w, h),
                                               input_format)) for w, h, s in scales]
    heat_w, heat_h = scales[0][0], scales[0][1]
    scale = geometry.net_to_output(width, height, heat_w, heat_h)
    keypoints, scores = openpose_tf.postprocess(
        outputs if len(outputs) > 1 else outputs[0], model,
        target_size=tf.stack([heat_h, heat_w]),
        scale_ratios=tf.cast(tf.stack([s for _, _, s in scales]), tf.float32),
        scale_factor=scale, variant=variant, **(postprocess_args or {}))
    keypoints, scores = geometry.keep_top_people(keypoints, scores, number_people_max)
    out = {"keypoints": keypoints.flat_values, "scores": scores.flat_values,
           "people_per_image": scores.row_lengths(),
           "scale_net_to_output": tf.fill(tf.shape(images)[:1], scale)}
    image_index = tf.cast(scores.value_rowids(), tf.int32)
    if hand is not None:
        out["hand_left"], out["hand_right"] = hand_face.hand_keypoints(
            images, image_index, out["keypoints"], hand, model, hand_scale_number,
            hand_scale_range)
    if face is not None:
        out["face"] = hand_face.face_keypoints(images, image_index, out["keypoints"], face, model)
    return out


def stage_times(extractor, image, repeats: int = 5) -> dict[str, float]:
    """Median seconds of each stage of `estimate` for one image, each stage run on its own (the
    traced pipeline runs them as one graph, so `run --profile` measures them this way, after the
    run): the input warp and normalisation, the network, the post-processing (`postprocess` and
    the top people) of scale 0."""
    import openpose_tf

    height, width = image.shape[:2]
    net_w, net_h = geometry.net_size(width, height, extractor.net_resolution,
                                     extractor.net_resolution_dynamic)
    (w, h, s), = geometry.scales(width, height, net_w, net_h, 1, 1.0)
    scale = geometry.net_to_output(width, height, w, h)
    images = tf.constant(image[None])
    warp = tf.function(lambda x: normalise(graph_warp.warp_input(x, s, w, h),
                                           extractor.input_format))
    network = tf.function(lambda x: call_network(extractor.network, x))
    post = tf.function(lambda out: geometry.keep_top_people(*openpose_tf.postprocess(
        out, extractor.model, scale_factor=scale, variant=extractor.variant,
        **extractor.postprocess_args), extractor.number_people_max))
    stages = {"warp": (warp, images)}
    stages["network"] = (network, warp(images))
    stages["post-processing"] = (post, network(stages["network"][1]))

    def finished(fn, x):  # the values fetched: the stage's work is done
        return lambda: tf.nest.map_structure(np.asarray, fn(x), expand_composites=True)

    return {stage: median_ms(finished(fn, x), repeats) / 1e3
            for stage, (fn, x) in stages.items()}


def batch_mixing(network, input_format: str = "openpose") -> str | None:
    """Why `network`'s output for an image depends on the other images of its batch, or None.
    Ops it declares (`network.batch_statistics`, e.g. a `graph.FrozenGraphNetwork`'s
    `FusedBatchNorm` with `is_training=True`) say so at once; otherwise two small random images
    are run alone and together: rounding moves an output by ~1e-6 of its range, batch statistics
    by far more than 1e-3. A network that cannot take the probe's 64x64 input is taken as
    independent."""
    declared = getattr(network, "batch_statistics", None)
    if declared:
        return f"it normalises with batch statistics ({declared})"
    images = np.random.default_rng(0).integers(0, 256, (2, 64, 64, 3), np.uint8)
    try:
        alone = np.asarray(call_network(network, normalise(images[:1], input_format)))
        together = np.asarray(call_network(network, normalise(images, input_format)))[:1]
    except (tf.errors.OpError, ValueError, TypeError):
        return None
    if alone.shape != together.shape:
        return None
    change = float(np.max(np.abs(alone - together), initial=0.0))
    scale = float(np.max(np.abs(alone), initial=0.0))
    if change > 1e-3 * max(scale, 1e-6):
        return f"its output for an image changed by {change:.3g} (outputs up to {scale:.3g}) " \
               f"when another image shared its batch"
    return None


class BatchedPipeline:
    """Calls a traced pipeline (`_estimate`: uint8 `[N, H, W, 3]` -> `estimate`'s dict) on any
    images, under the batch rule of the module docstring. Subclasses set `batch_size` and
    `one_image_per_call` and define `_estimate`."""

    batch_size: int = 1
    one_image_per_call: bool = False

    def _estimate(self, images) -> dict:
        raise NotImplementedError

    @property
    def images_per_call(self) -> int:
        return 1 if self.one_image_per_call else self.batch_size

    def __call__(self, images) -> list[People]:
        """People of each image: `images` is a uint8 BGR batch `[N, H, W, 3]` or a list of
        `[H, W, 3]` images of any sizes. Returns one `People` per image; raises on the first
        image the network cannot take."""
        return self.people_or_errors(images, raise_errors=True)

    def people_or_errors(self, images, raise_errors: bool = False) -> list:
        """As calling it, but an image the pipeline fails on (e.g. so thin that its net input
        has no column) gets the exception in its place, and the others go on."""
        images, by_size = group_by_size(images)
        result: list = [None] * len(images)
        per_call = self.images_per_call
        for indices in by_size.values():
            for start in range(0, len(indices), per_call):
                chunk = indices[start:start + per_call]
                for i, people in zip(chunk, self._call([images[i] for i in chunk],
                                                       raise_errors)):
                    result[i] = people
        return result

    def _call(self, images: list, raise_errors: bool) -> list:
        """One call of `_estimate`, padded to `images_per_call` images; on failure each image
        is tried alone (the same padded shape, so the same results) to find the culprit."""
        batch = np.zeros((self.images_per_call,) + images[0].shape, np.uint8)
        batch[:len(images)] = np.stack(images)
        try:
            return unpack(self._estimate(tf.constant(batch)), len(images))
        except (tf.errors.OpError, ValueError) as err:
            if raise_errors:
                raise
            if len(images) == 1:
                return [err]
            return [people for image in images for people in self._call([image], False)]


def unpack(out: dict, count: int) -> list[People]:
    """`estimate`'s dict -> a `People` for each of the first `count` images."""
    counts = np.asarray(out["people_per_image"])[:count]
    starts = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    keypoints, scores = np.asarray(out["keypoints"]), np.asarray(out["scores"])
    scale = np.asarray(out["scale_net_to_output"])
    extra = {k: np.asarray(out[k]) for k in OUTPUT_EXTRAS if k in out}
    people = []
    for n in range(count):
        rows = slice(starts[n], starts[n + 1])
        people.append(People(keypoints[rows], scores[rows], float(scale[n]),
                             **{k: v[rows] for k, v in extra.items()}))
    return people
