"""`openpose-tf run`: OpenPose's body pipeline over images, folders and videos, with OpenPose's
flags, JSON, rendered images and videos.

    openpose-tf run --model DIR --image_dir DIR --write_json OUT [--net_resolution -1x368] ...
    openpose-tf run --model DIR --video clip.mp4 --write_video out.avi --write_json OUT

`--model` is what `openpose-tf convert` wrote. Inputs are read with OpenCV, images in name order;
an unreadable image or frame, or one the network cannot take, is reported and skipped (the exit
code is then 1); a re-run skips frames whose files all exist (unless a video or COCO file is
written, which need every frame), and every file is written to a temporary name, then renamed, so
an interrupted run loses no finished work and leaves no half file.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings

from openpose_tf.common import INPUT_FORMATS, Stopwatch

# Flags whose value may start with '-' (OpenPose writes `--net_resolution -1x368`).
NEGATIVE_VALUE_FLAGS = ("--net_resolution", "--number_people_max", "--net_resolution_dynamic",
                        "--write_video_fps")


def register(commands) -> None:
    run = commands.add_parser(
        "run", help="people in images and videos: OpenPose JSON, pictures (OpenPose's flags)",
        description=__doc__.split("\n\n")[0] + " " + __doc__.split("\n\n")[2].replace("\n", " "),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    add_network_arguments(run)
    source = run.add_mutually_exclusive_group(required=True)
    source.add_argument("--image", help="one image file")
    source.add_argument("--image_dir", help="a folder of images (OpenPose's extensions)")
    source.add_argument("--video", help="a video file (frames named <stem>_<12-digit index>)")
    run.add_argument("--frame_step", type=int, default=1,
                     help="process every n-th frame or image (0, n, 2n...)")
    out = run.add_argument_group("outputs (OpenPose's names)")
    out.add_argument("--write_json", help="folder for <name>_keypoints.json files")
    add_frame_output_arguments(out)
    out.add_argument("--write_video", help="a rendered video (.avi MJPG or .mp4)")
    out.add_argument("--write_video_fps", type=float, default=-1.0,
                     help="its frame rate; -1: the input video's (30 for images)")
    add_pose_arguments(run)
    add_hand_face_arguments(run)
    add_batch_arguments(run)
    run.add_argument("--no_progress", action="store_true", help="no progress bar")
    run.add_argument("--profile", action="store_true",
                     help="print where the time went: decode, pipeline (warp, network, "
                          "post-processing), write")
    run.set_defaults(run=_run)


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
                     help="cap a -1 dimension at this times 16:9 (-1: no cap)")
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
    group.add_argument("--hand_scale_number", type=int, default=1,
                       help="hand scales; the best mean score wins")
    group.add_argument("--hand_scale_range", type=float, default=0.4,
                       help="from 1 - range/2 to 1 + range/2")


def add_frame_output_arguments(group) -> None:
    """The per-frame outputs `run` and `beam` share (see output_options)."""
    group.add_argument("--write_images", help="folder for <name>_rendered.<format> pictures")
    group.add_argument("--write_images_format", default="png", help="picture format (extension)")
    group.add_argument("--write_coco_json", help="one COCO keypoint-results file for the run")
    group.add_argument("--keypoint_scale", type=int, default=0,
                       help="JSON coordinates: 0 image pixels, 1 heatmap pixels, 2 output pixels "
                            "(= image), 3 [0,1], 4 [-1,1]")
    group.add_argument("--render_threshold", type=float, default=0.05,
                       help="draw parts scoring above this")
    group.add_argument("--alpha_pose", type=float, default=0.6,
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
                                    args.variant)
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

    network, metadata = export.load(model_dir)
    if metadata.get("format") != "checkpoint":
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


def _run(args) -> int:
    import pathlib

    from openpose_tf import coco_json, media
    from openpose_tf.outputs import Outputs

    if args.batch_size < 1:
        raise ValueError(f"--batch_size must be >= 1, got {args.batch_size}")
    step = media.check_step(args.frame_step)
    if args.video:
        total, fps = media.video_properties(args.video)
        total = -(-total // step)
        paths = None
    else:
        paths = [pathlib.Path(args.image)] if args.image else media.list_images(args.image_dir)
        paths = paths[::step]
        total, fps = len(paths), 30.0
    network, pose = network_from_args(args)
    outputs = Outputs(output_options(args), pose, source_fps=fps)
    if outputs.coco and paths is not None:
        coco_json.check_unique_ids(p.stem for p in paths)  # before any work is done
    extractor = make_extractor(args, network, pose)
    done = [0]

    def already_done(name):  # a video's frames are checked as they come
        finished = outputs.done(name)
        done[0] += finished
        return finished

    if args.video:
        frames = media.video_frames(args.video, step, already_done)
    else:
        todo = [p for p in paths if not outputs.done(p.stem)]
        frames, done[0] = media.image_frames(todo), len(paths) - len(todo)
    source = args.model or args.frozen_graph or args.meta_graph
    print(f"openpose-tf run: {total} {'frames' if args.video else 'images'}"
          f"{'' if args.video else f', {done[0]} already done'}, network {source} ({pose})",
          file=sys.stderr)
    watch = Stopwatch()
    start = time.perf_counter()
    complete, last_frame = False, []
    try:
        processed, failed = _process(frames, extractor, outputs, args, total - done[0], watch,
                                     last_frame)
        complete = True
    finally:
        with watch("write"):
            written = outputs.close(complete)
    for path in written:
        print(f"openpose-tf run: wrote {path}", file=sys.stderr)
    seconds = time.perf_counter() - start
    rate = f" ({processed / seconds:.2f} frames/s)" if processed and seconds > 0 else ""
    print(f"openpose-tf run: {processed} frames processed in {seconds:.1f} s{rate}, {done[0]} "
          f"already done, {failed} skipped", file=sys.stderr)
    if args.profile:
        print(f"openpose-tf run: time per stage: {watch.summary(processed)}", file=sys.stderr)
        if last_frame:
            _print_pipeline_split(extractor, last_frame[0])
    return 1 if failed else 0


def _print_pipeline_split(extractor, frame) -> None:
    """The pipeline's own stages, measured apart on the last frame (see pipeline.stage_times)."""
    from openpose_tf import pipeline

    times = pipeline.stage_times(extractor, frame.image)
    split = ", ".join(f"{stage} {1e3 * seconds:.1f} ms" for stage, seconds in times.items())
    print(f"openpose-tf run: the pipeline's stages on {frame.name} (scale 0, measured apart): "
          f"{split}", file=sys.stderr)


