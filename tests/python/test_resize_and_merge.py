"""openpose_tf.ops.resize_and_merge: cv2 (CPU variant), the NumPy reference (GPU variant), thread
invariance, run modes and errors."""


import cv2
import numpy as np
import pytest
import tensorflow as tf

import resize_reference
from conftest import MODES, SHAPE_ERRORS, run_in_mode
from openpose_tf import ops


def random_outputs(seed, shape):
    return np.random.default_rng(seed).uniform(-0.2, 1.0, shape).astype(np.float32)


@pytest.mark.parametrize("h,w,th,tw", [
    (46, 82, 368, 656),   # BODY_25 at the default net input
    (5, 7, 40, 56),       # ratio 8
    (6, 9, 17, 31),       # odd, non-integer ratios
    (12, 10, 48, 20),     # different ratios per axis
    (1, 9, 8, 72),        # 1 pixel high
    (9, 1, 72, 8),        # 1 pixel wide
    (10, 12, 5, 6),       # downscaling
    (3, 3, 3, 3),         # same size
])
def test_cpu_variant_matches_cv2_resize(h, w, th, tw):
    x = random_outputs(h * w, (2, h, w, 3))
    got = ops.resize_and_merge(x, target_size=(th, tw), variant="cpu").numpy()
    for n in range(2):
        for c in range(3):
            want = cv2.resize(x[n, :, :, c], (tw, th), interpolation=cv2.INTER_CUBIC)
            np.testing.assert_allclose(got[n, :, :, c], want.reshape(th, tw), rtol=0, atol=1e-5)


def test_cpu_variant_multi_scale_is_the_mean_of_stretched_scales():
    scales = [random_outputs(i, (1, h, w, 2)) for i, (h, w) in enumerate([(8, 12), (6, 9), (4, 6)])]
    got = ops.resize_and_merge(scales, target_size=(64, 96), variant="cpu").numpy()
    resized = [np.stack([cv2.resize(s[0, :, :, c], (96, 64), interpolation=cv2.INTER_CUBIC)
                         for c in range(2)], -1) for s in scales]
    want = ((resized[0] + resized[1]) + resized[2]) * np.float32(1.0 / 3)
    np.testing.assert_allclose(got[0], want, rtol=0, atol=1e-5)


