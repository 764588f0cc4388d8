"""CaffeNet: an OpenPose network (any Caffe net made of the supported layers) as a tf.Module."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from openpose_tf.net import caffe_io, layers as caffe_layers
from openpose_tf.net.caffe_io import CaffeModelError


class CaffeNet(tf.Module):
    """Computes what a .prototxt describes, in NHWC, for any input height and width.

    Call it on float32 `[N, H, W, 3]` images already normalised as OpenPose does
    (:func:`openpose_tf.net.preprocess`: BGR, `x/256 - 0.5`); it returns the prototxt's final
    blob (OpenPose's `net_output`), `[N, H/8, W/8, C]` for the pose, hand and face networks,
    channels in network order.
    """

    def __init__(self, definition: caffe_io.NetDefinition, weights=None, name=None):
        super().__init__(name=name)
        self.definition = definition
        self._plan, self._channels = plan_layers(definition)
        self.layer_weights = {}
        for layer, spec in self._plan:
            shapes = spec.weight_shapes()
            if not shapes:
                continue
            blobs = self._blobs_for(layer, spec, shapes, weights)
            if isinstance(spec, caffe_layers.Conv):
                blobs = spec.to_tf(blobs)
            self.layer_weights[layer.name] = [
                tf.Variable(b, trainable=False, name=f"{_safe(layer.name)}_{i}")
                for i, b in enumerate(blobs)]
        self.output_blob = self._plan[-1][0].top[0]
        self.output_channels = self._channels[self.output_blob]

    def _blobs_for(self, layer, spec, shapes, weights):
        path = self.definition.path
        if weights is None:  # shapes only, e.g. to restore a checkpoint
            return [np.zeros(s, np.float32) for s in shapes]
        blobs = weights.get(layer.name)
        if blobs is None:
            raise CaffeModelError(f"the weights have no blobs for layer '{layer.name}' "
                                  f"({layer.type}) of {path}")
        if len(blobs) < len(shapes):
            raise CaffeModelError(f"layer '{layer.name}' ({layer.type}) of {path}: the weights "
                                  f"have {len(blobs)} blob(s), {len(shapes)} wanted")
        out = []
        for i, (blob, wanted) in enumerate(zip(blobs, shapes)):
            if not caffe_layers.shapes_match(blob, wanted):
                raise CaffeModelError(
                    f"layer '{layer.name}' ({layer.type}) of {path}: blob {i} has shape "
                    f"{list(blob.shape)}, the network definition wants {list(wanted)}")
            out.append(blob.reshape(wanted).astype(np.float32))
        return out

    # autograph=False: the layer loop is plain Python over a fixed plan (no tensor-dependent control
    # flow), and converting every layer call made the first trace of BODY_25 take ~6 s.
    @tf.function(input_signature=[tf.TensorSpec([None, None, None, 3], tf.float32)],
                 autograph=False)
    def __call__(self, image):
        blobs = {blob: image for blob, _ in self.definition.inputs}
        for layer, spec in self._plan:
            weights = self.layer_weights.get(layer.name, [])
            if isinstance(spec, caffe_layers.Concat):
                y = spec([blobs[b] for b in layer.bottom], weights)
            else:
                y = spec(blobs[layer.bottom[0]], weights)
            blobs[layer.top[0]] = y
        return blobs[self.output_blob]


def plan_layers(definition: caffe_io.NetDefinition):
    """Parses every layer into a spec and tracks each blob's channels, validating the wiring.

    Returns ([(layer, spec)], {blob: channels})."""
    path = definition.path
    channels = {}
    for blob, shape in definition.inputs:
        channels[blob] = int(shape[1]) if len(shape) > 1 else 3
    plan = []
    for layer in definition.layers:
        if layer.type not in caffe_layers.PARSERS:
            raise CaffeModelError(
                f"{path}: layer '{layer.name}' has type '{layer.type}', which is not "
                f"supported (supported: {', '.join(caffe_layers.SUPPORTED)})")
        if not layer.bottom or not layer.top:
            raise CaffeModelError(f"{path}: layer '{layer.name}' ({layer.type}) has "
                                  f"{len(layer.bottom)} bottom and {len(layer.top)} top blobs; "
                                  "it needs at least one of each")
        missing = [b for b in layer.bottom if b not in channels]
        if missing:
            raise CaffeModelError(f"{path}: layer '{layer.name}' reads undefined blob(s) "
                                  f"{missing}")
        try:
            spec = caffe_layers.PARSERS[layer.type](layer.param, channels[layer.bottom[0]])
            spec.check(layer.name)
        except ValueError as err:
            raise CaffeModelError(f"{path}: {err}") from err
        if isinstance(spec, caffe_layers.Concat) and spec.axis != 1 and \
                len({channels[b] for b in layer.bottom}) > 1:
            raise CaffeModelError(f"{path}: layer '{layer.name}' concatenates along axis "
                                  f"{spec.axis} blobs of different channels "
                                  f"{[channels[b] for b in layer.bottom]}")
        if isinstance(spec, caffe_layers.Conv):
            out = spec.out
        elif isinstance(spec, caffe_layers.Concat):
            out = sum(channels[b] for b in layer.bottom) if spec.axis == 1 else \
                channels[layer.bottom[0]]
        else:
            out = channels[layer.bottom[0]]
        channels[layer.top[0]] = out
        plan.append((layer, spec))
    return plan, channels


def weight_shapes(definition: caffe_io.NetDefinition) -> dict[str, list[tuple[int, ...]]]:
    """{layer name: [blob shapes in Caffe's layouts]} for the layers that have weights."""
    plan, _ = plan_layers(definition)
    return {layer.name: spec.weight_shapes() for layer, spec in plan if spec.weight_shapes()}


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "_-." else "_" for ch in name)


def from_caffe(prototxt, weights) -> CaffeNet:
    """Builds the network of `prototxt` with the weights of `weights` (a .caffemodel, or a
    caffe-tensorflow .npy dict). Errors (`CaffeModelError`, a ValueError) name the file and the
    layer: unreadable or corrupt files, unsupported layer types, missing or mis-shaped blobs."""
    return CaffeNet(caffe_io.read_prototxt(prototxt), caffe_io.read_weights(weights))


def preprocess(bgr_uint8):
    """OpenPose's input normalisation (uCharCvMatToFloatPtr, normalize=1): BGR uint8 images
    `[H, W, 3]` or `[N, H, W, 3]` -> float32 `x/256 - 0.5`, channel order kept (BGR, no swap).
    Exact in float32 (1/256 is a power of two)."""
    x = tf.convert_to_tensor(bgr_uint8)
    if x.dtype != tf.uint8:
        raise TypeError(f"preprocess expects uint8 BGR images, got dtype {x.dtype.name}")
    if x.shape.rank not in (3, 4) or (x.shape[-1] is not None and x.shape[-1] != 3):
        raise ValueError(f"preprocess expects [H, W, 3] or [N, H, W, 3], got shape {x.shape}")
    return tf.cast(x, tf.float32) * (1.0 / 256.0) - 0.5
