"""Shared pytest setup: quiet TensorFlow, the op module, helpers for the four run modes, and the
fuzz run started in the background (it needs its own process; the other tests run meanwhile)."""

import os
import pathlib
import subprocess
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

from openpose_tf import ops  # noqa: E402

FUZZ_SCRIPT = pathlib.Path(__file__).with_name("fuzz_ops.py")
_background = {}


def fuzz_args():
    """fuzz_ops.py's arguments: seed, cases, address-space limit (GiB)."""
    return [os.environ.get("OPENPOSE_TF_FUZZ_SEED", "2026"),
            os.environ.get("OPENPOSE_TF_FUZZ_CASES", "800"), "8"]


def pytest_collection_modifyitems(session, config, items):
    # Start the fuzz process as soon as it is known to be wanted: it overlaps the other tests.
    if any(item.module.__name__ == "test_fuzz" for item in items):
        _background["fuzz"] = subprocess.Popen(
            [sys.executable, str(FUZZ_SCRIPT)] + fuzz_args(), stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)


def fuzz_result(timeout=600):
    """(returncode, stdout, stderr) of the background fuzz run (started here if it was not)."""
    if "fuzz" not in _background:
        _background["fuzz"] = subprocess.Popen(
            [sys.executable, str(FUZZ_SCRIPT)] + fuzz_args(), stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)
    process = _background["fuzz"]
    stdout, stderr = process.communicate(timeout=timeout)
    return process.returncode, stdout, stderr


# Every op test runs the op in each of these ways and expects the same result.
MODES = ("eager", "function", "v1_graph", "saved_model")


@pytest.fixture(scope="session")
def lib():
    return ops.load_library()


def run_in_mode(mode, fn, inputs, tmp_path):
    """Runs fn(*inputs) (inputs: NumPy arrays) eagerly, in a tf.function with an unknown batch
    size, in a tf.compat.v1 graph + Session, or through a SavedModel saved and loaded again.
    Returns NumPy results (a tuple if fn returns several tensors)."""
    def to_numpy(result):
        if isinstance(result, (tuple, list)):
            return tuple(np.asarray(r) for r in result)
        return np.asarray(result)

    signature = [tf.TensorSpec([None] + list(x.shape[1:]), tf.as_dtype(x.dtype)) for x in inputs]
    if mode == "eager":
        return to_numpy(fn(*inputs))
    if mode == "function":
        return to_numpy(tf.function(fn, input_signature=signature)(*inputs))
    if mode == "v1_graph":
        graph = tf.Graph()
        with graph.as_default():
            placeholders = [tf.compat.v1.placeholder(s.dtype, s.shape) for s in signature]
            outputs = fn(*placeholders)
            with tf.compat.v1.Session(graph=graph) as session:
                result = session.run(outputs, dict(zip(placeholders, inputs)))
        return to_numpy(result)
    if mode == "saved_model":
        module = tf.Module()
        module.f = tf.function(fn, input_signature=signature)
        path = str(tmp_path / "saved")
        tf.saved_model.save(module, path)
        loaded = tf.saved_model.load(path)
        return to_numpy(loaded.f(*inputs))
    raise ValueError(mode)


# Errors raised at graph construction (shape functions: ValueError) or at run time
# (kernels: InvalidArgumentError) carry the same message.
SHAPE_ERRORS = (ValueError, tf.errors.InvalidArgumentError)


# Stride 8 and BODY_25's 78 output channels: a stand-in for OpenPose's network.
STRIDE8 = """
name: "stride8"
input: "data"
input_dim: 1 input_dim: 3 input_dim: 16 input_dim: 16
layer { name: "c1" type: "Convolution" bottom: "data" top: "c1"
  convolution_param { num_output: 8 kernel_size: 3 stride: 2 pad: 1 } }
layer { name: "r1" type: "ReLU" bottom: "c1" top: "c1" }
layer { name: "c2" type: "Convolution" bottom: "c1" top: "c2"
  convolution_param { num_output: 8 kernel_size: 3 stride: 2 pad: 1 } }
layer { name: "r2" type: "ReLU" bottom: "c2" top: "c2" }
layer { name: "net_output" type: "Convolution" bottom: "c2" top: "net_output"
  convolution_param { num_output: 78 kernel_size: 3 stride: 2 pad: 1 } }
"""


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory):
    """A random-weight stride-8 BODY_25 network, as `openpose-tf convert` writes it."""
    import caffe_files
    from openpose_tf import net as opnet
    from openpose_tf.net import export

    folder = tmp_path_factory.mktemp("model")
    proto = folder / "net.prototxt"
    proto.write_text(STRIDE8)
    caffe_files.random_caffemodel(proto, folder / "w.caffemodel", seed=3)
    out = folder / "converted"
    export.save(opnet.from_caffe(proto, folder / "w.caffemodel"), out, pose_model="BODY_25")
    return out


# Stride-8 stand-ins of the hand (22 channels) and face (71) networks.
def stand_in(channels):
    return f"""
name: "stand_in"
input: "image"
input_dim: 1 input_dim: 3 input_dim: 64 input_dim: 64
layer {{ name: "c1" type: "Convolution" bottom: "image" top: "c1"
  convolution_param {{ num_output: 4 kernel_size: 3 stride: 4 pad: 1 }} }}
layer {{ name: "net_output" type: "Convolution" bottom: "c1" top: "net_output"
  convolution_param {{ num_output: {channels} kernel_size: 3 stride: 2 pad: 1 }} }}
"""


@pytest.fixture(scope="session")
def hand_face_models(tmp_path_factory):
    """Random-weight stride-8 stand-ins of the hand and face networks, converted."""
    import caffe_files
    from openpose_tf import net as opnet
    from openpose_tf.net import export

    folder = tmp_path_factory.mktemp("hand_face")
    out = {}
    for kind, channels in (("hand", 22), ("face", 71)):
        proto = folder / f"{kind}.prototxt"
        proto.write_text(stand_in(channels))
        caffe_files.random_caffemodel(proto, folder / f"{kind}.caffemodel", seed=5)
        out[kind] = folder / kind
        export.save(opnet.from_caffe(proto, folder / f"{kind}.caffemodel"), out[kind],
                    pose_model=kind.upper())
    return out
