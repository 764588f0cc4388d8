"""`python -m openpose_tf.demo`: the ops on synthetic heatmaps, drawn and found side by side.

Until the full pipeline (image -> network -> keypoints) lands, this is the project's main job: it
draws Gaussian keypoints on a 368x656 canvas (OpenPose's default net input), runs `nms` with both
OpenPose variants and `maximum`, and checks that every drawn keypoint is found.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", type=int, default=5, help="heatmap channels (default 5)")
    parser.add_argument("--people", type=int, default=3, help="keypoints per channel (default 3)")
    parser.add_argument("--height", type=int, default=368)
    parser.add_argument("--width", type=int, default=656)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    import tensorflow as tf

    from openpose_tf import ops, synthetic

    rng = np.random.default_rng(args.seed)
    drawn = [synthetic.random_points(rng, args.people, args.height, args.width, min_distance=30)
             for _ in range(args.parts)]
    heatmaps = synthetic.gaussian_heatmaps(drawn, args.height, args.width, sigma=4.0)[None]
    print(f"openpose-tf demo: {args.parts} heatmaps of {args.height}x{args.width}, "
          f"{args.people} Gaussian keypoints each (TensorFlow {tf.__version__})")

    failures = 0
    for variant in ("gpu", "cpu"):
        start = time.perf_counter()
        peaks, counts = ops.nms(heatmaps, threshold=0.05, variant=variant)
        elapsed = (time.perf_counter() - start) * 1e3
        print(f"\nnms(variant={variant!r}): {elapsed:.1f} ms")
        for c in range(args.parts):
            found = peaks[0, c, : counts[0, c]].numpy()
            want = sorted(drawn[c], key=lambda p: (p[1], p[0]))
            # OpenPose's +0.5 offset: a Gaussian centred on pixel (x, y) is found at (x+.5, y+.5).
            ok = len(found) == len(want) and np.allclose(found[:, :2], np.array(want) + 0.5,
                                                         atol=1e-3)
            failures += not ok
            cells = ", ".join(f"({x:.1f},{y:.1f}|{s:.2f})" for x, y, s in found)
            print(f"  part {c}: {'ok ' if ok else 'BAD'} drawn {want} found {cells}")

    maxima = ops.maximum(heatmaps).numpy()[0]
    print("\nmaximum: (x, y, value) per channel")
    for c in range(args.parts):
        x, y, v = maxima[c]
        ok = (int(x), int(y)) in drawn[c] and v == 1.0
        failures += not ok
        print(f"  part {c}: {'ok ' if ok else 'BAD'} ({x:.0f}, {y:.0f}) value {v:.3f}")

    print("\nall keypoints recovered" if not failures else f"\n{failures} channel(s) differ")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
