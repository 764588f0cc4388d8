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
import pickle

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


# Protobuf messages cannot exceed 2 GiB: no Caffe file is larger.
MAX_FILE_BYTES = 2 ** 31


def _read(path: pathlib.Path, what: str, binary: bool):
    try:
        if path.exists() and not path.is_file():  # a FIFO or /dev/zero would never end
            raise CaffeModelError(f"{path}: not a regular file (wanted: the {what})")
        if path.exists() and path.stat().st_size > MAX_FILE_BYTES:
            raise CaffeModelError(f"{path}: the {what} has {path.stat().st_size} bytes, more "
                                  f"than a Caffe file can hold (2 GiB, protobuf's limit)")
        return path.read_bytes() if binary else path.read_text(encoding="utf-8")
    except OSError as err:
        raise CaffeModelError(f"{path}: cannot read the {what}: {err}") from err
    except UnicodeDecodeError as err:
        raise CaffeModelError(f"{path}: the {what} is not UTF-8 text (byte {err.start}: "
                              f"{err.object[err.start:err.start + 1]!r}); a binary file "
                              f"given as the .prototxt?") from err


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
    except RecursionError:
        raise CaffeModelError(f"{path}: not a Caffe network definition: its messages are "
                              "nested too deeply to parse") from None
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
    if not raw:
        raise CaffeModelError(f"{path}: the weights file is empty")
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
    if not weights:
        raise CaffeModelError(f"{path}: no layer with weights found (not a .caffemodel?)")
    return weights


# What a caffe-tensorflow .npy may contain: arrays, dtypes and plain containers (dict, list,
# tuple: pickle builds those without a lookup). Anything else would run code from the file.
_NUMPY_CORE = getattr(np, "_core", None) or np.core
_PICKLE_ALLOWED = {
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("collections", "OrderedDict"): dict,
    # Python 3's protocol-2 pickles spell bytes as _codecs.encode(text, "latin1"): no side effect.
    ("_codecs", "encode"): __import__("codecs").encode,
}
for _module in ("numpy.core.multiarray", "numpy._core.multiarray"):
    _PICKLE_ALLOWED[(_module, "_reconstruct")] = _NUMPY_CORE.multiarray._reconstruct
    _PICKLE_ALLOWED[(_module, "scalar")] = _NUMPY_CORE.multiarray.scalar
for _module in ("numpy.core.numeric", "numpy._core.numeric"):
    _PICKLE_ALLOWED[(_module, "_frombuffer")] = _NUMPY_CORE.numeric._frombuffer


class _ArrayUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        allowed = _PICKLE_ALLOWED.get((module, name))
        if allowed is None:
            raise pickle.UnpicklingError(
                f"it asks to run {module}.{name}; only NumPy arrays, dtypes and plain containers "
                "are loaded from a weights file")
        return allowed


def _load_npy(path: pathlib.Path):
    """np.load without allow_pickle: object arrays (caffe-tensorflow's pickled dicts, Python 2
    pickles included) go through the restricted unpickler above."""
    with open(path, "rb") as f:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            _, _, dtype = np.lib.format.read_array_header_1_0(f)
        elif version == (2, 0):
            _, _, dtype = np.lib.format.read_array_header_2_0(f)
        else:
            raise ValueError(f".npy format version {version} is not supported")
        if dtype.hasobject:
            return _ArrayUnpickler(f, encoding="latin1").load()
    return np.load(path, allow_pickle=False)


def _float_blob(value, path, name, key) -> np.ndarray:
    try:
        return np.asarray(value, np.float32)
    except (TypeError, ValueError) as err:
        raise CaffeModelError(f"{path}: layer '{name}' entry {key!r} is not numeric "
                              f"({type(value).__name__}): {err}") from err


def read_npy(path) -> dict[str, list[np.ndarray]]:
    """caffe-tensorflow's .npy weights, converted to Caffe's layouts. Loaded without running any
    code from the file (a restricted unpickler admits only arrays and plain containers)."""
    path = pathlib.Path(path)
    try:
        data = _load_npy(path)
        data = data.item() if isinstance(data, np.ndarray) and data.dtype.hasobject \
            and data.shape == () else data
    except OSError as err:
        raise CaffeModelError(f"{path}: cannot read the weights: {err}") from err
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
                w = _float_blob(entry["weights"], path, name, "weights")
                blobs.append(w.transpose(3, 2, 0, 1) if w.ndim == 4 else w)  # HWIO -> OIHW
            if "biases" in entry:
                blobs.append(_float_blob(entry["biases"], path, name, "biases"))
            if "alpha" in entry:  # PReLU slopes
                blobs.append(_float_blob(entry["alpha"], path, name, "alpha"))
        elif isinstance(entry, (list, tuple)):
            blobs = [_float_blob(b, path, name, i) for i, b in enumerate(entry)]
        else:
            raise CaffeModelError(f"{path}: layer '{name}' holds a {type(entry).__name__}, not "
                                  "a dict or list of arrays")
        weights[str(name)] = blobs
    return weights


def read_weights(path) -> dict[str, list[np.ndarray]]:
    """Weights from a .caffemodel, or a caffe-tensorflow .npy (by extension)."""
    return read_npy(path) if str(path).endswith(".npy") else read_caffemodel(path)
