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

from openpose_tf.cli.flags import (add_batch_arguments, add_frame_output_arguments,
                                    add_hand_face_arguments, add_input_arguments,
                                    add_network_arguments, add_pose_arguments,
                                    check_input_arguments, make_extractor, network_from_args,
                                    output_options)
from openpose_tf.common import Stopwatch, error_reason

CALLS_IN_FLIGHT = 2  # pipeline calls running at once (threads; TensorFlow releases the GIL)


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
    add_input_arguments(run)
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


def _run(args) -> int:
    import pathlib

    from openpose_tf import coco_json, media
    from openpose_tf.outputs import Outputs

    if args.batch_size < 1:
        raise ValueError(f"--batch_size must be >= 1, got {args.batch_size}")
    step = media.check_step(args.frame_step)
    check_input_arguments(args)
    if args.video:
        total, fps = media.video_properties(args.video)
        total = -(-total // step)
        paths = None
        # OpenPose's wrapper uncaps the net input for every producer but images.
        args.net_resolution_dynamic = -1.0
    else:
        paths = [pathlib.Path(args.image)] if args.image else media.list_images(args.image_dir)
        paths = paths[::step]
        media.check_unique_names(paths)
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
        frames = media.image_frames(todo, args.max_image_pixels)
        done[0] = len(paths) - len(todo)
    source = args.model or args.frozen_graph or args.meta_graph
    print(f"openpose-tf run: {total} {'frames' if args.video else 'images'}"
          f"{'' if args.video else f', {done[0]} already done'}, network {source} ({pose})",
          file=sys.stderr)
    watch = Stopwatch()
    start = time.perf_counter()
    complete, last_frame, first_call = False, [], []
    try:
        processed, failed = _process(frames, extractor, outputs, args, total - done[0], watch,
                                     last_frame, first_call)
        complete = True
    finally:
        with watch("write"):
            written = outputs.close(complete)
    for path in written:
        print(f"openpose-tf run: wrote {path}", file=sys.stderr)
    end = time.perf_counter()
    seconds = end - start
    rate = f" ({processed / seconds:.2f} frames/s" if processed and seconds > 0 else ""
    if rate and first_call and processed > first_call[0][1] and end > first_call[0][0]:
        # The first call traces the pipeline (about a second): the rate after it is the steady one.
        after = (processed - first_call[0][1]) / (end - first_call[0][0])
        rate += f"; {after:.2f} frames/s after the first network call"
    rate += ")" if rate else ""
    print(f"openpose-tf run: {processed} frames processed in {seconds:.1f} s{rate}, {done[0]} "
          f"already done, {failed} skipped", file=sys.stderr)
    if args.profile:
        print(f"openpose-tf run: time per stage: {watch.summary(processed)} (decode and write "
              "run beside the pipeline, on threads of their own)", file=sys.stderr)
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


def _process(frames, extractor, outputs, args, total, watch, last_frame,
             first_call) -> tuple[int, int]:
    """Runs the extractor over `frames` in batches and writes each frame's outputs; the last
    frame processed is left in `last_frame`, (time, frames processed) after the first call in
    `first_call`. Frames are decoded ahead and outputs written behind on threads of their own
    (openpose_tf.overlap), and two pipeline calls are in flight, so that the network does not
    wait for the rest."""
    import collections
    import concurrent.futures
    import contextlib

    import tqdm

    from openpose_tf import overlap

    processed = failed = 0
    bar = tqdm.tqdm(total=max(total, 0), unit="frame", disable=args.no_progress,
                    file=sys.stderr)
    batch = []

    def write(frame, people):
        with watch("write"):
            outputs.write(frame.name, frame.image, people)

    writer = overlap.Writer(write) if outputs.writes_anything else None
    # Two pipeline calls in flight: one's warp and post-processing run in the idle moments of
    # the other's network (each call's results are its own: the same bytes as one at a time).
    calls = concurrent.futures.ThreadPoolExecutor(max_workers=CALLS_IN_FLIGHT,
                                                  thread_name_prefix="openpose-tf pipeline")
    pending: collections.deque = collections.deque()

    def timed_call(images):
        with watch("pipeline"):
            return extractor.people_or_errors(images)

    def flush():
        if batch:
            pending.append((list(batch), calls.submit(timed_call, [f.image for f in batch])))
            batch.clear()
        while len(pending) >= CALLS_IN_FLIGHT:
            finish()

    def finish():
        nonlocal processed, failed
        frames_done, future = pending.popleft()
        found = future.result()
        for frame, people in zip(frames_done, found):
            bar.update(1)
            if isinstance(people, Exception):
                failed += 1
                tqdm.tqdm.write(f"openpose-tf: skipped {frame.name} ({frame.image.shape[1]}x"
                                f"{frame.image.shape[0]}): {error_reason(people)}",
                                file=sys.stderr)
                continue
            processed += 1
            last_frame[:] = [frame]
            if writer is not None:
                writer.submit(frame, people)
            else:
                print(f"{frame.name}: {len(people.keypoints)} people")
        if not first_call:
            first_call.append((time.perf_counter(), processed))

    def decoded():
        frames_iter = iter(frames)
        while True:
            with watch("decode"):
                frame = next(frames_iter, None)
            if frame is None:
                return
            yield frame

    ahead = overlap.read_ahead(decoded(), depth=2 * extractor.images_per_call + 2)
    try:
        with contextlib.closing(ahead):
            for frame in ahead:
                if frame.image is None:
                    failed += 1
                    tqdm.tqdm.write(f"openpose-tf: skipped {frame.error}", file=sys.stderr)
                    bar.update(1)
                    continue
                batch.append(frame)
                if len(batch) == extractor.images_per_call:
                    flush()
            flush()
            while pending:
                finish()
    except BaseException:
        with contextlib.suppress(Exception):  # what was processed is written, even on Ctrl-C
            while pending and pending[0][1].done():
                finish()
            if writer is not None:
                writer.close()
        raise
    else:
        if writer is not None:
            writer.close()
    finally:
        calls.shutdown(wait=True, cancel_futures=True)
        bar.close()
    return processed, failed
