"""OpenPose's pose models: parts, limbs, PAF channels, channel layout and default thresholds.

The one source of truth read by the ops, the pipeline and the renderer (OpenPose's
poseParameters.cpp; docs/algorithms.md#pose-models, the defaults
docs/algorithms.md#default-thresholds). Names follow OpenPose's `--model_pose`:
`BODY_25`, `COCO`, `MPI`, `MPI_4_layers`, `BODY_25B` (aliases `COCO_18`, `MPI_15`, `MPI_15_4`),
plus `HAND` and `FACE` (whose networks have no PAFs).

Net output layout (NHWC channels): part heatmaps `0..P-1`, the background (if any) at `P`, then
the PAF channels; limb `l` reads PAF channels `paf_indices[l]` = (x, y), counted from the first
PAF channel.
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class ConnectorDefaults:
    """OpenPose's defaults for one setting of `--maximize_positives`."""

    nms_threshold: float
    inter_min_above_threshold: float
    inter_threshold: float
    min_subset_cnt: int
    min_subset_score: float


@dataclasses.dataclass(frozen=True)
class PoseModel:
    """One pose model. `pairs[l]` = (part A, part B) of limb l; `paf_indices[l]` = (x, y) of its
    PAF channels (empty for models without PAFs, whose pairs only say how to draw them)."""

    name: str
    part_names: tuple[str, ...]
    pairs: tuple[tuple[int, int], ...] = ()
    paf_indices: tuple[tuple[int, int], ...] = ()
    background: bool = True
    defaults: ConnectorDefaults | None = None
    defaults_maximize_positives: ConnectorDefaults | None = None  # with --maximize_positives
    # OpenPose's connector rules, as data (its code decides them from part counts and limb
    # numbers; a custom topology gets only the rules it declares):
    ear_limbs: tuple[int, ...] = ()  # CPU build: limbs that only fill empty slots (the ear rule)
    dedup_lone_peaks: bool = True    # CPU build: a lone peak someone holds starts nobody (not MPI)
    foot_parts: tuple[int, ...] = ()  # parts that do not count; a person with a foot and <= 4
    #                                   other parts is dropped (the foot rule)
    cpu_connector: bool = True  # OpenPose's CPU-build connector supports it (variant="cpu")
    # Drawing (poseParametersRender.hpp): the limbs drawn and one RGB colour per part; a limb
    # takes the colour of its second part (renderKeypointsCpu).
    render_pairs: tuple[tuple[int, int], ...] = ()
    colors: tuple[tuple[int, int, int], ...] = ()
    # Joint radius and limb width relative to the image (renderKeypointsCpu's
    # thicknessCircleRatio and thicknessLineRatioWRTCircle: body 1/75 and 0.75).
    render_circle_ratio: float = 1.0 / 75.0
    render_line_ratio: float = 0.75
    # --write_coco_json (cocoJsonSaver.cpp): the parts in COCO's 17-keypoint order.
    coco_order: tuple[int, ...] = ()
    prototxt: str = ""          # under OpenPose's models/ folder
    caffemodel: str = ""

    @property
    def num_parts(self) -> int:
        return len(self.part_names)

    @property
    def num_pairs(self) -> int:
        return len(self.pairs)

    @property
    def num_heatmaps(self) -> int:
        """Part heatmaps plus the background channel, if any."""
        return self.num_parts + int(self.background)

    @property
    def num_pafs(self) -> int:
        """PAF channels: 2 per limb with a PAF (hand and face limbs are for drawing only)."""
        return 2 * len(self.paf_indices)

    @property
    def num_channels(self) -> int:
        """Channels of the network output (`net_output`)."""
        return self.num_heatmaps + self.num_pafs

    def connector_defaults(self, maximize_positives: bool = False) -> ConnectorDefaults:
        """OpenPose's thresholds for this model; `--maximize_positives` lowers them all."""
        if self.defaults is None:
            raise ValueError(f"{self.name} has no PAFs: the body part connector does not apply")
        return self.defaults_maximize_positives if maximize_positives else self.defaults


