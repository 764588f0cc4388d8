"""CaffeNet: an OpenPose network (any Caffe net made of the supported layers) as a tf.Module."""

from __future__ import annotations

import re

import numpy as np
import tensorflow as tf

from openpose_tf.net import caffe_io, layers as caffe_layers, winograd
from openpose_tf.net.caffe_io import CaffeModelError


class CaffeNet(tf.Module):
    """Computes what a .prototxt describes, in NHWC, for any input height and width.

    Call it on float32 `[N, H, W, 3]` images already normalised as OpenPose does
    (:func:`openpose_tf.net.preprocess`: BGR, `x/256 - 0.5`); it returns the prototxt's final
    blob (OpenPose's `net_output`), `[N, H/8, W/8, C]` for the pose, hand and face networks,
    channels in network order.

    `convolution`: how the 3x3 stride-1 convolutions run. "winograd" (Winograd F(4x4, 3x3) with
    the op library's transforms, the ReLU/PReLU that follows fused in; CPU only, 1.2-2x faster
    on OpenPose's networks: :mod:`openpose_tf.net.winograd`), "direct" (`tf.nn.conv2d`, any
    device, what `openpose-tf convert` saves) or "auto" (winograd unless TensorFlow sees a GPU
    or the op library does not load). The two agree within float32 rounding.
    """

    def __init__(self, definition: caffe_io.NetDefinition, weights=None, name=None,
                 convolution="auto"):
        super().__init__(name=name)
        self.definition = definition
        self.convolution = winograd.resolve(convolution)
        self._plan, self._channels = plan_layers(definition)
        self._fused = _fused_activations(self._plan) if self.convolution == "winograd" else {}
        self.layer_weights = {}  # as the layers define them (kernels in TF's layout)
        self.winograd_weights = {}  # G g G^T [36, C, K] of the Winograd convolutions: 4x more
        for layer, spec in self._plan:
            shapes = spec.weight_shapes()
            if not shapes:
                continue
            blobs = self._blobs_for(layer, spec, shapes, weights)
            if isinstance(spec, caffe_layers.Conv):
                blobs = spec.to_tf(blobs)
                if self._winograd(spec):
                    self.winograd_weights[layer.name] = tf.Variable(
                        winograd.transform_weights(blobs[0]), trainable=False,
                        name=f"{_safe(layer.name)}_winograd")
            self.layer_weights[layer.name] = [
                tf.Variable(b, trainable=False, name=f"{_safe(layer.name)}_{i}")
                for i, b in enumerate(blobs)]
        self.output_blob = self._plan[-1][0].top[0]
        self.output_channels = self._channels[self.output_blob]

    def _winograd(self, spec) -> bool:
        return (self.convolution == "winograd" and isinstance(spec, caffe_layers.Conv) and
                winograd.applies(spec))

    @classmethod
    def from_tf_weights(cls, definition, weights, convolution="auto", name=None):
        """A CaffeNet from the variables' values of a "direct" one ({layer: [arrays]},
        convolution kernels in TensorFlow's `[kh, kw, I/g, O]`), e.g. read from a SavedModel."""
        plan, _ = plan_layers(definition)
        specs = {layer.name: spec for layer, spec in plan}
        blobs = {}
        for layer, arrays in weights.items():
            arrays = [np.asarray(a) for a in arrays]
            if isinstance(specs.get(layer), caffe_layers.Conv) and arrays and \
                    arrays[0].ndim == 4:
                arrays[0] = arrays[0].transpose(3, 2, 0, 1)  # -> Caffe's [O, I/g, kh, kw]
            blobs[layer] = arrays
        return cls(definition, blobs, name=name, convolution=convolution)

    def with_convolution(self, convolution="auto") -> "CaffeNet":
        """This network with another `convolution` (itself if it already has it)."""
        if winograd.resolve(convolution) == self.convolution:
            return self
        weights = {name: [v.numpy() for v in variables]
                   for name, variables in self.layer_weights.items()}
        return CaffeNet.from_tf_weights(self.definition, weights, convolution)

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
        for index, (layer, spec) in enumerate(self._plan):
            if index - 1 in self._fused:  # done by the convolution before it
                continue
            weights = self.layer_weights.get(layer.name, [])
            with tf.name_scope(_safe(layer.name)):  # per-layer names in profiles
                if isinstance(spec, caffe_layers.Concat):
                    y = spec([blobs[b] for b in layer.bottom], weights)
                elif self._winograd(spec):
                    y = self._winograd_conv(index, spec, blobs[layer.bottom[0]],
                                            [self.winograd_weights[layer.name]] + weights[1:])
                else:
                    y = spec(blobs[layer.bottom[0]], weights)
            blobs[layer.top[0]] = y
        return blobs[self.output_blob]

    def _winograd_conv(self, index, spec, x, weights):
        bias = weights[1] if spec.bias else tf.zeros([spec.out])
        activation = self._fused.get(index)
        if activation is None:
            return winograd.conv(x, weights[0], bias, spec.pad)
        layer, act = self._plan[index + 1]
        if isinstance(act, caffe_layers.PReLU):
            slope = self.layer_weights[layer.name][0]
            return winograd.conv(x, weights[0], bias, spec.pad, "prelu", slope)
        if act.slope == 0:
            return winograd.conv(x, weights[0], bias, spec.pad, "relu")
        return winograd.conv(x, weights[0], bias, spec.pad, "prelu",
                             tf.constant([act.slope], tf.float32))


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


def _fused_activations(plan) -> dict[int, object]:
    """{index of a convolution: its activation spec} where the next layer is a ReLU or PReLU
    working in place on the convolution's output (OpenPose's nets always do): nothing else can
    read the value before activation, so the two run as one."""
    fused = {}
    for index, (layer, spec) in enumerate(plan[:-1]):
        after, act = plan[index + 1]
        if (isinstance(spec, caffe_layers.Conv) and winograd.applies(spec) and
                isinstance(act, (caffe_layers.ReLU, caffe_layers.PReLU)) and
                list(after.bottom) == [layer.top[0]] and list(after.top) == [layer.top[0]]):
            fused[index] = act
    return fused


def weight_shapes(definition: caffe_io.NetDefinition) -> dict[str, list[tuple[int, ...]]]:
    """{layer name: [blob shapes in Caffe's layouts]} for the layers that have weights."""
    plan, _ = plan_layers(definition)
    return {layer.name: spec.weight_shapes() for layer, spec in plan if spec.weight_shapes()}


def _safe(name: str) -> str:
    """A layer name as a TensorFlow name (of a variable, of a root name scope: ASCII letters,
    digits and `_.-`, not starting with `_` or `-`)."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", name)
    return safe if re.match(r"[A-Za-z0-9.]", safe) else f"layer{safe}"


def from_caffe(prototxt, weights, convolution="auto") -> CaffeNet:
    """Builds the network of `prototxt` with the weights of `weights` (a .caffemodel, or a
    caffe-tensorflow .npy dict); `convolution` as CaffeNet's. Errors (`CaffeModelError`, a
    ValueError) name the file and the layer: unreadable or corrupt files, unsupported layer
    types, missing or mis-shaped blobs."""
    return CaffeNet(caffe_io.read_prototxt(prototxt), caffe_io.read_weights(weights),
                    convolution=convolution)


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
