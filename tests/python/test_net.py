"""openpose_tf.net against OpenCV's independent Caffe importer (cv2.dnn), its errors, its export
(`openpose-tf convert`), caffe-tensorflow .npy weights and the input normalisation."""

import os
import pathlib
import subprocess
import sys
import textwrap

import cv2
import numpy as np
import pytest
import tensorflow as tf

import caffe_files
from openpose_tf import cli
from openpose_tf import net as opnet
from openpose_tf.net import caffe_io, export

# ../shared beside the repository root (or $OPENPOSE_TF_SHARED); never copied into the project.
SHARED = pathlib.Path(os.environ.get("OPENPOSE_TF_SHARED",
                                     pathlib.Path(__file__).resolve().parents[3] / "shared"))
MODELS_DIR = SHARED / "models"
REAL_NETS = [  # (prototxt, input H, W)
    ("pose/body_25/pose_deploy.prototxt", 64, 96),
    ("pose/coco/pose_deploy_linevec.prototxt", 64, 96),
    ("pose/mpi/pose_deploy_linevec.prototxt", 64, 96),
    ("pose/mpi/pose_deploy_linevec_faster_4_stages.prototxt", 64, 96),
    ("hand/pose_deploy.prototxt", 64, 64),
    ("face/pose_deploy.prototxt", 64, 64),
]

# Every layer option OpenPose's nets use, and more: odd sizes exercise Caffe's ceil-mode pooling.
TINY = """
name: "tiny"
input: "data"
input_dim: 1 input_dim: 3 input_dim: 16 input_dim: 16
layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
  param { lr_mult: 1 } convolution_param { num_output: 8 kernel_size: 3 pad: 1
  weight_filler { type: "gaussian" std: 0.01 } } }
layer { name: "relu1" type: "ReLU" bottom: "conv1" top: "conv1" relu_param { negative_slope: 0.1 } }
layer { name: "pool1" type: "Pooling" bottom: "conv1" top: "pool1"
  pooling_param { pool: MAX kernel_size: 3 stride: 2 pad: 1 } }
layer { name: "conv2" type: "Convolution" bottom: "pool1" top: "conv2"
  convolution_param { num_output: 8 kernel_size: 3 pad: 2 dilation: 2 group: 2 bias_term: false } }
layer { name: "prelu2" type: "PReLU" bottom: "conv2" top: "conv2" }
layer { name: "conv3" type: "Convolution" bottom: "pool1" top: "conv3"
  convolution_param { num_output: 4 kernel_h: 1 kernel_w: 3 pad_h: 0 pad_w: 1 } }
layer { name: "prelu3" type: "PReLU" bottom: "conv3" top: "conv3"
  prelu_param { channel_shared: true } }
layer { name: "concat" type: "Concat" bottom: "conv2" bottom: "conv3" top: "concat"
  concat_param { axis: 1 } }
layer { name: "pool2" type: "Pooling" bottom: "concat" top: "pool2"
  pooling_param { pool: AVE kernel_size: 3 stride: 2 pad: 1 } }
layer { name: "pool3" type: "Pooling" bottom: "pool2" top: "pool3"
  pooling_param { pool: MAX kernel_size: 2 stride: 2 } }
layer { name: "out" type: "Convolution" bottom: "pool3" top: "out"
  convolution_param { num_output: 5 kernel_size: 1 stride: 1 } }
"""

# The legacy (V1) format: `layers` with enum types.
LEGACY = """
name: "legacy"
input: "data"
input_dim: 1 input_dim: 3 input_dim: 16 input_dim: 16
layers { name: "conv1" type: CONVOLUTION bottom: "data" top: "conv1"
  convolution_param { num_output: 6 kernel_size: 3 pad: 1 } }
layers { name: "relu1" type: RELU bottom: "conv1" top: "conv1" }
layers { name: "pool1" type: POOLING bottom: "conv1" top: "pool1"
  pooling_param { pool: MAX kernel_size: 2 stride: 2 } }
layers { name: "conv2" type: CONVOLUTION bottom: "pool1" top: "conv2"
  convolution_param { num_output: 4 kernel_size: 1 } }
layers { name: "concat" type: CONCAT bottom: "pool1" bottom: "conv2" top: "concat" }
"""


