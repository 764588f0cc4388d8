"""OpenPose's post-processing (and its input warp, `fixed_point_warp`) as TensorFlow ops: CPU
kernels, and CUDA kernels in a library built with `--config=cuda` (every op but the CPU-only
`peaks_and_paf_scores` and `fixed_point_warp`).

Every function works in eager mode, inside `tf.function`, in `tf.compat.v1` graphs and in
SavedModels (call :func:`load_library` before `tf.saved_model.load` in a fresh process). None has
a gradient. Inputs are float32 (other float dtypes are cast), NHWC unless `data_format="NCHW"`.

Dimension letters: N batch, H height, W width, C channels, P parts, L limbs, M max peaks,
S scales, K keypoints per person (= P).
"""

from __future__ import annotations

import functools
import math
import numbers
import re

import tensorflow as tf

from openpose_tf import _library, pose_models

__all__ = ["assemble_people", "body_part_connector", "fixed_point_warp", "load_library",
           "maximum", "nms",
           "paf_scores", "peaks_and_paf_scores", "resize_and_merge", "sparse_coverage",
           "winograd_input_transform", "winograd_output_transform"]

_VARIANTS = ("gpu", "cpu")
_DATA_FORMATS = ("NHWC", "NCHW")


def load_library():
    """Loads the compiled op library (once) and returns its raw op module.

    Needed before `tf.saved_model.load` of a model that uses these ops in a process that has not
    called any of them yet. Raises `openpose_tf._library.OpLibraryError` (an ImportError) naming
    the file looked for and the TensorFlow version it needs.
    """
    return _library.load()


# TensorFlow prefixes an eager op's error with the function node it ran in: not the user's words.
_FUNCTION_NODE = re.compile(r"\{\{function_node [^}]*\}\}\s*")


def _clean_errors(fn):
    """An op's own error message, without TensorFlow's `{{function_node ...}}` prefix and
    `[Op:...]` suffix (the message names the argument; the node name only hid it)."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except tf.errors.OpError as err:
            message = _FUNCTION_NODE.sub("", err.message).split(" [Op:")[0].strip()
            if message == err.message:
                raise
            raise type(err)(err.node_def, err.op, message) from None
    return wrapper


def _float_maps(value, name: str) -> tf.Tensor:
    tensor = tf.convert_to_tensor(value, name=name)
    if tensor.dtype == tf.float32:
        return tensor
    if tensor.dtype.is_floating:
        return tf.cast(tensor, tf.float32)
    raise TypeError(f"{name} must be a float32 tensor, got dtype {tensor.dtype.name}")


def _channel(value, name: str, allow: int | None = None) -> int:
    """A channel index attr: an integer >= 0 (or `allow`)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or \
            (value < 0 and value != allow):
        raise ValueError(f"{name} must be an integer >= 0{' or -1' if allow == -1 else ''}, "
                         f"got {value!r}")
    return int(value)


