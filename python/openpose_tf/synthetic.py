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
    out = np.zeros((height, width), dtype=np.float64)
    reach = 6.0 * sigma  # exp(-18) ~ 1.5e-8: nothing beyond matters in float32 maps
    for x, y in points:
        x0, x1 = max(0, int(np.floor(x - reach))), min(width, int(np.ceil(x + reach)) + 1)
        y0, y1 = max(0, int(np.floor(y - reach))), min(height, int(np.ceil(y + reach)) + 1)
        if x0 >= x1 or y0 >= y1:
            continue
        xs = np.arange(x0, x1, dtype=np.float64)[None, :]
        ys = np.arange(y0, y1, dtype=np.float64)[:, None]
        window = out[y0:y1, x0:x1]
        np.maximum(window, np.exp(-((xs - x) ** 2 + (ys - y) ** 2) / (2.0 * sigma**2)), out=window)
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


# A standing person facing the camera (their right on the image's left), in units of the
# person's height, y down from the top of the head; every part name of the body models.
_TEMPLATE = {
    "HeadTop": (0.0, 0.0), "Head": (0.0, 0.02), "Nose": (0.0, 0.08), "REye": (-0.03, 0.06),
    "LEye": (0.03, 0.06), "REar": (-0.065, 0.075), "LEar": (0.065, 0.075), "Neck": (0.0, 0.18),
    "RShoulder": (-0.11, 0.19), "RElbow": (-0.16, 0.33), "RWrist": (-0.19, 0.46),
    "LShoulder": (0.11, 0.19), "LElbow": (0.16, 0.33), "LWrist": (0.19, 0.46),
    "Chest": (0.0, 0.34), "MidHip": (0.0, 0.51), "RHip": (-0.08, 0.51), "RKnee": (-0.09, 0.72),
    "RAnkle": (-0.09, 0.92), "LHip": (0.08, 0.51), "LKnee": (0.09, 0.72), "LAnkle": (0.09, 0.92),
    "LBigToe": (0.13, 0.99), "LSmallToe": (0.17, 0.98), "LHeel": (0.08, 0.97),
    "RBigToe": (-0.13, 0.99), "RSmallToe": (-0.17, 0.98), "RHeel": (-0.08, 0.97),
}


def skeleton(model, x: float, y: float, height: float, rng=None, jitter: float = 0.0):
    """Keypoints `[P, 2]` of a person of `height` pixels whose head top is at (x, y).

    `jitter` (a fraction of the height) moves each keypoint randomly with `rng`.
    """
    from openpose_tf import pose_models

    model = pose_models.get(model)
    points = np.array([_TEMPLATE[n] for n in model.part_names], dtype=np.float64) * height
    points += (x, y)
    if jitter and rng is not None:
        points += rng.normal(0.0, jitter * height, points.shape)
    return points


def random_crowd(model, rng: np.random.Generator, count: int, height: int, width: int,
                 min_size: float = 60.0, max_size: float = 160.0, overlap: bool = False,
                 inside: bool = True):
    """Up to `count` people `[P, 3]` (x, y, visible) at random places and sizes.

    overlap=False keeps people's boxes apart; inside=False lets people be cut by the border
    (keypoints outside the map are invisible).
    """
    people, boxes = [], []
    for _ in range(count * 40):
        if len(people) == count:
            break
        size = rng.uniform(min_size, max_size)
        half = 0.2 * size
        if inside:
            x = rng.uniform(half + 2, width - half - 2)
            y = rng.uniform(2, height - size - 2) if height - size - 4 > 0 else None
        else:
            x, y = rng.uniform(-half, width + half), rng.uniform(-0.5 * size, height - 0.3 * size)
        if y is None:
            continue
        box = (x - half, y, x + half, y + size)
        if not overlap and any(box[0] < b[2] + 6 and b[0] < box[2] + 6 and box[1] < b[3] + 6
                               and b[1] < box[3] + 6 for b in boxes):
            continue
        points = skeleton(model, x, y, size, rng, jitter=0.01)
        visible = ((points[:, 0] >= 0) & (points[:, 0] <= width - 1) &
                   (points[:, 1] >= 0) & (points[:, 1] <= height - 1))
        people.append(np.concatenate([points, visible[:, None]], axis=1))
        boxes.append(box)
    return people