def opencv_forward(prototxt, caffemodel, x):
    net = cv2.dnn.readNetFromCaffe(str(prototxt), str(caffemodel))
    net.setInput(x.transpose(0, 3, 1, 2))
    return net.forward().transpose(0, 2, 3, 1)


def relative_error(got, want):
    return float(np.abs(got - want).max() / np.abs(want).max())


def write(tmp_path, text, name="net.prototxt"):
    path = tmp_path / name
    path.write_text(text)
    return path


def random_input(h, w, seed=0):
    return np.random.default_rng(seed).uniform(-0.5, 0.5, (1, h, w, 3)).astype(np.float32)


@pytest.mark.parametrize("h,w", [(16, 16), (17, 23), (33, 30)])
def test_tiny_net_matches_opencv(tmp_path, h, w):
    proto = write(tmp_path, TINY)
    caffe_files.random_caffemodel(proto, tmp_path / "w.caffemodel", seed=h)
    net = opnet.from_caffe(proto, tmp_path / "w.caffemodel")
    x = random_input(h, w)
    got = net(x).numpy()
    want = opencv_forward(proto, tmp_path / "w.caffemodel", x)
    assert got.shape == want.shape
    assert relative_error(got, want) < 1e-4


def test_legacy_layers_and_blob_dims_match_opencv(tmp_path):
    proto = write(tmp_path, LEGACY)
    caffe_files.random_caffemodel(proto, tmp_path / "w.caffemodel", legacy=True)
    net = opnet.from_caffe(proto, tmp_path / "w.caffemodel")
    x = random_input(20, 14)
    assert net(x).shape == (1, 10, 7, 10)
    assert relative_error(net(x).numpy(), opencv_forward(proto, tmp_path / "w.caffemodel", x)) \
        < 1e-4