def _choice(value: str, name: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    return value


@_clean_errors
def nms(heatmaps, threshold=0.05, max_peaks=127, offset=(0.5, 0.5), variant="gpu",
        data_format="NHWC", channels=None, name=None):
    """OpenPose's non-maximum suppression: the peaks of each heatmap channel.

    A peak is a pixel above `threshold` that is greater than its 8 neighbours. Its position is
    refined to the score-weighted mean of the 7x7 window around it (pixels with score > 0) plus
    `offset`; its score is the map's value at the integer peak. Per channel, the first
    `max_peaks` peaks in raster order (y, then x) are kept. Matches OpenPose's `nmsGpu` /
    `nmsCpu` (docs/algorithms.md#nms), except that rows past the count are zero (OpenPose leaves
    stale memory there) and the count is a separate output.

    Args:
      heatmaps: float32 `[N, H, W, C]` (or `[N, C, H, W]` with `data_format="NCHW"`). Pass only
        the part channels you want peaks of (OpenPose: the first P channels of the net output).
      threshold: scalar; a peak's value must be strictly above it. NaN is an error. With
        `variant="cpu"` it must lie in [0, 1], as in OpenPose's CPU build.
      max_peaks: M >= 1, the most peaks kept per channel (OpenPose: 127).
      offset: `(x, y)` added to every refined position, a pair or a `[2]` tensor, or `[N, 2]`
        (one per image, for a batch of images at different scales). OpenPose uses
        `0.5 / scaleNetToOutput`, so that the final keypoint is `mean * scale + 0.5`.
      variant: `"gpu"` (default) reproduces OpenPose's CUDA build: strict test, the 1-pixel
        border never peaks. `"cpu"` its CPU build: on the ring next to the border the test is
        `>=`, with out-of-image neighbours read as `threshold`. Either runs on any device.
      data_format: `"NHWC"` (default) or `"NCHW"`.
      channels: `(begin, end)`: find peaks in those channels only (end exclusive, -1 or None: to
        the last), read in place: `nms(maps, channels=(0, P))` gives `nms(maps[..., :P])`
        without copying the slice. C below is their count. Default: all.
      name: optional name scope.

    Returns:
      `(peaks, peak_counts)`: `peaks` float32 `[N, C, M, 3]` rows `(x, y, score)`, zero past the
      count; `peak_counts` int32 `[N, C]`. Positions are always finite: where OpenPose's weighted
      mean is not (no positive pixel in the 7x7 window, infinite or near-FLT_MAX values) the
      integer position plus `offset` is reported. An empty batch (N = 0) gives empty results.
    """
    if isinstance(max_peaks, bool) or not isinstance(max_peaks, numbers.Integral) or max_peaks < 1:
        raise ValueError(f"max_peaks must be an integer >= 1, got {max_peaks!r}")
    if isinstance(threshold, numbers.Real) and math.isnan(threshold):
        raise ValueError("threshold must not be NaN")
    _choice(variant, "variant", _VARIANTS)
    _choice(data_format, "data_format", _DATA_FORMATS)
    begin, end = (0, -1) if channels is None else channels
    begin = _channel(begin, "channels' begin")
    end = -1 if end is None else _channel(end, "channels' end", allow=-1)
    lib = load_library()
    with tf.name_scope(name or "nms"):
        return lib.open_pose_nms(
            _float_maps(heatmaps, "heatmaps"),
            tf.convert_to_tensor(threshold, tf.float32, name="threshold"),
            tf.convert_to_tensor(offset, tf.float32, name="offset"),
            max_peaks=int(max_peaks),
            openpose_build=variant,
            data_format=data_format,
            channel_begin=begin,
            channel_end=end,
        )


@_clean_errors
def fixed_point_warp(images, image_index, xs, ys, weights, name=None):
    """OpenCV's fixed-point `warpAffine` (INTER_LINEAR or INTER_CUBIC, BORDER_CONSTANT 0) for warps
    whose source row depends only on the destination row and the source column only on the
    destination column (OpenPose's input scaling, its hand and face crops); CPU only.
    `openpose_tf.graph_warp` builds the arguments from OpenPose's matrices.

    Args:
      images: uint8 `[N, H, W, C]`.
      image_index: int32 `[K]`: the image each of the K warps reads.
      xs, ys: int32 `[K, w]` and `[K, h]`: source columns and rows in 1/32 pixel (OpenCV's
        INTER_BITS fixed point).
      weights: int32 `[1024, T, T]`: OpenCV's 2-D table (`graph_warp.weights_2d`), T = 2 or 4.
      name: optional name scope.

    Returns:
      uint8 `[K, h, w, C]`: `saturate((sum src * weight + 2^14) >> 15)`, 0 outside the image.
    """
    lib = load_library()
    with tf.name_scope(name or "fixed_point_warp"):
        return lib.open_pose_fixed_point_warp(
            tf.convert_to_tensor(images, tf.uint8), tf.convert_to_tensor(image_index, tf.int32),
            tf.convert_to_tensor(xs, tf.int32), tf.convert_to_tensor(ys, tf.int32),
            tf.convert_to_tensor(weights, tf.int32))


@_clean_errors
def winograd_input_transform(inputs, pad=(1, 1), name=None):
    """The input pass of a Winograd F(4x4, 3x3) convolution (stride 1, zero padding; CPU only):
    every 6x6 window of the padded input at a multiple of 4, transformed (`B^T d B`).

    Args:
      inputs: float32 `[N, H, W, C]`.
      pad: Caffe's (pad_h, pad_w): zeros on each side. The convolution's output has
        `Ho = H + 2 pad_h - 2` rows and `Wo = W + 2 pad_w - 2` columns, both at least 1.
      name: optional name scope.

    Returns:
      float32 `[36, T, C]`: `N * ceil(Ho / 4) * ceil(Wo / 4)` tiles, one more (zeros) if that
      is even (an odd stride keeps a tile's 36 rows out of each other's cache sets).
      `openpose_tf.net`'s 3x3 convolutions multiply it by the transformed weights
      (`[36, C, K]`, `openpose_tf.net.winograd.transform_weights`) and pass the product to
      `winograd_output_transform`.
    """
    lib = load_library()
    with tf.name_scope(name or "winograd_input_transform"):
        return lib.open_pose_winograd_input_transform(
            tf.convert_to_tensor(inputs, tf.float32), pad_h=int(pad[0]), pad_w=int(pad[1]))


@_clean_errors
def winograd_output_transform(products, bias, negative_slope, output_size, activation="none",
                              name=None):
    """The output pass of a Winograd F(4x4, 3x3) convolution with its bias and activation
    (CPU only): each tile's `A^T m A`, the outputs beyond `Ho x Wo` dropped.

    Args:
      products: float32 `[36, T, K]`: `winograd_input_transform`'s tiles times the weights.
      bias: float32 `[K]`.
      negative_slope: float32 `[K]` or `[1]`: PReLU's slopes, read only by `"prelu"`.
      output_size: int32 `[3]`: N, Ho, Wo.
      activation: `"none"`, `"relu"` (`max(y, 0)`) or `"prelu"` (`y > 0 ? y : slope * y`, as
        Caffe's `max(y, 0) + slope * min(y, 0)`).
      name: optional name scope.

    Returns:
      float32 `[N, Ho, Wo, K]`.
    """
    _choice(activation, "activation", ("none", "relu", "prelu"))
    lib = load_library()
    with tf.name_scope(name or "winograd_output_transform"):
        return lib.open_pose_winograd_output_transform(
            tf.convert_to_tensor(products, tf.float32), tf.convert_to_tensor(bias, tf.float32),
            tf.convert_to_tensor(negative_slope, tf.float32),
            tf.convert_to_tensor(output_size, tf.int32), activation=activation)


@_clean_errors
def maximum(heatmaps, data_format="NHWC", name=None):
    """OpenPose's Maximum (used for hands and faces): per channel, where the global maximum is.

    No sub-pixel refinement, offset or threshold. Ties go to the first maximum in raster order
    (as `cv::minMaxLoc` and `thrust::max_element`). NaN values are skipped; an all-NaN channel
    gives `(0, 0, NaN)`. Every channel is processed: slice off the background channel first
    (`heatmaps[..., :-1]`), as OpenPose's `MaximumCaffe` does.

    Args:
      heatmaps: float32 `[N, H, W, C]` (or `[N, C, H, W]` with `data_format="NCHW"`).
      data_format: `"NHWC"` (default) or `"NCHW"`.
      name: optional name scope.

    Returns:
      float32 `[N, C, 3]` rows `(x, y, value)`, x and y integral.
    """
    _choice(data_format, "data_format", _DATA_FORMATS)
    lib = load_library()
    with tf.name_scope(name or "maximum"):
        return lib.open_pose_maximum(_float_maps(heatmaps, "heatmaps"), data_format=data_format)


# OpenPose's network stride: net outputs are 1/8 of the net input (getPoseNetDecreaseFactor).
NET_STRIDE = 8


@_clean_errors
def resize_and_merge(net_outputs, target_size=None, scale_ratios=None, variant="gpu", name=None):
    """OpenPose's resizeAndMerge: upsample network outputs and average several scales.

    Each scale's `[N, h_s, w_s, C]` output is upsampled to `target_size` with OpenPose's bicubic
    interpolation; several scales are averaged per image (never across the batch).

    Args:
      net_outputs: a float32 `[N, h, w, C]` tensor, or a list of them (one per scale, all with
        the same N and C), e.g. the 78-channel BODY_25 output at 1/8 of the net input.
      target_size: `(H, W)` of the result (a pair or an int32 `[2]` tensor). Default: OpenPose's
        rule from the first scale, `(8 * h_0, 8 * w_0)`.
      scale_ratios: OpenPose's `scaleInputToNetInputs`, one per scale. `variant="gpu"` places
        scale i with ratio `scale_ratios[i] / scale_ratios[0]`, so it is required for several
        scales; `variant="cpu"` ignores it, as OpenPose's CPU build does.
      variant: `"gpu"` (default) reproduces OpenPose's CUDA build: Catmull-Rom bicubic
        (a = -0.5), half-pixel centres, taps clamped with a negative weight parameter at the
        top/left edge, each scale placed by its ratio, scales summed then divided by S. Unlike
        OpenPose it allows any upsampling ratio and any number of scales (OpenPose's CUDA code:
        ratio 8, at most 8 scales; there the results are equal). `"cpu"` reproduces its CPU build:
        OpenCV's `cv::resize(INTER_CUBIC)` arithmetic (Keys, A = -0.75, replicated border; our own
        implementation, scalar summation order), each scale stretched to the target, summed in
        scale order and multiplied by `1/S` in float.
      name: optional name scope.

    Returns:
      float32 `[N, H, W, C]`.
    """
    _choice(variant, "variant", _VARIANTS)
    lib = load_library()
    with tf.name_scope(name or "resize_and_merge"):
        outputs, target_size, scale_ratios = _resize_args(net_outputs, target_size, scale_ratios,
                                                          variant)
        return lib.open_pose_resize_and_merge(outputs, target_size, scale_ratios,
                                              openpose_build=variant)


def _resize_args(net_outputs, target_size, scale_ratios, variant):
    """resize_and_merge's inputs checked and converted: (outputs list, target_size, ratios)."""
    listed = isinstance(net_outputs, (list, tuple))
    if listed and not net_outputs:
        raise ValueError("net_outputs must hold at least one tensor")
    if listed:
        outputs = [_float_maps(x, f"net_outputs_{i}") for i, x in enumerate(net_outputs)]
    else:
        outputs = [_float_maps(net_outputs, "net_outputs")]
    if target_size is None:
        hw = outputs[0].shape[1:3] if outputs[0].shape.rank == 4 else None
        if hw is not None and hw.is_fully_defined():
            target_size = [NET_STRIDE * hw[0], NET_STRIDE * hw[1]]
        else:
            target_size = tf.shape(outputs[0])[1:3] * NET_STRIDE
    if scale_ratios is None:
        if len(outputs) > 1 and variant == "gpu":
            raise ValueError("scale_ratios (OpenPose's scaleInputToNetInputs) is required "
                             "with several scales and variant='gpu'")
        scale_ratios = [1.0] * len(outputs)
    elif isinstance(scale_ratios, (list, tuple)):
        if len(scale_ratios) != len(outputs):
            raise ValueError(f"scale_ratios must have one value per scale ({len(outputs)}), "
                             f"got {len(scale_ratios)}")
        if not all(isinstance(r, numbers.Real) and r > 0 and math.isfinite(r)
                   for r in scale_ratios):
            raise ValueError(f"scale_ratios must be positive and finite, got {scale_ratios}")
    return (outputs, tf.convert_to_tensor(target_size, tf.int32, name="target_size"),
            tf.convert_to_tensor(scale_ratios, tf.float32, name="scale_ratios"))


def _peak_counts(value) -> tf.Tensor:
    """int32 or int64 counts as given (the kernels range-check before narrowing); other integer
    dtypes widened; floats refused (a silent cast would turn 2.9 into 2)."""
    tensor = tf.convert_to_tensor(value, name="peak_counts")
    if tensor.dtype in (tf.int32, tf.int64):
        return tensor
    if tensor.dtype.is_integer:
        return tf.cast(tensor, tf.int64)
    raise TypeError(f"peak_counts must be an int32 or int64 tensor, got dtype {tensor.dtype.name}")


def _connector_model(pose_model):
    model = pose_models.get(pose_model)
    if not model.paf_indices:
        raise ValueError(f"{model.name} has no PAFs: the body part connector does not apply")
    return model


def _setting(value, default, kind, field):
    value = default if value is None else value
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or not math.isfinite(value):
        raise ValueError(f"{field} must be a finite number, got {value!r}")
    return kind(value)


def _scale_factor(value) -> tf.Tensor:
    if isinstance(value, numbers.Real) and not (math.isfinite(value) and value > 0):
        raise ValueError(f"scale_factor must be finite and > 0, got {value!r}")
    return tf.convert_to_tensor(value, tf.float32, name="scale_factor")


@_clean_errors
def paf_scores(pafs, peaks, peak_counts, pose_model="BODY_25", inter_min_above_threshold=None,
               inter_threshold=None, nms_threshold=None, maximize_positives=False,
               channel_begin=0, name=None):
    """The dense half of OpenPose's body part connector: every candidate limb's PAF line score.

    Each pair (peak a of limb l's part A, peak b of its part B) is scored by sampling the limb's
    PAF along the segment (docs/algorithms.md#paf-line-score: N = 5..25 samples, the mean of
    those above `inter_threshold` if more than `inter_min_above_threshold` of them are;
    `nms_threshold + 1e-6` for very close peaks; else 0). This is the part that runs on a GPU;
    :func:`assemble_people` turns the scores into people on the CPU. :func:`body_part_connector`
    runs both.

    Args:
      pafs: float32 `[N, H, W, channel_begin + 2L]`: the PAF channels of the resized net output
        in network order, from channel `channel_begin`.
      peaks, peak_counts: `[N, P, M, 3]` and `[N, P]` (int32 or int64), as :func:`nms` returns,
        with P the pose model's part count.
      pose_model: a model name or a `pose_models.PoseModel` (see :func:`body_part_connector`).
      inter_min_above_threshold, inter_threshold, nms_threshold: `None` takes OpenPose's default
        for the model and `maximize_positives`.
      maximize_positives: selects OpenPose's `--maximize_positives` defaults.
      channel_begin: where the PAFs start in `pafs`, read in place: pass the whole resized net
        output with `channel_begin=model.num_heatmaps` instead of copying a slice.
      name: optional name scope.

    Returns:
      float32 `[N, L, K, K]` with K the largest count in `peak_counts` (not M: the work and the
      memory follow the peaks found). `[n, l, a, b]` is the score of peaks a and b, -1 where a or
      b is past its part's count, 0 for a rejected limb.
    """
    model = _connector_model(pose_model)
    d = model.connector_defaults(maximize_positives)
    lib = load_library()
    with tf.name_scope(name or "paf_scores"):
        return lib.open_pose_paf_scores(
            _float_maps(pafs, "pafs"),
            _float_maps(peaks, "peaks"),
            _peak_counts(peak_counts),
            nms_threshold=_setting(nms_threshold, d.nms_threshold, float, "nms_threshold"),
            channel_begin=_channel(channel_begin, "channel_begin"),
            **_paf_attrs(model, d, inter_min_above_threshold, inter_threshold),
        )


def _paf_attrs(model, defaults, inter_min_above_threshold, inter_threshold) -> dict:
    """The line-score attrs shared by PafScores and PeaksAndPafScores: topology and thresholds
    (`None` takes the model's default)."""
    return dict(
        pairs=[p for pair in model.pairs for p in pair],
        paf_indices=[c for xy in model.paf_indices for c in xy],
        num_parts=model.num_parts,
        inter_min_above_threshold=_setting(inter_min_above_threshold,
                                           defaults.inter_min_above_threshold, float,
                                           "inter_min_above_threshold"),
        inter_threshold=_setting(inter_threshold, defaults.inter_threshold, float,
                                 "inter_threshold"))


@_clean_errors
def assemble_people(peaks, peak_counts, pair_scores, pose_model="BODY_25", variant="gpu",
                    min_subset_cnt=None, min_subset_score=None, maximize_positives=False,
                    scale_factor=1.0, name=None):
    """The sequential half of OpenPose's body part connector: people from scored limbs.

    Runs on the CPU (as in OpenPose); place :func:`paf_scores` on a GPU and this op's inputs come
    back to host memory. People are assembled by one of OpenPose's two groupings and filtered
    (`min_subset_cnt`, `min_subset_score`, the foot rule and its retry).

    Args:
      peaks, peak_counts: what was given to :func:`paf_scores`.
      pair_scores: its `[N, L, K, K]` result.
      pose_model: a model name or a `pose_models.PoseModel`; its rules (`ear_limbs`,
        `dedup_lone_peaks`, `foot_parts`, `cpu_connector`) reach the kernel as attrs.
      variant: `"gpu"` (OpenPose's CUDA-build grouping) or `"cpu"` (its CPU-build grouping); see
        :func:`body_part_connector`.
      min_subset_cnt, min_subset_score: `None` takes OpenPose's default for the model.
      maximize_positives: OpenPose's `--maximize_positives` (lower defaults, no foot rule).
      scale_factor: scalar or `[N]`, finite and > 0: keypoint x and y are multiplied by it.
      name: optional name scope.

    Returns:
      `(keypoints, scores)` ragged, as :func:`body_part_connector`.
    """
    model = _connector_model(pose_model)
    _choice(variant, "variant", _VARIANTS)
    d = model.connector_defaults(maximize_positives)
    lib = load_library()
    with tf.name_scope(name or "assemble_people"):
        keypoints, scores, per_image = lib.open_pose_assemble_people(
            _float_maps(peaks, "peaks"),
            _peak_counts(peak_counts),
            _float_maps(pair_scores, "pair_scores"),
            _scale_factor(scale_factor),
            pairs=[p for pair in model.pairs for p in pair],
            num_parts=model.num_parts,
            openpose_build=variant,
            ear_limbs=list(model.ear_limbs),
            dedup_lone_peaks=bool(model.dedup_lone_peaks),
            foot_parts=list(model.foot_parts),
            cpu_build_supported=bool(model.cpu_connector),
            model_name=model.name,
            min_subset_cnt=_setting(min_subset_cnt, d.min_subset_cnt, int, "min_subset_cnt"),
            min_subset_score=_setting(min_subset_score, d.min_subset_score, float,
                                      "min_subset_score"),
            maximize_positives=bool(maximize_positives),
        )
        return (tf.RaggedTensor.from_row_lengths(keypoints, per_image, validate=False),
                tf.RaggedTensor.from_row_lengths(scores, per_image, validate=False))


@_clean_errors
def body_part_connector(pafs, peaks, peak_counts, pose_model="BODY_25", variant="gpu",
                        inter_min_above_threshold=None, inter_threshold=None, min_subset_cnt=None,
                        min_subset_score=None, nms_threshold=None, maximize_positives=False,
                        scale_factor=1.0, channel_begin=0, name=None):
    """OpenPose's body part connector: people from heatmap peaks and Part Affinity Fields.

    Every candidate limb (a peak of part A, a peak of part B) is scored by sampling the limb's
    PAF along the segment (:func:`paf_scores`, docs/algorithms.md#paf-line-score); people are
    then assembled and filtered (`min_subset_cnt`, `min_subset_score`, the foot rule) as OpenPose
    does (:func:`assemble_people`, docs/algorithms.md#body-part-connector). The two ops can also
    be called (and placed) separately.

    Args:
      pafs: float32 `[N, H, W, 2L]`, the PAF channels of the resized net output in network order
        (`net_output[..., P + background:]`); limb l's x/y maps are found from the pose model.
      peaks, peak_counts: `[N, P, M, 3]` and `[N, P]` (int32 or int64), exactly what :func:`nms`
        returns for the model's P part channels (positions in pixels of `pafs`, with the NMS
        offset applied). Any other P is an error.
      pose_model: an OpenPose model name (`"BODY_25"`, `"COCO"`, `"MPI"`, `"MPI_4_layers"`,
        `"BODY_25B"`, aliases `COCO_18`, `MPI_15`, `MPI_15_4`) or a `pose_models.PoseModel`
        with a custom topology (which gets only the rules it declares).
      variant: `"gpu"` (default): OpenPose's GPU-build grouping: all limbs sorted together by
        `paf + 0.1*sA + 0.1*sB`, incremental assignment, disjoint people merged, no
        single-keypoint people. `"cpu"`: its CPU-build grouping: limbs in model order, greedy
        matching, lone keypoints start people, the ear rule (COCO, BODY_25), MPI's no-dedup rule.
        BODY_25B has no CPU-build connector in OpenPose: `tf.errors.UnimplementedError`.
      inter_min_above_threshold, inter_threshold, min_subset_cnt, min_subset_score,
      nms_threshold: `None` takes OpenPose's default for the model and `maximize_positives`
        (docs/algorithms.md#default-thresholds); `nms_threshold` here only sets the close-pair
        rescue score.
      maximize_positives: OpenPose's `--maximize_positives` (lower defaults, no foot rule).
      scale_factor: scalar or `[N]`, finite and > 0: keypoint x and y are multiplied by it
        (OpenPose: `scaleNetToOutput`, mapping heatmap pixels to image pixels).
      channel_begin: the PAFs' first channel in `pafs` (see :func:`paf_scores`): the whole
        resized net output with `channel_begin=model.num_heatmaps` saves copying the slice.
      name: optional name scope.

    Returns:
      `(keypoints, scores)`: `keypoints` a `tf.RaggedTensor` `[N, (people), P, 3]` of
      `(x, y, score)`, missing parts `(0, 0, 0)`, people in OpenPose's order; `scores` a
      `tf.RaggedTensor` `[N, (people)]`, OpenPose's person score.
    """
    model = _connector_model(pose_model)
    _choice(variant, "variant", _VARIANTS)
    with tf.name_scope(name or "body_part_connector"):
        peaks = _float_maps(peaks, "peaks")
        peak_counts = _peak_counts(peak_counts)
        scores = paf_scores(pafs, peaks, peak_counts, model,
                            inter_min_above_threshold=inter_min_above_threshold,
                            inter_threshold=inter_threshold, nms_threshold=nms_threshold,
                            maximize_positives=maximize_positives, channel_begin=channel_begin)
        return assemble_people(peaks, peak_counts, scores, model, variant=variant,
                               min_subset_cnt=min_subset_cnt, min_subset_score=min_subset_score,
                               maximize_positives=maximize_positives, scale_factor=scale_factor)


def _sparse_args(pose_model, variant, threshold, maximize_positives=False):
    """The sparse ops' (model, connector defaults, NMS threshold): the model's default
    threshold where none is given, a NaN one refused."""
    model = _connector_model(pose_model)
    _choice(variant, "variant", _VARIANTS)
    defaults = model.connector_defaults(maximize_positives)
    threshold = defaults.nms_threshold if threshold is None else threshold
    if isinstance(threshold, numbers.Real) and math.isnan(threshold):
        raise ValueError("threshold must not be NaN")
    return model, defaults, threshold


@_clean_errors
def sparse_coverage(net_outputs, pose_model="BODY_25", target_size=None, scale_ratios=None,
                    variant="gpu", threshold=None, name=None):
    """How much of the upsampled part maps :func:`peaks_and_paf_scores` computes (a diagnostic).

    Its sparse NMS skips a tile (16x16 pixels) of a part channel when a bound on the tile's
    values, or where that bound passes `threshold` only just, the tile's own values show that
    none exceeds it; in the rest it computes with a one-pixel ring and peak-tests the whole
    tile (bound far above the threshold) or the box of the 8x8 blocks whose values exceed it
    (near it: noise). Its time follows these fractions: maps whose background is near zero
    cost little, noisy ones more.

    Args:
      net_outputs, pose_model, target_size, scale_ratios, variant, threshold: as
        :func:`peaks_and_paf_scores`.

    Returns:
      float32 `[N, 2]`: per image, the fractions of the part channels' area (their tiles'
      pixels) that pass the bound, and that are peak-tested (the tiles' or boxes' pixels).
    """
    model, _, threshold = _sparse_args(pose_model, variant, threshold)
    lib = load_library()
    with tf.name_scope(name or "sparse_coverage"):
        outputs, target_size, scale_ratios = _resize_args(net_outputs, target_size, scale_ratios,
                                                          variant)
        return lib.open_pose_sparse_coverage(
            outputs, target_size, scale_ratios,
            tf.convert_to_tensor(threshold, tf.float32, name="threshold"),
            openpose_build=variant, channel_begin=0, channel_end=model.num_parts)


@_clean_errors
def peaks_and_paf_scores(net_outputs, pose_model="BODY_25", target_size=None, scale_ratios=None,
                         variant="gpu", threshold=None, max_peaks=127, offset=(0.5, 0.5),
                         inter_min_above_threshold=None, inter_threshold=None,
                         maximize_positives=False, name=None):
    """:func:`nms` and :func:`paf_scores` straight from the network output, without upsampling.

    Returns exactly (bit for bit) what this composition returns::

        maps = resize_and_merge(net_outputs, target_size, scale_ratios, variant)
        peaks, counts = nms(maps, threshold, max_peaks, offset, variant, channels=(0, P))
        scores = paf_scores(maps, peaks, counts, pose_model, inter_min_above_threshold,
                            inter_threshold, nms_threshold=threshold,
                            channel_begin=model.num_heatmaps)

    but never builds `maps` (78 x 368 x 656 floats for one BODY_25 image at OpenPose's default
    size): a bound on every tile (16x16 pixels) of the upsampled maps shows where no value can
    exceed the threshold, and the exact upsampled values (same taps, same float order) are
    computed only in the other tiles, in the peaks' 7x7 windows and at the limbs' PAF sample
    points. CPU only (on a GPU, compose the ops); :func:`openpose_tf.postprocess` uses it.

    Args:
      net_outputs, target_size, scale_ratios, variant: as :func:`resize_and_merge`; the
        channels must be the pose model's `num_channels`.
      pose_model: a model name or a `pose_models.PoseModel` with PAFs.
      threshold: the NMS threshold (also the connector's close-pair rescue, as in OpenPose);
        `None` takes the model's default.
      max_peaks, offset: as :func:`nms`.
      inter_min_above_threshold, inter_threshold, maximize_positives: as :func:`paf_scores`.
      name: optional name scope.

    Returns:
      `(peaks, peak_counts, pair_scores)`: `[N, P, M, 3]`, int32 `[N, P]` and `[N, L, K, K]`,
      ready for :func:`assemble_people`.
    """
    model, d, threshold = _sparse_args(pose_model, variant, threshold, maximize_positives)
    if isinstance(max_peaks, bool) or not isinstance(max_peaks, numbers.Integral) or max_peaks < 1:
        raise ValueError(f"max_peaks must be an integer >= 1, got {max_peaks!r}")
    lib = load_library()
    with tf.name_scope(name or "peaks_and_paf_scores"):
        outputs, target_size, scale_ratios = _resize_args(net_outputs, target_size, scale_ratios,
                                                          variant)
        return lib.open_pose_peaks_and_paf_scores(
            outputs, target_size, scale_ratios,
            tf.convert_to_tensor(threshold, tf.float32, name="threshold"),
            tf.convert_to_tensor(offset, tf.float32, name="offset"),
            openpose_build=variant,
            max_peaks=int(max_peaks),
            paf_channel_begin=model.num_heatmaps,
            **_paf_attrs(model, d, inter_min_above_threshold, inter_threshold),
        )
