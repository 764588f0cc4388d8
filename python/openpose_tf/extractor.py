"""`PoseExtractor`: OpenPose's poseExtractor flow, from BGR images to people in image pixels.

It runs `openpose_tf.pipeline.estimate` (geometry, input warp, normalisation, network per scale,
`postprocess`, `--number_people_max`, hands and faces: all TensorFlow ops), traced once for every
image size, under the pipeline's batch rule; `save` writes the same function as one SavedModel.
"""

from __future__ import annotations

import warnings

import tensorflow as tf

from openpose_tf import geometry, hand_face, pipeline, pose_models
from openpose_tf.common import People, check_batch_size  # noqa: F401  (People: its old home)
from openpose_tf.net_input import check_input_format


class PoseExtractor(pipeline.BatchedPipeline):
    """OpenPose's body pose pipeline around any network.

    Args:
      network: a callable `[N, h, w, 3] float32 -> [N, h/8, w/8, C]` (or a dict holding it as
        "net_output") that `tf.function` can trace: a model from `openpose_tf.net`, a converted
        SavedModel (`openpose-tf convert`), a `graph.FrozenGraphNetwork`, a Keras model...
      pose_model: the network's pose model (name or `pose_models.PoseModel`).
      net_resolution: OpenPose's `--net_resolution` ("-1x368": the width follows each image's
        aspect ratio, a multiple of 16).
      net_resolution_dynamic: OpenPose's `--net_resolution_dynamic` (1: the width is capped at
        16:9; its wrapper uses -1, no cap, except for image folders).
      scale_number, scale_gap: OpenPose's multi-scale flags.
      number_people_max: OpenPose's `--number_people_max` (-1: all).
      variant: which OpenPose build to reproduce in the post-processing ("gpu" or "cpu").
      input_format: how the network wants its input (see `net_input.normalise`; OpenPose's nets:
        openpose). Default: the network's own `input_format` attribute (e.g. a
        `graph.FrozenGraphNetwork`), else "openpose".
      batch_size: images of one size per network call (1, the default, is OpenPose's own way).
        Every call is padded to this many images, so an image's people do not depend on its
        batch-mates; another batch size may move keypoints in their last float digits
        (TensorFlow's convolutions round by batch shape).
      one_image_per_call: call the network one image at a time whatever `batch_size` says. None
        (default): when the network's output for an image depends on its batch-mates
        (`pipeline.batch_mixing`: batch statistics); `why_one_image_per_call` then says why.
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
                 hand_scale_number=1, hand_scale_range=0.4, batch_size=1,
                 one_image_per_call=None, **postprocess_args):
        self.network = network
        self.model = pose_models.get(pose_model)
        # Clear errors now rather than at the first image.
        geometry.check_net_resolution(net_resolution, net_resolution_dynamic)
        geometry.check_scales(int(scale_number), float(scale_gap))
        self.net_resolution = net_resolution
        self.net_resolution_dynamic = float(net_resolution_dynamic)
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
        self.batch_size = check_batch_size(batch_size)
        self.why_one_image_per_call = None
        self._one_image_per_call = one_image_per_call
        if one_image_per_call is None and self.batch_size > 1:
            self.decide_batch_rule()
        self._traced = tf.function(self.estimate, input_signature=[pipeline.IMAGES_SIGNATURE],
                                   autograph=False)

    @property
    def one_image_per_call(self) -> bool:
        return bool(self._one_image_per_call)

    def decide_batch_rule(self) -> bool:
        """Settles `one_image_per_call` when it was left to detection (see the class); returns
        it. A warning says why when the network mixes its batch."""
        if self._one_image_per_call is None:
            self.why_one_image_per_call = pipeline.batch_mixing(self.network, self.input_format)
            self._one_image_per_call = self.why_one_image_per_call is not None
            if self.why_one_image_per_call and self.batch_size > 1:
                warnings.warn(f"openpose_tf: the network is called one image at a time: "
                              f"{self.why_one_image_per_call}", stacklevel=3)
        return self._one_image_per_call

    def settings(self) -> dict:
        """The pipeline's settings (`pipeline.estimate`'s keyword arguments but the stages)."""
        return dict(net_resolution=self.net_resolution,
                    net_resolution_dynamic=self.net_resolution_dynamic,
                    scale_number=self.scale_number, scale_gap=self.scale_gap,
                    number_people_max=self.number_people_max, variant=self.variant,
                    input_format=self.input_format, postprocess_args=self.postprocess_args,
                    hand_scale_number=self.hand_scale_number,
                    hand_scale_range=self.hand_scale_range)

    def estimate(self, images) -> dict:
        """`pipeline.estimate` with this extractor's network and settings (one image size)."""
        return pipeline.estimate(images, self.network, self.model, hand=self.hand,
                                 face=self.face, **self.settings())

    def _estimate(self, images) -> dict:
        return self._traced(images)

    def save(self, directory):
        """Writes this extractor, network included, as one SavedModel (see
        `openpose_tf.serving`): images in, keypoints and scores out; load it with
        `openpose_tf.load_saved_model`. The network must be trackable (a `tf.Module`, a loaded
        SavedModel, a concrete function...) so that its weights are saved with it."""
        from openpose_tf import serving

        self.decide_batch_rule()
        return serving.save(self, directory)
