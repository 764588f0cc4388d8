"""Hands and faces (openpose_tf.hand_face): OpenPose's region rules on hand-computed cases, the
crop/mapping round trip (mirrored left hand), stand-in networks placing peaks at known crop
pixels, multi-scale selection, and `openpose-tf run --hand --face` end to end with random-weight
stand-in networks converted here. (The real hand and face networks' import is tested against
OpenCV DNN in test_net.py.)"""

import argparse
import json

import cv2
import numpy as np
import pytest
import tensorflow as tf

from openpose_tf import cli, hand_face, pose_models
from openpose_tf.extractor import PoseExtractor

BODY = pose_models.get("BODY_25")


def person(model=BODY, **parts):
    """[P, 3] keypoints with the named parts at (x, y, score)."""
    out = np.zeros((model.num_parts, 3), np.float32)
    for name, value in parts.items():
        out[model.part_names.index(name)] = value
    return out


def test_hand_rectangle_from_wrist_elbow_shoulder():
    p = person(RWrist=(100, 100, 0.5), RElbow=(80, 100, 0.5), RShoulder=(60, 100, 0.5),
               LWrist=(10, 10, 0.5), LElbow=(10, 40, 0.5), LShoulder=(10, 80, 0.02))
    rects = hand_face.hand_rectangles(p[None], BODY).numpy()
    # Right: centre 100 + 0.33 * 20 = 106.6, side 1.5 * max(20, 0.9 * 20) = 30.
    np.testing.assert_allclose(rects[0, 1], [91.6, 85, 30, 30], rtol=1e-6)
    np.testing.assert_array_equal(rects[0, 0], 0)  # left shoulder at 0.02 <= 0.03: no region
    p2 = person(LWrist=(50, 50, 0.9), LElbow=(50, 30, 0.9), LShoulder=(50, 0, 0.9))
    # Left: side 1.5 * max(20, 0.9 * 30) = 40.5, centre y 50 + 0.33 * 20 = 56.6.
    np.testing.assert_allclose(hand_face.hand_rectangles(p2[None], BODY).numpy()[0, 0],
                               [29.75, 36.35, 40.5, 40.5], rtol=1e-6)


FACE_CASES = {
    # neck and nose only: their midpoint, 2 |neck - nose|
    "neck_nose": (dict(Neck=(100, 140, 0.9), Nose=(100, 100, 0.9)), (100, 120, 80)),
    # left profile (left eye and ear, no right ones): mean of nose, eye, ear;
    # 0.85 (|nose-eye| + |nose-ear| + |neck-nose|)
    "profile": (dict(Neck=(100, 140, 0.9), Nose=(100, 100, 0.9), LEye=(110, 95, 0.9),
                     LEar=(130, 100, 0.9)),
                ((110 + 130 + 100) / 3, (95 + 100 + 100) / 3,
                 0.85 * (np.hypot(10, 5) + 30 + 40))),
    # frontal: the neck-nose cue, the eyes' (3 |lEye-rEye|) and the ears' (2 |lEar-rEar|),
    # averaged
    "frontal": (dict(Neck=(100, 140, 0.9), Nose=(100, 100, 0.9), LEye=(110, 95, 0.9),
                     REye=(90, 95, 0.9), LEar=(120, 100, 0.9), REar=(80, 100, 0.9)),
                ((100 + 100 + 100) / 3, (120 + 95 + 100) / 3, (80 + 60 + 80) / 3)),
    # no neck: only the eyes' cue
    "eyes_only": (dict(Nose=(100, 100, 0.9), LEye=(110, 95, 0.9), REye=(90, 95, 0.9)),
                  (100, 95, 60)),
    # eyes and ears below 0.25 do not count
    "weak_eyes": (dict(Neck=(100, 140, 0.9), Nose=(100, 100, 0.9), LEye=(110, 95, 0.2),
                       REye=(90, 95, 0.2)), (100, 120, 80)),
}


