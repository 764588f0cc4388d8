"""The connector's two ops (paf_scores, assemble_people): composition, the [N, L, K, K] scores,
pose-model rules as data, count dtypes, scale factors and the empty batch."""

import dataclasses
import pathlib
import re

import numpy as np
import pytest
import tensorflow as tf

import connector_reference
from conftest import MODES, SHAPE_ERRORS, run_in_mode
from openpose_tf import ops, pose_models, synthetic


@pytest.fixture(scope="module")
def coco_batch():
    model = pose_models.get("COCO")
    rng = np.random.default_rng(21)
    nets = np.stack([synthetic.render(model, synthetic.random_crowd(model, rng, n, 120, 200,
                                                                     30, 80), 120, 200)
                     for n in (3, 5)]).astype(np.float32)
    peaks, counts = ops.nms(nets[..., :model.num_parts])
    return model, nets[..., model.num_heatmaps:], peaks.numpy(), counts.numpy()


def test_pair_scores_follow_the_counts(coco_batch):
    model, pafs, peaks, counts = coco_batch
    scores = ops.paf_scores(pafs, peaks, counts, "COCO").numpy()
    k = counts.max()
    assert scores.shape == (2, model.num_pairs, k, k)
    params = dict(inter_threshold=0.05, inter_min_above_threshold=0.95, nms_threshold=0.05)
    for n in range(2):
        for l, ((pa, pb), (cx, cy)) in enumerate(zip(model.pairs, model.paf_indices)):
            for a in range(k):
                for b in range(k):
                    if a >= counts[n, pa] or b >= counts[n, pb]:
                        assert scores[n, l, a, b] == -1
                    else:
                        want = connector_reference.paf_score(
                            pafs[n, ..., cx], pafs[n, ..., cy], peaks[n, pa, a], peaks[n, pb, b],
                            params["inter_threshold"], params["inter_min_above_threshold"],
                            params["nms_threshold"])
                        assert scores[n, l, a, b] == want


@pytest.mark.parametrize("mode", MODES)
def test_two_ops_compose_to_the_connector(mode, coco_batch, tmp_path):
    _, pafs, peaks, counts = coco_batch

    def fn(p, k, c):
        scores = ops.paf_scores(p, k, c, "COCO")
        keypoints, person = ops.assemble_people(k, c, scores, "COCO", variant="cpu")
        return keypoints.flat_values, keypoints.row_lengths(), person.flat_values

    got = run_in_mode(mode, fn, [pafs, peaks, counts], tmp_path)
    keypoints, scores = ops.body_part_connector(pafs, peaks, counts, "COCO", variant="cpu")
    np.testing.assert_array_equal(got[0], keypoints.flat_values.numpy())
    np.testing.assert_array_equal(got[1], keypoints.row_lengths().numpy())
    np.testing.assert_array_equal(got[2], scores.flat_values.numpy())


def test_no_peaks_gives_empty_scores_and_nobody():
    pafs = np.zeros((2, 8, 8, 52), np.float32)
    peaks = np.zeros((2, 25, 127, 3), np.float32)
    counts = np.zeros((2, 25), np.int32)
    assert ops.paf_scores(pafs, peaks, counts).shape == (2, 26, 0, 0)
    keypoints, scores = ops.body_part_connector(pafs, peaks, counts)
    assert keypoints.shape[0] == 2 and keypoints.flat_values.shape[0] == 0


def test_empty_batch():
    keypoints, scores = ops.body_part_connector(np.zeros((0, 8, 8, 52), np.float32),
                                                np.zeros((0, 25, 127, 3), np.float32),
                                                np.zeros((0, 25), np.int32))
    assert keypoints.shape[0] == 0 and scores.shape[0] == 0


def test_pair_scores_must_cover_the_counts(coco_batch):
    _, pafs, peaks, counts = coco_batch
    scores = ops.paf_scores(pafs, peaks, counts, "COCO")
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"pair_scores must have shape \[N,L,K,K\] with N = 2, L = 19, "
                             r"K >= \d+"):
        ops.assemble_people(peaks, counts, scores[:, :, :1, :1], "COCO")


# --- rules as data ------------------------------------------------------------------------------

def ear_case():
    """One COCO person whose REar is reachable only through the shoulder-ear limb (17)."""
    model = pose_models.get("COCO")
    points = synthetic.skeleton(model, 150.21, 20.37, 200)
    person = np.concatenate([points, np.ones((model.num_parts, 1))], axis=1)
    net = synthetic.render(model, [person], 260, 320)
    net[..., model.num_heatmaps + 34:model.num_heatmaps + 36] = 0  # limb 14 (REye-REar) PAF
    peaks, counts = ops.nms(net[None, ..., :model.num_parts], offset=(0, 0))
    return net[None, ..., model.num_heatmaps:], peaks, counts


