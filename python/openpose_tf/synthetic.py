"""Synthetic OpenPose-style maps with known answers, for tests, the demo and benchmarks.

Heatmaps follow OpenPose's training targets: one Gaussian per keypoint,
`exp(-d^2 / (2 sigma^2))`, the maximum where Gaussians overlap. Pure NumPy, no TensorFlow.
"""

from __future__ import annotations

import numpy as np


def gaussian_heatmap(points, height: int, width: int, sigma: float = 3.0) -> np.ndarray:
    """One channel `[H, W]` float32 with a Gaussian of peak 1 at each `(x, y)` in `points`.

    Overlapping Gaussians combine by maximum, as in OpenPose's ground-truth heatmaps.
    """
    ys = np.arange(height, dtype=np.float64)[:, None]
    xs = np.arange(width, dtype=np.float64)[None, :]
    out = np.zeros((height, width), dtype=np.float64)
    for x, y in points:
        np.maximum(out, np.exp(-((xs - x) ** 2 + (ys - y) ** 2) / (2.0 * sigma**2)), out=out)
    return out.astype(np.float32)


def gaussian_heatmaps(points_per_channel, height: int, width: int,
                      sigma: float = 3.0) -> np.ndarray:
    """`[H, W, C]` float32: channel c has a Gaussian at each point of `points_per_channel[c]`."""
    channels = [gaussian_heatmap(p, height, width, sigma) for p in points_per_channel]
    return np.stack(channels, axis=-1)


def random_points(rng: np.random.Generator, count: int, height: int, width: int,
                  margin: int = 4, min_distance: float = 12.0):
    """Up to `count` integer points at least `min_distance` apart and `margin` from the border."""
    points = []
    for _ in range(count * 50):
        if len(points) == count:
            break
        p = (int(rng.integers(margin, width - margin)), int(rng.integers(margin, height - margin)))
        if all((p[0] - q[0]) ** 2 + (p[1] - q[1]) ** 2 >= min_distance**2 for q in points):
            points.append(p)
    return points
