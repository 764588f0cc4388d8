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

# Every op in the library; none has a gradient.
OP_NAMES = (
    "OpenPose>Nms",
    "OpenPose>Maximum",
    "OpenPose>ResizeAndMerge",
    "OpenPose>PafScores",
    "OpenPose>AssemblePeople",
)

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
            for op_name in OP_NAMES:
                tf.no_gradient(op_name)
            _module = module
        return _module
