"""The Winograd F(4x4, 3x3) convolutions (ops.winograd_*_transform, openpose_tf.net.winograd):
against a float64 direct convolution, with every pad, ragged tile and channel block, fused
activations, the CaffeNet that uses them, and bad inputs."""

import numpy as np
import pytest
import tensorflow as tf

import caffe_files
from openpose_tf import net as opnet
from openpose_tf import ops
from openpose_tf.net import caffe_io, winograd


def reference(x, kernel, bias, pad):
    """float64 direct convolution (Caffe's zero padding) + bias."""
    xp = np.pad(x.astype(np.float64), [(0, 0), (pad[0],) * 2, (pad[1],) * 2, (0, 0)])
    return tf.nn.conv2d(xp, kernel.astype(np.float64), 1, "VALID").numpy() + bias


def random_case(rng, n, h, w, c, k):
    x = rng.standard_normal((n, h, w, c)).astype(np.float32)
    kernel = (rng.standard_normal((3, 3, c, k)) * np.sqrt(2 / (9 * c))).astype(np.float32)
    bias = rng.standard_normal(k).astype(np.float32)
    return x, kernel, bias


@pytest.mark.parametrize("n,h,w,c,k,pad", [
    (1, 8, 8, 16, 16, (1, 1)),      # whole tiles, one channel block
    (2, 9, 13, 20, 7, (1, 1)),      # ragged tiles, a partial channel block, batch of 2
    (1, 1, 1, 33, 5, (1, 1)),       # one output pixel
    (1, 11, 6, 17, 24, (0, 0)),     # no padding
    (1, 5, 7, 16, 3, (2, 1)),       # more padding than the 3x3 needs
    (1, 46, 82, 48, 40, (1, 1)),    # an even number of tiles: the padding tile
])
def test_matches_a_float64_direct_convolution(n, h, w, c, k, pad):
    rng = np.random.default_rng(h * w + c)
    x, kernel, bias = random_case(rng, n, h, w, c, k)
    got = winograd.conv(x, winograd.transform_weights(kernel), bias, pad).numpy()
    want = reference(x, kernel, bias, pad)
    assert got.shape == want.shape
    # F(4x4, 3x3) in float32: a few times the direct convolution's rounding.
    assert np.abs(got - want).max() < 2e-5 * max(1.0, np.abs(want).max())


def test_fused_activations_are_caffes():
    rng = np.random.default_rng(1)
    x, kernel, bias = random_case(rng, 1, 10, 10, 16, 18)
    u = winograd.transform_weights(kernel)
    plain = winograd.conv(x, u, bias, (1, 1)).numpy()
    assert (plain < 0).any() and (plain > 0).any()
    relu = winograd.conv(x, u, bias, (1, 1), "relu").numpy()
    np.testing.assert_array_equal(relu, np.maximum(plain, 0))
    slopes = rng.uniform(0, 0.3, 18).astype(np.float32)
    prelu = winograd.conv(x, u, bias, (1, 1), "prelu", slopes).numpy()
    want = np.maximum(plain, 0) + slopes * np.minimum(plain, 0)  # Caffe's PReLU
    np.testing.assert_array_equal(prelu, want)
    shared = winograd.conv(x, u, bias, (1, 1), "prelu", np.float32([0.1])).numpy()
    np.testing.assert_array_equal(shared, np.maximum(plain, 0) + np.float32(0.1) *
                                  np.minimum(plain, 0))
    # A zero slope gives +0, never -0 (Caffe's max(y, 0) + 0 * min(y, 0)).
    zero = winograd.conv(x, u, bias, (1, 1), "prelu", np.zeros(18, np.float32)).numpy()
    assert not np.signbit(zero[zero == 0]).any()


def test_empty_batch_and_shapes_in_a_graph():
    u = winograd.transform_weights(np.ones((3, 3, 16, 4), np.float32))
    assert winograd.conv(np.zeros((0, 9, 9, 16), np.float32), u, np.zeros(4, np.float32),
                         (1, 1)).shape == (0, 9, 9, 4)

    @tf.function(input_signature=[tf.TensorSpec([None, None, None, 16], tf.float32)])
    def f(x):
        return winograd.conv(x, u, tf.zeros([4]), (1, 1))

    assert f.get_concrete_function().structured_outputs.shape.as_list() == [None, None, None, 4]
    assert f(tf.zeros([1, 6, 5, 16])).shape == (1, 6, 5, 4)


def test_bad_inputs_name_what_they_got():
    with pytest.raises((tf.errors.InvalidArgumentError, ValueError), match="at least"):
        ops.winograd_input_transform(tf.zeros([1, 2, 5, 16]), (0, 0))
    with pytest.raises((tf.errors.InvalidArgumentError, ValueError), match="rank 4|shape"):
        ops.winograd_input_transform(tf.zeros([2, 5, 16]))
    tiles = ops.winograd_input_transform(tf.zeros([1, 8, 8, 16]))
    products = tf.zeros([36, tiles.shape[1], 4])
    with pytest.raises(tf.errors.InvalidArgumentError, match="tiles given"):
        ops.winograd_output_transform(products, tf.zeros([4]), tf.zeros([1]), [1, 16, 8])
    with pytest.raises(tf.errors.InvalidArgumentError, match="bias"):
        ops.winograd_output_transform(products, tf.zeros([3]), tf.zeros([1]), [1, 8, 8])
    with pytest.raises(tf.errors.InvalidArgumentError, match="negative_slope"):
        ops.winograd_output_transform(products, tf.zeros([4]), tf.zeros([3]), [1, 8, 8],
                                      "prelu")
    with pytest.raises(ValueError, match="activation"):
        ops.winograd_output_transform(products, tf.zeros([4]), tf.zeros([1]), [1, 8, 8],
                                      "tanh")


