"""openpose_tf.ops.body_part_connector against the NumPy references of both OpenPose groupings,
on synthetic crowds and hand-drawn cases; recovery of clean synthetic people; modes; errors."""

import numpy as np
import pytest
import tensorflow as tf

import connector_reference
from conftest import MODES, SHAPE_ERRORS, run_in_mode
from openpose_tf import ops, pose_models, synthetic


def defaults(model, maximize_positives=False, **overrides):
    d = model.connector_defaults(maximize_positives)
    params = dict(nms_threshold=d.nms_threshold,
                  inter_min_above_threshold=d.inter_min_above_threshold,
                  inter_threshold=d.inter_threshold, min_subset_cnt=d.min_subset_cnt,
                  min_subset_score=d.min_subset_score, maximize_positives=maximize_positives)
    params.update(overrides)
    return params


def connect(model, nets, variant, offset=(0.5, 0.5), scale=1.0, check=True, **overrides):
    """NMS + connector on a batch of rendered net outputs; checks every image against the
    reference (unless check=False) and returns per-image (keypoints, scores) NumPy arrays."""
    model = pose_models.get(model)
    params = defaults(model, **overrides)
    maps = np.stack(nets).astype(np.float32)
    peaks, counts = ops.nms(maps[..., :model.num_parts], threshold=params["nms_threshold"],
                            offset=offset)
    keypoints, scores = ops.body_part_connector(
        maps[..., model.num_heatmaps:], peaks, counts, pose_model=model.name, variant=variant,
        scale_factor=scale, **params)
    results = []
    for n in range(len(nets)):
        got = (keypoints[n].numpy().reshape(-1, model.num_parts, 3), scores[n].numpy())
        if check:
            want = connector_reference.connect(model, maps[n, ..., model.num_heatmaps:],
                                               peaks[n].numpy(), counts[n].numpy(), variant,
                                               scale, **params)
            np.testing.assert_array_equal(got[0], want[0])
            np.testing.assert_array_equal(got[1], want[1])
        results.append(got)
    return results


def assert_recovered(model, people, keypoints, tolerance=1.0):
    """Every synthetic person is one detected person, every visible part within tolerance."""
    assert len(keypoints) == len(people), (len(keypoints), len(people))
    for person in people:
        visible = person[:, 2] > 0
        errors = [np.abs(k[:, :2] - person[:, :2])[visible].max()
                  if np.all(k[visible, 2] > 0) else np.inf for k in keypoints]
        assert min(errors) <= tolerance, min(errors)


# --- synthetic crowds against the references ----------------------------------------------------

@pytest.mark.parametrize("variant", ["gpu", "cpu"])
@pytest.mark.parametrize("model,counts", [
    ("BODY_25", (0, 1, 12)), ("COCO", (3, 20)), ("MPI", (5, 9)), ("MPI_4_layers", (4,))])
def test_crowds_match_reference(model, counts, variant):
    rng = np.random.default_rng(len(counts) + sum(counts))
    nets = []
    for i, count in enumerate(counts):
        # Overlapping people and people cut by the border in every other image.
        people = synthetic.random_crowd(model, rng, count, 184, 328, min_size=40, max_size=110,
                                        overlap=i % 2 == 1, inside=i % 2 == 0)
        nets.append(synthetic.render(model, people, 184, 328))
    connect(model, nets, variant, scale=2.5)


def test_thirty_people_full_resolution():
    # Both groupings on one crowd, against one set of reference pair scores (the slow part).
    model = pose_models.get("BODY_25")
    rng = np.random.default_rng(30)
    people = synthetic.random_crowd(model, rng, 30, 368, 656, min_size=50, max_size=100,
                                    overlap=True, inside=False)
    assert len(people) == 30
    net = synthetic.render(model, people, 368, 656)[None]
    params = defaults(model)
    peaks, counts = ops.nms(net[..., :25], threshold=params["nms_threshold"])
    pafs, peaks, counts = net[0, ..., 26:], peaks[0].numpy(), counts[0].numpy()
    pair_scores = connector_reference.scores(model, pafs, peaks, counts, **params)
    for variant in ("gpu", "cpu"):
        keypoints, scores = ops.body_part_connector(net[..., 26:], peaks[None], counts[None],
                                                    variant=variant, **params)
        want = connector_reference.connect(model, pafs, peaks, counts, variant,
                                           pair_scores=pair_scores, **params)
        np.testing.assert_array_equal(keypoints[0].numpy(), want[0])
        np.testing.assert_array_equal(scores[0].numpy(), want[1])
        assert len(want[0]) >= 25


