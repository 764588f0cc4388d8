"""`openpose-tf run`: OpenPose's body pipeline over images, with OpenPose's flags and JSON.

    openpose-tf run --model DIR --image_dir DIR --write_json OUT [--net_resolution -1x368] ...

`--model` is what `openpose-tf convert` wrote. Images are read with OpenCV, in name order; an
unreadable image is reported and skipped (the exit code is then 1); a re-run skips images whose
JSON exists, and every file is written to a temporary name, then renamed, so an interrupted run
loses no finished work and leaves no half file.
"""

from __future__ import annotations

import pathlib
import sys
import time

# Flags whose value may start with '-' (OpenPose writes `--net_resolution -1x368`).
NEGATIVE_VALUE_FLAGS = ("--net_resolution", "--number_people_max", "--net_resolution_dynamic")

# OpenPose's image extensions (fileSystem.cpp: getFilesOnDirectory with the image extensions).
IMAGE_EXTENSIONS = (".bmp", ".dib", ".pbm", ".pgm", ".ppm", ".sr", ".ras", ".jpg", ".jpeg",
                    ".png", ".jpe", ".jp2", ".tiff", ".tif", ".webp")


def register(commands) -> None:
    run = commands.add_parser(
        "run", help="people in images: OpenPose JSON (OpenPose's flags)",
        description=__doc__.split("\n\n")[0] + " " + __doc__.split("\n\n")[2].replace("\n", " "))
    run.add_argument("--model", required=True,
                     help="a model written by `openpose-tf convert` (SavedModel or checkpoint)")
    source = run.add_mutually_exclusive_group(required=True)
    source.add_argument("--image", help="one image file")
    source.add_argument("--image_dir", help="a folder of images (OpenPose's extensions)")
    run.add_argument("--write_json", help="folder for OpenPose's <image>_keypoints.json files")
    run.add_argument("--model_pose", help="the network's pose model (default: from the model)")
    run.add_argument("--net_resolution", default="-1x368",
                     help="net input WxH, multiples of 16; -1 follows the aspect ratio "
                          "(default -1x368)")
    run.add_argument("--net_resolution_dynamic", type=float, default=1.0,
                     help="cap a -1 dimension at this times 16:9 (OpenPose's default for "
                          "images: 1; -1: no cap)")
    run.add_argument("--scale_number", type=int, default=1, help="scales (default 1)")
    run.add_argument("--scale_gap", type=float, default=0.25,
                     help="scale i is 1 - i * scale_gap (default 0.25)")
    run.add_argument("--number_people_max", type=int, default=-1,
                     help="keep at most this many people per image (default -1: all)")
    run.add_argument("--maximize_positives", action="store_true",
                     help="OpenPose's lower thresholds (more people, more false positives)")
    run.add_argument("--variant", choices=("gpu", "cpu"), default="gpu",
                     help="which OpenPose build's post-processing to reproduce (default gpu: its "
                          "CUDA build; cpu: its CPU build). Runs on any device either way.")
    run.add_argument("--batch_size", type=int, default=4,
                     help="images per network call, same-sized images together (default 4)")
    run.add_argument("--no_progress", action="store_true", help="no progress bar")
    run.set_defaults(run=_run)


def list_images(args) -> list[pathlib.Path]:
    if args.image:
        return [pathlib.Path(args.image)]
    folder = pathlib.Path(args.image_dir)
    if not folder.is_dir():
        raise ValueError(f"--image_dir {folder} is not a folder")
    return sorted(p for p in folder.iterdir()
                  if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)


def load_network(model_dir, pose_model=None):
    """(network callable, pose model name) of a model written by `openpose-tf convert`."""
    from openpose_tf.net import export

    network, metadata = export.load(model_dir)
    if metadata.get("format") != "checkpoint":
        serving = network.signatures["serving_default"]
        network = lambda x: serving(image=x)["net_output"]  # noqa: E731
    pose = pose_model or metadata.get("pose_model")
    if not pose:
        raise ValueError(f"{model_dir} does not say its pose model; give --model_pose")
    return network, pose


def _run(args) -> int:
    import cv2
    import tqdm

    from openpose_tf import openpose_json
    from openpose_tf.extractor import PoseExtractor

    if args.batch_size < 1:
        raise ValueError(f"--batch_size must be >= 1, got {args.batch_size}")
    images = list_images(args)
    out = pathlib.Path(args.write_json) if args.write_json else None
    todo = [p for p in images
            if out is None or not openpose_json.json_path(out, p.stem).exists()]
    network, pose = load_network(args.model, args.model_pose)
    extractor = PoseExtractor(network, pose, net_resolution=args.net_resolution,
                              net_resolution_dynamic=args.net_resolution_dynamic,
                              scale_number=args.scale_number, scale_gap=args.scale_gap,
                              number_people_max=args.number_people_max, variant=args.variant,
                              maximize_positives=args.maximize_positives)
    print(f"openpose-tf run: {len(images)} images, {len(images) - len(todo)} already done, "
          f"model {args.model} ({pose})", file=sys.stderr)
    failed = 0
    start = time.perf_counter()
    bar = tqdm.tqdm(total=len(todo), unit="img", disable=args.no_progress, file=sys.stderr)
    for begin in range(0, len(todo), args.batch_size):
        batch, names = [], []
        for path in todo[begin:begin + args.batch_size]:
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if image is None:
                failed += 1
                tqdm.tqdm.write(f"openpose-tf: skipped {path}: not a readable image",
                                file=sys.stderr)
                bar.update(1)
                continue
            batch.append(image)
            names.append(path)
        for path, people in zip(names, extractor(batch) if batch else []):
            if out is not None:
                openpose_json.write_people_json(out, path.stem, people.keypoints)
            else:
                print(f"{path}: {len(people.keypoints)} people")
            bar.update(1)
    bar.close()
    seconds = time.perf_counter() - start
    print(f"openpose-tf run: {len(todo) - failed} images in {seconds:.1f} s"
          f"{f', {failed} unreadable' if failed else ''}", file=sys.stderr)
    return 1 if failed else 0
