"""openpose_tf.ops.nms against the NumPy reference, in every run mode, and its error paths."""

import numpy as np
import pytest
import tensorflow as tf

import nms_reference
from conftest import MODES, SHAPE_ERRORS, run_in_mode
from openpose_tf import ops, synthetic


def blob_maps(seed, n=2, h=40, w=56, c=3, people=6, noise=0.02):
    """Gaussian keypoints plus quantised noise (for ties and plateaus), some on the border."""
    rng = np.random.default_rng(seed)
    maps = []
    for _ in range(n):
        points = [synthetic.random_points(rng, people, h, w, margin=0, min_distance=5)
                  for _ in range(c)]
        m = synthetic.gaussian_heatmaps(points, h, w, sigma=1.5)
        m += np.round(rng.uniform(0, noise, m.shape) * 50) / 50
        maps.append(m)
    return np.stack(maps).astype(np.float32)


@pytest.mark.parametrize("variant", ["gpu", "cpu"])
@pytest.mark.parametrize("seed", range(4))
def test_matches_reference(variant, seed):
    maps = blob_maps(seed)
    peaks, counts = ops.nms(maps, threshold=0.05, max_peaks=8, offset=(0.25, 0.75),
                            variant=variant)
    want_peaks, want_counts = nms_reference.nms(maps, 0.05, 8, (0.25, 0.75), variant)
    np.testing.assert_array_equal(counts.numpy(), want_counts)
    np.testing.assert_array_equal(peaks.numpy(), want_peaks)


def test_variants_differ_on_border_twin_maxima():
    maps = np.zeros((1, 8, 8, 1), np.float32)
    maps[0, 1, 3, 0] = maps[0, 1, 4, 0] = 0.7  # twin maxima on the ring next to the border
    assert ops.nms(maps, variant="gpu")[1].numpy()[0, 0] == 0
    assert ops.nms(maps, variant="cpu")[1].numpy()[0, 0] == 2


def test_nchw_equals_nhwc():
    maps = blob_maps(7)
    for variant in ("gpu", "cpu"):
        a = ops.nms(maps, variant=variant)
        b = ops.nms(np.transpose(maps, (0, 3, 1, 2)), variant=variant, data_format="NCHW")
        np.testing.assert_array_equal(a[0].numpy(), b[0].numpy())
        np.testing.assert_array_equal(a[1].numpy(), b[1].numpy())


