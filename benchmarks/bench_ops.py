"""Prints timings of the ops on OpenPose-sized inputs: `make bench`
(or python benchmarks/bench_ops.py).

Figures are medians of repeated eager calls after a warm-up, on this machine's CPU, with
TensorFlow's default intra-op threads. Not a test: nothing here asserts speed.
"""

from __future__ import annotations

import argparse

import numpy as np

from openpose_tf.common import median_ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()

    import tensorflow as tf

    from openpose_tf import ops, synthetic

    rng = np.random.default_rng(0)
    print(f"TensorFlow {tf.__version__}, intra-op threads: "
          f"{tf.config.threading.get_intra_op_parallelism_threads() or 'default'}")

    # BODY_25 at the default net input: 25 part heatmaps of 368x656, 10 people per part.
    points = [synthetic.random_points(rng, 10, 368, 656) for _ in range(25)]
    heatmaps = tf.constant(synthetic.gaussian_heatmaps(points, 368, 656, sigma=4.0)[None])
    for variant in ("gpu", "cpu"):
        ms = median_ms(lambda: ops.nms(heatmaps, variant=variant), args.repeats)
        print(f"nms       [1,368,656,25] variant={variant}: {ms:8.2f} ms")
    # resize_and_merge: BODY_25's 46x82x78 net output to 368x656, and 4 scales (scale_gap 0.25 of a
    # 1920x1080 image), against TensorFlow's own bicubic resize of the same input.
    net = tf.constant(rng.uniform(0, 1, (1, 46, 82, 78)).astype(np.float32))
    for variant in ("gpu", "cpu"):
        ms = median_ms(lambda: ops.resize_and_merge(net, variant=variant), args.repeats)
        print(f"resize_and_merge [1,46,82,78]->368x656 variant={variant}: {ms:8.2f} ms")
    ms = median_ms(lambda: tf.image.resize(net, (368, 656), method="bicubic"), args.repeats)
    print(f"tf.image.resize  [1,46,82,78]->368x656 bicubic:     {ms:8.2f} ms")
    sizes = [(46, 82), (34, 60), (22, 40), (10, 20)]
    ratios = [0.340130, 0.249609, 0.162187, 0.073216]
    scales = [tf.constant(rng.uniform(0, 1, (1, h, w, 78)).astype(np.float32)) for h, w in sizes]
    for variant in ("gpu", "cpu"):
        ms = median_ms(lambda: ops.resize_and_merge(scales, scale_ratios=ratios, variant=variant),
                       args.repeats)
        print(f"resize_and_merge 4 scales ->368x656 variant={variant}:       {ms:8.2f} ms")
    ms = median_ms(lambda: tf.add_n([tf.image.resize(s, (368, 656), method="bicubic")
                                     for s in scales]) / 4.0, args.repeats)
    print(f"tf.image.resize  4 scales + mean, bicubic:          {ms:8.2f} ms")

    # body_part_connector (BODY_25, 368x656) on synthetic crowds, given NMS's peaks.
    for people_count in (1, 10, 30):
        crowd = synthetic.random_crowd("BODY_25", rng, people_count, 368, 656, min_size=50,
                                       max_size=120, overlap=True)
        net = tf.constant(synthetic.render("BODY_25", crowd, 368, 656)[None])
        peaks, counts = ops.nms(net[..., :25])
        pafs = tf.identity(net[..., 26:])  # sliced once: the slice copies 50 MB
        for variant in ("gpu", "cpu"):
            ms = median_ms(lambda: ops.body_part_connector(pafs, peaks, counts, variant=variant),
                           args.repeats)
            found = ops.body_part_connector(pafs, peaks, counts, variant=variant)[1]
            print(f"body_part_connector BODY_25 {len(crowd):2d} people variant={variant}: "
                  f"{ms:8.2f} ms ({found.row_lengths()[0]} found)")

    hand = tf.constant(rng.uniform(0, 1, (1, 368, 368, 21)).astype(np.float32))
    ms = median_ms(lambda: ops.maximum(hand), args.repeats)
    print(f"maximum   [1,368,368,21]:             {ms:8.2f} ms")


if __name__ == "__main__":
    main()