def render(model, people, height: int, width: int, sigma: float = 2.5,
           paf_width: float = 2.0) -> np.ndarray:
    """OpenPose-style `net_output` `[H, W, C]` float32 for `people` (`[P, 3]` x, y, visible).

    Channels as the model's network: part heatmaps (max of Gaussians), the background
    (1 - max of the part heatmaps) if the model has one, then the PAFs: for each limb with both
    ends visible, the unit vector A->B on pixels within `paf_width` of the segment, averaged
    where people overlap.
    """
    from openpose_tf import pose_models

    model = pose_models.get(model)
    out = np.zeros((height, width, model.num_channels), np.float32)
    heat = [[] for _ in range(model.num_parts)]
    for person in people:
        for part in range(model.num_parts):
            if person[part, 2] > 0:
                heat[part].append(person[part, :2])
    for part, points in enumerate(heat):
        out[:, :, part] = gaussian_heatmap(points, height, width, sigma)
    if model.background:
        out[:, :, model.num_parts] = 1.0 - out[:, :, :model.num_parts].max(axis=2)
    for (a, b), (cx, cy) in zip(model.pairs, model.paf_indices):
        vx = np.zeros((height, width))
        vy = np.zeros((height, width))
        hits = np.zeros((height, width))
        for person in people:
            if person[a, 2] <= 0 or person[b, 2] <= 0:
                continue
            d = person[b, :2] - person[a, :2]
            length = np.hypot(*d)
            if length < 1e-6:
                continue
            u = d / length
            # Only the segment's bounding box (plus the width) can be hit.
            lo = np.floor(np.minimum(person[a, :2], person[b, :2]) - 2 * paf_width).astype(int)
            hi = np.ceil(np.maximum(person[a, :2], person[b, :2]) + 2 * paf_width).astype(int)
            x0, y0 = max(lo[0], 0), max(lo[1], 0)
            x1, y1 = min(hi[0] + 1, width), min(hi[1] + 1, height)
            if x0 >= x1 or y0 >= y1:
                continue
            ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float64)
            rx, ry = xs - person[a, 0], ys - person[a, 1]
            along = rx * u[0] + ry * u[1]
            across = np.abs(rx * u[1] - ry * u[0])
            mask = (along >= -paf_width) & (along <= length + paf_width) & (across <= paf_width)
            vx[y0:y1, x0:x1][mask] += u[0]
            vy[y0:y1, x0:x1][mask] += u[1]
            hits[y0:y1, x0:x1][mask] += 1
        hits = np.maximum(hits, 1)
        out[:, :, model.num_heatmaps + cx] = vx / hits
        out[:, :, model.num_heatmaps + cy] = vy / hits
    return out


# OpenPose's networks output maps at 1/8 of their input (the net stride).
NET_STRIDE = 8


def render_net_output(model, people, net_height: int, net_width: int) -> np.ndarray:
    """What an OpenPose network would output, `[net_height / 8, net_width / 8, C]`, for `people`
    drawn in net-input pixels (`[P, 3]` x, y, visible): output pixel i is centred on input pixel
    8i + 3.5 (the half-pixel mapping that resize_and_merge inverts), with Gaussians and PAFs sized
    for that stride."""
    small = [np.concatenate([(np.asarray(p)[:, :2] + 0.5) / NET_STRIDE - 0.5,
                             np.asarray(p)[:, 2:]], axis=1) for p in people]
    return render(model, small, net_height // NET_STRIDE, net_width // NET_STRIDE, sigma=0.9,
                  paf_width=0.7)
