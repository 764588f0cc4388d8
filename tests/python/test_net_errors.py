"""The importer refuses broken networks and hostile files with CaffeModelError naming the file,
the layer and the value, at build time (never later with TensorFlow's words), and never runs code
from a weights file."""

import os

import numpy as np
import pytest

import caffe_files
from openpose_tf import net as opnet
from openpose_tf.net import caffe_io

HEAD = 'name: "n" input: "data" input_dim: 1 input_dim: 3 input_dim: 16 input_dim: 16\n'
CONV = ('layer {{ name: "conv" type: "Convolution" bottom: "data" top: "conv" '
        'convolution_param {{ num_output: 4 {params} }} }}\n')
POOL = ('layer {{ name: "pool" type: "Pooling" bottom: "data" top: "pool" '
        'pooling_param {{ {params} }} }}\n')


def build(tmp_path, text):
    proto = tmp_path / "net.prototxt"
    proto.write_text(HEAD + text)
    return opnet.CaffeNet(caffe_io.read_prototxt(proto))  # shapes only: validation at build


@pytest.mark.parametrize("text,pattern", [
    ('layer { name: "orphan" type: "ReLU" top: "x" }',
     r"layer 'orphan' \(ReLU\) has 0 bottom and 1 top blobs"),
    ('layer { name: "cat" type: "Concat" bottom: "data" bottom: "data" top: "c" '
     'concat_param { axis: 7 } }', r"layer 'cat': Concat axis must be in \[-4, 3\].*got 7"),
    ('layer { name: "cat" type: "Concat" bottom: "data" bottom: "data" top: "c" '
     'concat_param { axis: -5 } }', r"layer 'cat': Concat axis .*got -5"),
    (CONV.format(params="kernel_size: 0"), r"layer 'conv': kernel size must be >= 1, got \[0, 0\]"),
    (CONV.format(params="kernel_size: 3 stride: 0"), r"layer 'conv': stride must be >= 1"),
    (CONV.format(params="kernel_size: 3 dilation: 0"), r"layer 'conv': dilation must be >= 1"),
    (POOL.format(params="pool: MAX kernel_size: 2 pad: 2"),
     r"layer 'pool': pad \[2, 2\] must be smaller than the kernel \[2, 2\]"),
    (POOL.format(params="pool: AVE kernel_size: 0"), r"layer 'pool': kernel size must be >= 1"),
    (POOL.format(params="pool: MAX kernel_size: 2 stride: 0"), r"layer 'pool': stride must be"),
])
def test_broken_layers_are_refused_at_build_time(tmp_path, text, pattern):
    with pytest.raises(opnet.CaffeModelError, match=r"net\.prototxt: " + pattern):
        build(tmp_path, text)


def test_non_utf8_prototxt(tmp_path):
    proto = tmp_path / "binary.prototxt"
    proto.write_bytes(HEAD.encode() + b"\xff\xfe\x00")
    with pytest.raises(opnet.CaffeModelError, match=r"binary\.prototxt: the network definition "
                                                    r"is not UTF-8 text \(byte \d+"):
        caffe_io.read_prototxt(proto)


def test_empty_caffemodel_is_the_weights_fault(tmp_path):
    proto = tmp_path / "net.prototxt"
    proto.write_text(HEAD + CONV.format(params="kernel_size: 3"))
    empty = tmp_path / "empty.caffemodel"
    empty.write_bytes(b"")
    with pytest.raises(opnet.CaffeModelError, match=r"empty\.caffemodel: the weights file is "
                                                    r"empty"):
        opnet.from_caffe(proto, empty)


def test_non_numeric_npy_entry(tmp_path):
    np.save(tmp_path / "w.npy", {"conv": {"weights": "not numbers"}}, allow_pickle=True)
    with pytest.raises(opnet.CaffeModelError,
                       match=r"w\.npy: layer 'conv' entry 'weights' is not numeric \(str\)"):
        caffe_io.read_npy(tmp_path / "w.npy")
    np.save(tmp_path / "w2.npy", {"conv": 3.5}, allow_pickle=True)
    with pytest.raises(opnet.CaffeModelError, match=r"layer 'conv' holds a float"):
        caffe_io.read_npy(tmp_path / "w2.npy")


class _Payload:
    """Unpickling this would create a file: proof that code ran."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.makedirs, (self.marker,))


def test_npy_that_would_run_code_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    hostile = np.empty((), object)
    hostile[()] = {"conv": {"weights": _Payload(str(marker))}}
    np.save(tmp_path / "evil.npy", hostile, allow_pickle=True)
    with pytest.raises(opnet.CaffeModelError,
                       match=r"evil\.npy: .*asks to run os\.makedirs; only NumPy arrays"):
        caffe_io.read_npy(tmp_path / "evil.npy")
    assert not marker.exists()


def test_caffe_tensorflow_style_pickles_still_load(tmp_path):
    # A Python-2-era protocol-2 pickle of a dict of arrays (what caffe-tensorflow wrote).
    import pickle

    data = np.empty((), object)
    data[()] = {"conv": {"weights": np.ones((3, 3, 3, 4), np.float32), "biases": np.zeros(4)}}
    with open(tmp_path / "p2.npy", "wb") as f:
        np.lib.format.write_array_header_1_0(f, {"descr": "|O", "fortran_order": False,
                                                 "shape": ()})
        pickle.dump(data, f, protocol=2)
    weights = caffe_io.read_npy(tmp_path / "p2.npy")
    assert [b.shape for b in weights["conv"]] == [(4, 3, 3, 3), (4,)]


def test_a_valid_net_still_builds(tmp_path):
    proto = tmp_path / "net.prototxt"
    proto.write_text(HEAD + CONV.format(params="kernel_size: 3 pad: 1") +
                     POOL.format(params="pool: MAX kernel_size: 3 stride: 2 pad: 1"))
    caffe_files.random_caffemodel(proto, tmp_path / "w.caffemodel")
    net = opnet.from_caffe(proto, tmp_path / "w.caffemodel")
    assert net.output_channels == 3


def test_hostile_definitions_and_files_are_caffe_model_errors(tmp_path):
    """A deeply nested prototxt (RecursionError), a layer bigger than any .caffemodel
    (MemoryError), Caffe's group 0 (taken as 1 before), weights that never end (/dev/zero, a
    FIFO) and a model folder's nested or non-UTF-8 openpose_tf.json."""
    from openpose_tf.net import export

    nested = tmp_path / "nested.prototxt"
    nested.write_text(HEAD + "layer { " * 3000 + "}" * 3000)
    with pytest.raises(opnet.CaffeModelError, match="nested too deeply"):
        caffe_io.read_prototxt(nested)
    with pytest.raises(opnet.CaffeModelError, match="more than a .caffemodel can hold"):
        build(tmp_path, CONV.format(params="kernel_size: 3").replace("4", "2000000000", 1))
    with pytest.raises(opnet.CaffeModelError, match="group must be >= 1, got 0"):
        build(tmp_path, CONV.format(params="kernel_size: 3 group: 0"))
    os.mkfifo(tmp_path / "fifo")
    for path in ("/dev/zero", tmp_path / "fifo"):
        with pytest.raises(opnet.CaffeModelError, match="not a regular file"):
            caffe_io.read_weights(path)
    model = tmp_path / "model"
    model.mkdir()
    for text in ("[" * 100_000 + "]" * 100_000, b"\xff\xfe{"):
        path = model / export.METADATA
        path.write_bytes(text if isinstance(text, bytes) else text.encode())
        with pytest.raises(opnet.CaffeModelError, match="openpose_tf.json: corrupt metadata"):
            export.load(model)
