"""The 3x3, stride-1 convolutions of OpenPose's networks as Winograd F(4x4, 3x3) on the CPU.

A convolution becomes three steps: `ops.winograd_input_transform` (6x6 input windows, `B^T d B`),
one batched `tf.linalg.matmul` with the weights transformed once here (`G g G^T`, `[36, C, K]`)
and `ops.winograd_output_transform` (`A^T m A`, bias and ReLU/PReLU fused). 36 multiplications
per 4x4 outputs and input channel instead of 144, which is how OpenCV's DNN module (F(6x6, 3x3))
outruns TensorFlow's direct convolution on BODY_25. Results stay within float32 rounding of the
direct convolution (a relative 1e-5 on OpenPose's networks; `tests/python/test_winograd.py`).

CPU only: on a GPU, cuDNN chooses its own algorithms (`CaffeNet(convolution="direct")`, the
default when TensorFlow sees a GPU).
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

# Lavin & Gray's G for F(4x4, 3x3), points 0, 1, -1, 2, -2 (kernels/core/winograd.cc has B^T and
# A^T of the same points).
G = np.array([[1 / 4, 0, 0], [-1 / 6, -1 / 6, -1 / 6], [-1 / 6, 1 / 6, -1 / 6],
              [1 / 24, 1 / 12, 1 / 6], [1 / 24, -1 / 12, 1 / 6], [0, 0, 1]], np.float64)

# Below this many input channels the transforms cost more than the products save (the first
# layer, 3 channels, stays direct).
MIN_CHANNELS = 16

MODES = ("auto", "direct", "winograd")


def applies(spec) -> bool:
    """Whether a `layers.Conv` runs as Winograd: 3x3, stride 1, no dilation, one group."""
    return (spec.kernel == (3, 3) and spec.stride == (1, 1) and spec.dilation == (1, 1) and
            spec.group == 1 and spec.channels_in >= MIN_CHANNELS)


def resolve(mode: str) -> str:
    """"auto" -> "winograd" where TensorFlow sees no GPU and the op library loads, else
    "direct"; "direct" and "winograd" as they are."""
    if mode not in MODES:
        raise ValueError(f"convolution must be one of {MODES}, got {mode!r}")
    if mode != "auto":
        return mode
    if tf.config.list_physical_devices("GPU"):
        return "direct"
    from openpose_tf import _library

    try:
        _library.load()
    except _library.OpLibraryError:
        return "direct"
    return "winograd"


def transform_weights(kernel) -> np.ndarray:
    """TensorFlow's `[3, 3, C, K]` kernel -> `[36, C, K]` float32 (`G g G^T` in float64)."""
    g = np.asarray(kernel, np.float64)
    u = np.einsum("ia,abck,jb->ijck", G, g, G)
    return u.reshape(36, g.shape[2], g.shape[3]).astype(np.float32)


def conv(x, weights, bias, pad, activation="none", negative_slope=None):
    """A 3x3 stride-1 convolution of `x` `[N, H, W, C]` with `transform_weights`' `[36, C, K]`,
    `bias` `[K]`, Caffe's `pad` (pad_h, pad_w), then `activation` ("none", "relu", "prelu" with
    `negative_slope` `[K]` or `[1]`)."""
    from openpose_tf import ops

    tiles = ops.winograd_input_transform(x, pad)
    products = tf.linalg.matmul(tiles, weights)
    shape = tf.shape(x)
    size = tf.stack([shape[0], shape[1] + 2 * pad[0] - 2, shape[2] + 2 * pad[1] - 2])
    slope = tf.zeros([1]) if negative_slope is None else negative_slope
    return ops.winograd_output_transform(products, bias, slope, size, activation)
