"""OpenCV's `warpAffine` for OpenPose's input matrix, as TensorFlow ops: the pipeline's only
input warp (every route, the SavedModel included; no result depends on the installed OpenCV).

OpenPose builds each scale's input with `cv::warpAffine(img, M = [[s,0,0],[0,s,0]], size,
s > 1 ? INTER_CUBIC : INTER_AREA (= linear), BORDER_CONSTANT, 0)`. OpenCV computes that in fixed
point, and so do we:
- source coordinates in 1/32 pixel: `X(x) = (round(x / s * 1024) + 16) >> 5` with `1/s`
  evaluated as OpenCV inverts M (`s * (1 / (s * s))`, double), separately for rows and columns;
- 2-D integer weights (sum 32768) for each of the 32 x 32 fractions, built as OpenCV's
  initInterTab2D does (float 1-D weights, Keys A = -0.75 for cubic, products rounded, the
  rounding error moved onto one central tap);
- `(sum(tap * weight) + 16384) >> 15`, saturated to 0..255; taps outside the image read 0.
The coordinates and tables are built here in TensorFlow ops; the sum runs in one custom op,
`ops.fixed_point_warp` (C++: about 4 ms for a 656x368 cubic net input on one core, where the same
sum in stock TensorFlow ops took about 40 ms and `cv2.warpAffine` takes about 3). Checked pixel
for pixel against `cv2.warpAffine` (tests/python/test_graph_warp.py).
"""

from __future__ import annotations

import functools

import numpy as np
import tensorflow as tf

from openpose_tf import ops

_BITS = 5            # OpenCV's INTER_BITS: 1/32 pixel
_TAB = 1 << _BITS
_COEF_SCALE = 1 << 15  # INTER_REMAP_COEF_SCALE


def _weights_1d(cubic: bool) -> np.ndarray:
    """OpenCV's initInterTab1D: `[32, k]` float32 weights per 1/32 fraction."""
    f32 = np.float32
    rows = []
    for i in range(_TAB):
        x = f32(i) * f32(1.0 / _TAB)
        if not cubic:
            rows.append([f32(1) - x, x])
            continue
        a, one = f32(-0.75), f32(1)  # interpolateCubic, evaluated step by step in float
        c0 = ((a * (x + one) - f32(5) * a) * (x + one) + f32(8) * a) * (x + one) - f32(4) * a
        c1 = ((a + f32(2)) * x - (a + f32(3))) * x * x + one
        c2 = ((a + f32(2)) * (one - x) - (a + f32(3))) * (one - x) * (one - x) + one
        rows.append([c0, c1, c2, one - c0 - c1 - c2])
    return np.array(rows, np.float32)


@functools.lru_cache(maxsize=2)
def weights_2d(cubic: bool) -> np.ndarray:
    """OpenCV's initInterTab2D (fixed point): `[32 * 32, k, k]` int32, index `fy * 32 + fx`."""
    t = _weights_1d(cubic)
    k = t.shape[1]
    # One spare entry: OpenCV's fix-up scans taps (k/2 .. k/2+1), which for k = 2 reaches into
    # the next entry (harmless there: linear weights always sum to 32768 exactly).
    flat = np.zeros((_TAB * _TAB + 1) * k * k, np.int64)
    for i in range(_TAB):
        for j in range(_TAB):
            base = (i * _TAB + j) * k * k
            for k1 in range(k):
                for k2 in range(k):
                    v = np.float32(t[i, k1] * t[j, k2]) * np.float32(_COEF_SCALE)
                    flat[base + k1 * k + k2] = np.clip(np.rint(v), -32768, 32767)
            diff = int(flat[base:base + k * k].sum()) - _COEF_SCALE
            if diff:
                h = k // 2
                low = high = (h, h)
                for k1 in range(h, h + 2):
                    for k2 in range(h, h + 2):
                        value = flat[base + k1 * k + k2]
                        if value < flat[base + low[0] * k + low[1]]:
                            low = (k1, k2)
                        elif value > flat[base + high[0] * k + high[1]]:
                            high = (k1, k2)
                k1, k2 = high if diff < 0 else low
                flat[base + k1 * k + k2] -= diff
    return flat[:_TAB * _TAB * k * k].reshape(_TAB * _TAB, k, k).astype(np.int32)


def _fixed_coordinates(scale, count):
    """OpenCV's source coordinates in 1/32 pixel for destination indices 0..count-1."""
    inverse = scale * (1.0 / (scale * scale))  # warpAffine's inversion of M, in double
    index = tf.range(count, dtype=tf.float64)
    # X = (round(x * M[0] * 1024) + 16) >> 5: AB_BITS = 10, rounded to INTER_BITS = 5.
    fixed = tf.cast(tf.round(inverse * index * 1024.0), tf.int32)
    return tf.bitwise.right_shift(fixed + 16, 10 - _BITS)


def _warp(images, scale, width, height, cubic: bool):
    xs, ys = _fixed_coordinates(scale, width), _fixed_coordinates(scale, height)
    count = tf.shape(images)[0]
    return ops.fixed_point_warp(images, tf.range(count), tf.tile(xs[None], [count, 1]),
                                tf.tile(ys[None], [count, 1]), weights_2d(cubic))


def warp_crops(images, image_index, matrices, width, height):
    """`cv2.warpAffine(image, M, (width, height), INTER_LINEAR | WARP_INVERSE_MAP,
    BORDER_CONSTANT 0)` for K crops at once: crop k of `images[image_index[k]]` (uint8
    `[N, H, W, 3]`) with its crop-to-image matrix `matrices[k]` `[2, 3]` (float64, axis-aligned:
    `M[0, 1] = M[1, 0] = 0`, a negative `M[0, 0]` mirrors). Returns uint8 `[K, height, width, 3]`.

    OpenCV's fixed point (WarpAffineInvoker): `X = (round(M00 x 1024) + round(M02 1024) + 16)
    >> 5` for columns, `Y = (round((M11 y + M12) 1024) + 16) >> 5` for rows, then the linear
    table and `(sum + 16384) >> 15`; taps outside the image read 0."""
    matrices = tf.convert_to_tensor(matrices, tf.float64)
    x = tf.range(width, dtype=tf.float64)[None, :]
    y = tf.range(height, dtype=tf.float64)[None, :]
    scale = float(1 << 10)
    xs = tf.cast(tf.round(matrices[:, 0, 0:1] * x * scale), tf.int32) + \
        tf.cast(tf.round(matrices[:, 0, 2:3] * scale), tf.int32)
    ys = tf.cast(tf.round((matrices[:, 1, 1:2] * y + matrices[:, 1, 2:3]) * scale), tf.int32)
    xs = tf.bitwise.right_shift(xs + 16, 10 - _BITS)   # [K, width] in 1/32 pixel
    ys = tf.bitwise.right_shift(ys + 16, 10 - _BITS)   # [K, height]
    return ops.fixed_point_warp(images, image_index, xs, ys, weights_2d(False))


def warp_input(images, scale, width, height):
    """One scale's net input `[N, height, width, 3]` uint8 from BGR uint8 images `[N, H, W, 3]`:
    the images scaled by `scale` (float64 scalar, OpenPose's scaleInputToNetInput), anchored
    top-left, black padding; cubic when enlarging, else linear, as `cv2.warpAffine`."""
    scale = tf.convert_to_tensor(scale, tf.float64)
    return tf.cond(scale > 1.0, lambda: _warp(images, scale, width, height, True),
                   lambda: _warp(images, scale, width, height, False))
