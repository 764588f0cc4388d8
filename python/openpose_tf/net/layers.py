"""Caffe layer semantics in TensorFlow, NHWC (Caffe computes NCHW; the weights are transposed).

Each layer is parsed once into a small spec that knows its output channels and the weight shapes
it needs, so a network can be validated against its weights before anything runs.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import tensorflow as tf

SUPPORTED = ("Convolution", "ReLU", "PReLU", "Pooling", "Concat")

# A .caffemodel is a protobuf message (at most 2 GiB): no blob has more float32 values.
MAX_BLOB_VALUES = 2 ** 29

# Caffe NCHW axis -> NHWC axis.
_NHWC_AXIS = {0: 0, 1: 3, 2: 1, 3: 2}


def _pair(repeated, single_h, single_w, default, has_h, has_w):
    """Caffe's rule for kernel/pad/stride/dilation: explicit _h/_w, else 1 or 2 repeated values."""
    if has_h or has_w:
        return int(single_h), int(single_w)
    values = list(repeated)
    if not values:
        return default, default
    return (int(values[0]), int(values[0])) if len(values) == 1 else (int(values[0]),
                                                                       int(values[1]))


def _at_least(name, what, values, low):
    if any(v < low for v in values):
        raise ValueError(f"layer '{name}': {what} must be >= {low}, got {list(values)}")


