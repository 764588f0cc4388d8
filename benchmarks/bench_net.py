"""CPU inference time of OpenPose's five networks (BODY_25, COCO, MPI, hand, face) at their
default input sizes: ours (Winograd 3x3 convolutions, `convolution="auto"` on a CPU), ours with
TensorFlow's direct convolutions (what it was before) and OpenCV's DNN module, same (random)
weights, same input, alternating in one process per thread count.

    .venv/bin/python benchmarks/bench_net.py [--networks body_25,coco] [--threads 1,2]
                                             [--repeats 3] [--top 5]

Prints per network and thread count the medians, the ratios to OpenCV, the largest difference
from OpenCV's output, and the costliest layers of ours (TensorFlow's step stats of one run).
Reads the prototxts from ../shared/models (never copied); writes random .caffemodels to a
temporary folder. TensorFlow fixes its thread pools when it starts, so each thread count runs in
a process of its own.
"""

from __future__ import annotations

import argparse
import collections
import os
import pathlib
import subprocess
import sys
import tempfile

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "python"))  # the .caffemodel writer of the tests

NETWORKS = {  # name: (prototxt under models/, input H, W)
    "body_25": ("pose/body_25/pose_deploy.prototxt", 368, 656),
    "coco": ("pose/coco/pose_deploy_linevec.prototxt", 368, 656),
    "mpi": ("pose/mpi/pose_deploy_linevec.prototxt", 368, 656),
    "hand": ("hand/pose_deploy.prototxt", 368, 368),
    "face": ("face/pose_deploy.prototxt", 368, 368),
}


def layer_costs(net, x, top):
    """The `top` costliest layers of one run of `net` on `x`: [(layer, ms)], from the step
    stats of its graph (ops are grouped by the layer name scope CaffeNet gives them)."""
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import (
        convert_variables_to_constants_v2)

    frozen = convert_variables_to_constants_v2(net.__call__.get_concrete_function())
    graph = tf.Graph()
    with graph.as_default():
        tf.graph_util.import_graph_def(frozen.graph.as_graph_def(), name="")
    feeds = {frozen.inputs[0].name: x}
    options = tf.compat.v1.RunOptions(trace_level=tf.compat.v1.RunOptions.FULL_TRACE)
    metadata = tf.compat.v1.RunMetadata()
    with tf.compat.v1.Session(graph=graph) as session:
        for _ in range(2):  # warm-up; then the traced run
            session.run(frozen.outputs[0].name, feeds)
        session.run(frozen.outputs[0].name, feeds, options=options, run_metadata=metadata)
    costs = collections.Counter()
    for device in metadata.step_stats.dev_stats:
        for node in device.node_stats:
            costs[node.node_name.split("/")[0]] += node.all_end_rel_micros / 1e3
    return costs.most_common(top)


def worker(args) -> None:
    import tensorflow as tf

    args.threads = int(args.threads)
    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    import cv2

    import caffe_files
    from openpose_tf import net as opnet
    from openpose_tf.common import Stopwatch

    cv2.setNumThreads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.networks.split(","):
            prototxt, height, width = NETWORKS[name]
            path = pathlib.Path(args.models) / prototxt
            caffemodel = pathlib.Path(tmp) / f"{name}.caffemodel"
            caffe_files.random_caffemodel(path, caffemodel)
            ours = opnet.from_caffe(path, caffemodel)
            direct = ours.with_convolution("direct")
            cv_net = cv2.dnn.readNetFromCaffe(str(path), str(caffemodel))
            x = np.random.default_rng(0).uniform(-0.5, 0.5, (1, height, width, 3))
            x = x.astype(np.float32)
            blob = x.transpose(0, 3, 1, 2)

            def run_cv():
                cv_net.setInput(blob)
                return cv_net.forward()

            runs = {"ours": lambda: ours(x).numpy(), "direct": lambda: direct(x).numpy(),
                    "opencv": run_cv}
            outputs = {key: fn() for key, fn in runs.items()}  # warm-up (traces, allocations)
            watch = Stopwatch()
            for _ in range(args.repeats):  # alternating: the machine's noise hits all alike
                for key, fn in runs.items():
                    with watch(key):
                        fn()
            ms = {key: float(np.median(watch.seconds[key])) * 1e3 for key in runs}
            want = outputs["opencv"].transpose(0, 2, 3, 1)
            diff = float(np.abs(outputs["ours"] - want).max())
            print(f"{name:8s} {args.threads} thread{'s' if args.threads > 1 else ' '} "
                  f"{height}x{width}  ours {ms['ours']:7.0f} ms  direct {ms['direct']:7.0f} ms  "
                  f"OpenCV {ms['opencv']:7.0f} ms  ours/OpenCV {ms['ours'] / ms['opencv']:5.2f}  "
                  f"direct/OpenCV {ms['direct'] / ms['opencv']:5.2f}  max abs diff {diff:.1e} "
                  f"(rel {diff / np.abs(want).max():.1e})", flush=True)
            top = ", ".join(f"{layer} {cost:.0f}" for layer, cost in
                            layer_costs(ours, x, args.top))
            print(f"{'':8s} costliest layers of ours (ms): {top}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=str(ROOT.parent / "shared" / "models"))
    parser.add_argument("--networks", default=",".join(NETWORKS),
                        help=f"comma-separated, of {', '.join(NETWORKS)}")
    parser.add_argument("--threads", default="1,2", help="thread counts, comma-separated")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--top", type=int, default=5, help="costliest layers to print")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    unknown = set(args.networks.split(",")) - set(NETWORKS)
    if unknown:
        parser.error(f"unknown network(s) {sorted(unknown)}; choose from {list(NETWORKS)}")
    if not pathlib.Path(args.models).is_dir():
        parser.error(f"{args.models}: no such folder (OpenPose's prototxts, ../shared/models)")
    if args.worker:
        worker(args)
        return
    import cv2
    import tensorflow as tf

    print(f"TensorFlow {tf.__version__}, OpenCV {cv2.__version__}, batch 1, median of "
          f"{args.repeats} runs after a warm-up, alternating ours / direct / OpenCV",
          flush=True)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    for threads in args.threads.split(","):
        subprocess.run([sys.executable, __file__, "--worker", "--threads", threads,
                        "--networks", args.networks, "--repeats", str(args.repeats),
                        "--top", str(args.top), "--models", args.models], check=True, env=env)


if __name__ == "__main__":
    main()