def _limbs(table):
    """(A, B, paf x, paf y) rows -> (pairs, paf_indices)."""
    return tuple((a, b) for a, b, _, _ in table), tuple((x, y) for _, _, x, y in table)


_BODY_25_PARTS = (
    "Nose", "Neck", "RShoulder", "RElbow", "RWrist", "LShoulder", "LElbow", "LWrist", "MidHip",
    "RHip", "RKnee", "RAnkle", "LHip", "LKnee", "LAnkle", "REye", "LEye", "REar", "LEar",
    "LBigToe", "LSmallToe", "LHeel", "RBigToe", "RSmallToe", "RHeel")
_BODY_25_LIMBS = _limbs([
    (1, 8, 0, 1), (1, 2, 14, 15), (1, 5, 22, 23), (2, 3, 16, 17), (3, 4, 18, 19),
    (5, 6, 24, 25), (6, 7, 26, 27), (8, 9, 6, 7), (9, 10, 2, 3), (10, 11, 4, 5),
    (8, 12, 8, 9), (12, 13, 10, 11), (13, 14, 12, 13), (1, 0, 30, 31), (0, 15, 32, 33),
    (15, 17, 36, 37), (0, 16, 34, 35), (16, 18, 38, 39), (2, 17, 20, 21), (5, 18, 28, 29),
    (14, 19, 40, 41), (19, 20, 42, 43), (14, 21, 44, 45), (11, 22, 46, 47), (22, 23, 48, 49),
    (11, 24, 50, 51)])

_COCO_PARTS = (
    "Nose", "Neck", "RShoulder", "RElbow", "RWrist", "LShoulder", "LElbow", "LWrist", "RHip",
    "RKnee", "RAnkle", "LHip", "LKnee", "LAnkle", "REye", "LEye", "REar", "LEar")
_COCO_LIMBS = _limbs([
    (1, 2, 12, 13), (1, 5, 20, 21), (2, 3, 14, 15), (3, 4, 16, 17), (5, 6, 22, 23),
    (6, 7, 24, 25), (1, 8, 0, 1), (8, 9, 2, 3), (9, 10, 4, 5), (1, 11, 6, 7), (11, 12, 8, 9),
    (12, 13, 10, 11), (1, 0, 28, 29), (0, 14, 30, 31), (14, 16, 34, 35), (0, 15, 32, 33),
    (15, 17, 36, 37), (2, 16, 18, 19), (5, 17, 26, 27)])

_MPI_PARTS = (
    "Head", "Neck", "RShoulder", "RElbow", "RWrist", "LShoulder", "LElbow", "LWrist", "RHip",
    "RKnee", "RAnkle", "LHip", "LKnee", "LAnkle", "Chest")
_MPI_LIMBS = _limbs([
    (0, 1, 0, 1), (1, 2, 2, 3), (2, 3, 4, 5), (3, 4, 6, 7), (1, 5, 8, 9), (5, 6, 10, 11),
    (6, 7, 12, 13), (1, 14, 14, 15), (14, 8, 16, 17), (8, 9, 18, 19), (9, 10, 20, 21),
    (14, 11, 22, 23), (11, 12, 24, 25), (12, 13, 26, 27)])

_BODY_25B_PARTS = (
    "Nose", "LEye", "REye", "LEar", "REar", "LShoulder", "RShoulder", "LElbow", "RElbow",
    "LWrist", "RWrist", "LHip", "RHip", "LKnee", "RKnee", "LAnkle", "RAnkle", "Neck", "HeadTop",
    "LBigToe", "LSmallToe", "LHeel", "RBigToe", "RSmallToe", "RHeel")