@pytest.mark.parametrize("case", sorted(FACE_CASES))
def test_face_rectangle_rules(case):
    parts, (cx, cy, size) = FACE_CASES[case]
    rect = hand_face.face_rectangles(person(**parts)[None], BODY).numpy()[0]
    np.testing.assert_allclose(rect, [cx - size / 2, cy - size / 2, size, size], rtol=1e-5)


def test_face_rectangle_mpi_head_rule_and_nobody():
    mpi = pose_models.get("MPI")
    p = person(mpi, Head=(50, 20, 0.9), Neck=(50, 50, 0.9))
    np.testing.assert_allclose(hand_face.face_rectangles(p[None], mpi).numpy()[0],
                               [50 - 19.95, 20 - 19.95, 39.9, 39.9], rtol=1e-5, atol=1e-4)
    assert hand_face.face_rectangles(np.zeros((0, 25, 3)), BODY).shape == (0, 4)
    assert hand_face.hand_rectangles(np.zeros((0, 25, 3)), BODY).shape == (0, 2, 4)
    with pytest.raises(ValueError, match="faces need them"):
        hand_face.face_rectangles(np.zeros((1, 21, 3)), "HAND")


def cv2_crop(image, matrix, size):
    """OpenPose's crop (handExtractorCaffe's cropFrame, faceExtractorCaffe), with OpenCV."""
    return cv2.warpAffine(image, matrix, size, flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0))


@pytest.mark.parametrize("mirror", [False, True])
@pytest.mark.parametrize("side", [37.0, 120.0, 400.0])
def test_crop_maps_crop_pixels_back_to_the_image(mirror, side):
    image = np.zeros((600, 700, 3), np.uint8)
    rect = np.array([150.5, 80.25, side, side], np.float32)
    matrix = hand_face.hand_matrices(rect[None], 368, [mirror]).numpy()
    # A dot inside the region lands where the matrix says.
    dot_x, dot_y = int(rect[0] + 0.3 * side), int(rect[1] + 0.6 * side)
    image[dot_y, dot_x] = 255
    crop = cv2_crop(image, matrix[0], (368, 368)).astype(np.float32)
    y, x = np.unravel_index(np.argmax(crop[..., 0]), crop.shape[:2])
    back = hand_face.to_image(np.array([[[x, y, 1.0]]], np.float32), matrix).numpy()[0, 0]
    scale = side / 368
    assert abs(back[0] - dot_x) <= scale + 0.5 and abs(back[1] - dot_y) <= scale + 0.5
    if mirror:  # the crop's x runs right to left in the image
        assert matrix[0, 0, 0] < 0 and np.isclose(matrix[0, 0, 2], rect[0] + rect[2])


def test_graph_crops_equal_opencv_pixel_for_pixel():
    """graph_warp.warp_crops (the crops in the graph) against cv2.warpAffine: mirrored, partly
    outside the image, fractional corners, enlarging and shrinking, two source images."""
    from openpose_tf import graph_warp

    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (2, 90, 130, 3), np.uint8)
    rects = np.array([[10.5, 20.25, 37, 37], [-30.3, 50.7, 120, 120], [100.1, -5.6, 64, 64],
                      [0, 0, 130, 130], [5.5, 7.7, 11.3, 11.3]], np.float32)
    mirror = [True, False, True, False, False]
    matrices = np.concatenate([
        hand_face.hand_matrices(rects, 64, mirror).numpy(),
        hand_face.face_matrices(np.array([[20.3, 10.9, 50.5, 50.5]], np.float32), 64).numpy()])
    index = [0, 1, 0, 1, 0, 1]
    got = graph_warp.warp_crops(images, index, matrices, 64, 48).numpy()
    for k, (m, i) in enumerate(zip(matrices, index)):
        np.testing.assert_array_equal(got[k], cv2_crop(images[i], m, (64, 48)), err_msg=str(k))


