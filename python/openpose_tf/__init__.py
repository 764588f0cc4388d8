"""openpose-tf: OpenPose's multi-person 2D pose estimation as TensorFlow custom ops.

The ops live in :mod:`openpose_tf.ops`; :func:`postprocess` runs OpenPose's whole
post-processing (network output -> people). The compiled library is loaded on first use, and
TensorFlow is imported only when one of these is used (so `openpose-tf --help` is instant).

Dimension letters used throughout: N batch, H height, W width, C channels, P parts, L limbs,
M max peaks, S scales. Tensors are NHWC unless a function says otherwise.
"""

__version__ = "0.1.0"

__all__ = ["__version__", "postprocess", "PoseExtractor", "load_saved_model"]


def __getattr__(name):
    if name == "postprocess":
        from openpose_tf.postprocessing import postprocess

        return postprocess
    if name == "PoseExtractor":
        from openpose_tf.extractor import PoseExtractor

        return PoseExtractor
    if name == "load_saved_model":
        from openpose_tf.serving import load_saved_model

        return load_saved_model
    raise AttributeError(f"module 'openpose_tf' has no attribute {name!r}")
