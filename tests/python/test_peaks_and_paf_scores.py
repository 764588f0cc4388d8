"""ops.peaks_and_paf_scores (the fused, sparse op) against the composed ops it replaces, bit for
bit: synthetic crowds (1 and 3 scales, several models, both variants), adversarial maps
(plateaus, ties, values exactly at the threshold, NaN, inf, negative thresholds), batches whose
images find different numbers of peaks, an empty batch; and its errors."""

import numpy as np
import pytest
import tensorflow as tf

import openpose_tf
from openpose_tf import ops, pose_models, synthetic


def composed(nets, model, variant, threshold=None, ratios=None, offset=(0.5, 0.5), **kwargs):
    d = model.connector_defaults()
    threshold = d.nms_threshold if threshold is None else threshold
    maps = ops.resize_and_merge(nets, scale_ratios=ratios, variant=variant)
    peaks, counts = ops.nms(maps, threshold, 127, offset, variant, channels=(0, model.num_parts))
    scores = ops.paf_scores(maps, peaks, counts, model, nms_threshold=threshold,
                            channel_begin=model.num_heatmaps, **kwargs)
    return peaks, counts, scores


def assert_same(got, want):
    for g, w, name in zip(got, want, ("peaks", "peak_counts", "pair_scores")):
        assert g.shape == w.shape, name
        np.testing.assert_array_equal(g.numpy(), w.numpy(), err_msg=name)


def crowds(model, sizes, batch, seed):
    """A batch of synthetic crowds (different sizes per image) rendered at each scale's size."""
    rng = np.random.default_rng(seed)
    h0, w0 = sizes[0]
    people = [synthetic.random_crowd(model, rng, 2 + 3 * n, 8 * h0, 8 * w0, min_size=60,
                                     max_size=170, overlap=True) for n in range(batch)]
    return [np.stack([synthetic.render_net_output(model, [p * [h / h0, h / h0, 1] for p in crowd],
                                                  8 * h, 8 * w)
                      for crowd in people]).astype(np.float32) for h, w in sizes]


@pytest.mark.parametrize("variant", ["gpu", "cpu"])
@pytest.mark.parametrize("model_name,sizes", [
    ("BODY_25", [(46, 82)]),
    ("COCO", [(23, 41), (17, 30), (11, 20)]),
    ("MPI", [(29, 37)]),
])
def test_crowds_equal_the_composed_ops(model_name, sizes, variant):
    model = pose_models.get(model_name)
    nets = crowds(model, sizes, batch=3, seed=len(sizes))
    ratios = [h / sizes[0][0] for h, _ in sizes] if len(sizes) > 1 else None
    inputs = nets if len(nets) > 1 else nets[0]
    offset = [[0.25, 0.5], [0.125, 0.75], [0.5, 0.5]]
    got = ops.peaks_and_paf_scores(inputs, model, scale_ratios=ratios, variant=variant,
                                   offset=offset)
    want = composed(inputs, model, variant, ratios=ratios, offset=offset)
    assert_same(got, want)
    counts = got[1].numpy()
    assert counts.sum() > 20 and len(set(counts.max(axis=1))) > 1  # K differs per image


@pytest.mark.parametrize("variant", ["gpu", "cpu"])
@pytest.mark.parametrize("noise", [0.01, 0.02, 0.05])
def test_noisy_crowds_equal_the_composed_ops(noise, variant):
    # A network's background noise puts values near the thresholds on every tile: the tile
    # bounds' two levels must skip exactly what cannot matter.
    model = pose_models.get("BODY_25")
    net = crowds(model, [(46, 82)], batch=2, seed=5)[0]
    net = net + np.random.default_rng(6).normal(0, noise, net.shape).astype(np.float32)
    got = ops.peaks_and_paf_scores(net, model, variant=variant)
    want = composed(net, model, variant)
    assert_same(got, want)
    assert got[1].numpy().sum() > 10


def adversarial(rng, model, kind, shape=(2, 13, 21)):
    """Maps built to break shortcuts: quantised (plateaus, ties, exactly 0.05), faint (peaks
    near the threshold), specked (NaN, inf, negative values)."""
    n, h, w = shape
    c = model.num_channels
    if kind == "quantised":
        return (rng.integers(0, 4, (n, h, w, c)) * 0.05).astype(np.float32)
    x = rng.uniform(-0.02, 0.07, (n, h, w, c)).astype(np.float32)
    if kind == "specked":
        x = rng.normal(0, 0.5, (n, h, w, c)).astype(np.float32)
        r = rng.uniform(size=x.shape)
        x[r < 0.01] = np.nan
        x[(r >= 0.01) & (r < 0.015)] = np.inf
        x[(r >= 0.015) & (r < 0.02)] = -np.inf
    return x