NET = """
name: "stages"
input: "data"
input_dim: 1 input_dim: 3 input_dim: 32 input_dim: 32
layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
  convolution_param { num_output: 24 kernel_size: 3 pad: 1 } }
layer { name: "relu1" type: "ReLU" bottom: "conv1" top: "conv1" }
layer { name: "conv2" type: "Convolution" bottom: "conv1" top: "conv2"
  convolution_param { num_output: 20 kernel_size: 3 pad: 1 } }
layer { name: "prelu2" type: "PReLU" bottom: "conv2" top: "conv2" }
layer { name: "conv3" type: "Convolution" bottom: "conv2" top: "conv3"
  convolution_param { num_output: 18 kernel_size: 3 pad: 1 bias_term: false } }
layer { name: "leaky3" type: "ReLU" bottom: "conv3" top: "leaky3"
  relu_param { negative_slope: 0.2 } }
layer { name: "concat" type: "Concat" bottom: "conv3" bottom: "leaky3" top: "concat" }
layer { name: "conv4" type: "Convolution" bottom: "concat" top: "conv4"
  convolution_param { num_output: 16 kernel_size: 3 pad: 1 } }
layer { name: "prelu4" type: "PReLU" bottom: "conv4" top: "conv4"
  prelu_param { channel_shared: true } }
layer { name: "conv5" type: "Convolution" bottom: "conv4" top: "conv5"
  convolution_param { num_output: 16 kernel_size: 3 pad: 1 } }
layer { name: "relu5" type: "ReLU" bottom: "conv5" top: "conv5" relu_param { negative_slope: 0.1 } }
"""


@pytest.fixture(scope="module")
def stages(tmp_path_factory):
    folder = tmp_path_factory.mktemp("stages")
    proto = folder / "net.prototxt"
    proto.write_text(NET)
    caffe_files.random_caffemodel(proto, folder / "w.caffemodel")
    return proto, folder / "w.caffemodel"


def test_caffenet_winograd_agrees_with_direct(stages):
    proto, caffemodel = stages
    direct = opnet.from_caffe(proto, caffemodel, convolution="direct")
    fast = opnet.from_caffe(proto, caffemodel, convolution="winograd")
    # conv3's ReLU writes another blob, which the concat reads beside conv3: not fused.
    assert sorted(fast._fused) == [2, 7, 9]  # conv1 (3 input channels) stays direct
    assert sorted(fast.winograd_weights) == ["conv2", "conv3", "conv4", "conv5"]  # conv1: 3 in
    x = np.random.default_rng(0).uniform(-0.5, 0.5, (2, 30, 27, 3)).astype(np.float32)
    want, got = direct(x).numpy(), fast(x).numpy()
    assert np.abs(got - want).max() < 1e-5 * np.abs(want).max()
    np.testing.assert_array_equal(fast.with_convolution("direct")(x).numpy(), want)
    np.testing.assert_array_equal(direct.with_convolution("winograd")(x).numpy(), got)


def test_auto_is_winograd_on_a_cpu(stages):
    assert not tf.config.list_physical_devices("GPU")
    assert winograd.resolve("auto") == "winograd"
    net = opnet.CaffeNet(caffe_io.read_prototxt(stages[0]))
    assert net.convolution == "winograd"
    with pytest.raises(ValueError, match="convolution must be one of"):
        winograd.resolve("fft")


def test_layer_names_that_are_not_tensorflow_names(tmp_path):
    """Caffe takes any layer name; TensorFlow's root name scopes do not (a leading `_`, non-ASCII
    letters): the layers are named in TensorFlow's alphabet."""
    text = NET.replace('"conv1"', '"_conv1"').replace('"conv2"', '"卷积2"').replace(
        '"prelu2"', '"-prelu2"')
    proto = tmp_path / "names.prototxt"
    proto.write_text(text, encoding="utf-8")
    caffe_files.random_caffemodel(proto, tmp_path / "w.caffemodel")
    net = opnet.from_caffe(proto, tmp_path / "w.caffemodel")
    assert net(tf.zeros([1, 16, 16, 3])).shape == (1, 16, 16, 16)


def test_huge_sizes_are_errors_not_aborts():
    with pytest.raises(tf.errors.InvalidArgumentError, match="too many tiles|too large"):
        ops.winograd_output_transform(tf.zeros([36, 1, 2]), tf.zeros([2]), tf.zeros([1]),
                                      [2 ** 20, 2 ** 29, 2 ** 29])
    with pytest.raises(tf.errors.InvalidArgumentError, match="too many tiles|too large"):
        ops.winograd_input_transform(tf.zeros([2 ** 20, 1, 1, 1]), (2 ** 20 - 1, 2 ** 20 - 1))
