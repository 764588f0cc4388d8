"""openpose-tf: OpenPose's multi-person 2D pose estimation as TensorFlow custom ops.

The ops live in :mod:`openpose_tf.ops`; the compiled library is loaded on first use.

Dimension letters used throughout: N batch, H height, W width, C channels, P parts, L limbs,
M max peaks, S scales. Tensors are NHWC unless a function says otherwise.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
