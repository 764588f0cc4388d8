"""openpose_tf.postprocess: identical to composing the ops by hand with OpenPose's arguments
(both variants, several models, 1 and 3 scales), and the keypoints land in image pixels."""

import numpy as np
import pytest
import tensorflow as tf

import openpose_tf
from openpose_tf import ops, pose_models, synthetic
from openpose_tf.postprocessing import nms_offset


def by_hand(nets, model, ratios, scale, variant):
    """The chain written out as OpenPose's poseExtractorCaffe runs it."""
    d = model.connector_defaults()
    heat = ops.resize_and_merge(nets, scale_ratios=ratios, variant=variant)
    offset = np.float32(0.5 / float(np.float32(scale)))
    peaks, counts = ops.nms(heat[..., :model.num_parts], d.nms_threshold, 127, (offset, offset),
                            variant)
    return ops.body_part_connector(heat[..., model.num_heatmaps:], peaks, counts, model, variant,
                                   scale_factor=scale)


def crowd_nets(model, sizes, seed):
    """A batch of 2 synthetic crowds rendered at each scale's map size (scale 0 first)."""
    rng = np.random.default_rng(seed)
    h0, w0 = sizes[0]
    crowds = [synthetic.random_crowd(model, rng, 3 + n, 8 * h0, 8 * w0, min_size=130,
                                     max_size=170) for n in range(2)]
    return [np.stack([synthetic.render_net_output(model, [p * [h / h0, h / h0, 1] for p in crowd],
                                                  8 * h, 8 * w)
                      for crowd in crowds]).astype(np.float32) for h, w in sizes]


@pytest.mark.parametrize("variant", ["gpu", "cpu"])
@pytest.mark.parametrize("model_name,sizes", [
    ("BODY_25", [(23, 41)]),
    ("COCO", [(23, 41), (17, 30), (11, 20)]),
    ("MPI", [(23, 41)]),
])
def test_identical_to_the_composed_ops(model_name, sizes, variant):
    model = pose_models.get(model_name)
    nets = crowd_nets(model, sizes, seed=len(sizes))
    ratios = [h / sizes[0][0] for h, _ in sizes]
    scale = 2.943252
    inputs = nets if len(nets) > 1 else nets[0]
    got = openpose_tf.postprocess(inputs, model, scale_ratios=ratios if len(nets) > 1 else None,
                                  scale_factor=scale, variant=variant)
    want = by_hand(nets, model, ratios, scale, variant)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g.flat_values.numpy(), w.flat_values.numpy())
        np.testing.assert_array_equal(g.row_lengths().numpy(), w.row_lengths().numpy())
    assert got[0].flat_values.shape[0] > 0


def test_keypoints_in_image_pixels():
    # People drawn in a 368x656 net input, the image twice as large: keypoints come back in image
    # pixels (scale_factor 2, offset 0.5 / 2), within OpenPose's own accuracy on clean maps.
    model = pose_models.get("BODY_25")
    rng = np.random.default_rng(4)
    people = synthetic.random_crowd(model, rng, 4, 368, 656, min_size=130, max_size=200)
    net = synthetic.render_net_output(model, people, 368, 656)[None]
    keypoints, _ = openpose_tf.postprocess(net, model, scale_factor=2.0)
    found = keypoints[0].numpy()
    assert len(found) == len(people)
    for person in people:
        visible = person[:, 2] > 0
        errors = [np.abs(k[visible, :2] - 2 * person[visible, :2]).mean() for k in found]
        assert min(errors) < 4.0, min(errors)


def test_per_image_scale_factors():
    model = pose_models.get("COCO")
    nets = crowd_nets(model, [(23, 41)], seed=9)[0]
    scales = np.array([1.5, 3.25], np.float32)
    keypoints, _ = openpose_tf.postprocess(nets, model, scale_factor=scales)
    for n in range(2):
        alone, _ = openpose_tf.postprocess(nets[n:n + 1], model, scale_factor=float(scales[n]))
        np.testing.assert_array_equal(keypoints[n].numpy(), alone[0].numpy())
    np.testing.assert_array_equal(nms_offset(tf.constant(scales)).numpy(),
                                  [[np.float32(0.5 / np.float64(s))] * 2 for s in scales])


def test_channel_count_must_match_the_model():
    with pytest.raises(ValueError, match=r"net_outputs must have 78 channels for BODY_25"):
        openpose_tf.postprocess(np.zeros((1, 8, 8, 57), np.float32), "BODY_25")


def test_errors_name_the_argument_not_tensorflows_function_node():
    import openpose_tf

    with pytest.raises(tf.errors.InvalidArgumentError) as err:
        openpose_tf.postprocess(np.zeros((8, 8, 78), np.float32), "BODY_25")
    assert str(err.value).startswith("net_outputs[0] must be 4-D") and "function_node" not in \
        str(err.value)
    with pytest.raises(tf.errors.InvalidArgumentError, match="target_size must be positive"):
        openpose_tf.postprocess(np.zeros((1, 8, 8, 78), np.float32), "BODY_25",
                                target_size=(0, 0))

    @tf.function
    def traced(scale):
        return openpose_tf.postprocess(np.zeros((1, 8, 8, 78), np.float32), "BODY_25",
                                       scale_factor=scale)

    with pytest.raises(tf.errors.InvalidArgumentError, match="scale_factor must be finite"):
        traced(tf.constant(0.0))