_BODY_25B_PAIRS = (
    (0, 1), (0, 2), (1, 3), (2, 4), (0, 5), (0, 6), (5, 7), (6, 8), (7, 9), (8, 10), (5, 11),
    (6, 12), (11, 13), (12, 14), (13, 15), (14, 16), (15, 19), (19, 20), (15, 21), (16, 22),
    (22, 23), (16, 24), (5, 17), (5, 18), (6, 17), (6, 18), (3, 4), (3, 5), (4, 6), (5, 9),
    (6, 10), (9, 10), (9, 11), (10, 12), (11, 12), (15, 16))

_HAND_PARTS = ("Wrist",) + tuple(
    f"{finger}{i}" for finger in ("Thumb", "Index", "Middle", "Ring", "Pinky") for i in range(1, 5))
# Rendering skeleton (no PAFs): each finger chained from the wrist.
_HAND_PAIRS = tuple(p for f in range(5) for p in
                    [(0, 1 + 4 * f), (1 + 4 * f, 2 + 4 * f), (2 + 4 * f, 3 + 4 * f),
                     (3 + 4 * f, 4 + 4 * f)])

_FACE_PARTS = (tuple(f"Contour{i}" for i in range(17)) + tuple(f"REyeBrow{i}" for i in range(5))
               + tuple(f"LEyeBrow{i}" for i in range(5)) + tuple(f"NoseUpper{i}" for i in range(4))
               + tuple(f"NoseLower{i}" for i in range(5)) + tuple(f"REye{i}" for i in range(6))
               + tuple(f"LEye{i}" for i in range(6)) + tuple(f"OMouth{i}" for i in range(12))
               + tuple(f"IMouth{i}" for i in range(8)) + ("RPupil", "LPupil"))


def _chain(first, last, closed=False):
    pairs = [(i, i + 1) for i in range(first, last)]
    return pairs + ([(last, first)] if closed else [])


# Rendering skeleton (no PAFs): the 68-landmark contours, eyes and lips closed; pupils alone.
_FACE_PAIRS = tuple(_chain(0, 16) + _chain(17, 21) + _chain(22, 26) + _chain(27, 30)
                    + _chain(31, 35) + _chain(36, 41, True) + _chain(42, 47, True)
                    + _chain(48, 59, True) + _chain(60, 67, True))

# OpenPose's hand colours (handParameters.hpp HAND_COLORS_RENDER_GPU, RGB): the wrist grey, then
# each finger's four joints; faces are all white (faceParameters.hpp).
_HAND_COLORS = (
    (100, 100, 100), (100, 0, 0), (150, 0, 0), (200, 0, 0), (255, 0, 0), (100, 100, 0),
    (150, 150, 0), (200, 200, 0), (255, 255, 0), (0, 100, 50), (0, 150, 75), (0, 200, 100),
    (0, 255, 125), (0, 50, 100), (0, 75, 150), (0, 100, 200), (0, 125, 255), (100, 0, 100),
    (150, 0, 150), (200, 0, 200), (255, 0, 255))

# OpenPose's render colours (RGB), one per part (poseParametersRender.hpp).
_BODY_25_COLORS = (
    (255, 0, 85), (255, 0, 0), (255, 85, 0), (255, 170, 0), (255, 255, 0), (170, 255, 0),
    (85, 255, 0), (0, 255, 0), (255, 0, 0), (0, 255, 85), (0, 255, 170), (0, 255, 255),
    (0, 170, 255), (0, 85, 255), (0, 0, 255), (255, 0, 170), (170, 0, 255), (255, 0, 255),
    (85, 0, 255), (0, 0, 255), (0, 0, 255), (0, 0, 255), (0, 255, 255), (0, 255, 255),
    (0, 255, 255))
_COCO_COLORS = _BODY_25_COLORS[:8] + _BODY_25_COLORS[9:19]
_MPI_COLORS = _BODY_25_COLORS[:7] + ((43, 255, 0),) + _BODY_25_COLORS[7:8] + \
    _BODY_25_COLORS[9:15]