class PeakNetwork:
    """A stand-in network: for every crop, part k peaks at low-res pixel (row, col) = spots[k]
    (value 1 - k/100), the rest 0. Records the crops it got."""

    def __init__(self, parts, spots):
        self.parts, self.spots, self.crops = parts, spots, []

    def __call__(self, x):
        x = x.numpy()
        self.crops.append(x)
        n, h, w = x.shape[0], x.shape[1] // 8, x.shape[2] // 8
        out = np.zeros((n, h, w, self.parts + 1), np.float32)
        for k, (r, c) in enumerate(self.spots):
            out[:, r, c, k] = 1 - k / 100
        return tf.constant(out)


@pytest.mark.parametrize("kind", ["hand", "face"])
def test_keypoints_come_back_where_the_peaks_are(kind):
    parts = 21 if kind == "hand" else 70
    rng = np.random.default_rng(3)
    spots = [(int(rng.integers(1, 45)), int(rng.integers(1, 45))) for _ in range(parts)]
    network = hand_face.KeypointNetwork(PeakNetwork(parts, spots), kind.upper())
    image = np.zeros((480, 640, 3), np.uint8)
    body = person(RWrist=(300, 200, 0.9), RElbow=(250, 200, 0.9), RShoulder=(200, 150, 0.9),
                  LWrist=(600, 400, 0.9), LElbow=(560, 380, 0.9), LShoulder=(500, 300, 0.9),
                  Neck=(400, 300, 0.9), Nose=(400, 200, 0.9))[None]
    if kind == "hand":
        left, right = hand_face.hand_keypoints(image[None], [0], body, network, BODY)
        rects = hand_face.hand_rectangles(body, BODY).numpy()[0]
        cases = [(left.numpy()[0], rects[0], True), (right.numpy()[0], rects[1], False)]
    else:
        out = hand_face.face_keypoints(image[None], [0], body, network, BODY).numpy()
        cases = [(out[0], hand_face.face_rectangles(body, BODY).numpy()[0], False)]
    for keypoints, rect, mirror in cases:
        s = rect[2] / 368
        for k, (r, c) in enumerate(spots):
            # The upsampled peak of low-res pixel c lies at 8c + 3 or 8c + 4 (crop pixels).
            x_crop = (keypoints[k, 0] - (rect[0] + rect[2] if mirror else rect[0])) / \
                (-s if mirror else s)
            y_crop = (keypoints[k, 1] - rect[1]) / s
            assert 8 * c + 3 - 1e-3 <= x_crop <= 8 * c + 4 + 1e-3, (kind, k)
            assert 8 * r + 3 - 1e-3 <= y_crop <= 8 * r + 4 + 1e-3, (kind, k)
            assert keypoints[k, 2] > 0.2  # the peak value, upsampled


def test_people_without_regions_get_zeros_and_no_network_call():
    network = PeakNetwork(21, [(5, 5)] * 21)
    body = person(RWrist=(300, 200, 0.9))[None]  # no elbow: no hand
    image = np.zeros((1, 100, 100, 3), np.uint8)
    left, right = hand_face.hand_keypoints(image, [0], body,
                                           hand_face.KeypointNetwork(network, "HAND"), BODY)
    assert left.shape == right.shape == (1, 21, 3)
    assert not left.numpy().any() and not right.numpy().any() and not network.crops
    left, _ = hand_face.hand_keypoints(image, np.zeros(0, np.int32),
                                       np.zeros((0, 25, 3), np.float32),
                                       hand_face.KeypointNetwork(network, "HAND"), BODY)
    assert left.shape == (0, 21, 3)


