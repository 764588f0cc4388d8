"""The flags `run`, `beam` and `bench` share, and what they build: the network
(`network_from_args`), the extractor (`make_extractor`) and the per-frame outputs
(`output_options`). Heavy imports stay inside the functions, so `--help` is instant."""

from __future__ import annotations

import sys
import warnings

from openpose_tf.common import INPUT_FORMATS

# Flags whose value may start with '-' (OpenPose writes `--net_resolution -1x368`).
NEGATIVE_VALUE_FLAGS = ("--net_resolution", "--number_people_max", "--net_resolution_dynamic",
                        "--write_video_fps")


def add_network_arguments(parser, required: bool = True):
    """The network flags (shared by `run`, `beam` and `bench`; see network_from_args). Returns
    the group of mutually exclusive network choices, for a command to add its own."""
    network = parser.add_argument_group("network (one of)")
    choice = network.add_mutually_exclusive_group(required=required)
    choice.add_argument("--model",
                        help="a model written by `openpose-tf convert` (SavedModel or checkpoint)")
    choice.add_argument("--frozen_graph", help="a frozen TF1 GraphDef (.pb) of a pose network")
    choice.add_argument("--meta_graph", help="a TF1 .meta graph (with --checkpoint)")
    network.add_argument("--checkpoint", help="the --meta_graph's checkpoint prefix")
    network.add_argument("--input_tensor", default="image:0",
                         help="the graph's input tensor")
    network.add_argument("--output_tensor", default="Openpose/concat_stage7:0",
                         help="the graph's [N, H/8, W/8, C] output tensor")
    network.add_argument("--input_format", choices=INPUT_FORMATS,
                         help="the input the graph wants: openpose (x/256 - 0.5, BGR), bgr255 "
                              "(raw BGR 0..255, tf-pose-estimation's), rgb255, rgb01 (default: "
                              "bgr255 for --frozen_graph, openpose otherwise)")
    return choice


def add_pose_arguments(parser) -> None:
    """OpenPose's pose-estimation flags (shared by `run` and `beam`); see make_extractor."""
    net = parser.add_argument_group("pose estimation (OpenPose's flags)")
    net.add_argument("--model_pose", help="the network's pose model (default: from the model)")
    net.add_argument("--net_resolution", default="-1x368",
                     help="net input WxH, multiples of 16; -1 follows the aspect ratio")
    net.add_argument("--net_resolution_dynamic", type=float, default=1.0,
                     help="cap a -1 dimension at this times 16:9 (-1: no cap); as in OpenPose, "
                          "for images only: `run --video` never caps")
    net.add_argument("--scale_number", type=int, default=1, help="scales")
    net.add_argument("--scale_gap", type=float, default=0.25, help="scale i is 1 - i * gap")
    net.add_argument("--number_people_max", type=int, default=-1,
                     help="keep at most this many people per frame (-1: all)")
    net.add_argument("--maximize_positives", action="store_true",
                     help="OpenPose's lower thresholds (more people, more false positives)")
    net.add_argument("--variant", choices=("gpu", "cpu"), default="gpu",
                     help="which OpenPose build's post-processing to reproduce (gpu: its CUDA "
                          "build; cpu: its CPU build). Runs on any device either way.")


def add_batch_arguments(parser, default_batch_size=1) -> None:
    """The batch rule's flags (shared by `run` and `beam`; see make_extractor)."""
    parser.add_argument("--batch_size", type=int, default=default_batch_size,
                        help="same-sized images per network call, every call padded to it so an "
                             "image's people do not depend on its batch-mates (another batch "
                             "size may move keypoints in the last float digits)" +
                             ("" if default_batch_size else "; default: the pipeline model's "
                              "own (1 for one written from --model)"))
    parser.add_argument("--one_image_per_call", choices=("auto", "yes", "no"), default="auto",
                        help="call the network one image at a time whatever --batch_size says; "
                             "auto: when its output for an image depends on its batch-mates "
                             "(batch statistics, e.g. FusedBatchNorm with is_training=True)")