@pytest.mark.parametrize("kind", ["quantised", "faint", "specked"])
@pytest.mark.parametrize("variant", ["gpu", "cpu"])
def test_adversarial_maps_equal_the_composed_ops(kind, variant):
    rng = np.random.default_rng(["quantised", "faint", "specked"].index(kind))
    model = pose_models.get("COCO")
    x = adversarial(rng, model, kind)
    thresholds = [0.05, 0.0, 1.0] + ([-0.1] if variant == "gpu" else [])
    for threshold in thresholds:
        for inter in (0.05, -0.5):
            got = ops.peaks_and_paf_scores(x, model, variant=variant, threshold=threshold,
                                           inter_threshold=inter)
            want = composed(x, model, variant, threshold, inter_threshold=inter)
            assert_same(got, want)


def test_other_target_sizes_and_max_peaks():
    model = pose_models.get("COCO")
    x = adversarial(np.random.default_rng(5), model, "quantised")
    # One eager kernel for all three sizes: the taps it keeps from call to call must follow them.
    for size in [(37, 50), (13, 21), (7, 9)]:
        got = ops.peaks_and_paf_scores(x, model, target_size=size, max_peaks=3)
        maps = ops.resize_and_merge(x, size)
        peaks, counts = ops.nms(maps, 0.05, 3, channels=(0, model.num_parts))
        scores = ops.paf_scores(maps, peaks, counts, model, channel_begin=model.num_heatmaps)
        assert_same(got, (peaks, counts, scores))


def test_empty_batch_and_graph_modes():
    model = pose_models.get("BODY_25")
    peaks, counts, scores = ops.peaks_and_paf_scores(np.zeros((0, 6, 8, 78), np.float32), model)
    assert peaks.shape == (0, 25, 127, 3) and counts.shape == (0, 25)
    assert scores.shape == (0, 26, 0, 0)
    x = crowds(model, [(23, 41)], batch=1, seed=3)[0]
    fn = tf.function(lambda x: ops.peaks_and_paf_scores(x, model),
                     input_signature=[tf.TensorSpec([None, None, None, 78], tf.float32)])
    assert_same(fn(x), ops.peaks_and_paf_scores(x, model))
    assert fn.get_concrete_function().structured_outputs[0].shape.as_list() == \
        [None, 25, 127, 3]


def test_postprocess_fused_and_composed_agree():
    model = pose_models.get("BODY_25")
    x = crowds(model, [(46, 82)], batch=3, seed=11)[0]
    for variant in ("gpu", "cpu"):
        fused = openpose_tf.postprocess(x, model, variant=variant, scale_factor=1.5)
        plain = openpose_tf.postprocess(x, model, variant=variant, scale_factor=1.5, fused=False)
        for f, p in zip(fused, plain):
            np.testing.assert_array_equal(f.flat_values.numpy(), p.flat_values.numpy())
            np.testing.assert_array_equal(f.row_lengths().numpy(), p.row_lengths().numpy())
        assert fused[1].flat_values.shape[0] >= 10


@pytest.mark.parametrize("bad,message", [
    (dict(x=np.zeros((1, 8, 8, 57), np.float32)), r"must have 78 channels \(25 parts, 1 "
                                                   r"background, 52 PAFs\), got shape"),
    (dict(threshold=float("nan")), "threshold must not be NaN"),
    (dict(threshold=1.5, variant="cpu"), r"threshold must be in \[0, 1\]"),
    (dict(offset=[1.0, 2.0, 3.0]), r"offset must have shape \[2\]"),
    (dict(x=np.zeros((1, 8, 78), np.float32)), "rank 4|4-D|must be 4"),
])
def test_errors_name_what_was_given_and_wanted(bad, message):
    args = dict(x=np.zeros((1, 8, 8, 78), np.float32), threshold=0.05, variant="gpu",
                offset=(0.5, 0.5))
    args.update(bad)
    x = args.pop("x")
    with pytest.raises((ValueError, tf.errors.InvalidArgumentError), match=message):
        ops.peaks_and_paf_scores(x, "BODY_25", **args)


def test_sparse_coverage_counts_the_tiles_the_sparse_nms_computes():
    model = pose_models.get("BODY_25")
    clean = crowds(model, [(46, 82)], batch=1, seed=5)[0]
    noisy = clean + np.random.default_rng(6).normal(0, 0.02, clean.shape).astype(np.float32)
    for variant in ("gpu", "cpu"):
        got = ops.sparse_coverage(np.concatenate([clean, noisy]), model, variant=variant).numpy()
        assert got.shape == (2, 2)
        for bound, computed in got:  # the values keep a part of what the bound passes
            assert 1 >= bound >= computed > 0
        assert got[0, 0] < 0.2  # a clean background: the bound skips almost every tile
        assert got[1, 0] > 0.25 and got[1, 1] < 0.5 * got[1, 0]  # noise: the values matter
    # Every tile of maps above a threshold below them is computed; none above their maximum.
    assert np.all(ops.sparse_coverage(np.abs(clean) + 0.1, model, threshold=0.05).numpy() == 1)
    assert np.all(ops.sparse_coverage(clean, model, threshold=1e9).numpy() == 0)
    with pytest.raises(tf.errors.InvalidArgumentError, match="threshold must be a scalar"):
        ops.sparse_coverage(clean, model, threshold=[0.1, 0.2])
    with pytest.raises(ValueError, match="threshold must not be NaN"):
        ops.sparse_coverage(clean, model, threshold=float("nan"))