@pytest.mark.parametrize("prototxt,h,w", REAL_NETS, ids=[p for p, _, _ in REAL_NETS])
def test_openpose_networks_match_opencv(tmp_path, prototxt, h, w):
    path = MODELS_DIR / prototxt
    if not path.is_file():
        pytest.skip(f"OpenPose's prototxts are not here ({MODELS_DIR} missing): "
                    "they are read from ../shared/models, never copied into the repository")
    caffemodel = tmp_path / "random.caffemodel"
    caffe_files.random_caffemodel(path, caffemodel)
    net = opnet.from_caffe(path, caffemodel)
    x = random_input(h, w)
    got = net(x).numpy()
    want = opencv_forward(path, caffemodel, x)
    assert got.shape == want.shape == (1, h // 8, w // 8, net.output_channels)
    assert relative_error(got, want) < 1e-4


def test_guessed_pose_models():
    expected = {"pose/body_25/pose_deploy.prototxt": "BODY_25",
                "pose/coco/pose_deploy_linevec.prototxt": "COCO",
                "pose/mpi/pose_deploy_linevec.prototxt": "MPI",
                "pose/mpi/pose_deploy_linevec_faster_4_stages.prototxt": "MPI_4_layers",
                "hand/pose_deploy.prototxt": "HAND", "face/pose_deploy.prototxt": "FACE"}
    if not MODELS_DIR.is_dir():
        pytest.skip(f"{MODELS_DIR} missing")
    for prototxt, name in expected.items():
        definition = caffe_io.read_prototxt(MODELS_DIR / prototxt)  # shapes only
        assert export.guess_pose_model(definition) == name


# --- errors -------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tiny_files(tmp_path_factory):
    """The tiny net and random weights, written once per module."""
    folder = tmp_path_factory.mktemp("tiny")
    proto = write(folder, TINY)
    caffemodel = folder / "w.caffemodel"
    weights = caffe_files.random_caffemodel(proto, caffemodel)
    return proto, caffemodel, weights


@pytest.fixture
def tiny(tiny_files):
    """(prototxt, caffemodel, weights): a copy of the weights each test may change."""
    proto, caffemodel, weights = tiny_files
    return proto, caffemodel, {name: [b.copy() for b in blobs] for name, blobs in weights.items()}


def test_truncated_caffemodel(tiny, tmp_path):
    proto, caffemodel, _ = tiny
    data = caffemodel.read_bytes()
    for cut in (len(data) // 2, len(data) - 3, 7):
        broken = tmp_path / f"cut{cut}.caffemodel"
        broken.write_bytes(data[:cut])
        with pytest.raises(opnet.CaffeModelError, match=f"cut{cut}.caffemodel"):
            opnet.from_caffe(proto, broken)


def test_corrupt_caffemodel(tiny, tmp_path):
    proto, _, _ = tiny
    junk = tmp_path / "junk.caffemodel"
    junk.write_bytes(b"\xff\xfe not protobuf at all \x00\x01" * 10)
    with pytest.raises(opnet.CaffeModelError, match=r"junk\.caffemodel: not a Caffe"):
        opnet.from_caffe(proto, junk)


def test_missing_layer_weights(tiny, tmp_path):
    proto, _, weights = tiny
    del weights["conv2"]
    partial = tmp_path / "partial.caffemodel"
    caffe_files.write_caffemodel(partial, caffe_io.read_prototxt(proto), weights)
    with pytest.raises(opnet.CaffeModelError,
                       match=r"no blobs for layer 'conv2' \(Convolution\) of .*net\.prototxt"):
        opnet.from_caffe(proto, partial)


def test_mismatched_blob_shape(tiny, tmp_path):
    proto, _, weights = tiny
    weights["conv1"][0] = np.zeros((8, 3, 5, 5), np.float32)
    bad = tmp_path / "bad.caffemodel"
    caffe_files.write_caffemodel(bad, caffe_io.read_prototxt(proto), weights)
    with pytest.raises(opnet.CaffeModelError,
                       match=r"layer 'conv1' \(Convolution\) of .*: blob 0 has shape "
                             r"\[8, 3, 5, 5\], the network definition wants \[8, 3, 3, 3\]"):
        opnet.from_caffe(proto, bad)


def test_unsupported_layer_and_bad_prototxt(tmp_path, tiny):
    _, caffemodel, _ = tiny
    lrn = write(tmp_path, TINY + 'layer { name: "norm" type: "LRN" bottom: "out" top: "norm" }',
                "lrn.prototxt")
    with pytest.raises(opnet.CaffeModelError,
                       match=r"lrn\.prototxt: layer 'norm' has type 'LRN', which is not "
                             r"supported"):
        opnet.from_caffe(lrn, caffemodel)
    broken = write(tmp_path, TINY.replace("layer {", "layer {{", 1), "broken.prototxt")
    with pytest.raises(opnet.CaffeModelError, match=r"broken\.prototxt: not a Caffe network"):
        opnet.from_caffe(broken, caffemodel)
    with pytest.raises(opnet.CaffeModelError, match=r"missing\.prototxt: cannot read"):
        opnet.from_caffe(tmp_path / "missing.prototxt", caffemodel)
    with pytest.raises(opnet.CaffeModelError, match=r"missing\.caffemodel: cannot read"):
        opnet.from_caffe(write(tmp_path, TINY, "ok.prototxt"), tmp_path / "missing.caffemodel")


# --- export -------------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["savedmodel", "checkpoint"])
def test_convert_round_trip(tiny, tmp_path, fmt, capsys):
    proto, caffemodel, _ = tiny
    out = tmp_path / "converted"
    assert cli.main(["convert", str(proto), str(caffemodel), "-o", str(out), "--format", fmt,
                     "--model_pose", "coco_18"]) == 0
    assert "pose model COCO" in capsys.readouterr().out
    model, meta = export.load(out)
    assert meta["pose_model"] == "COCO" and meta["output_channels"] == 5, meta
    assert isinstance(model, opnet.CaffeNet)  # built again from network.prototxt
    x = random_input(21, 19)
    np.testing.assert_array_equal(model(x).numpy(), opnet.from_caffe(proto, caffemodel)(x).numpy())


def test_converted_savedmodel_loads_in_a_fresh_process(tiny, tmp_path):
    """The one fresh-process check of `convert`: the command and a new process loading it."""
    proto, caffemodel, _ = tiny
    out = tmp_path / "converted"
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    x = random_input(21, 19)
    np.save(tmp_path / "x.npy", x)
    assert cli.main(["convert", str(proto), str(caffemodel), "-o", str(out)]) == 0
    # Portable: plain TensorFlow loads it, without this project's op library.
    script = textwrap.dedent(f"""
        import sys, numpy as np, tensorflow as tf
        model = tf.saved_model.load({str(out)!r})
        y = model.signatures["serving_default"](image=np.load({str(tmp_path / "x.npy")!r}))
        np.save({str(tmp_path / "y.npy")!r}, y["net_output"].numpy())
        assert "openpose_tf" not in sys.modules
    """)
    subprocess.run([sys.executable, "-c", script], check=True, env=env)
    assert b"OpenPose>" not in (out / "saved_model.pb").read_bytes()
    want = opnet.from_caffe(proto, caffemodel, convolution="direct")(x).numpy()
    np.testing.assert_array_equal(np.load(tmp_path / "y.npy"), want)


def test_convert_reports_errors(tmp_path, capsys):
    assert cli.main(["convert", str(tmp_path / "none.prototxt"),
                     str(tmp_path / "none.caffemodel"), "-o", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "openpose-tf: error:" in err and "none.prototxt" in err


def test_convert_refuses_a_non_empty_folder_and_replaces_it_whole(tiny, tmp_path, capsys):
    proto, caffemodel, _ = tiny
    out = tmp_path / "model"
    assert cli.main(["convert", str(proto), str(caffemodel), "-o", str(out)]) == 0
    assert (out / "saved_model.pb").is_file()
    args = ["convert", str(proto), str(caffemodel), "-o", str(out), "--format", "checkpoint"]
    assert cli.main(args) == 2
    assert "is not empty; pass --overwrite" in capsys.readouterr().err
    assert cli.main(args + ["--overwrite"]) == 0
    # The checkpoint replaced the SavedModel whole: no saved_model.pb left to be loaded instead.
    assert not (out / "saved_model.pb").exists()
    assert export.load(out)[1]["format"] == "checkpoint"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]  # no staging left behind


def test_corrupt_metadata_is_named(tiny, tmp_path):
    proto, caffemodel, _ = tiny
    export.save(opnet.from_caffe(proto, caffemodel), tmp_path / "m", fmt="checkpoint")
    (tmp_path / "m" / export.METADATA).write_text("{not json")
    with pytest.raises(opnet.CaffeModelError, match=r"openpose_tf\.json: corrupt metadata"):
        export.load(tmp_path / "m")


def test_caffe_tensorflow_npy_weights(tiny, tmp_path):
    proto, caffemodel, weights = tiny
    # caffe-tensorflow's layout: conv weights HWIO under "weights", "biases"; PReLU as "alpha".
    converted = {}
    for name, blobs in weights.items():
        if blobs[0].ndim == 4:
            entry = {"weights": blobs[0].transpose(2, 3, 1, 0)}
            if len(blobs) > 1:
                entry["biases"] = blobs[1]
        else:
            entry = {"alpha": blobs[0]}
        converted[name] = entry
    np.save(tmp_path / "w.npy", converted, allow_pickle=True)
    x = random_input(18, 18)
    np.testing.assert_array_equal(opnet.from_caffe(proto, tmp_path / "w.npy")(x).numpy(),
                                  opnet.from_caffe(proto, caffemodel)(x).numpy())


def test_preprocess_is_openpose_normalisation():
    bgr = np.arange(256, dtype=np.uint8).reshape(16, 16, 1).repeat(3, axis=2)
    out = opnet.preprocess(bgr).numpy()
    np.testing.assert_array_equal(out, bgr.astype(np.float32) / 256 - 0.5)
    assert out[0, 0, 0] == -0.5 and out[-1, -1, 2] == 255 / 256 - 0.5
    assert opnet.preprocess(bgr[None]).shape == (1, 16, 16, 3)
    with pytest.raises(TypeError, match="uint8"):
        opnet.preprocess(bgr.astype(np.float32))
    with pytest.raises(ValueError, match="got shape"):
        opnet.preprocess(bgr[..., :2])


def test_savedmodel_accepts_any_size(tiny, tmp_path):
    proto, caffemodel, _ = tiny
    net = opnet.from_caffe(proto, caffemodel, convolution="direct")
    export.save(net, tmp_path / "sm")
    loaded = tf.saved_model.load(str(tmp_path / "sm"))
    for h, w in ((16, 16), (40, 24)):
        x = random_input(h, w)
        np.testing.assert_array_equal(
            loaded.signatures["serving_default"](image=x)["net_output"].numpy(), net(x).numpy())
