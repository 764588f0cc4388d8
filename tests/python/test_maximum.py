"""openpose_tf.ops.maximum against the NumPy reference, in every run mode, and its errors."""

import numpy as np
import pytest
import tensorflow as tf

import nms_reference
from conftest import MODES, SHAPE_ERRORS, run_in_mode
from openpose_tf import ops


def random_maps(seed, shape=(2, 23, 31, 5)):
    rng = np.random.default_rng(seed)
    return (np.round(rng.uniform(0, 1, shape) * 8) / 8).astype(np.float32)  # many ties


@pytest.mark.parametrize("seed", range(3))
def test_matches_reference(seed):
    maps = random_maps(seed)
    np.testing.assert_array_equal(ops.maximum(maps).numpy(), nms_reference.maximum(maps))


def test_nchw_equals_nhwc():
    maps = random_maps(4)
    np.testing.assert_array_equal(
        ops.maximum(np.transpose(maps, (0, 3, 1, 2)), data_format="NCHW").numpy(),
        ops.maximum(maps).numpy())


def test_nan_skipped():
    maps = random_maps(5, (1, 6, 6, 2))
    maps[0, 0, 0, 0] = np.nan
    maps[0, :, :, 1] = np.nan
    out = ops.maximum(maps).numpy()
    expected = nms_reference.maximum(np.nan_to_num(maps[..., :1], nan=-1.0))
    np.testing.assert_array_equal(out[:, :1], expected)
    assert out[0, 1, 0] == 0 and out[0, 1, 1] == 0 and np.isnan(out[0, 1, 2])


@pytest.mark.parametrize("mode", MODES)
def test_run_modes(mode, tmp_path):
    maps = random_maps(6)
    out = run_in_mode(mode, ops.maximum, [maps], tmp_path)
    np.testing.assert_array_equal(out, nms_reference.maximum(maps))


@pytest.mark.parametrize("shape,pattern", [
    ((46, 82), r"heatmaps must be 4-D \[N,H,W,C\], got shape \[46,82\]"),
    ((1, 46, 82, 0), r"got shape \[1,46,82,0\]"),
    ((1, 0, 4, 2), r"got shape \[1,0,4,2\]"),
])
def test_bad_shapes(shape, pattern):
    maps = np.zeros(shape, np.float32)
    with pytest.raises(SHAPE_ERRORS, match=pattern):
        ops.maximum(maps)
    with pytest.raises(SHAPE_ERRORS, match=pattern):
        tf.function(lambda: ops.maximum(tf.constant(maps)))()


def test_empty_batch_gives_an_empty_result():
    assert ops.maximum(np.zeros((0, 4, 4, 2), np.float32)).shape == (0, 2, 3)


def test_non_float_dtype():
    with pytest.raises(TypeError, match="got dtype uint8"):
        ops.maximum(np.zeros((1, 4, 4, 2), np.uint8))


@pytest.mark.skipif(not tf.config.list_physical_devices("GPU"),
                    reason="no GPU visible to TensorFlow (CUDA kernels: make build-cuda, and "
                           "make gpu-test on a GPU machine)")
def test_gpu_kernel_equals_cpu_kernel():
    maps = random_maps(9, (2, 37, 53, 7))
    with tf.device("/GPU:0"):
        gpu = ops.maximum(maps).numpy()
    with tf.device("/CPU:0"):
        cpu = ops.maximum(maps).numpy()
    np.testing.assert_array_equal(gpu, cpu)
