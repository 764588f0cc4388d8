"""OpenPose's post-processing from network output(s) to people, as one function.

`resize_and_merge` -> `nms` on the P part channels with offset `0.5 / scale_factor` -> the body
part connector with `scale_factor` (OpenPose's poseExtractorCaffe::forwardPass, steps 3-5). Every
caller (the pose extractor, the CLI, the SavedModel) goes through it, so the scale bookkeeping
lives in one place.

By default (`fused=True`) the first three steps are one CPU op, `ops.peaks_and_paf_scores`, which
never builds the full-resolution maps and gives the composed ops' results bit for bit. With
`fused=False` the ops are composed (they also run on a GPU): `nms` and the connector read their
channels of the merged maps in place, and a batch goes through image by image (`tf.map_fn`), so
only one image's full-resolution maps exist at a time (the same results: every op treats images
independently).
"""

from __future__ import annotations

import numbers

import numpy as np
import tensorflow as tf

from openpose_tf import ops, pose_models


def nms_offset(scale_factor):
    """OpenPose's NMS offset `float(0.5 / double(scaleNetToOutput))` (poseExtractorCaffe.cpp):
    with it, a keypoint is `(peak + offset) * scale`, the pixel centre convention. A number gives
    `[2]`; a `[N]` tensor gives `[N, 2]` (one per image)."""
    if isinstance(scale_factor, numbers.Real):
        if not (np.isfinite(scale_factor) and np.float32(scale_factor) > 0):
            raise ValueError(f"scale_factor must be finite and > 0, got {scale_factor}")
        offset = np.float32(0.5 / float(np.float32(scale_factor)))
        return tf.constant([offset, offset], tf.float32)
    scale = tf.convert_to_tensor(scale_factor, tf.float32)
    valid = tf.reduce_all(tf.math.is_finite(scale) & (scale > 0))
    with tf.control_dependencies([tf.debugging.Assert(
            valid, ["scale_factor must be finite and > 0, got", scale])]):
        offset = tf.cast(0.5 / tf.cast(scale, tf.float64), tf.float32)
    if scale.shape.rank == 0:
        return tf.stack([offset, offset])
    return tf.stack([offset, offset], axis=-1)