def test_batch_images_with_different_people_counts():
    rng = np.random.default_rng(5)
    crowds = [synthetic.random_crowd("COCO", rng, n, 184, 328) for n in (2, 6)]
    results = connect("COCO", [synthetic.render("COCO", c, 184, 328) for c in crowds], "gpu",
                      offset=(0, 0))
    for crowd, (keypoints, scores) in zip(crowds, results):
        assert len(keypoints) == len(scores) == len(crowd)


# --- recovery on clean maps ---------------------------------------------------------------------

@pytest.mark.parametrize("variant", ["gpu", "cpu"])
@pytest.mark.parametrize("model", ["BODY_25", "COCO", "MPI"])
def test_clean_people_are_recovered_within_a_pixel(model, variant):
    rng = np.random.default_rng(11)
    people = synthetic.random_crowd(model, rng, 8, 368, 656, min_size=90, max_size=160)
    [(keypoints, _)] = connect(model, [synthetic.render(model, people, 368, 656)], variant,
                               offset=(0, 0))
    assert_recovered(pose_models.get(model), people, keypoints)


def test_scale_factor_maps_to_image_pixels():
    rng = np.random.default_rng(2)
    people = synthetic.random_crowd("COCO", rng, 3, 184, 328, min_size=90, max_size=120)
    net = synthetic.render("COCO", people, 184, 328)
    [(k1, s1)] = connect("COCO", [net], "gpu", scale=1.0)
    [(k3, s3)] = connect("COCO", [net], "gpu", scale=3.0)
    np.testing.assert_allclose(k3[..., :2], k1[..., :2] * 3, rtol=1e-6)
    np.testing.assert_array_equal(k3[..., 2], k1[..., 2])
    np.testing.assert_array_equal(s3, s1)


# --- hand-drawn cases ---------------------------------------------------------------------------

def person(model, x, y, size, hide=()):
    model = pose_models.get(model)
    # Off the half-pixel grid: a Gaussian centred on x.5 has twin maxima, never a strict peak.
    points = synthetic.skeleton(model, x + 0.21, y + 0.37, size)
    visible = np.array([name not in hide for name in model.part_names], np.float64)
    return np.concatenate([points, visible[:, None]], axis=1)


@pytest.mark.parametrize("variant", ["gpu", "cpu"])
def test_two_people_whose_arms_cross(variant):
    a = person("COCO", 120, 30, 150)
    b = person("COCO", 175, 30, 150)
    # a's left forearm reaches right across b's right forearm, which reaches left.
    a[6, :2], a[7, :2] = (150.2, 85.3), (190.2, 110.3)
    b[3, :2], b[4, :2] = (145.2, 85.3), (112.2, 112.3)
    [(keypoints, _)] = connect("COCO", [synthetic.render("COCO", [a, b], 260, 320)], variant,
                               offset=(0, 0))
    assert_recovered(pose_models.get("COCO"), [a, b], keypoints)


def test_cpu_ear_rule_fills_without_counting():
    # No eye-ear PAF for the right ear: only the shoulder-ear limb (an ear limb) reaches it.
    model = pose_models.get("COCO")
    p = person(model, 150, 20, 200)
    net = synthetic.render(model, [p], 260, 320)
    net[..., model.num_heatmaps + 34:model.num_heatmaps + 36] = 0  # limb 14 (REye-REar) PAF
    [(cpu_kp, cpu_scores)] = connect(model, [net], "cpu", offset=(0, 0))
    assert len(cpu_kp) == 1 and cpu_kp[0, 16, 2] > 0  # REar attached by the ear rule
    [(gpu_kp, gpu_scores)] = connect(model, [net], "gpu", offset=(0, 0))
    assert len(gpu_kp) == 1 and gpu_kp[0, 16, 2] > 0
    # The ear rule adds neither the peak nor the PAF score: the CPU person scores lower.
    assert cpu_scores[0] < gpu_scores[0]


