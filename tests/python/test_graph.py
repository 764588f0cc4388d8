"""graph.FrozenGraphNetwork from a TF1 meta graph + checkpoint (frozen on loading) and attach() on
a tensor named in the default graph, without ../shared."""

import numpy as np
import tensorflow as tf

from openpose_tf import graph as opgraph


def test_meta_graph_and_checkpoint(tmp_path):
    rng = np.random.default_rng(0)
    weights = rng.normal(size=(8, 8, 3, 57)).astype(np.float32)
    x = rng.uniform(-0.5, 0.5, (1, 32, 48, 3)).astype(np.float32)
    g = tf.Graph()
    with g.as_default():
        image = tf.compat.v1.placeholder(tf.float32, [None, None, None, 3], name="image")
        kernel = tf.compat.v1.get_variable("kernel", initializer=weights)
        out = tf.identity(tf.nn.conv2d(image, kernel, 8, "VALID"), name="net_output")
        with tf.compat.v1.Session(graph=g) as session:
            session.run(tf.compat.v1.global_variables_initializer())
            expected = session.run(out, {image: x})
            tf.compat.v1.train.Saver().save(session, str(tmp_path / "model"))
        keypoints, scores = opgraph.attach("net_output:0", "COCO")
        assert keypoints.flat_values.graph is g and scores.ragged_rank == 1
    network = opgraph.FrozenGraphNetwork.from_meta_graph(
        tmp_path / "model.meta", tmp_path / "model", "image:0", "net_output:0")
    assert network.input_format == "openpose"
    np.testing.assert_allclose(network(tf.constant(x)).numpy(), expected, rtol=1e-5, atol=1e-5)
