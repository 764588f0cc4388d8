"""Post-processing speed and memory, net output -> people (issue: 10x OpenPose's CPU code).

    python tools/bench_postprocess.py [--threads 1,2] [--repeats 5]

In one run, on the same synthetic net outputs (synthetic.random_crowd + render_net_output, fixed
seeds, 46x82 -> 368x656): for COCO and BODY_25 with 1, 10 and 30 people at batch 1, and BODY_25
with 10 people at batch 16, with 1 and 2 TensorFlow threads (each thread count in its own
process), the median milliseconds of
- `tf`: what users write without custom ops: `tf.image.resize(..., "bicubic")` of all channels
  and a 3x3 `max_pool2d` equality NMS of the parts (no grouping): the reference figure (about
  OpenPose's own CPU time on this machine class);
- `postprocess gpu` / `postprocess cpu`: `openpose_tf.postprocess`, both variants;
- the composed ops of the gpu variant, each alone: `resize_and_merge`, `nms` (with the parts'
  slice), `body_part_connector` (with the PAFs' slice);
each as a `tf.function`, with the ratio to `tf` of the same process. Then the peak resident-memory
growth of one `postprocess` of the batch-16 case (a fresh process per variant). Prints Markdown.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

NET_H, NET_W = 368, 656
CASES = [("COCO", 1, 1), ("COCO", 10, 1), ("COCO", 30, 1), ("BODY_25", 1, 1),
         ("BODY_25", 10, 1), ("BODY_25", 30, 1), ("BODY_25", 10, 16)]


def net_output(model_name: str, people: int, batch: int):
    import numpy as np

    from openpose_tf import pose_models, synthetic

    model = pose_models.get(model_name)
    rng = np.random.default_rng(people)
    crowd = synthetic.random_crowd(model, rng, people, NET_H, NET_W, min_size=60, max_size=160,
                                   overlap=True)
    one = synthetic.render_net_output(model, crowd, NET_H, NET_W)
    return np.repeat(one[None], batch, axis=0)


def worker(threads: int, repeats: int) -> None:
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)
    import openpose_tf
    from openpose_tf import ops, pose_models
    from openpose_tf.cli.bench import median_ms

    for name, people, batch in CASES:
        model = pose_models.get(name)
        x = tf.constant(net_output(name, people, batch))
        parts, pafs_from = model.num_parts, model.num_heatmaps

        @tf.function
        def plain(x):
            heat = tf.image.resize(x, (NET_H, NET_W), method="bicubic")
            p = heat[..., :parts]
            pooled = tf.nn.max_pool2d(p, 3, 1, "SAME")
            return tf.where((p == pooled) & (p > 0.05))

        def post(variant):
            return tf.function(lambda x: openpose_tf.postprocess(x, model, variant=variant))

        resize = tf.function(lambda x: ops.resize_and_merge(x))
        heat = resize(x)
        nms = tf.function(lambda h: ops.nms(h[..., :parts]))
        peaks, counts = nms(heat)
        connect = tf.function(lambda h, p, c: ops.body_part_connector(h[..., pafs_from:], p, c,
                                                                      model))
        gpu, cpu = post("gpu"), post("cpu")
        row = {"model": name, "people": people, "batch": batch, "threads": threads,
               "found": int(gpu(x)[1].flat_values.shape[0]),
               "tf": median_ms(lambda: plain(x), repeats),
               "postprocess gpu": median_ms(lambda: gpu(x), repeats),
               "postprocess cpu": median_ms(lambda: cpu(x), repeats),
               "resize_and_merge": median_ms(lambda: resize(x), repeats),
               "nms": median_ms(lambda: nms(heat), repeats),
               "body_part_connector": median_ms(lambda: connect(heat, peaks, counts), repeats)}
        print(json.dumps(row), flush=True)


def memory(variant: str) -> None:
    """Peak RSS growth (MiB) of a first one-image postprocess (library load included), then of
    the batch-16 case on top of it; the inputs exist before either."""
    import resource

    import tensorflow as tf

    import openpose_tf

    def peak():
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    name, people, batch = CASES[-1]
    small = tf.constant(net_output(name, people, 1))
    x = tf.constant(net_output(name, people, batch))
    start = peak()
    openpose_tf.postprocess(small, name, variant=variant)
    one = peak()
    openpose_tf.postprocess(x, name, variant=variant)
    print(json.dumps({"variant": variant, "one": one - start, "mib": peak() - one}), flush=True)


def run(args: list[str]) -> list[dict]:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    done = subprocess.run([sys.executable, __file__] + args, capture_output=True, text=True,
                          env=env)
    if done.returncode != 0:
        sys.exit(done.stderr[-3000:])
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--memory", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args.worker, args.repeats)
    if args.memory:
        return memory(args.memory)
    stages = ["postprocess gpu", "postprocess cpu", "resize_and_merge", "nms",
              "body_part_connector"]
    print("| model | people (found) | batch | threads | tf (ms) | " +
          " | ".join(f"{s} (ms, x tf)" for s in stages) + " |")
    print("|---" * (5 + len(stages)) + "|")
    for threads in args.threads.split(","):
        for r in run(["--worker", threads, "--repeats", str(args.repeats)]):
            cells = " | ".join(f"{r[s]:.1f} ({r[s] / r['tf']:.2f})" for s in stages)
            print(f"| {r['model']} | {r['people']} ({r['found']}) | {r['batch']} | "
                  f"{r['threads']} | {r['tf']:.1f} | {cells} |", flush=True)
    for variant in ("gpu", "cpu"):
        (m,) = run(["--memory", variant])
        print(f"\npostprocess {variant}: peak memory +{m['one']:.0f} MiB for one "
              f"{CASES[-1][0]} image (library load included), then +{m['mib']:.0f} MiB for a "
              f"batch of {CASES[-1][2]}")


if __name__ == "__main__":
    main()