def test_gpu_merges_disjoint_partial_people():
    # With equal scores the GPU build walks limbs from the last: LShoulder-LEar and
    # RShoulder-REar start two people, the face limbs grow them, and Nose-REye joins them.
    model = pose_models.get("COCO")
    [(keypoints, _)] = connect(model, [synthetic.render(model, [person(model, 160, 20, 200)],
                                                        260, 320)], "gpu", offset=(0, 0))
    assert len(keypoints) == 1 and np.all(keypoints[0, :, 2] > 0)


@pytest.mark.parametrize("variant", ["gpu", "cpu"])
def test_foot_rule_and_its_retry(variant):
    model = pose_models.get("BODY_25")
    legs = [n for n in model.part_names if n not in
            ("LKnee", "LAnkle", "LBigToe", "LSmallToe", "LHeel")]
    legs_only = person(model, 300, 10, 200, hide=legs)
    # Alone: dropped by the foot rule (2 non-foot parts <= 4), then kept by the retry.
    [(alone, _)] = connect(model, [synthetic.render(model, [legs_only], 260, 400)], variant,
                           offset=(0, 0))
    assert len(alone) == 1 and alone[0, 19, 2] > 0
    # With a whole person beside it, nobody is missing, so no retry: the legs are dropped.
    whole = person(model, 100, 10, 200)
    [(both, _)] = connect(model, [synthetic.render(model, [whole, legs_only], 260, 400)],
                          variant, offset=(0, 0))
    assert len(both) == 1 and both[0, 0, 2] > 0
    # maximize_positives turns the foot rule off: both people.
    [(maxpos, _)] = connect(model, [synthetic.render(model, [whole, legs_only], 260, 400)],
                            variant, offset=(0, 0), maximize_positives=True)
    assert len(maxpos) == 2


@pytest.mark.parametrize("variant", ["gpu", "cpu"])
def test_one_side_of_a_limb_empty(variant):
    model = pose_models.get("COCO")
    net = synthetic.render(model, [person(model, 150, 20, 200)], 260, 320)
    net[..., 0] = 0  # no nose anywhere
    [(keypoints, _)] = connect(model, [net], variant, offset=(0, 0))
    assert len(keypoints) >= 1
    assert keypoints[0, 0, 2] == 0 and keypoints[0, 1, 2] > 0


@pytest.mark.parametrize("variant", ["gpu", "cpu"])
def test_close_pair_rescue(variant):
    # A limb whose ends are nearer than sqrt(W*H)/150 (here 2.4 px) connects with no PAF at all,
    # scoring nms_threshold + 1e-6.
    model = pose_models.get("COCO")
    p = person(model, 150, 20, 200)
    p[14, :2] = p[0, :2] + (1.0, -1.0)  # REye next to the Nose
    net = synthetic.render(model, [p], 260, 320, sigma=0.6)
    net[..., model.num_heatmaps + 30:model.num_heatmaps + 32] = 0  # limb 13 (Nose-REye) PAF
    [(keypoints, _)] = connect(model, [net], variant, offset=(0, 0))
    assert keypoints[0, 14, 2] > 0