def test_rows_past_count_are_zero_and_count_is_capped():
    maps = np.zeros((1, 30, 30, 1), np.float32)
    for i in range(10):
        maps[0, 2 + 2 * (i // 5) * 3, 2 + 5 * (i % 5), 0] = 0.5 + i / 100
    peaks, counts = ops.nms(maps, max_peaks=4)
    assert counts.numpy()[0, 0] == 4
    assert peaks.shape == (1, 1, 4, 3)
    peaks, counts = ops.nms(maps, max_peaks=20)
    assert counts.numpy()[0, 0] == 10
    assert np.all(peaks.numpy()[0, 0, 10:] == 0)


def test_float64_input_is_cast():
    maps = blob_maps(1)
    a = ops.nms(maps.astype(np.float64))
    np.testing.assert_array_equal(a[0].numpy(), ops.nms(maps)[0].numpy())


def test_per_image_offsets():
    maps = blob_maps(2)
    offsets = np.array([[0.5, 0.25], [0.125, 2.0]], np.float32)
    peaks, counts = ops.nms(maps, offset=offsets)
    want_peaks, want_counts = nms_reference.nms(maps, offset=offsets)
    np.testing.assert_array_equal(counts.numpy(), want_counts)
    np.testing.assert_array_equal(peaks.numpy(), want_peaks)
    # Each image alone with its own pair gives the same rows.
    for n in range(2):
        alone, _ = ops.nms(maps[n:n + 1], offset=offsets[n])
        np.testing.assert_array_equal(alone.numpy()[0], peaks.numpy()[n])


def test_empty_batch_gives_empty_results():
    peaks, counts = ops.nms(np.zeros((0, 46, 82, 25), np.float32))
    assert peaks.shape == (0, 25, 127, 3) and counts.shape == (0, 25)
    graph_peaks, _ = tf.function(lambda: ops.nms(tf.zeros((0, 46, 82, 25))))()
    assert graph_peaks.shape == (0, 25, 127, 3)


def test_positions_are_always_finite():
    # +inf pixels, near-FLT_MAX values and a negative threshold with no positive pixel nearby:
    # OpenPose's mean would be NaN or inf; the integer position is reported instead.
    maps = np.full((3, 12, 12, 1), -1.0, np.float32)
    maps[0, 5, 5, 0] = np.inf
    maps[1, 5, 5, 0] = np.finfo(np.float32).max
    maps[1, 5, 6, 0] = np.finfo(np.float32).max / 2
    maps[2, 5, 5, 0] = -0.5
    peaks, counts = ops.nms(maps, threshold=-0.75)
    np.testing.assert_array_equal(counts.numpy()[:, 0], [1, 1, 1])
    np.testing.assert_array_equal(peaks.numpy()[:, 0, 0, :2], [[5.5, 5.5]] * 3)


def test_nan_and_inf_heatmaps_do_not_crash():
    maps = blob_maps(2)
    maps[0, 5:9, 5:9, 0] = np.nan
    maps[1, 10, 10, 1] = np.inf
    peaks, counts = ops.nms(maps)
    want_peaks, want_counts = nms_reference.nms(maps)
    np.testing.assert_array_equal(counts.numpy(), want_counts)
    np.testing.assert_array_equal(peaks.numpy(), want_peaks)


@pytest.mark.parametrize("mode", MODES)
def test_run_modes(mode, tmp_path):
    maps = blob_maps(3)

    def fn(h):
        return ops.nms(h, threshold=0.1, max_peaks=5, variant="cpu")

    peaks, counts = run_in_mode(mode, fn, [maps], tmp_path)
    want_peaks, want_counts = nms_reference.nms(maps, 0.1, 5, (0.5, 0.5), "cpu")
    np.testing.assert_array_equal(counts, want_counts)
    np.testing.assert_array_equal(peaks, want_peaks)


def test_static_shape_inference():
    @tf.function(input_signature=[tf.TensorSpec([None, 46, 82, 25], tf.float32)])
    def fn(h):
        peaks, counts = ops.nms(h, max_peaks=9)
        assert peaks.shape.as_list() == [None, 25, 9, 3]
        assert counts.shape.as_list() == [None, 25]
        return peaks

    fn.get_concrete_function()


def test_no_gradient():
    maps = tf.constant(blob_maps(0))
    with tf.GradientTape() as tape:
        tape.watch(maps)
        peaks, _ = ops.nms(maps)
    assert tape.gradient(peaks, maps) is None


# --- errors -------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape,pattern", [
    ((46, 82, 25), r"heatmaps must be 4-D \[N,H,W,C\], got shape \[46,82,25\]"),
    ((1, 1, 46, 82, 25), r"heatmaps must be 4-D \[N,H,W,C\], got shape \[1,1,46,82,25\]"),
    ((1, 46, 82, 0), r"heatmaps must have H, W and C > 0 in \[N,H,W,C\], got shape \[1,46,82,0\]"),
    ((1, 0, 82, 25), r"got shape \[1,0,82,25\]"),
    ((1, 46, 0, 25), r"got shape \[1,46,0,25\]"),
])
def test_bad_shapes(shape, pattern):
    maps = np.zeros(shape, np.float32)
    with pytest.raises(SHAPE_ERRORS, match=pattern):
        ops.nms(maps)  # eager: the kernel's message
    with pytest.raises(SHAPE_ERRORS, match=pattern):
        tf.function(lambda: ops.nms(tf.constant(maps)))()  # graph: the shape function's


def test_bad_shape_at_run_time_in_graph():
    fn = tf.function(lambda h: ops.nms(h),
                     input_signature=[tf.TensorSpec([None, None, None, None], tf.float32)])
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"got shape \[1,0,5,2\]"):
        fn(np.zeros((1, 0, 5, 2), np.float32))


def test_non_float_dtype():
    with pytest.raises(TypeError, match="heatmaps must be a float32 tensor, got dtype int32"):
        ops.nms(np.zeros((1, 5, 5, 2), np.int32))


@pytest.mark.parametrize("max_peaks", [0, -3, 2.5, True])
def test_bad_max_peaks(max_peaks):
    with pytest.raises(ValueError, match="max_peaks must be an integer >= 1"):
        ops.nms(np.zeros((1, 5, 5, 2), np.float32), max_peaks=max_peaks)