def _process(frames, extractor, outputs, args, total, watch, last_frame) -> tuple[int, int]:
    """Runs the extractor over `frames` in batches and writes each frame's outputs; the last
    frame processed is left in `last_frame`."""
    import tqdm

    processed = failed = 0
    bar = tqdm.tqdm(total=max(total, 0), unit="frame", disable=args.no_progress,
                    file=sys.stderr)
    batch = []

    def flush():
        nonlocal processed, failed
        if not batch:
            return
        with watch("pipeline"):
            found = extractor.people_or_errors([f.image for f in batch])
        for frame, people in zip(batch, found):
            if isinstance(people, Exception):
                failed += 1
                reason = (str(getattr(people, "message", people)).splitlines() or
                          [type(people).__name__])[0]
                tqdm.tqdm.write(f"openpose-tf: skipped {frame.name} ({frame.image.shape[1]}x"
                                f"{frame.image.shape[0]}): {reason}", file=sys.stderr)
            elif outputs.writes_anything:
                with watch("write"):
                    outputs.write(frame.name, frame.image, people)
            else:
                print(f"{frame.name}: {len(people.keypoints)} people")
            if not isinstance(people, Exception):
                processed += 1
                last_frame[:] = [frame]
            bar.update(1)
        batch.clear()

    frames = iter(frames)
    while True:
        with watch("decode"):
            frame = next(frames, None)
        if frame is None:
            break
        if frame.image is None:
            failed += 1
            tqdm.tqdm.write(f"openpose-tf: skipped {frame.error}", file=sys.stderr)
            bar.update(1)
            continue
        batch.append(frame)
        if len(batch) == extractor.images_per_call:
            flush()
    flush()
    bar.close()
    return processed, failed