def add_input_arguments(parser) -> None:
    """The rule for every input file (shared by `run` and `beam`)."""
    parser.add_argument("--max_image_pixels", type=int, default=100_000_000,
                        help="an image whose header declares more pixels is reported and "
                             "skipped before it is decoded (memory)")


def check_input_arguments(args) -> None:
    if args.max_image_pixels < 1:
        raise ValueError(f"--max_image_pixels must be >= 1, got {args.max_image_pixels}")


def add_hand_face_arguments(parser) -> None:
    """OpenPose's --hand and --face flags (see hand_networks)."""
    group = parser.add_argument_group("hands and faces (OpenPose's flags)")
    from openpose_tf import render

    for kind, parts, threshold in (("hand", "the hands' 2x21", render.HAND_RENDER_THRESHOLD),
                                   ("face", "the face's 70", render.FACE_RENDER_THRESHOLD)):
        group.add_argument(f"--{kind}", action="store_true", help=f"also {parts} keypoints")
        group.add_argument(f"--{kind}_model", help=f"the {kind} network, converted by "
                           f"`openpose-tf convert` from {kind}/pose_deploy.prototxt")
        group.add_argument(f"--{kind}_net_resolution", default="368x368",
                           help=f"{kind} crops, WxH")
        group.add_argument(f"--{kind}_render_threshold", type=float, default=threshold,
                           help=f"draw {kind} parts scoring above this")
    group.add_argument("--hand_face_batch_size", type=int, default=1,
                       help="hand and face crops per network call, every call padded to it as "
                            "--batch_size (1, OpenPose's way, wastes nothing on a CPU, where "
                            "larger batches gain about 2%%; on a GPU they save calls)")
    group.add_argument("--hand_scale_number", type=int, default=1,
                       help="hand scales; the best mean score wins")
    group.add_argument("--hand_scale_range", type=float, default=0.4,
                       help="from 1 - range/2 to 1 + range/2")


def add_frame_output_arguments(group) -> None:
    """The per-frame outputs `run` and `beam` share (see output_options)."""
    from openpose_tf import render

    group.add_argument("--write_images", help="folder for <name>_rendered.<format> pictures")
    group.add_argument("--write_images_format", default="png", help="picture format (extension)")
    group.add_argument("--write_coco_json", help="one COCO keypoint-results file for the run")
    group.add_argument("--keypoint_scale", type=int, default=0,
                       help="JSON coordinates: 0 image pixels, 1 heatmap pixels, 2 output pixels "
                            "(= image), 3 [0,1], 4 [-1,1]")
    group.add_argument("--render_threshold", type=float, default=render.RENDER_THRESHOLD,
                       help="draw parts scoring above this")
    group.add_argument("--alpha_pose", type=float, default=render.ALPHA_POSE,
                       help="opacity of the drawing (1: OpenPose's CPU renderer exactly)")
    group.add_argument("--disable_blending", action="store_true", help="draw on black")


def hand_networks(args) -> dict:
    """PoseExtractor's hand/face arguments from the add_hand_face_arguments flags."""
    from openpose_tf.hand_face import KeypointNetwork

    out = {}
    for kind in ("hand", "face"):
        if not getattr(args, kind, False):
            continue
        model_dir = getattr(args, f"{kind}_model")
        if not model_dir:
            raise ValueError(f"--{kind} needs --{kind}_model (the {kind} network converted by "
                             f"`openpose-tf convert`)")
        network, _ = load_network(model_dir, kind.upper())
        out[kind] = KeypointNetwork(network, kind.upper(), getattr(args, f"{kind}_net_resolution"),
                                    args.variant,
                                    batch_size=getattr(args, "hand_face_batch_size", 1))
    if "hand" in out:
        out.update(hand_scale_number=args.hand_scale_number,
                   hand_scale_range=args.hand_scale_range)
    return out


