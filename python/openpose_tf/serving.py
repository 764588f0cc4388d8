"""The whole pose pipeline as one TensorFlow graph: `PoseExtractor.save(DIR)` and
`load_saved_model(DIR)`.

The serving signature takes `images`, a uint8 BGR batch `[N, H, W, 3]` (one size per call, any
size), and returns `keypoints` `[T, P, 3]` and `scores` `[T]` for the T people of the whole batch,
`people_per_image` `[N]` (row lengths: image n owns the next `people_per_image[n]` rows) and
`scale_net_to_output` `[N]`. Inside is `openpose_tf.pipeline.estimate`, the very function
`PoseExtractor` traces (geometry, input warp, normalisation, network per scale, `postprocess`,
`--number_people_max`): the same people, byte for byte. An extractor with hands and faces adds
`hand_left`, `hand_right` `[T, 21, 3]` and `face` `[T, 70, 3]` (their networks saved with the
body's). `openpose_tf.json` beside it records the settings and the batch rule
(`batch_size`, `one_image_per_call`), which `SavedPipeline` follows.

Loading needs our op library first: use `openpose_tf.load_saved_model(DIR)` (or call
`openpose_tf.ops.load_library()` before `tf.saved_model.load`); `import openpose_tf` alone does not
load it, so that importing the package stays cheap.
"""

from __future__ import annotations

import json
import pathlib

import tensorflow as tf

from openpose_tf import ops, pipeline
from openpose_tf.common import check_batch_size, write_atomic

METADATA = "openpose_tf.json"


class PosePipeline(tf.Module):
    """The SavedModel's object: `serve(images)` is the serving signature, `pipeline.estimate`
    with the extractor's network, stages and settings."""

    def __init__(self, extractor):
        super().__init__(name="openpose_tf_pipeline")
        self.network = extractor.network
        self._model = extractor.model
        self._hand, self._face = extractor.hand, extractor.face
        self._settings = extractor.settings()
        self.config = dict(pose_model=extractor.model.name, **self._settings,
                           batch_size=extractor.batch_size,
                           one_image_per_call=extractor.one_image_per_call,
                           why_one_image_per_call=extractor.why_one_image_per_call)
        for kind, stage in (("hand", extractor.hand), ("face", extractor.face)):
            if stage is not None:
                setattr(self, f"{kind}_network", stage.network)  # tracked: saved with the model
                self.config[kind] = dict(net_resolution=stage.net_resolution,
                                         batch_size=stage.batch_size,
                                         input_format=stage.input_format)
        if extractor.hand is not None:
            self.config["hand"].update(scale_number=extractor.hand_scale_number,
                                       scale_range=extractor.hand_scale_range)
        self.serve = tf.function(self._serve, input_signature=[pipeline.IMAGES_SIGNATURE],
                                 autograph=False)

    def _serve(self, images):
        return pipeline.estimate(images, self.network, self._model, hand=self._hand,
                                 face=self._face, **self._settings)


def save(extractor, directory) -> pathlib.Path:
    """Writes `extractor` (network included) as one SavedModel; see the module docstring."""
    ops.load_library()
    module = PosePipeline(extractor)
    directory = pathlib.Path(directory)
    tf.saved_model.save(module, str(directory), signatures={"serving_default": module.serve})
    write_atomic(directory / METADATA, json.dumps(
        {"kind": "pose_pipeline", "tensorflow": tf.__version__, **module.config}, indent=1))
    return directory


def read_metadata(directory) -> dict:
    """The `openpose_tf.json` of a whole-pipeline SavedModel ({} when there is none); a corrupt
    file is reported as that file's fault."""
    path = pathlib.Path(directory) / METADATA
    if not path.exists():
        return {}
    try:
        metadata = json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError, RecursionError) as err:
        raise ValueError(f"{path}: corrupt pipeline metadata ({type(err).__name__}: "
                         f"{str(err)[:200]}); save the pipeline again") from None
    if not isinstance(metadata, dict):
        raise ValueError(f"{path}: corrupt pipeline metadata (a JSON object was expected, got "
                         f"{type(metadata).__name__}); save the pipeline again")
    return metadata


class SavedPipeline(pipeline.BatchedPipeline):
    """A pipeline written by `PoseExtractor.save`, called like the extractor, under the batch
    rule it was saved with (`batch_size` overrides its batch size)."""

    def __init__(self, directory, batch_size: int | None = None):
        directory = pathlib.Path(directory)
        ops.load_library()
        self.metadata = read_metadata(directory)
        self.model = tf.saved_model.load(str(directory))
        self.serve = self.model.signatures["serving_default"]
        self.batch_size = check_batch_size(self.metadata.get("batch_size", 1)
                                           if batch_size is None else batch_size)
        self.one_image_per_call = bool(self.metadata.get("one_image_per_call", False))

    def _estimate(self, images) -> dict:
        return self.serve(images=images)


def load_saved_model(directory, batch_size: int | None = None) -> SavedPipeline:
    """Loads a whole-pipeline SavedModel (our op library first)."""
    return SavedPipeline(directory, batch_size)
