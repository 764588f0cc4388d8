"""Reading Caffe network definitions and weights without Caffe.

- `.prototxt`: protobuf text `NetParameter` (`layer` or legacy `layers`).
- `.caffemodel`: binary `NetParameter`; blobs with `shape` or legacy num/channels/height/width.
- `.npy`: caffe-tensorflow's weight dict ({layer: {"weights": HWIO, "biases": [O]}}), for users
  who already converted that way; converted back to Caffe's layouts here.

Weights come back as {layer name: [blob, ...]} in Caffe's layouts (conv: [O, I/group, kh, kw]).
"""

from __future__ import annotations

import dataclasses
import pathlib

import numpy as np
from google.protobuf import message as protobuf_message
from google.protobuf import text_format

from openpose_tf.net import caffe_schema


class CaffeModelError(ValueError):
    """A model file cannot be read or does not match its network definition."""


@dataclasses.dataclass
class Layer:
    """One layer of a network definition, `layer` and legacy `layers` alike."""

    name: str
    type: str
    bottom: list[str]
    top: list[str]
    param: object  # the LayerParameter / V1LayerParameter message (its *_param fields)


@dataclasses.dataclass
class NetDefinition:
    name: str
    inputs: list[tuple[str, list[int]]]  # (blob, NCHW shape as declared; H, W are ignored)
    layers: list[Layer]
    path: str


def _read(path: pathlib.Path, what: str, binary: bool):
    try:
        return path.read_bytes() if binary else path.read_text()
    except OSError as err:
        raise CaffeModelError(f"{path}: cannot read the {what}: {err}") from err


def _layers(net) -> list[Layer]:
    layers = [Layer(l.name, l.type, list(l.bottom), list(l.top), l) for l in net.layer]
    for l in net.layers:
        layers.append(Layer(l.name, caffe_schema.V1_LAYER_TYPES.get(l.type, str(l.type)),
                            list(l.bottom), list(l.top), l))
    return layers


def read_prototxt(path) -> NetDefinition:
    """Parses a .prototxt; CaffeModelError naming the file and line on a syntax error."""
    path = pathlib.Path(path)
    text = _read(path, "network definition", binary=False)
    net = caffe_schema.NetParameter()
    try:
        text_format.Parse(text, net, allow_unknown_field=True)
    except text_format.ParseError as err:
        raise CaffeModelError(f"{path}: not a Caffe network definition: {err}") from err
    inputs = []
    dims = list(net.input_dim)
    for i, blob in enumerate(net.input):
        if i < len(net.input_shape):
            inputs.append((blob, list(net.input_shape[i].dim)))
        else:
            inputs.append((blob, dims[4 * i:4 * i + 4]))
    layers = _layers(net)
    for layer in layers:
        if layer.type == "Input":
            shapes = list(layer.param.input_param.shape)
            for i, blob in enumerate(layer.top):
                inputs.append((blob, list(shapes[i].dim) if i < len(shapes) else []))
    if not layers:
        raise CaffeModelError(f"{path}: the network definition has no layers")
    if not inputs:
        raise CaffeModelError(f"{path}: the network definition declares no input")
    return NetDefinition(net.name, inputs, [l for l in layers if l.type != "Input"], str(path))


def _blob_array(blob, path, layer, index) -> np.ndarray:
    if len(blob.shape.dim):
        shape = tuple(blob.shape.dim)
    else:  # legacy 4-D blob dims
        shape = (blob.num, blob.channels, blob.height, blob.width)
    data = np.array(blob.data, dtype=np.float32) if len(blob.data) else \
        np.array(blob.double_data, dtype=np.float32)
    if data.size != int(np.prod(shape)):
        raise CaffeModelError(
            f"{path}: layer '{layer}' blob {index} declares shape {list(shape)} "
            f"({int(np.prod(shape))} values) but holds {data.size} (truncated or corrupt?)")
    return data.reshape(shape)


def read_caffemodel(path) -> dict[str, list[np.ndarray]]:
    """The weights of a binary .caffemodel: {layer name: [blobs]} (layers without blobs omitted)."""
    path = pathlib.Path(path)
    raw = _read(path, "weights", binary=True)
    net = caffe_schema.NetParameter()
    try:
        net.ParseFromString(raw)
    except protobuf_message.DecodeError as err:
        raise CaffeModelError(f"{path}: not a Caffe .caffemodel (truncated or corrupt?): "
                              f"{err}") from err
    weights = {}
    for layer in _layers(net):
        blobs = list(layer.param.blobs)
        if blobs:
            weights[layer.name] = [_blob_array(b, path, layer.name, i)
                                   for i, b in enumerate(blobs)]
    if not weights and raw:
        raise CaffeModelError(f"{path}: no layer with weights found (not a .caffemodel?)")
    return weights


def read_npy(path) -> dict[str, list[np.ndarray]]:
    """caffe-tensorflow's .npy weights, converted to Caffe's layouts."""
    path = pathlib.Path(path)
    try:
        data = np.load(path, allow_pickle=True, encoding="latin1").item()
    except Exception as err:  # noqa: BLE001 - any unreadable file is the same error to a user
        raise CaffeModelError(f"{path}: not a caffe-tensorflow .npy weight dict: {err}") from err
    if not isinstance(data, dict):
        raise CaffeModelError(f"{path}: expected a dict of layer name -> weights, got "
                              f"{type(data).__name__}")
    weights = {}
    for name, entry in data.items():
        if isinstance(entry, dict):
            blobs = []
            if "weights" in entry:
                w = np.asarray(entry["weights"], np.float32)
                blobs.append(w.transpose(3, 2, 0, 1) if w.ndim == 4 else w)  # HWIO -> OIHW
            if "biases" in entry:
                blobs.append(np.asarray(entry["biases"], np.float32))
            if "alpha" in entry:  # PReLU slopes
                blobs.append(np.asarray(entry["alpha"], np.float32))
        else:
            blobs = [np.asarray(b, np.float32) for b in entry]
        weights[str(name)] = blobs
    return weights


def read_weights(path) -> dict[str, list[np.ndarray]]:
    """Weights from a .caffemodel, or a caffe-tensorflow .npy (by extension)."""
    return read_npy(path) if str(path).endswith(".npy") else read_caffemodel(path)