def test_max_peaks_checked_by_the_op_itself(lib):
    with pytest.raises((ValueError, tf.errors.InvalidArgumentError), match="max_peaks"):
        lib.open_pose_nms(np.zeros((1, 5, 5, 1), np.float32), 0.1, [0.5, 0.5], max_peaks=0)


def test_nan_threshold():
    maps = np.zeros((1, 5, 5, 2), np.float32)
    with pytest.raises(ValueError, match="threshold must not be NaN"):
        ops.nms(maps, threshold=float("nan"))
    with pytest.raises(tf.errors.InvalidArgumentError, match="threshold must not be NaN"):
        ops.nms(maps, threshold=tf.constant(np.nan, tf.float32))


def test_cpu_variant_threshold_range():
    maps = np.zeros((1, 5, 5, 2), np.float32)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"threshold must be in \[0, 1\]"):
        ops.nms(maps, threshold=1.5, variant="cpu")
    ops.nms(maps, threshold=1.5, variant="gpu")  # OpenPose's GPU build has no such check


@pytest.mark.parametrize("offset", [(0.5,), (0.5, 0.5, 0.5), ((0.5, 0.5), (0.5, 0.5)),
                                    ((0.5,),)])
def test_bad_offset_shape(offset):
    with pytest.raises(SHAPE_ERRORS, match=r"offset must have shape \[2\]"):
        ops.nms(np.zeros((1, 5, 5, 2), np.float32), offset=offset)


def test_non_finite_offset():
    with pytest.raises(tf.errors.InvalidArgumentError, match="offset must be finite"):
        ops.nms(np.zeros((1, 5, 5, 2), np.float32), offset=(np.inf, 0.5))


def test_bad_threshold_shape():
    with pytest.raises(SHAPE_ERRORS, match=r"threshold must be a scalar, got shape"):
        ops.nms(np.zeros((1, 5, 5, 2), np.float32), threshold=[0.1, 0.2])


def test_bad_variant_and_data_format():
    maps = np.zeros((1, 5, 5, 2), np.float32)
    with pytest.raises(ValueError, match="variant must be one of"):
        ops.nms(maps, variant="opencl")
    with pytest.raises(ValueError, match="data_format must be one of"):
        ops.nms(maps, data_format="NWHC")


@pytest.mark.parametrize("variant", ["gpu", "cpu"])
@pytest.mark.parametrize("data_format", ["NHWC", "NCHW"])
def test_a_channel_range_equals_the_slice(variant, data_format):
    rng = np.random.default_rng(11)
    maps = (rng.integers(0, 8, (2, 30, 41, 9)) / 8).astype(np.float32)
    offset = np.array([[0.5, 0.25], [1.5, 0.75]], np.float32)
    for begin, end in ((0, 9), (0, 4), (3, 7), (5, -1), (8, None)):
        stop = 9 if end in (-1, None) else end
        want = ops.nms(maps[..., begin:stop], offset=offset, variant=variant)
        x = maps if data_format == "NHWC" else np.transpose(maps, (0, 3, 1, 2))
        got = ops.nms(x, offset=offset, variant=variant, data_format=data_format,
                      channels=(begin, end))
        for w, g in zip(want, got):
            np.testing.assert_array_equal(g.numpy(), w.numpy(), err_msg=f"{begin}:{end}")


def test_a_channel_range_outside_the_maps_is_an_error():
    maps = np.zeros((1, 8, 8, 5), np.float32)
    with pytest.raises((tf.errors.InvalidArgumentError, ValueError),
                       match=r"channels \[3, 7\) do not lie in heatmaps's 5 channels"):
        ops.nms(maps, channels=(3, 7))
    unknown = tf.function(lambda m: ops.nms(m, channels=(4, 6)),
                          input_signature=[tf.TensorSpec([None, None, None, None])])
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"channels \[4, 6\) do not lie in heatmaps's 5 channels"):
        unknown(maps)
    with pytest.raises(ValueError, match="channels' begin must be an integer >= 0"):
        ops.nms(maps, channels=(-1, 2))
    with pytest.raises((tf.errors.InvalidArgumentError, ValueError), match="channels"):
        ops.nms(maps, channels=(3, 2))