def test_multi_scale_keeps_the_first_unless_strictly_better():
    scales = hand_face.hand_scales(3, 0.4)
    np.testing.assert_allclose(scales, [0.8, 1.0, 1.2], rtol=1e-6)
    # Side (round(w * scale) / 2) * 2, centre kept.
    np.testing.assert_array_equal(hand_face.rescaled_hands([[10, 20, 31, 31]], scales[0])[0],
                                  [13.5, 23.5, 24, 24])  # centre (25.5, 35.5), side 24

    class Brightness:  # the score is the crop's mean brightness: larger crops see more black
        def __call__(self, x):
            x = x.numpy()
            out = np.zeros((x.shape[0], x.shape[1] // 8, x.shape[2] // 8, 22), np.float32)
            out[:, 2, 2, :21] = (x.mean(axis=(1, 2, 3)) + 0.5)[:, None]
            return tf.constant(out)

    image = np.full((1, 200, 200, 3), 255, np.uint8)
    body = person(RWrist=(20, 100, 0.9), RElbow=(60, 100, 0.9), RShoulder=(100, 100, 0.9))[None]
    network = hand_face.KeypointNetwork(Brightness(), "HAND", "64x64")
    _, right = hand_face.hand_keypoints(image, [0], body, network, BODY, 3, 0.4)
    rect = hand_face.hand_rectangles(body, BODY)[:, 1]
    # The smallest region (scale 0.8) lies most inside the white image: it wins.
    small = hand_face.rescaled_hands(rect, scales[0]).numpy()[0]
    assert np.isclose(right.numpy()[0, 0, 0], small[0] + (8 * 2 + 3.5) * small[2] / 64,
                      atol=0.6 * small[2] / 64 + 1e-3)


def test_run_hand_face_writes_the_json_fields_and_pictures(model_dir, hand_face_models,
                                                            tmp_path, capsys):
    images = tmp_path / "images"
    images.mkdir()
    rng = np.random.default_rng(2)
    cv2.imwrite(str(images / "a.png"), rng.integers(0, 256, (120, 160, 3), np.uint8))
    cv2.imwrite(str(images / "b.png"), np.zeros((40, 40, 3), np.uint8))
    out = tmp_path / "out"
    code = cli.main(["run", "--model", str(model_dir), "--image_dir", str(images),
                     "--write_json", str(out), "--write_images", str(out), "--no_progress",
                     "--net_resolution", "-1x128", "--hand", "--hand_model",
                     str(hand_face_models["hand"]), "--face", "--face_model",
                     str(hand_face_models["face"]), "--hand_net_resolution", "64x64",
                     "--face_net_resolution", "64x64", "--hand_scale_number", "2"])
    assert code == 0, capsys.readouterr().err
    for name in ("a", "b"):
        data = json.loads((out / f"{name}_keypoints.json").read_text())
        for p in data["people"]:
            assert len(p["pose_keypoints_2d"]) == 75
            assert len(p["hand_left_keypoints_2d"]) == len(p["hand_right_keypoints_2d"]) == 63
            assert len(p["face_keypoints_2d"]) == 210
        assert (out / f"{name}_rendered.png").exists()


def test_extractor_with_hands_and_faces_on_synthetic_people(hand_face_models):
    """No people; a person at the border (regions partly outside the image: finite keypoints)."""
    hand, _ = cli.flags.load_network(str(hand_face_models["hand"]))
    face, _ = cli.flags.load_network(str(hand_face_models["face"]))

    class Body:  # a body network stand-in whose people are given, not detected
        input_format = "openpose"

        def __call__(self, x):
            shape = tf.shape(x)
            return tf.zeros(tf.stack([shape[0], shape[1] // 8, shape[2] // 8, 78]))

    extractor = PoseExtractor(Body(), "BODY_25", net_resolution="-1x64",
                              hand=hand_face.KeypointNetwork(hand, "HAND", "64x64"),
                              face=hand_face.KeypointNetwork(face, "FACE", "64x64"))
    people = extractor([np.zeros((64, 96, 3), np.uint8)])[0]
    assert people.hand_left.shape == (0, 21, 3) and people.face.shape == (0, 70, 3)
    body = person(RWrist=(2, 3, 0.9), RElbow=(40, 30, 0.9), RShoulder=(80, 60, 0.9),
                  Neck=(5, 60, 0.9), Nose=(5, 2, 0.9))[None]
    image = np.full((1, 64, 96, 3), 200, np.uint8)
    left, right = hand_face.hand_keypoints(image, [0], body, extractor.hand, BODY)
    face = hand_face.face_keypoints(image, [0], body, extractor.face, BODY).numpy()
    assert np.isfinite(right.numpy()).all() and right.numpy()[0, :, 2].any()
    assert not left.numpy().any()
    assert np.isfinite(face).all() and face[0, :, 2].any()


def test_saved_pipeline_with_hands_and_faces_equals_the_extractor(hand_face_models, tmp_path):
    import openpose_tf
    from test_serving import MapsNetwork, images

    hand, _ = cli.flags.load_network(str(hand_face_models["hand"]))
    face, _ = cli.flags.load_network(str(hand_face_models["face"]))
    extractor = PoseExtractor(MapsNetwork(), BODY, hand_scale_number=2,
                              hand=hand_face.KeypointNetwork(hand, "HAND", "64x64",
                                                             batch_size=2),
                              face=hand_face.KeypointNetwork(face, "FACE", "48x48"))
    extractor.save(tmp_path / "pipeline")
    loaded = openpose_tf.load_saved_model(tmp_path / "pipeline")
    assert loaded.metadata["hand"]["scale_number"] == 2
    batch = images(2, 800, 600)  # people twice test_serving's size: faces above 40 px
    expected, got = extractor(batch), loaded(batch)
    assert sum(len(p.keypoints) for p in expected) >= 4
    assert any(p.hand_left[..., 2].any() or p.hand_right[..., 2].any() for p in expected)
    assert any(p.face[..., 2].any() for p in expected)
    for e, g in zip(expected, got):
        np.testing.assert_array_equal(g.keypoints, e.keypoints)
        for field in ("hand_left", "hand_right", "face"):
            np.testing.assert_array_equal(getattr(g, field), getattr(e, field), err_msg=field)


def test_regions_and_matrices_are_the_same_in_a_graph():
    """Grappler rewrites `x / 3` into `x * (1/3)` inside graphs; the regions (and the SavedModel)
    must keep eager's IEEE divisions: random people, every face branch, eager vs tf.function."""
    rng = np.random.default_rng(0)
    keypoints = rng.uniform(0, 200, (3000, 25, 3)).astype(np.float32)
    keypoints[..., 2] = rng.uniform(0, 0.5, (3000, 25))

    def regions(k):
        hands = tf.reshape(hand_face.hand_rectangles(k, BODY), [-1, 4])
        faces = hand_face.face_rectangles(k, BODY)
        return (hands, faces, hand_face.hand_matrices(hands, 368, tf.zeros_like(hands[:, 0]) > 0),
                hand_face.face_matrices(faces, 368),
                hand_face.average_score(tf.reshape(k[:, :21], [-1, 21, 3])))

    for eager, graph in zip(regions(keypoints), tf.function(regions)(tf.constant(keypoints))):
        np.testing.assert_array_equal(graph.numpy(), eager.numpy())
    # OpenPose's getAverageScore: a float32 sum in part order, then / 21.
    sequential = np.zeros(3000, np.float32)
    for part in range(21):
        sequential = sequential + keypoints[:, part, 2]
    np.testing.assert_array_equal(regions(keypoints)[4].numpy(), sequential / np.float32(21))


def test_hand_face_batch_size_reaches_the_crop_networks(hand_face_models):
    args = argparse.Namespace(
        hand=True, hand_model=str(hand_face_models["hand"]), hand_net_resolution="64x64",
        face=True, face_model=str(hand_face_models["face"]), face_net_resolution="64x64",
        variant="gpu", hand_face_batch_size=3, hand_scale_number=1, hand_scale_range=0.4)
    networks = cli.flags.hand_networks(args)
    assert networks["hand"].batch_size == networks["face"].batch_size == 3
    args.hand_face_batch_size = 0
    with pytest.raises(ValueError, match="batch"):
        cli.flags.hand_networks(args)
