"""Finds and loads the compiled op library (`_openpose_ops.so`) once, lazily.

Search order:
  1. $OPENPOSE_TF_OPS_LIBRARY (a path to the .so), if set: then only there;
  2. beside this module (a wheel carries it there);
  3. `bazel-bin/` of the source tree this module sits in (`make build`).
"""

from __future__ import annotations

import os
import pathlib
import re
import threading

LIBRARY_NAME = "_openpose_ops.so"
ENV_VAR = "OPENPOSE_TF_OPS_LIBRARY"
_BUILD_INFO = re.compile(rb"openpose_tf:built_for_tensorflow=([^;\x00]+);")

# The ops with only a CPU kernel (a library built with --config=cuda has GPU kernels for the
# others); placed on a GPU, TensorFlow runs them on the CPU.
CPU_ONLY_OPS = ("OpenPose>PeaksAndPafScores", "OpenPose>SparseCoverage",
                "OpenPose>FixedPointWarp", "OpenPose>WinogradInputTransform",
                "OpenPose>WinogradOutputTransform")

_lock = threading.Lock()
_module = None


class OpLibraryError(ImportError):
    """The op library is missing or cannot be loaded into this TensorFlow."""


def candidate_paths() -> list[pathlib.Path]:
    """The paths searched for the library, in order."""
    if os.environ.get(ENV_VAR):
        return [pathlib.Path(os.environ[ENV_VAR])]
    here = pathlib.Path(__file__).resolve().parent
    return [here / LIBRARY_NAME, here.parent.parent / "bazel-bin" / LIBRARY_NAME]


def built_for_version(path: pathlib.Path) -> str | None:
    """The TensorFlow version the library at `path` was compiled against, if it says."""
    match = _BUILD_INFO.search(path.read_bytes())
    return match.group(1).decode() if match else None


def find_library() -> pathlib.Path:
    """The first existing candidate; OpLibraryError naming every place looked at otherwise."""
    paths = candidate_paths()
    for path in paths:
        if path.is_file():
            return path
    import tensorflow as tf

    looked = "\n  ".join(str(p) for p in paths)
    raise OpLibraryError(
        f"openpose_tf: the op library {LIBRARY_NAME} was not found. Looked at:\n  {looked}\n"
        f"Build it for TensorFlow {tf.__version__} with `make build` (or `bazel build //...`), "
        f"or point ${ENV_VAR} at it."
    )


def load_from(path: pathlib.Path):
    """tf.load_op_library(path) after a version check; OpLibraryError naming both versions."""
    import tensorflow as tf

    built_for = built_for_version(path)
    if built_for is not None and built_for != tf.__version__:
        raise OpLibraryError(
            f"openpose_tf: {path} was built for TensorFlow {built_for}, but TensorFlow "
            f"{tf.__version__} is installed; rebuild it with `make build`."
        )
    try:
        return tf.load_op_library(str(path))
    except (tf.errors.OpError, OSError) as err:
        raise OpLibraryError(
            f"openpose_tf: cannot load {path} (built for TensorFlow {built_for or 'unknown'}, "
            f"running {tf.__version__}): {err}. Rebuild it with `make build`."
        ) from err


def load():
    """Loads the library (once) and returns the module of generated op wrappers."""
    global _module
    with _lock:
        if _module is None:
            import tensorflow as tf

            module = load_from(find_library())
            for op_name in op_names(module):  # none has a gradient
                tf.no_gradient(op_name)
            _module = module
        return _module


def op_names(module=None) -> list[str]:
    """Every op the library registers (`OpenPose>...`), read from TensorFlow's op registry once
    the library is loaded: a list that cannot go stale."""
    from tensorflow.core.framework import op_def_pb2
    from tensorflow.python.client import pywrap_tf_session

    if module is None:
        load()
    registry = op_def_pb2.OpList()
    buffer = pywrap_tf_session.TF_GetAllOpList()
    try:
        registry.ParseFromString(pywrap_tf_session.TF_GetBuffer(buffer))
    finally:
        pywrap_tf_session.TF_DeleteBuffer(buffer)
    return sorted(op.name for op in registry.op if op.name.startswith("OpenPose>"))
