"""`PoseExtractor`: OpenPose's poseExtractor flow, from BGR images to people in image pixels.

Per image size: the net input size from `net_resolution` and each scale's input built as OpenPose
builds it (`geometry`: cv2.warpAffine anchored top-left, black padding), OpenPose's normalisation,
one network call per scale for all images of that size, then `openpose_tf.postprocess` with the
scale bookkeeping (`scale_ratios`, `scaleNetToOutput`), and `--number_people_max`.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from openpose_tf import geometry, pose_models

INPUT_FORMATS = ("openpose", "bgr255", "rgb255", "rgb01")


def check_input_format(input_format: str) -> str:
    if input_format not in INPUT_FORMATS:
        raise ValueError(f"input_format must be one of {INPUT_FORMATS}, got {input_format!r}")
    return input_format


def normalise(bgr: np.ndarray, input_format: str = "openpose") -> np.ndarray:
    """BGR uint8 `[..., 3]` -> the float32 a network expects: `openpose` (x/256 - 0.5, BGR: exact
    in float32), `bgr255`, `rgb255` (raw 0..255) or `rgb01` (x/255)."""
    check_input_format(input_format)
    x = np.asarray(bgr, np.float32)
    if input_format == "openpose":
        return x * np.float32(1 / 256) - np.float32(0.5)
    if input_format == "bgr255":
        return x
    x = x[..., ::-1]
    return np.ascontiguousarray(x if input_format == "rgb255" else x / np.float32(255))


def call_network(network, x):
    """`network(x)`, unwrapped when it returns a signature's dict of outputs ("net_output", else
    its only or first output)."""
    out = network(x)
    if isinstance(out, dict):
        out = out["net_output"] if "net_output" in out else next(iter(out.values()))
    return out


def group_by_size(images) -> tuple[list, dict[tuple, list[int]]]:
    """(images as a list, {shape: indices}) after checking each is a non-empty [H, W, 3] uint8
    BGR array; `images` is a `[N, H, W, 3]` batch or a list."""
    if isinstance(images, np.ndarray) and images.ndim == 4:
        images = list(images)
    if not isinstance(images, (list, tuple)):
        raise TypeError(f"images must be a [N, H, W, 3] array or a list of [H, W, 3] images, "
                        f"got {type(images).__name__}")
    by_size: dict[tuple, list[int]] = {}
    for i, image in enumerate(images):
        image = np.asarray(image)
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3 or \
                0 in image.shape:
            raise ValueError(f"image {i} must be a non-empty [H, W, 3] uint8 BGR array, got "
                             f"{image.dtype} {list(image.shape)}")
        by_size.setdefault(image.shape, []).append(i)
    return list(images), by_size


@dataclasses.dataclass
class People:
    """One image's people: keypoints `[T, P, 3]` (x, y, score) in image pixels, scores `[T]`,
    and OpenPose's scaleNetToOutput (heatmap pixels -> image pixels, for `--keypoint_scale 1`)."""

    keypoints: np.ndarray
    scores: np.ndarray
    scale_net_to_output: float = 1.0
    # With PoseExtractor(hand=..., face=...): [T, 21, 3] and [T, 70, 3] in image pixels, zeros
    # for a person without a region (OpenPose's handExtractor / faceExtractor); else None.
    hand_left: np.ndarray | None = None
    hand_right: np.ndarray | None = None
    face: np.ndarray | None = None