@dataclasses.dataclass
class Conv:
    out: int
    kernel: tuple[int, int]
    stride: tuple[int, int]
    pad: tuple[int, int]
    dilation: tuple[int, int]
    group: int
    bias: bool
    channels_in: int

    @staticmethod
    def parse(p, channels_in):
        c = p.convolution_param
        kernel = _pair(c.kernel_size, c.kernel_h, c.kernel_w, 1, c.HasField("kernel_h"),
                       c.HasField("kernel_w"))
        stride = _pair(c.stride, c.stride_h, c.stride_w, 1, c.HasField("stride_h"),
                       c.HasField("stride_w"))
        pad = _pair(c.pad, c.pad_h, c.pad_w, 0, c.HasField("pad_h"), c.HasField("pad_w"))
        dilation = _pair(c.dilation, 1, 1, 1, False, False)
        return Conv(int(c.num_output), kernel, stride, pad, dilation, int(c.group),
                    bool(c.bias_term), channels_in)

    def weight_shapes(self):
        shapes = [(self.out, self.channels_in // self.group) + self.kernel]
        return shapes + [(self.out,)] if self.bias else shapes

    def check(self, name):
        if self.group < 1:  # Caffe divides by it (a crash there)
            raise ValueError(f"layer '{name}': group must be >= 1, got {self.group}")
        if self.out <= 0 or self.channels_in % self.group or self.out % self.group:
            raise ValueError(f"layer '{name}': num_output {self.out} and {self.channels_in} "
                             f"input channels must be positive multiples of group {self.group}")
        _at_least(name, "kernel size", self.kernel, 1)
        _at_least(name, "stride", self.stride, 1)
        _at_least(name, "dilation", self.dilation, 1)
        _at_least(name, "pad", self.pad, 0)
        weights = self.out * (self.channels_in // self.group) * self.kernel[0] * self.kernel[1]
        if weights > MAX_BLOB_VALUES:
            raise ValueError(f"layer '{name}': {weights} weights (num_output {self.out}), more "
                             f"than a .caffemodel can hold (2 GiB)")

    def to_tf(self, blobs):
        """Caffe [O, I/g, kh, kw] -> TF [kh, kw, I/g, O]."""
        return [blobs[0].transpose(2, 3, 1, 0)] + list(blobs[1:])

    def __call__(self, x, weights):
        ph, pw = self.pad
        if ph or pw:
            x = tf.pad(x, [[0, 0], [ph, ph], [pw, pw], [0, 0]])
        kernel = weights[0]
        if self.group == 1:
            y = tf.nn.conv2d(x, kernel, [1, *self.stride, 1], "VALID", dilations=self.dilation)
        else:  # grouped: split, convolve, concat (grouped conv2d is GPU-only in TF)
            xs = tf.split(x, self.group, axis=3)
            ks = tf.split(kernel, self.group, axis=3)
            y = tf.concat([tf.nn.conv2d(a, k, [1, *self.stride, 1], "VALID",
                                        dilations=self.dilation) for a, k in zip(xs, ks)], 3)
        return y + weights[1] if self.bias else y


@dataclasses.dataclass
class ReLU:
    slope: float

    @staticmethod
    def parse(p, channels_in):
        return ReLU(float(p.relu_param.negative_slope))

    def weight_shapes(self):
        return []

    def check(self, name):
        if not math.isfinite(self.slope):
            raise ValueError(f"layer '{name}': negative_slope must be finite, got {self.slope}")

    def __call__(self, x, weights):
        if self.slope == 0:
            return tf.nn.relu(x)
        return tf.maximum(x, 0.0) + self.slope * tf.minimum(x, 0.0)


@dataclasses.dataclass
class PReLU:
    channels: int
    shared: bool

    @staticmethod
    def parse(p, channels_in):
        return PReLU(channels_in, bool(p.prelu_param.channel_shared))

    def weight_shapes(self):
        return [(1,) if self.shared else (self.channels,)]

    def check(self, name):
        pass

    def __call__(self, x, weights):
        return tf.maximum(x, 0.0) + weights[0] * tf.minimum(x, 0.0)


@dataclasses.dataclass
class Pool:
    method: str  # "MAX" or "AVE"
    kernel: tuple[int, int]
    stride: tuple[int, int]
    pad: tuple[int, int]
    global_pooling: bool
    ceil: bool

    @staticmethod
    def parse(p, channels_in):
        c = p.pooling_param
        method = c.DESCRIPTOR.fields_by_name["pool"].enum_type.values_by_number[c.pool].name
        if method not in ("MAX", "AVE"):
            raise ValueError(f"layer '{p.name}': pooling method {method} is not supported")
        kernel = (c.kernel_h, c.kernel_w) if c.HasField("kernel_h") else (c.kernel_size,) * 2
        stride = (c.stride_h, c.stride_w) if c.HasField("stride_h") else (c.stride,) * 2
        pad = (c.pad_h, c.pad_w) if c.HasField("pad_h") else (c.pad,) * 2
        return Pool(method, tuple(map(int, kernel)), tuple(map(int, stride)),
                    tuple(map(int, pad)), bool(c.global_pooling), c.round_mode == 0)

    def weight_shapes(self):
        return []

    def check(self, name):
        if self.global_pooling:
            return
        _at_least(name, "kernel size", self.kernel, 1)
        _at_least(name, "stride", self.stride, 1)
        _at_least(name, "pad", self.pad, 0)
        # Caffe's PoolingLayer::LayerSetUp: CHECK_LT(pad, kernel) (else windows of padding only).
        if any(p >= k for p, k in zip(self.pad, self.kernel)):
            raise ValueError(f"layer '{name}': pad {list(self.pad)} must be smaller than the "
                             f"kernel {list(self.kernel)} (as Caffe requires)")

    def _out(self, size, k, s, p):
        """Caffe's pooled size (pooling_layer.cpp), ceil mode by default."""
        rounding = tf.math.ceil if self.ceil else tf.math.floor
        out = tf.cast(rounding(tf.cast(size + 2 * p - k, tf.float32) / s), tf.int32) + 1
        if p > 0:  # the last window must start inside the image (or its left/top padding)
            out = tf.where((out - 1) * s >= size + p, out - 1, out)
        return out

    def __call__(self, x, weights):
        if self.global_pooling:
            reduce = tf.reduce_max if self.method == "MAX" else tf.reduce_mean
            return reduce(x, axis=[1, 2], keepdims=True)
        shape = tf.shape(x)
        (kh, kw), (sh, sw), (ph, pw) = self.kernel, self.stride, self.pad
        oh, ow = self._out(shape[1], kh, sh, ph), self._out(shape[2], kw, sw, pw)
        # Extra bottom/right padding so that every Caffe window fits; it never counts.
        eh = tf.maximum(0, (oh - 1) * sh + kh - (shape[1] + 2 * ph))
        ew = tf.maximum(0, (ow - 1) * sw + kw - (shape[2] + 2 * pw))
        paddings = [[0, 0], [ph, ph + eh], [pw, pw + ew], [0, 0]]
        if self.method == "MAX":
            y = tf.nn.max_pool2d(tf.pad(x, paddings, constant_values=-math.inf), self.kernel,
                                 self.stride, "VALID")
        else:
            # Caffe divides by the window's size clipped to the padded image [-pad, size + pad).
            area = kh * kw
            total = tf.nn.avg_pool2d(tf.pad(x, paddings), self.kernel, self.stride, "VALID") * area
            ones = tf.pad(tf.ones([1, shape[1] + 2 * ph, shape[2] + 2 * pw, 1], x.dtype),
                          [[0, 0], [0, eh], [0, ew], [0, 0]])
            count = tf.nn.avg_pool2d(ones, self.kernel, self.stride, "VALID") * area
            y = total / count
        return y[:, :oh, :ow, :]


@dataclasses.dataclass
class Concat:
    axis: int

    @staticmethod
    def parse(p, channels_in):
        c = p.concat_param
        axis = int(c.axis) if c.HasField("axis") or not c.HasField("concat_dim") else \
            int(c.concat_dim)
        return Concat(axis + 4 if -4 <= axis < 0 else axis)

    def weight_shapes(self):
        return []

    def check(self, name):
        if self.axis not in _NHWC_AXIS:
            raise ValueError(f"layer '{name}': Concat axis must be in [-4, 3] (N, C, H, W), got "
                             f"{self.axis}")

    def __call__(self, xs, weights):
        return tf.concat(xs, axis=_NHWC_AXIS[self.axis])


PARSERS = {"Convolution": Conv.parse, "ReLU": ReLU.parse, "PReLU": PReLU.parse,
           "Pooling": Pool.parse, "Concat": Concat.parse}


def shapes_match(blob: np.ndarray, wanted: tuple) -> bool:
    """Caffe's legacy blobs carry leading 1s (a bias as [1, 1, 1, O]): compare without them."""
    squeeze = lambda s: tuple(d for d in s if d != 1) or (1,)  # noqa: E731
    return blob.shape == tuple(wanted) or (blob.size == int(np.prod(wanted)) and
                                           squeeze(blob.shape) == squeeze(wanted))
