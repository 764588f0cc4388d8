"""Post-processing speed and memory (issue: 10x OpenPose's CPU code, exact): a script wrapper of
openpose_tf.bench_postprocess, the same as `openpose-tf bench --postprocess`, that adds the rows
of tf-pose-estimation's real output on ../shared's photos when ../shared is beside the project.

    python benchmarks/bench_postprocess.py [--threads 1,2] [--repeats 5]
"""

import pathlib
import sys

from openpose_tf.bench_postprocess import main

SHARED = pathlib.Path(__file__).resolve().parents[2] / "shared"
GRAPH = SHARED / "models" / "tfpose_mobilenet_v2_small" / "graph_opt.pb"

if __name__ == "__main__":
    args = sys.argv[1:]
    if GRAPH.exists() and "--graph" not in args:
        args += ["--graph", str(GRAPH), "--images", str(SHARED / "images")]
    elif not GRAPH.exists():
        print(f"(no real-output rows: {GRAPH} not found)", flush=True)
    main(args)