class PoseExtractor:
    """OpenPose's body pose pipeline around any network.

    Args:
      network: a callable `[N, h, w, 3] float32 -> [N, h/8, w/8, C]` (or a dict holding it as
        "net_output"): a model from `openpose_tf.net`, a converted SavedModel's
        `lambda x: model.signatures["serving_default"](image=x)`, a pruned frozen graph...
      pose_model: the network's pose model (name or `pose_models.PoseModel`).
      net_resolution: OpenPose's `--net_resolution` ("-1x368": the width follows each image's
        aspect ratio, a multiple of 16).
      net_resolution_dynamic: OpenPose's `--net_resolution_dynamic` (1: the width is capped at
        16:9; its wrapper uses -1, no cap, except for image folders).
      scale_number, scale_gap: OpenPose's multi-scale flags.
      number_people_max: OpenPose's `--number_people_max` (-1: all).
      variant: which OpenPose build to reproduce in the post-processing ("gpu" or "cpu").
      input_format: how the network wants its input (see `normalise`; OpenPose's nets:
        openpose). Default: the network's own `input_format` attribute (e.g. a
        `graph.FrozenGraphNetwork`), else "openpose".
      hand, face: OpenPose's `--hand` / `--face`: a hand or face network (as `network`, e.g. a
        converted `hand/pose_deploy.prototxt`), or a `hand_face.KeypointNetwork` for its own
        net resolution and batch size; each person's keypoints land in `People.hand_left`,
        `hand_right`, `face` (see `openpose_tf.hand_face`).
      hand_scale_number, hand_scale_range: OpenPose's `--hand_scale_number` / `_range`.
      **postprocess_args: thresholds for `openpose_tf.postprocess` (`maximize_positives`,
        `nms_threshold`, ...).
    """

    def __init__(self, network, pose_model="BODY_25", net_resolution="-1x368",
                 net_resolution_dynamic=1.0, scale_number=1, scale_gap=0.25,
                 number_people_max=-1, variant="gpu", input_format=None, hand=None, face=None,
                 hand_scale_number=1, hand_scale_range=0.4, **postprocess_args):
        from openpose_tf import hand_face

        self.network = network
        self.model = pose_models.get(pose_model)
        # A clear error now rather than at the first image.
        geometry.net_input_size(16, 16, net_resolution, net_resolution_dynamic)
        self.net_resolution = net_resolution
        self.net_resolution_dynamic = net_resolution_dynamic
        self.scale_number = int(scale_number)
        self.scale_gap = float(scale_gap)
        self.number_people_max = int(number_people_max)
        self.variant = variant
        if input_format is None:
            input_format = getattr(network, "input_format", "openpose")
        self.input_format = check_input_format(input_format)
        self.postprocess_args = postprocess_args
        wrap = hand_face.KeypointNetwork
        self.hand = hand if hand is None or isinstance(hand, wrap) else \
            wrap(hand, "HAND", variant=variant)
        self.face = face if face is None or isinstance(face, wrap) else \
            wrap(face, "FACE", variant=variant)
        self.hand_scale_number = int(hand_scale_number)
        self.hand_scale_range = float(hand_scale_range)
        hand_face.hand_scales(self.hand_scale_number, self.hand_scale_range)  # checks them now
        if self.hand:
            hand_face.hand_parts(self.model)
        if self.face:
            hand_face.face_parts(self.model)

    def _net_output(self, batch: np.ndarray):
        import tensorflow as tf

        return call_network(self.network, tf.constant(normalise(batch, self.input_format)))

    def _same_size(self, images: np.ndarray) -> list[People]:
        """A batch of images of one size: one network call per scale."""
        import openpose_tf

        height, width = images.shape[1:3]
        net_size = geometry.net_input_size(width, height, self.net_resolution,
                                           self.net_resolution_dynamic)
        scales = geometry.scale_sizes(width, height, net_size, self.scale_number, self.scale_gap)
        outputs = [self._net_output(np.stack([geometry.warp_input(im, s) for im in images]))
                   for s in scales]
        scale = geometry.scale_net_to_output(width, height, (scales[0].width, scales[0].height))
        keypoints, scores = openpose_tf.postprocess(
            outputs if len(outputs) > 1 else outputs[0], self.model,
            target_size=(scales[0].height, scales[0].width),
            scale_ratios=[s.input_to_net for s in scales], scale_factor=scale,
            variant=self.variant, **self.postprocess_args)
        people = []
        for n in range(len(images)):
            k = keypoints[n].numpy().reshape(-1, self.model.num_parts, 3)
            s = scores[n].numpy()
            kept = geometry.keep_top_people(k, s, self.number_people_max)
            people.append(People(k[kept], s[kept], scale))
        return people

    def save(self, directory):
        """Writes this extractor, network included, as one SavedModel (see
        `openpose_tf.serving`): images in, keypoints and scores out; load it with
        `openpose_tf.load_saved_model`. The network must be trackable (a `tf.Module`, a loaded
        SavedModel, a concrete function...) so that its weights are saved with it."""
        from openpose_tf import serving

        return serving.save(self, directory)

    def __call__(self, images) -> list[People]:
        """People of each image: `images` is a uint8 BGR batch `[N, H, W, 3]` or a list of
        `[H, W, 3]` images of any sizes (batched per size). Returns one `People` per image."""
        images, by_size = group_by_size(images)
        result: list[People | None] = [None] * len(images)
        for indices in by_size.values():
            for i, people in zip(indices, self._same_size(np.stack([images[i] for i in indices]))):
                result[i] = people
        if self.hand or self.face:
            self._hands_and_faces(images, result)
        return result

    def _hands_and_faces(self, images, result: list[People]) -> None:
        """OpenPose's hand and face stages for every person of every image (one image at a
        time: the crops of an image go through the networks together)."""
        from openpose_tf import hand_face

        for image, people in zip(images, result):
            batch, index = image[None], np.zeros(len(people.keypoints), np.int32)
            if self.hand:
                left, right = hand_face.hand_keypoints(
                    batch, index, people.keypoints, self.hand, self.model,
                    self.hand_scale_number, self.hand_scale_range)
                people.hand_left, people.hand_right = left.numpy(), right.numpy()
            if self.face:
                people.face = hand_face.face_keypoints(batch, index, people.keypoints,
                                                       self.face, self.model).numpy()