_BODY_25B_COLORS = (
    (255, 0, 85), (170, 0, 255), (255, 0, 170), (85, 0, 255), (255, 0, 255), (170, 255, 0),
    (255, 85, 0), (85, 255, 0), (255, 170, 0), (0, 255, 0), (255, 255, 0), (0, 170, 255),
    (0, 255, 85), (0, 85, 255), (0, 255, 170), (0, 0, 255), (0, 255, 255), (255, 0, 0),
    (255, 0, 0), (0, 0, 255), (0, 0, 255), (0, 0, 255), (0, 255, 255), (0, 255, 255),
    (0, 255, 255))
_BODY_25_RENDER = (
    (1, 8), (1, 2), (1, 5), (2, 3), (3, 4), (5, 6), (6, 7), (8, 9), (9, 10), (10, 11), (8, 12),
    (12, 13), (13, 14), (1, 0), (0, 15), (15, 17), (0, 16), (16, 18), (14, 19), (19, 20),
    (14, 21), (11, 22), (22, 23), (11, 24))
_COCO_RENDER = (
    (1, 2), (1, 5), (2, 3), (3, 4), (5, 6), (6, 7), (1, 8), (8, 9), (9, 10), (1, 11), (11, 12),
    (12, 13), (1, 0), (0, 14), (14, 16), (0, 15), (15, 17))
_MPI_RENDER = (
    (0, 1), (1, 2), (2, 3), (3, 4), (1, 5), (5, 6), (6, 7), (1, 14), (14, 8), (8, 9), (9, 10),
    (14, 11), (11, 12), (12, 13))
_BODY_25B_RENDER = (
    (0, 1), (0, 2), (1, 3), (2, 4), (5, 7), (6, 8), (7, 9), (8, 10), (5, 11), (6, 12), (11, 13),
    (12, 14), (13, 15), (14, 16), (15, 19), (19, 20), (15, 21), (16, 22), (22, 23), (16, 24),
    (5, 17), (6, 17), (17, 18), (11, 12))
# cocoJsonSaver's COCO order: nose, eyes, ears, shoulders, elbows, wrists, hips, knees, ankles
# (left before right). OpenPose has no order for MPI; it uses BODY_25's for every 25-part model,
# BODY_25B included, whose first 17 parts are already COCO's (ours: identity for BODY_25B).
_BODY_25_COCO = (0, 16, 15, 18, 17, 5, 2, 6, 3, 7, 4, 12, 9, 13, 10, 14, 11)
_COCO_COCO = (0, 15, 14, 17, 16, 5, 2, 6, 3, 7, 4, 11, 8, 12, 9, 13, 10)

# OpenPose's getPoseDefault* (poseParameters.cpp): (nms_threshold, inter_min_above_threshold,
# inter_threshold, min_subset_cnt, min_subset_score), without and with --maximize_positives. MPI
# keeps its NMS threshold and its 0.01 inter_threshold either way.
_DEFAULTS = ConnectorDefaults(0.05, 0.95, 0.05, 3, 0.4)
_DEFAULTS_MP = ConnectorDefaults(0.02, 0.75, 0.01, 2, 0.05)
_BODY = dict(defaults=_DEFAULTS, defaults_maximize_positives=_DEFAULTS_MP)
# removePeopleBelowThresholdsAndFillFaces: parts 19..24 of 25-part models are feet.
_FEET = tuple(range(19, 25))

