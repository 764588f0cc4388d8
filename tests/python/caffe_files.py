"""Writes .caffemodel files for tests: random weights for a network definition, in the modern
(`layer`, blob `shape`) or legacy (`layers`, blob num/channels/height/width) format.

The packed float data is appended as raw little-endian bytes (protobuf fields may come in any
order), which is ~100x faster than filling the repeated field from Python.
"""

import numpy as np

from openpose_tf.net import caffe_io, caffe_schema, model

# Layer type string -> V1 enum number, from the schema.
V1_TYPES = {name: number for number, name in caffe_schema.V1_LAYER_TYPES.items()}


def _varint(n):
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _field(number, payload):
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _blob(array, legacy):
    blob = caffe_schema.BlobProto()
    if legacy:
        dims = (1,) * (4 - array.ndim) + array.shape
        blob.num, blob.channels, blob.height, blob.width = dims
    else:
        blob.shape.dim.extend(array.shape)
    return blob.SerializeToString() + _field(5, np.ascontiguousarray(array, "<f4").tobytes())


def random_weights(definition, seed=0):
    """He-scaled random blobs for every layer with weights: {name: [arrays]}."""
    rng = np.random.default_rng(seed)
    weights = {}
    for name, shapes in model.weight_shapes(definition).items():
        blobs = []
        for i, shape in enumerate(shapes):
            if len(shape) == 4:  # conv weights [O, I, kh, kw]
                fan_in = shape[1] * shape[2] * shape[3]
                scale = np.float32(np.sqrt(2.0 / fan_in))
                blobs.append(rng.standard_normal(shape, np.float32) * scale)
            elif i == 0:  # PReLU slopes
                blobs.append(rng.uniform(0.0, 0.3, shape).astype(np.float32))
            else:  # biases
                blobs.append(rng.normal(0, 0.1, shape).astype(np.float32))
        weights[name] = blobs
    return weights


def write_caffemodel(path, definition, weights, legacy=False):
    out = bytearray(_field(1, definition.name.encode()))
    types = {layer.name: layer.type for layer in definition.layers}
    for name, blobs in weights.items():
        if legacy:
            msg = _field(4, name.encode()) + _varint(5 << 3) + _varint(V1_TYPES[types[name]])
            msg += b"".join(_field(6, _blob(b, True)) for b in blobs)
            out += _field(2, msg)
        else:
            msg = _field(1, name.encode()) + _field(2, types[name].encode())
            msg += b"".join(_field(7, _blob(b, False)) for b in blobs)
            out += _field(100, msg)
    with open(path, "wb") as f:
        f.write(bytes(out))


def random_caffemodel(prototxt, path, seed=0, legacy=False):
    definition = caffe_io.read_prototxt(prototxt)
    weights = random_weights(definition, seed)
    write_caffemodel(path, definition, weights, legacy)
    return weights