def test_custom_topology_gets_only_its_own_rules():
    coco = pose_models.get("COCO")
    custom = dataclasses.replace(coco, name="my_coco", ear_limbs=())
    pafs, peaks, counts = ear_case()
    with_rule, with_scores = ops.body_part_connector(pafs, peaks, counts, coco, variant="cpu")
    without, without_scores = ops.body_part_connector(pafs, peaks, counts, custom, variant="cpu")
    # Both attach the REar; only COCO's ear rule leaves the count and score unchanged.
    assert with_rule[0, 0, 16, 2] > 0 and without[0, 0, 16, 2] > 0
    assert without_scores[0, 0] > with_scores[0, 0]
    for model, kp in ((coco, with_rule), (custom, without)):
        d = model.connector_defaults()
        want, _ = connector_reference.connect(
            model, pafs[0], peaks[0].numpy(), counts[0].numpy(), "cpu",
            nms_threshold=d.nms_threshold, inter_min_above_threshold=d.inter_min_above_threshold,
            inter_threshold=d.inter_threshold, min_subset_cnt=d.min_subset_cnt,
            min_subset_score=d.min_subset_score, maximize_positives=False)
        np.testing.assert_array_equal(kp[0].numpy(), want)


def test_rules_reach_the_kernel_as_attrs():
    pafs, peaks, counts = ear_case()
    graph = tf.function(lambda: ops.body_part_connector(pafs, peaks, counts, "COCO",
                                                        variant="cpu"))
    ops_in_graph = {op.type: op for op in graph.get_concrete_function().graph.get_operations()}
    assemble = ops_in_graph["OpenPose>AssemblePeople"]
    assert list(assemble.get_attr("ear_limbs")) == [17, 18]
    assert assemble.get_attr("dedup_lone_peaks") is True
    assert list(assemble.get_attr("foot_parts")) == []
    body_25 = pose_models.get("BODY_25")
    assert body_25.foot_parts == tuple(range(19, 25)) and body_25.ear_limbs == (18, 19)
    assert not pose_models.get("MPI").dedup_lone_peaks


def test_cpu_connector_support_is_data():
    bare = dataclasses.replace(pose_models.get("COCO"), name="no_cpu", cpu_connector=False)
    pafs, peaks, counts = ear_case()
    with pytest.raises(tf.errors.UnimplementedError,
                       match=r'\(variant="cpu"\) does not support no_cpu'):
        ops.body_part_connector(pafs, peaks, counts, bare, variant="cpu")


def test_no_model_numbers_in_the_core():
    """The core decides no rule from a part count, limb number or model name."""
    core = pathlib.Path(__file__).resolve().parents[2] / "kernels" / "core"
    text = "\n".join(p.read_text() for p in core.glob("*.cc")) + \
        "\n".join(p.read_text() for p in core.glob("*.h"))
    code = re.sub(r"//.*", "", text)
    assert not re.search(r"num_parts\s*(==|!=|<=|>=|<|>)\s*\d", code)
    assert not re.search(r"\b(COCO|BODY_25|MPI)\b", code)
    assert not re.search(r"limb\s*==\s*\d", code)


# --- inputs -------------------------------------------------------------------------------------

def small(n=1):
    return (np.zeros((n, 8, 8, 52), np.float32), np.zeros((n, 25, 127, 3), np.float32),
            np.zeros((n, 25), np.int32))


def test_int64_counts_are_checked_before_narrowing():
    pafs, peaks, counts = small()
    ops.body_part_connector(pafs, peaks, counts.astype(np.int64))
    wide = counts.astype(np.int64)
    wide[0, 3] = 2 ** 32 + 3
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"peak_counts must lie in \[0, M\] = \[0, 127\], got 4294967299"):
        ops.body_part_connector(pafs, peaks, wide)
    with pytest.raises(TypeError, match="peak_counts must be an int32 or int64 tensor, got "
                                        "dtype float32"):
        ops.body_part_connector(pafs, peaks, counts.astype(np.float32) + 2.9)


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), float("inf")])
def test_scale_factor_must_be_finite_and_positive(bad):
    pafs, peaks, counts = small(2)
    with pytest.raises(ValueError, match="scale_factor must be finite and > 0"):
        ops.body_part_connector(pafs, peaks, counts, scale_factor=bad)
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match="scale_factor must be finite and > 0, got .* for image 1"):
        ops.body_part_connector(pafs, peaks, counts, scale_factor=tf.constant([1.0, bad]))


def test_part_count_must_match_the_model():
    # nms on all 57 COCO channels, then the connector: an error, not 57-keypoint people.
    pafs = np.zeros((1, 8, 8, 38), np.float32)
    peaks, counts = ops.nms(np.zeros((1, 8, 8, 57), np.float32))
    with pytest.raises(SHAPE_ERRORS, match=r"P = 18 \(the pose model's parts\)"):
        ops.body_part_connector(pafs, peaks, counts, "COCO")


def test_paf_scores_read_the_pafs_in_place_from_channel_begin():
    from openpose_tf import pose_models, synthetic

    model = pose_models.get("COCO")
    rng = np.random.default_rng(5)
    crowd = synthetic.random_crowd(model, rng, 3, 92, 164)
    maps = synthetic.render(model, crowd, 92, 164)[None].astype(np.float32)
    peaks, counts = ops.nms(maps, channels=(0, model.num_parts))
    want = ops.paf_scores(maps[..., model.num_heatmaps:], peaks, counts, model)
    got = ops.paf_scores(maps, peaks, counts, model, channel_begin=model.num_heatmaps)
    assert want.shape[-1] > 0
    np.testing.assert_array_equal(got.numpy(), want.numpy())
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"pafs must have 18 \+ 2L = 56 channels \(19 limbs after the first "
                             r"channels\), got shape \[1,92,164,57\]"):
        ops.paf_scores(maps, peaks, counts, model, channel_begin=18)
