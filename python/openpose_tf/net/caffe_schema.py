"""The part of Caffe's message schema that OpenPose's networks use, for the protobuf runtime.

Written here as data (no Caffe, no protoc): message names and field numbers as in Caffe's
`caffe.proto`, so `.prototxt` (text format) and `.caffemodel` (binary `NetParameter`) files parse
with `google.protobuf`. Fields we do not model are skipped when parsing text and ignored when
parsing binary files (protobuf keeps them as unknown fields).
"""

from __future__ import annotations

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

_F = descriptor_pb2.FieldDescriptorProto
_TYPES = {
    "string": _F.TYPE_STRING, "float": _F.TYPE_FLOAT, "double": _F.TYPE_DOUBLE,
    "int32": _F.TYPE_INT32, "int64": _F.TYPE_INT64, "uint32": _F.TYPE_UINT32,
    "bool": _F.TYPE_BOOL,
}

# message -> [(field name, number, type or message/enum name, label, default, packed)]
_MESSAGES = {
    "BlobShape": [("dim", 1, "int64", "repeated", None, True)],
    "BlobProto": [
        ("shape", 7, "BlobShape", "optional", None, False),
        ("data", 5, "float", "repeated", None, True),
        ("double_data", 8, "double", "repeated", None, True),
        ("num", 1, "int32", "optional", "0", False),
        ("channels", 2, "int32", "optional", "0", False),
        ("height", 3, "int32", "optional", "0", False),
        ("width", 4, "int32", "optional", "0", False),
    ],
    "FillerParameter": [
        ("type", 1, "string", "optional", "constant", False),
        ("value", 2, "float", "optional", "0", False),
        ("min", 3, "float", "optional", "0", False),
        ("max", 4, "float", "optional", "1", False),
        ("mean", 5, "float", "optional", "0", False),
        ("std", 6, "float", "optional", "1", False),
    ],
    "ParamSpec": [
        ("name", 1, "string", "optional", None, False),
        ("lr_mult", 3, "float", "optional", "1", False),
        ("decay_mult", 4, "float", "optional", "1", False),
    ],
    "ConvolutionParameter": [
        ("num_output", 1, "uint32", "optional", None, False),
        ("bias_term", 2, "bool", "optional", "true", False),
        ("pad", 3, "uint32", "repeated", None, False),
        ("kernel_size", 4, "uint32", "repeated", None, False),
        ("stride", 6, "uint32", "repeated", None, False),
        ("dilation", 18, "uint32", "repeated", None, False),
        ("pad_h", 9, "uint32", "optional", "0", False),
        ("pad_w", 10, "uint32", "optional", "0", False),
        ("kernel_h", 11, "uint32", "optional", None, False),
        ("kernel_w", 12, "uint32", "optional", None, False),
        ("stride_h", 13, "uint32", "optional", None, False),
        ("stride_w", 14, "uint32", "optional", None, False),
        ("group", 5, "uint32", "optional", "1", False),
        ("weight_filler", 7, "FillerParameter", "optional", None, False),
        ("bias_filler", 8, "FillerParameter", "optional", None, False),
        ("axis", 16, "int32", "optional", "1", False),
    ],
    "PoolingParameter": [
        ("pool", 1, "PoolMethod", "optional", "MAX", False),
        ("pad", 4, "uint32", "optional", "0", False),
        ("pad_h", 9, "uint32", "optional", "0", False),
        ("pad_w", 10, "uint32", "optional", "0", False),
        ("kernel_size", 2, "uint32", "optional", None, False),
        ("kernel_h", 5, "uint32", "optional", None, False),
        ("kernel_w", 6, "uint32", "optional", None, False),
        ("stride", 3, "uint32", "optional", "1", False),
        ("stride_h", 7, "uint32", "optional", None, False),
        ("stride_w", 8, "uint32", "optional", None, False),
        ("global_pooling", 12, "bool", "optional", "false", False),
        ("round_mode", 13, "RoundMode", "optional", "CEIL", False),
    ],
    "ReLUParameter": [("negative_slope", 1, "float", "optional", "0", False)],
    "PReLUParameter": [
        ("filler", 1, "FillerParameter", "optional", None, False),
        ("channel_shared", 2, "bool", "optional", "false", False),
    ],
    "ConcatParameter": [
        ("axis", 2, "int32", "optional", "1", False),
        ("concat_dim", 1, "uint32", "optional", "1", False),
    ],
    "InputParameter": [("shape", 1, "BlobShape", "repeated", None, False)],
    "LayerParameter": [
        ("name", 1, "string", "optional", None, False),
        ("type", 2, "string", "optional", None, False),
        ("bottom", 3, "string", "repeated", None, False),
        ("top", 4, "string", "repeated", None, False),
        ("param", 6, "ParamSpec", "repeated", None, False),
        ("blobs", 7, "BlobProto", "repeated", None, False),
        ("concat_param", 104, "ConcatParameter", "optional", None, False),
        ("convolution_param", 106, "ConvolutionParameter", "optional", None, False),
        ("input_param", 143, "InputParameter", "optional", None, False),
        ("pooling_param", 121, "PoolingParameter", "optional", None, False),
        ("prelu_param", 131, "PReLUParameter", "optional", None, False),
        ("relu_param", 123, "ReLUParameter", "optional", None, False),
    ],
    # The legacy (V1) layer of old .caffemodel files: `layers` instead of `layer`, enum types.
    "V1LayerParameter": [
        ("bottom", 2, "string", "repeated", None, False),
        ("top", 3, "string", "repeated", None, False),
        ("name", 4, "string", "optional", None, False),
        ("type", 5, "V1LayerType", "optional", None, False),
        ("blobs", 6, "BlobProto", "repeated", None, False),
        ("concat_param", 9, "ConcatParameter", "optional", None, False),
        ("convolution_param", 10, "ConvolutionParameter", "optional", None, False),
        ("pooling_param", 19, "PoolingParameter", "optional", None, False),
        ("relu_param", 30, "ReLUParameter", "optional", None, False),
    ],
    "NetParameter": [
        ("name", 1, "string", "optional", None, False),
        ("input", 3, "string", "repeated", None, False),
        ("input_shape", 8, "BlobShape", "repeated", None, False),
        ("input_dim", 4, "int32", "repeated", None, False),
        ("layer", 100, "LayerParameter", "repeated", None, False),
        ("layers", 2, "V1LayerParameter", "repeated", None, False),
    ],
}

