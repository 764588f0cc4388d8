"""The pose-model registry: OpenPose's channel layouts, names and default thresholds."""

import pytest

from openpose_tf import pose_models


@pytest.mark.parametrize("name,parts,pairs,channels,paf_start", [
    ("BODY_25", 25, 26, 78, 26), ("COCO", 18, 19, 57, 19), ("MPI", 15, 14, 44, 16),
    ("MPI_4_layers", 15, 14, 44, 16), ("BODY_25B", 25, 36, 97, 25), ("HAND", 21, 20, 22, 22),
    ("FACE", 70, 63, 71, 71)])
def test_layouts(name, parts, pairs, channels, paf_start):
    model = pose_models.get(name)
    assert (model.num_parts, model.num_pairs, model.num_channels, model.num_heatmaps) == \
        (parts, pairs, channels, paf_start)
    assert all(0 <= p < parts for pair in model.pairs for p in pair)
    assert sorted(c for xy in model.paf_indices for c in xy) == list(range(model.num_pafs))


def test_names_and_aliases():
    assert pose_models.get("COCO_18").name == "COCO"
    assert pose_models.get("MPI_15").name == "MPI"
    assert pose_models.get("mpi_15_4").name == "MPI_4_layers"
    with pytest.raises(ValueError, match="unknown pose model 'BODY_135'"):
        pose_models.get("BODY_135")


@pytest.mark.parametrize("name,plain,maximize", [
    # (nms, inter_min_above, inter, min_subset_cnt, min_subset_score): OpenPose's getPoseDefault*.
    ("BODY_25", (0.05, 0.95, 0.05, 3, 0.4), (0.02, 0.75, 0.01, 2, 0.05)),
    ("COCO", (0.05, 0.95, 0.05, 3, 0.4), (0.02, 0.75, 0.01, 2, 0.05)),
    ("BODY_25B", (0.05, 0.95, 0.05, 3, 0.4), (0.02, 0.75, 0.01, 2, 0.05)),
    ("MPI", (0.6, 0.95, 0.01, 3, 0.4), (0.6, 0.75, 0.01, 2, 0.05)),
    ("MPI_4_layers", (0.3, 0.95, 0.01, 3, 0.4), (0.3, 0.75, 0.01, 2, 0.05)),
])
def test_connector_defaults(name, plain, maximize):
    model = pose_models.get(name)
    assert tuple(vars(model.connector_defaults(False)).values()) == plain
    assert tuple(vars(model.connector_defaults(True)).values()) == maximize
