"""What goes into a network, shared by the body pipeline and the hand/face stages: the checks on
a batch of images, the normalisation each kind of network wants, and the call itself."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from openpose_tf.common import INPUT_FORMATS


def check_input_format(input_format: str) -> str:
    if input_format not in INPUT_FORMATS:
        raise ValueError(f"input_format must be one of {INPUT_FORMATS}, got {input_format!r}")
    return input_format


def normalise(images_u8, input_format: str = "openpose"):
    """BGR uint8 `[..., 3]` -> the float32 a network expects: `openpose` (x/256 - 0.5, BGR: exact
    in float32), `bgr255`, `rgb255` (raw 0..255) or `rgb01` (x/255)."""
    check_input_format(input_format)
    x = tf.cast(images_u8, tf.float32)
    if input_format == "openpose":
        return x * tf.constant(1 / 256, tf.float32) - tf.constant(0.5, tf.float32)
    if input_format == "bgr255":
        return x
    x = tf.reverse(x, axis=[-1])
    # divide_no_nan: a true division also in a graph (Grappler would turn "/ 255" into
    # "* (1/255)", which rounds differently).
    return x if input_format == "rgb255" else tf.math.divide_no_nan(x, tf.constant(255, tf.float32))


def call_network(network, x):
    """`network(x)`, unwrapped when it returns a signature's dict of outputs ("net_output", else
    its only or first output)."""
    out = network(x)
    if isinstance(out, dict):
        out = out["net_output"] if "net_output" in out else next(iter(out.values()))
    return out


def group_by_size(images) -> tuple[list, dict[tuple, list[int]]]:
    """(images as a list, {shape: indices}) after checking each is a non-empty [H, W, 3] uint8
    BGR array; `images` is a `[N, H, W, 3]` batch or a list."""
    if isinstance(images, np.ndarray) and images.ndim == 4:
        images = list(images)
    if not isinstance(images, (list, tuple)):
        raise TypeError(f"images must be a [N, H, W, 3] array or a list of [H, W, 3] images, "
                        f"got {type(images).__name__}")
    by_size: dict[tuple, list[int]] = {}
    for i, image in enumerate(images):
        image = np.asarray(image)
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3 or \
                0 in image.shape:
            raise ValueError(f"image {i} must be a non-empty [H, W, 3] uint8 BGR array, got "
                             f"{image.dtype} {list(image.shape)}")
        by_size.setdefault(image.shape, []).append(i)
    return list(images), by_size