# Plain Python over static values and explicit tf.cond/map_fn: nothing for autograph to convert
# (and its cache once mixed up this module's functions when a SavedModel traced it).
@tf.autograph.experimental.do_not_convert
def postprocess(net_outputs, pose_model="BODY_25", *, target_size=None, scale_ratios=None,
                scale_factor=1.0, variant="gpu", maximize_positives=False, nms_threshold=None,
                inter_min_above_threshold=None, inter_threshold=None, min_subset_cnt=None,
                min_subset_score=None, max_peaks=127, fused=True, name=None):
    """People from OpenPose network output(s): OpenPose's post-processing, exactly.

    Args:
      net_outputs: float32 `[N, h, w, C]` (C = the pose model's `num_channels`: part heatmaps,
        background, PAFs), or a list of them, one per scale (OpenPose's `--scale_number`).
      pose_model: a model name or a `pose_models.PoseModel`.
      target_size: `(H, W)` the maps are upsampled to; default 8x the first scale's size (the net
        input size of scale 0, OpenPose's rule).
      scale_ratios: OpenPose's `scaleInputToNetInputs`, one per scale (required for several scales
        with `variant="gpu"`; see :func:`ops.resize_and_merge`).
      scale_factor: scalar or `[N]`: OpenPose's `scaleNetToOutput`, from pixels of the upsampled
        maps to the pixels the keypoints should be in (1 keeps map pixels).
      variant: `"gpu"` or `"cpu"`: which OpenPose build to reproduce, in every stage.
      maximize_positives, nms_threshold, inter_min_above_threshold, inter_threshold,
      min_subset_cnt, min_subset_score: OpenPose's flags; `None` takes the model's default.
        `nms_threshold` is the NMS threshold and the connector's close-pair rescue score, as in
        OpenPose.
      max_peaks: peaks kept per part (OpenPose: 127).
      fused: True (default): :func:`ops.peaks_and_paf_scores` then :func:`ops.assemble_people`,
        on the CPU, without full-resolution maps (fast, little memory). False: the composed ops
        (:func:`ops.resize_and_merge`, :func:`ops.nms`, :func:`ops.body_part_connector`), which
        also have GPU kernels. The results are identical.
      name: optional name scope.

    Returns:
      `(keypoints, scores)` ragged: `[N, (people), P, 3]` `(x, y, score)` and `[N, (people)]`,
      identical to composing :func:`ops.resize_and_merge`, :func:`ops.nms` and
      :func:`ops.body_part_connector` by hand with OpenPose's arguments.
    """
    model = pose_models.get(pose_model)
    defaults = model.connector_defaults(maximize_positives)
    threshold = defaults.nms_threshold if nms_threshold is None else nms_threshold
    with tf.name_scope(name or "postprocess"):
        scales = list(net_outputs) if isinstance(net_outputs, (list, tuple)) else [net_outputs]
        scales = [tf.convert_to_tensor(x, tf.float32) for x in scales]
        channels = scales[0].shape[-1] if scales and scales[0].shape.rank == 4 else None
        if channels is not None and channels != model.num_channels:
            raise ValueError(f"net_outputs must have {model.num_channels} channels for "
                             f"{model.name} ({model.num_parts} parts, "
                             f"{int(model.background)} background, {model.num_pafs} PAFs), "
                             f"got {channels}")
        if fused:
            # One op from net outputs to candidates: no full-resolution maps, any batch size.
            peaks, counts, pair_scores = ops.peaks_and_paf_scores(
                scales if len(scales) > 1 else scales[0], model, target_size, scale_ratios,
                variant, threshold, max_peaks, nms_offset(scale_factor),
                inter_min_above_threshold, inter_threshold, maximize_positives)
            return ops.assemble_people(peaks, counts, pair_scores, model, variant,
                                       min_subset_cnt, min_subset_score, maximize_positives,
                                       scale_factor)

        # The composed ops.
        connector_args = dict(
            inter_min_above_threshold=inter_min_above_threshold, inter_threshold=inter_threshold,
            min_subset_cnt=min_subset_cnt, min_subset_score=min_subset_score,
            nms_threshold=threshold, maximize_positives=maximize_positives)

        def people(outputs, scale):
            """One batch's people (the ops' own validation applies)."""
            maps = ops.resize_and_merge(outputs if len(outputs) > 1 else outputs[0],
                                        target_size, scale_ratios, variant)
            # nms and the connector read their channels of the merged maps in place.
            peaks, counts = ops.nms(maps, threshold, max_peaks, nms_offset(scale), variant,
                                    channels=(0, model.num_parts))
            return ops.body_part_connector(maps, peaks, counts, model, variant,
                                           channel_begin=model.num_heatmaps, scale_factor=scale,
                                           **connector_args)

        known = scales[0].shape[0] if all(x.shape.rank == 4 for x in scales) else 0
        if known is not None and known <= 1:
            # One image or none (map_fn cannot stack zero ragged results), or a rank the ops
            # will refuse: straight to the ops.
            return people(scales, scale_factor)
        # Image by image, so that only one image's full-resolution maps exist at a time (a batch
        # of 16 BODY_25 images would hold 1.2 GB of them): the same results, bounded memory.
        batch = tf.shape(scales[0])[0]

        def one(args):
            *outputs, s = args
            keypoints, scores = people([x[None] for x in outputs], s)
            return keypoints.flat_values, scores.flat_values

        def each_image():
            scale = tf.broadcast_to(tf.cast(scale_factor, tf.float32), [batch])
            # One image at a time in graphs too (map_fn would otherwise overlap 10 of them).
            return tf.map_fn(one, (*scales, scale), parallel_iterations=1, fn_output_signature=(
                tf.RaggedTensorSpec([None, model.num_parts, 3], tf.float32, ragged_rank=0),
                tf.RaggedTensorSpec([None], tf.float32, ragged_rank=0)))

        if known is not None:
            return each_image()
        return tf.cond(batch > 0, each_image, lambda: people(scales, scale_factor))
