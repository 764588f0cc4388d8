"""Saving a CaffeNet as a TensorFlow SavedModel (or checkpoint) and loading it back.

A SavedModel's `serving_default` signature takes `image`: float32 `[N, H, W, 3]` (any H, W;
OpenPose's normalisation, see `preprocess`) and returns `{"net_output": [N, H/8, W/8, C]}`.
Beside it, `openpose_tf.json` says which pose model it is and how many channels it outputs.
"""

from __future__ import annotations

import json
import pathlib
import shutil

import tensorflow as tf

from openpose_tf import pose_models
from openpose_tf.net import caffe_io
from openpose_tf.net.model import CaffeNet

METADATA = "openpose_tf.json"
FORMATS = ("savedmodel", "checkpoint")


def guess_pose_model(net: CaffeNet) -> str | None:
    """The pose model whose net output has this many channels (None if none does). MPI's two
    prototxts share 44 channels: the 4-stage one has no stage 5."""
    matches = [m.name for m in pose_models.MODELS.values() if m.num_channels == net.output_channels]
    if len(matches) > 1 and "MPI" in matches:
        has_stage5 = any("stage5" in layer.name for layer in net.definition.layers)
        return "MPI" if has_stage5 else "MPI_4_layers"
    return matches[0] if matches else None


def save(net: CaffeNet, out_dir, pose_model: str | None = None, fmt: str = "savedmodel") -> dict:
    """Writes `net` to `out_dir` as a SavedModel (default) or a checkpoint (+ a copy of the
    prototxt, needed to rebuild it). Returns the metadata written to openpose_tf.json."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, got {fmt!r}")
    out = pathlib.Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
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
    if fmt == "savedmodel":
        @tf.function(input_signature=[tf.TensorSpec([None, None, None, 3], tf.float32,
                                                    name="image")])
        def serve(image):
            return {"net_output": net(image)}

        tf.saved_model.save(net, str(out), signatures={"serving_default": serve})
    else:
        tf.train.Checkpoint(net=net).write(str(out / "weights"))
        shutil.copyfile(net.definition.path, out / "network.prototxt")
    (out / METADATA).write_text(json.dumps(metadata, indent=2) + "\n")
    return metadata


def load(path):
    """Loads what :func:`save` wrote: returns (callable image -> net_output, metadata)."""
    path = pathlib.Path(path)
    meta_path = path / METADATA
    if not meta_path.is_file():
        raise caffe_io.CaffeModelError(f"{path}: no {METADATA}; not written by openpose-tf "
                                       "convert?")
    metadata = json.loads(meta_path.read_text())
    if metadata.get("format") == "checkpoint":
        net = CaffeNet(caffe_io.read_prototxt(path / "network.prototxt"))
        tf.train.Checkpoint(net=net).read(str(path / "weights")).assert_existing_objects_matched()
        return net, metadata
    loaded = tf.saved_model.load(str(path))
    return loaded, metadata