@pytest.mark.parametrize("variant", ["gpu", "cpu"])
def test_many_peaks_in_one_part(variant):
    model = pose_models.get("COCO")
    rng = np.random.default_rng(9)
    people = synthetic.random_crowd(model, rng, 4, 260, 600, min_size=120, max_size=150)
    net = synthetic.render(model, people, 260, 600)
    # 150 extra neck peaks: NMS keeps the first 127 in raster order.
    grid = [(4 + 4 * (i % 149), 3 + 4 * (i // 149)) for i in range(150)]
    net[..., 1] = np.maximum(net[..., 1], synthetic.gaussian_heatmap(grid, 260, 600, 0.7))
    connect(model, [net], variant)


def test_nan_pafs_give_a_defined_result():
    model = pose_models.get("COCO")
    rng = np.random.default_rng(4)
    net = synthetic.render(model, synthetic.random_crowd(model, rng, 3, 184, 328), 184, 328)
    net[40:80, 40:120, model.num_heatmaps:] = np.nan
    for variant in ("gpu", "cpu"):
        connect(model, [net], variant)


@pytest.mark.parametrize("mode", MODES)
def test_run_modes(mode, tmp_path):
    model = pose_models.get("BODY_25")
    rng = np.random.default_rng(8)
    nets = np.stack([synthetic.render(model, synthetic.random_crowd(model, rng, n, 96, 160,
                                                                     30, 60), 96, 160)
                     for n in (2, 3)])

    def fn(net):
        peaks, counts = ops.nms(net[..., :25])
        keypoints, scores = ops.body_part_connector(net[..., 26:], peaks, counts)
        return keypoints.flat_values, keypoints.row_lengths(), scores.flat_values

    flat, lengths, scores = run_in_mode(mode, fn, [nets], tmp_path)
    eager = fn(tf.constant(nets))
    np.testing.assert_array_equal(flat, eager[0].numpy())
    np.testing.assert_array_equal(lengths, eager[1].numpy())
    np.testing.assert_array_equal(scores, eager[2].numpy())


# --- errors -------------------------------------------------------------------------------------

def small_inputs(parts=25, paf_channels=52, n=1, m=127):
    return (np.zeros((n, 8, 8, paf_channels), np.float32), np.zeros((n, parts, m, 3), np.float32),
            np.zeros((n, parts), np.int32))


def test_paf_channels_must_match_the_model():
    pafs, peaks, counts = small_inputs(paf_channels=78)
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"pafs must have 2L = 52 channels \(26 limbs\), got shape "
                             r"\[1,8,8,78\]"):
        ops.body_part_connector(pafs, peaks, counts)


def test_peaks_and_counts_shapes():
    pafs, peaks, counts = small_inputs()
    with pytest.raises(SHAPE_ERRORS, match=r"peaks must have shape \[N,P,M,3\] with N = 1.*"
                                           r"P = 25 \(the pose model's parts\)"):
        ops.body_part_connector(pafs, peaks[:, :18], counts[:, :18])
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"peak_counts must have shape"):
        ops.body_part_connector(pafs, peaks, counts[:, :3])
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"with N = 2 \(pafs\), P = 25"):
        ops.body_part_connector(np.concatenate([pafs, pafs]), peaks, counts)
    with pytest.raises(SHAPE_ERRORS, match=r"pafs must be 4-D \[N,H,W,C\]"):
        ops.body_part_connector(pafs[0], peaks, counts)


@pytest.mark.parametrize("bad", [128, -1])
def test_counts_out_of_range(bad):
    pafs, peaks, counts = small_inputs()
    counts[0, 3] = bad
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=rf"peak_counts must lie in \[0, M\] = \[0, 127\], got {bad}"):
        ops.body_part_connector(pafs, peaks, counts)


def test_cpu_variant_has_no_body_25b():
    pafs, peaks, counts = small_inputs(paf_channels=72)
    with pytest.raises(tf.errors.UnimplementedError, match="does not support BODY_25B"):
        ops.body_part_connector(pafs, peaks, counts, pose_model="BODY_25B", variant="cpu")
    keypoints, _ = ops.body_part_connector(pafs, peaks, counts, pose_model="BODY_25B")
    assert keypoints.shape[0] == 1


def test_model_errors():
    pafs, peaks, counts = small_inputs()
    with pytest.raises(ValueError, match="unknown pose model 'BODY_19'"):
        ops.body_part_connector(pafs, peaks, counts, pose_model="BODY_19")
    with pytest.raises(ValueError, match="HAND has no PAFs"):
        ops.body_part_connector(pafs, peaks, counts, pose_model="HAND")
    with pytest.raises(ValueError, match="inter_threshold must be a finite number"):
        ops.body_part_connector(pafs, peaks, counts, inter_threshold=float("nan"))


def test_scale_factor_per_image():
    pafs, peaks, counts = small_inputs(n=2)
    ops.body_part_connector(pafs, peaks, counts, scale_factor=[1.0, 2.0])
    with pytest.raises(tf.errors.InvalidArgumentError, match="scale_factor must be a scalar"):
        ops.body_part_connector(pafs, peaks, counts, scale_factor=[1.0, 2.0, 3.0])