_ENUMS = {
    "PoolMethod": ("PoolingParameter", [("MAX", 0), ("AVE", 1), ("STOCHASTIC", 2)]),
    "RoundMode": ("PoolingParameter", [("CEIL", 0), ("FLOOR", 1)]),
    "V1LayerType": ("V1LayerParameter", [
        ("NONE", 0), ("CONCAT", 3), ("CONVOLUTION", 4), ("DATA", 5), ("DROPOUT", 6),
        ("INNER_PRODUCT", 14), ("LRN", 15), ("POOLING", 17), ("RELU", 18), ("SIGMOID", 19),
        ("SOFTMAX", 20), ("SPLIT", 22), ("TANH", 23), ("ELTWISE", 25)]),
}

# V1 enum names -> the layer type strings of `layer`.
V1_TYPE_NAMES = {"CONCAT": "Concat", "CONVOLUTION": "Convolution", "POOLING": "Pooling",
                 "RELU": "ReLU"}

# V1 enum number -> layer type string ("Convolution"; the enum name where we have no type).
V1_LAYER_TYPES = {number: V1_TYPE_NAMES.get(name, name)
                  for name, number in _ENUMS["V1LayerType"][1]}


def _build():
    fdp = descriptor_pb2.FileDescriptorProto(name="openpose_tf_caffe.proto", package="caffe",
                                             syntax="proto2")
    enum_owner = {name: owner for name, (owner, _) in _ENUMS.items()}
    messages = {}
    for name, fields in _MESSAGES.items():
        message = fdp.message_type.add(name=name)
        messages[name] = message
        for field_name, number, kind, label, default, packed in fields:
            field = message.field.add(name=field_name, number=number)
            field.label = _F.LABEL_REPEATED if label == "repeated" else _F.LABEL_OPTIONAL
            if kind in _TYPES:
                field.type = _TYPES[kind]
            elif kind in _ENUMS:
                field.type = _F.TYPE_ENUM
                field.type_name = f".caffe.{enum_owner[kind]}.{kind}"
            else:
                field.type = _F.TYPE_MESSAGE
                field.type_name = f".caffe.{kind}"
            if default is not None:
                field.default_value = default
            if packed:
                field.options.packed = True
    for name, (owner, values) in _ENUMS.items():
        enum = messages[owner].enum_type.add(name=name)
        for value_name, number in values:
            enum.value.add(name=value_name, number=number)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fdp)
    return {name: message_factory.GetMessageClass(pool.FindMessageTypeByName(f"caffe.{name}"))
            for name in _MESSAGES}


_CLASSES = _build()
NetParameter = _CLASSES["NetParameter"]
LayerParameter = _CLASSES["LayerParameter"]
BlobProto = _CLASSES["BlobProto"]