def make_extractor(args, network, pose):
    """The PoseExtractor the add_pose_arguments (and add_hand_face_arguments, add_batch_arguments)
    flags ask for."""
    rule = {"auto": None, "yes": True, "no": False}[getattr(args, "one_image_per_call", "auto")]
    with warnings.catch_warnings():  # said below in the command's own words
        warnings.simplefilter("ignore")
        extractor = _extractor(args, network, pose, rule)
    if extractor.why_one_image_per_call and extractor.batch_size > 1:
        print(f"openpose-tf: the network is called one image at a time (--one_image_per_call "
              f"no overrides it): {extractor.why_one_image_per_call}", file=sys.stderr)
    return extractor


def _extractor(args, network, pose, rule):
    from openpose_tf.extractor import PoseExtractor

    return PoseExtractor(
        network, pose, net_resolution=args.net_resolution,
        net_resolution_dynamic=args.net_resolution_dynamic, scale_number=args.scale_number,
        scale_gap=args.scale_gap, number_people_max=args.number_people_max, variant=args.variant,
        input_format=getattr(args, "input_format", None),
        batch_size=getattr(args, "batch_size", None) or 1, one_image_per_call=rule,
        maximize_positives=args.maximize_positives, **hand_networks(args))


def network_from_args(args):
    """(network, pose model name) from --model, --frozen_graph or --meta_graph, its channels
    checked against the pose model."""
    network, pose = _network_from_args(args)
    check_channels(network, pose)
    return network, pose


def check_channels(network, pose) -> None:
    """Refuses, before any image, a network whose output channels (when its graph says them)
    do not match the pose model's."""
    from openpose_tf import pose_models

    model = pose_models.get(pose)
    channels = getattr(network, "output_channels", None)
    if channels is not None and channels != model.num_channels:
        matches = [m.name for m in pose_models.MODELS.values() if m.num_channels == channels]
        raise ValueError(f"the network outputs {channels} channels, the pose model {model.name} "
                         f"has {model.num_channels}; give --model_pose "
                         f"{' or '.join(matches) if matches else 'of the network'}")


def _network_from_args(args):
    from openpose_tf import graph

    if args.model:
        return load_network(args.model, args.model_pose)
    if not args.model_pose:
        raise ValueError("give --model_pose with a TensorFlow graph (COCO for "
                         "tf-pose-estimation's graphs)")
    if args.frozen_graph:
        return graph.FrozenGraphNetwork(args.frozen_graph, args.input_tensor, args.output_tensor,
                                        args.input_format or "bgr255"), args.model_pose
    if not args.checkpoint:
        raise ValueError("--meta_graph needs --checkpoint")
    return graph.FrozenGraphNetwork.from_meta_graph(
        args.meta_graph, args.checkpoint, args.input_tensor, args.output_tensor,
        args.input_format or "openpose"), args.model_pose


def load_network(model_dir, pose_model=None):
    """(network callable, pose model name) of a model written by `openpose-tf convert`."""
    from openpose_tf.net import export
    from openpose_tf.net.model import CaffeNet

    network, metadata = export.load(model_dir)
    if not isinstance(network, CaffeNet):  # a SavedModel from before network.prototxt
        network = export.ServingNetwork(network)
    pose = pose_model or metadata.get("pose_model")
    if not pose:
        raise ValueError(f"{model_dir} does not say its pose model; give --model_pose")
    return network, pose


def output_options(args):
    """OutputOptions from the flags (a command without --write_json / --write_video, such as
    `beam`, leaves them unset)."""
    from openpose_tf.outputs import OutputOptions

    return OutputOptions(
        write_json=getattr(args, "write_json", None), write_images=args.write_images,
        write_images_format=args.write_images_format,
        write_video=getattr(args, "write_video", None),
        write_video_fps=getattr(args, "write_video_fps", -1.0),
        write_coco_json=args.write_coco_json,
        keypoint_scale=args.keypoint_scale, render_threshold=args.render_threshold,
        alpha_pose=args.alpha_pose, disable_blending=args.disable_blending,
        hand_render_threshold=args.hand_render_threshold,
        face_render_threshold=args.face_render_threshold)
