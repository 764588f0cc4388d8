"""Saving a CaffeNet as a TensorFlow SavedModel (or checkpoint) and loading it back.

A SavedModel's `serving_default` signature takes `image`: float32 `[N, H, W, 3]` (any H, W;
OpenPose's normalisation, see `preprocess`) and returns `{"net_output": [N, H/8, W/8, C]}`.
Beside it, `openpose_tf.json` says which pose model it is and how many channels it outputs, and
`network.prototxt` is the definition it was built from.

What is saved is portable: plain TensorFlow convolutions, no op of this project, so any
TensorFlow loads it. :func:`load` builds the network again from the prototxt and the saved
weights, with Winograd convolutions on a CPU (`CaffeNet(convolution=...)`).
"""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import tempfile

import tensorflow as tf

from openpose_tf import pose_models
from openpose_tf.net import caffe_io
from openpose_tf.net.model import CaffeNet, plan_layers

METADATA = "openpose_tf.json"
PROTOTXT = "network.prototxt"
FORMATS = ("savedmodel", "checkpoint")


def guess_pose_model(net) -> str | None:
    """The pose model whose net output has this many channels (None if none does), for a
    CaffeNet or a bare NetDefinition (shapes only, no weights). MPI's two prototxts share 44
    channels: the 4-stage one has no stage 5."""
    if isinstance(net, caffe_io.NetDefinition):
        definition = net
        plan, channels = plan_layers(definition)
        output_channels = channels[plan[-1][0].top[0]]
    else:
        definition, output_channels = net.definition, net.output_channels
    matches = [m.name for m in pose_models.MODELS.values() if m.num_channels == output_channels]
    if len(matches) > 1 and "MPI" in matches:
        has_stage5 = any("stage5" in layer.name for layer in definition.layers)
        return "MPI" if has_stage5 else "MPI_4_layers"
    return matches[0] if matches else None


def save(net: CaffeNet, out_dir, pose_model: str | None = None, fmt: str = "savedmodel",
         overwrite: bool = False) -> dict:
    """Writes `net` to `out_dir` as a SavedModel (default) or a checkpoint (+ a copy of the
    prototxt, needed to rebuild it). Returns the metadata written to openpose_tf.json.

    A non-empty `out_dir` is refused unless `overwrite`; then it is replaced whole. The model is
    written beside it first and renamed into place, so no file of an earlier model survives and
    an interrupted save leaves the earlier model intact."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, got {fmt!r}")
    net = net.with_convolution("direct")  # portable: no op of this project in the graph
    out = pathlib.Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ValueError(f"{out} exists and is not a directory")
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise ValueError(f"{out} is not empty; pass --overwrite (overwrite=True) to replace it")
    model = pose_models.get(pose_model).name if pose_model else guess_pose_model(net)
    metadata = {
        "format": fmt,
        "pose_model": model,
        "output_channels": net.output_channels,
        "output_blob": net.output_blob,
        "network": net.definition.name,
        "prototxt": pathlib.Path(net.definition.path).name,
        "input": "image: float32 [N, H, W, 3], BGR, x/256 - 0.5 (openpose_tf.net.preprocess)",
        "output": "net_output: float32 [N, H/8, W/8, C], channels in network order",
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = pathlib.Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        if fmt == "savedmodel":
            @tf.function(input_signature=[tf.TensorSpec([None, None, None, 3], tf.float32,
                                                        name="image")])
            def serve(image):
                return {"net_output": net(image)}

            tf.saved_model.save(net, str(staging), signatures={"serving_default": serve})
        else:
            tf.train.Checkpoint(net=net).write(str(staging / "weights"))
        shutil.copyfile(net.definition.path, staging / PROTOTXT)
        (staging / METADATA).write_text(json.dumps(metadata, indent=2) + "\n")
        _replace(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return metadata


def _replace(staging: pathlib.Path, out: pathlib.Path) -> None:
    """Moves `staging` to `out`, the earlier `out` (if any) out of the way first."""
    old = None
    if out.exists():
        old = pathlib.Path(tempfile.mkdtemp(prefix=f".{out.name}.old.", dir=out.parent))
        os.replace(out, old / "model")
    os.replace(staging, out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def load(path, convolution="auto"):
    """Loads what :func:`save` wrote: returns (callable image -> net_output, metadata).

    The network is a CaffeNet built again from `network.prototxt` and the saved weights, with
    `convolution` ("auto": Winograd where TensorFlow sees no GPU); a SavedModel written before
    the prototxt was saved beside it is returned as TensorFlow loads it."""
    path = pathlib.Path(path)
    meta_path = path / METADATA
    if not meta_path.is_file():
        raise caffe_io.CaffeModelError(f"{path}: no {METADATA}; not written by openpose-tf "
                                       "convert?")
    try:
        metadata = json.loads(meta_path.read_text())
        if not isinstance(metadata, dict):
            raise ValueError(f"a JSON object was expected, got {type(metadata).__name__}")
    except (ValueError, UnicodeDecodeError, RecursionError) as err:
        raise caffe_io.CaffeModelError(f"{meta_path}: corrupt metadata ({str(err)[:200]}); "
                                       "convert the model again") from None
    if metadata.get("format") == "checkpoint":
        net = CaffeNet(caffe_io.read_prototxt(path / PROTOTXT), convolution="direct")
        tf.train.Checkpoint(net=net).read(str(path / "weights")).assert_existing_objects_matched()
        return net.with_convolution(convolution), metadata
    loaded = tf.saved_model.load(str(path))
    if not (path / PROTOTXT).is_file():
        return loaded, metadata
    definition = caffe_io.read_prototxt(path / PROTOTXT)
    try:
        weights = {name: [v.numpy() for v in variables]
                   for name, variables in loaded.layer_weights.items()}
    except AttributeError as err:
        raise caffe_io.CaffeModelError(f"{path}: the SavedModel has no CaffeNet weights "
                                       f"({err}); convert the model again") from err
    return CaffeNet.from_tf_weights(definition, weights, convolution), metadata


class ServingNetwork(tf.Module):
    """A loaded SavedModel's `serving_default` as a network callable `image -> net_output` that
    stays trackable (so a whole-pipeline SavedModel can save it again)."""

    def __init__(self, loaded):
        super().__init__(name="serving_network")
        self.loaded = loaded
        self._serving = loaded.signatures["serving_default"]
        shape = self._serving.structured_outputs["net_output"].shape
        self.output_channels = shape[-1] if shape.rank else None

    def __call__(self, image):
        return self._serving(image=image)["net_output"]