@pytest.mark.parametrize("h,w", [(46, 82), (5, 7), (1, 6), (6, 1), (1, 1)])
def test_gpu_variant_single_scale_matches_reference(h, w):
    x = random_outputs(h + 100 * w, (2, h, w, 4))
    got = ops.resize_and_merge(x).numpy()
    want = resize_reference.resize_and_merge_gpu([x], (8 * h, 8 * w), [1.0])
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("scale_number", [2, 4])
def test_gpu_variant_multi_scale_matches_reference(scale_number):
    sizes, ratios = resize_reference.openpose_scales(1920, 1080, scale_number=scale_number)
    outputs = [random_outputs(i, (2, th // 8, tw // 8, 5)) for i, (th, tw) in enumerate(sizes)]
    target = (sizes[0][0], sizes[0][1])
    got = ops.resize_and_merge(outputs, scale_ratios=ratios).numpy()
    assert got.shape == (2,) + target + (5,)
    want = resize_reference.resize_and_merge_gpu(outputs, target, ratios)
    np.testing.assert_array_equal(got, want)


def test_gpu_variant_any_ratio_and_many_scales():
    outputs = [random_outputs(i, (1, 6 - i % 3, 7 - i % 2, 2)) for i in range(10)]
    ratios = [1.0 - 0.05 * i for i in range(10)]
    got = ops.resize_and_merge(outputs, target_size=(33, 29), scale_ratios=ratios).numpy()
    want = resize_reference.resize_and_merge_gpu(outputs, (33, 29), ratios)
    np.testing.assert_array_equal(got, want)


def test_batch_images_are_independent():
    x = random_outputs(3, (3, 5, 6, 2))
    whole = ops.resize_and_merge(x).numpy()
    for n in range(3):
        np.testing.assert_array_equal(whole[n], ops.resize_and_merge(x[n:n + 1]).numpy()[0])


def test_result_does_not_depend_on_the_thread_count():
    # In-process: two v1 Sessions with their own intra-op pools (1 and 4 threads).
    x = np.random.default_rng(0).uniform(0, 1, (2, 46, 82, 26)).astype(np.float32)
    y = np.random.default_rng(1).uniform(0, 1, (2, 34, 60, 26)).astype(np.float32)
    results = {}
    for threads in (1, 4):
        graph = tf.Graph()
        with graph.as_default():
            outs = [ops.resize_and_merge([tf.constant(x), tf.constant(y)],
                                         scale_ratios=[0.34, 0.25], variant=v)
                    for v in ("gpu", "cpu")]
            config = tf.compat.v1.ConfigProto(intra_op_parallelism_threads=threads,
                                              inter_op_parallelism_threads=1)
            with tf.compat.v1.Session(graph=graph, config=config) as session:
                results[threads] = session.run(outs)
    for one, four in zip(results[1], results[4]):
        np.testing.assert_array_equal(one, four)


def test_static_shape():
    @tf.function(input_signature=[tf.TensorSpec([None, 46, 82, 78], tf.float32)])
    def fn(x):
        y = ops.resize_and_merge(x)
        assert y.shape.as_list() == [None, 368, 656, 78]
        return y

    fn.get_concrete_function()


@pytest.mark.parametrize("mode", MODES)
def test_run_modes(mode, tmp_path):
    a = random_outputs(0, (2, 6, 7, 3))
    b = random_outputs(1, (2, 4, 5, 3))

    def fn(x, y):
        # Unknown spatial size in v1 graphs/functions: the target comes from tf.shape.
        return ops.resize_and_merge([x, y], scale_ratios=[0.5, 0.35])

    got = run_in_mode(mode, fn, [a, b], tmp_path)
    np.testing.assert_array_equal(got, resize_reference.resize_and_merge_gpu([a, b], (48, 56),
                                                                              [0.5, 0.35]))


# --- errors -------------------------------------------------------------------------------------

def test_scales_must_agree_on_batch_and_channels():
    a = np.zeros((1, 4, 4, 3), np.float32)
    with pytest.raises(SHAPE_ERRORS, match=r"net_outputs\[1\] must have the N and C of "
                                           r"net_outputs\[0\]"):
        ops.resize_and_merge([a, np.zeros((1, 3, 3, 2), np.float32)], scale_ratios=[1, .5])
    with pytest.raises(SHAPE_ERRORS, match=r"N and C"):
        ops.resize_and_merge([a, np.zeros((2, 3, 3, 3), np.float32)], scale_ratios=[1, .5])


def test_empty_batch_gives_an_empty_result():
    out = ops.resize_and_merge([np.zeros((0, 4, 4, 3), np.float32)] * 2, scale_ratios=[1, 1])
    assert out.shape == (0, 32, 32, 3)


@pytest.mark.parametrize("shape,pattern", [
    ((4, 4, 3), r"net_outputs\[0\] must be 4-D \[N,H,W,C\], got shape \[4,4,3\]"),
    ((1, 0, 4, 3), r"got shape \[1,0,4,3\]"),
    ((1, 4, 4, 0), r"got shape \[1,4,4,0\]"),
])
def test_bad_shapes(shape, pattern):
    with pytest.raises(SHAPE_ERRORS, match=pattern):
        ops.resize_and_merge(np.zeros(shape, np.float32))


def test_scale_ratio_errors():
    a, b = np.zeros((1, 4, 4, 3), np.float32), np.zeros((1, 3, 3, 3), np.float32)
    with pytest.raises(ValueError, match="scale_ratios .* is required"):
        ops.resize_and_merge([a, b])
    ops.resize_and_merge([a, b], variant="cpu")  # the CPU build ignores the ratios
    with pytest.raises(ValueError, match=r"one value per scale \(2\), got 3"):
        ops.resize_and_merge([a, b], scale_ratios=[1, 1, 1])
    with pytest.raises(ValueError, match="positive and finite"):
        ops.resize_and_merge([a, b], scale_ratios=[1, 0])
    with pytest.raises(tf.errors.InvalidArgumentError, match="positive and finite, got nan"):
        ops.resize_and_merge([a, b], scale_ratios=tf.constant([1, np.nan], tf.float32))
    with pytest.raises(SHAPE_ERRORS, match=r"scale_ratios must have shape \[2\]"):
        ops.resize_and_merge([a, b], scale_ratios=tf.constant([1.0], tf.float32))


def test_target_size_errors():
    a = np.zeros((1, 4, 4, 3), np.float32)
    with pytest.raises(SHAPE_ERRORS, match="target_size must be positive"):
        ops.resize_and_merge(a, target_size=(0, 5))
    with pytest.raises(SHAPE_ERRORS, match=r"target_size must have shape \[2\]"):
        ops.resize_and_merge(a, target_size=(5, 5, 5))
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"output \[N,H,W,C\] = \[1,50000,50000,3\] has 7500000000 elements"):
        ops.resize_and_merge(a, target_size=(50000, 50000))


def test_empty_list_and_dtype():
    with pytest.raises(ValueError, match="at least one tensor"):
        ops.resize_and_merge([])
    with pytest.raises(TypeError, match="got dtype int32"):
        ops.resize_and_merge(np.zeros((1, 4, 4, 3), np.int32))
    with pytest.raises(ValueError, match="variant must be one of"):
        ops.resize_and_merge(np.zeros((1, 4, 4, 3), np.float32), variant="opencv")


def test_nan_input_does_not_crash():
    x = random_outputs(0, (1, 5, 5, 2))
    x[0, 2, 2, 0] = np.nan
    y = ops.resize_and_merge(x).numpy()
    assert np.isnan(y[0, :, :, 0]).any() and not np.isnan(y[0, :, :, 1]).any()


def openpose_scales(img_w, img_h, net_w, net_h, scale_number, scale_gap):
    """Map sizes and scaleInputToNetInputs of OpenPose's scale loop (docs/algorithms.md#scales)."""
    sizes, ratios = [], []
    for i in range(scale_number):
        s = 1 - i * scale_gap
        tw = min(max(int(net_w * s + 0.5) // 16 * 16, 1), net_w)
        th = min(max(int(net_h * s + 0.5) // 16 * 16, 1), net_h)
        sizes.append((th // 8, tw // 8))
        ratios.append(min((tw - 1) / (img_w - 1), (th - 1) / (img_h - 1)))
    return sizes, ratios


def test_openpose_scale_ratios_are_accepted():
    rng = np.random.default_rng(3)
    for _ in range(300):
        img_w, img_h = (int(v) for v in rng.integers(64, 2500, 2))
        net_h = 16 * int(rng.integers(8, 40))
        net_w = max(16, 16 * int(round(net_h * img_w / img_h / 16)))
        sizes, ratios = openpose_scales(img_w, img_h, net_w, net_h, int(rng.integers(2, 5)),
                                        float(rng.uniform(0.1, 0.3)))
        if min(min(hw) for hw in sizes) < 1:
            continue
        maps = [np.zeros((1, h, w, 1), np.float32) for h, w in sizes]
        ops.resize_and_merge(maps, scale_ratios=ratios)


def test_ratios_that_contradict_the_maps_are_an_error():
    sizes, ratios = openpose_scales(1920, 1080, 656, 368, 2, 0.25)
    maps = [np.ones((1, h, w, 2), np.float32) for h, w in sizes]
    out = ops.resize_and_merge(maps, scale_ratios=ratios).numpy()
    assert np.abs(out).max() < 2
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"scale_ratios contradict the maps' sizes: scale_ratios\[1\] / "
                             r"scale_ratios\[0\] = 1\.36.* net_outputs\[1\], whose height is 34"):
        ops.resize_and_merge(maps, scale_ratios=ratios[::-1])
    with pytest.raises(tf.errors.InvalidArgumentError, match="contradict the maps' sizes"):
        ops.resize_and_merge(maps, scale_ratios=[1.0, 1e30])
    ops.resize_and_merge(maps, scale_ratios=ratios[::-1], variant="cpu")  # ratios unused there