MODELS: dict[str, PoseModel] = {
    # createPeopleVector's ear rule: limbs 18, 19 (RShoulder-REar, LShoulder-LEar).
    "BODY_25": PoseModel("BODY_25", _BODY_25_PARTS, *_BODY_25_LIMBS, **_BODY,
                         ear_limbs=(18, 19), foot_parts=_FEET, render_pairs=_BODY_25_RENDER,
                         colors=_BODY_25_COLORS, coco_order=_BODY_25_COCO,
                         prototxt="pose/body_25/pose_deploy.prototxt",
                         caffemodel="pose/body_25/pose_iter_584000.caffemodel"),
    # Ear rule: limbs 17, 18 (RShoulder-REar, LShoulder-LEar).
    "COCO": PoseModel("COCO", _COCO_PARTS, *_COCO_LIMBS, **_BODY, ear_limbs=(17, 18),
                      render_pairs=_COCO_RENDER, colors=_COCO_COLORS, coco_order=_COCO_COCO,
                      prototxt="pose/coco/pose_deploy_linevec.prototxt",
                      caffemodel="pose/coco/pose_iter_440000.caffemodel"),
    # OpenPose's CPU code starts a person from every lone MPI peak, held or not.
    "MPI": PoseModel("MPI", _MPI_PARTS, *_MPI_LIMBS, dedup_lone_peaks=False,
                     render_pairs=_MPI_RENDER, colors=_MPI_COLORS,
                     defaults=ConnectorDefaults(0.6, 0.95, 0.01, 3, 0.4),
                     defaults_maximize_positives=ConnectorDefaults(0.6, 0.75, 0.01, 2, 0.05),
                     prototxt="pose/mpi/pose_deploy_linevec.prototxt",
                     caffemodel="pose/mpi/pose_iter_160000.caffemodel"),
    "MPI_4_layers": PoseModel("MPI_4_layers", _MPI_PARTS, *_MPI_LIMBS, dedup_lone_peaks=False,
                              render_pairs=_MPI_RENDER, colors=_MPI_COLORS,
                              defaults=ConnectorDefaults(0.3, 0.95, 0.01, 3, 0.4),
                              defaults_maximize_positives=ConnectorDefaults(0.3, 0.75, 0.01, 2,
                                                                            0.05),
                              prototxt="pose/mpi/pose_deploy_linevec_faster_4_stages.prototxt",
                              caffemodel="pose/mpi/pose_iter_160000.caffemodel"),
    # Experimental in OpenPose: no background channel, GPU connector only, prototxt not public.
    "BODY_25B": PoseModel("BODY_25B", _BODY_25B_PARTS, _BODY_25B_PAIRS,
                          tuple((2 * k, 2 * k + 1) for k in range(len(_BODY_25B_PAIRS))),
                          background=False, cpu_connector=False, foot_parts=_FEET, **_BODY,
                          render_pairs=_BODY_25B_RENDER, colors=_BODY_25B_COLORS,
                          coco_order=tuple(range(17))),
    "HAND": PoseModel("HAND", _HAND_PARTS, _HAND_PAIRS, render_pairs=_HAND_PAIRS,
                      colors=_HAND_COLORS, render_circle_ratio=1.0 / 50.0,
                      prototxt="hand/pose_deploy.prototxt",
                      caffemodel="hand/pose_iter_102000.caffemodel"),
    "FACE": PoseModel("FACE", _FACE_PARTS, _FACE_PAIRS, render_pairs=_FACE_PAIRS,
                      colors=((255, 255, 255),), render_line_ratio=0.334,
                      prototxt="face/pose_deploy.prototxt",
                      caffemodel="face/pose_iter_116000.caffemodel"),
}

ALIASES = {"COCO_18": "COCO", "MPI_15": "MPI", "MPI_15_4": "MPI_4_layers"}


def get(model: str | PoseModel) -> PoseModel:
    """The model named `model` (OpenPose's --model_pose names and aliases, any case), or
    `model` itself if it is already a PoseModel (a custom topology)."""
    if isinstance(model, PoseModel):
        return model
    key = {k.upper(): k for k in list(MODELS) + list(ALIASES)}.get(str(model).upper())
    if key is None:
        raise ValueError(f"unknown pose model {model!r}; known: {', '.join(MODELS)} "
                         f"(aliases: {', '.join(ALIASES)})")
    return MODELS[ALIASES.get(key, key)]
