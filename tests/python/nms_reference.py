"""Slow NumPy references of NMS and Maximum, written from OpenPose's nmsBase and maximumBase
(docs/algorithms.md#nms, docs/algorithms.md#maximum).

float32 throughout, in OpenPose's accumulation order, so results compare bit for bit.
"""

import numpy as np


def _is_peak(hm, x, y, thr, variant):
    h, w = hm.shape
    v = hm[y, x]
    if not v > thr:
        return False
    if variant == "gpu":
        strict, ring = 1 <= x <= w - 2 and 1 <= y <= h - 2, False
    else:
        strict = 2 <= x <= w - 3 and 2 <= y <= h - 3
        ring = not strict and (x == 1 or x == w - 2 or y == 1 or y == h - 2)
    if not (strict or ring):
        return False
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            if dx == 0 and dy == 0:
                continue
            nx, ny = x + dx, y + dy
            n = hm[ny, nx] if 0 <= nx < w and 0 <= ny < h else np.float32(thr)
            if strict and not v > n:
                return False
            if ring and not v >= n:
                return False
    return True


def _refine(hm, x, y, offset):
    h, w = hm.shape
    xa = ya = sa = np.float32(0)
    for py in range(y - 3, y + 4):
        for px in range(x - 3, x + 4):
            if 0 <= py < h and 0 <= px < w and hm[py, px] > 0:
                s = hm[py, px]
                xa = np.float32(xa + np.float32(px) * s)
                ya = np.float32(ya + np.float32(py) * s)
                sa = np.float32(sa + s)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        mx, my = np.float32(xa / sa), np.float32(ya / sa)
    if not (np.isfinite(mx) and np.isfinite(my)):  # our rule: the integer position
        mx, my = np.float32(x), np.float32(y)
    return (np.float32(mx + np.float32(offset[0])), np.float32(my + np.float32(offset[1])),
            hm[y, x])


def nms(heatmaps, threshold=0.05, max_peaks=127, offset=(0.5, 0.5), variant="gpu"):
    """heatmaps [N, H, W, C] -> (peaks [N, C, M, 3], counts [N, C]). offset: (x, y) or [N, 2]."""
    heatmaps = np.asarray(heatmaps, np.float32)
    n_, h, w, c_ = heatmaps.shape
    thr = np.float32(threshold)
    peaks = np.zeros((n_, c_, max_peaks, 3), np.float32)
    counts = np.zeros((n_, c_), np.int32)
    for n in range(n_):
        for c in range(c_):
            hm = heatmaps[n, :, :, c]
            # Only pixels above the threshold can peak: visit those, in raster order.
            for y, x in zip(*np.nonzero(hm > thr)):
                if counts[n, c] < max_peaks and _is_peak(hm, x, y, thr, variant):
                    image_offset = np.reshape(offset, (-1, 2))[n if np.ndim(offset) == 2 else 0]
                    peaks[n, c, counts[n, c]] = _refine(hm, x, y, image_offset)
                    counts[n, c] += 1
    return peaks, counts


def maximum(heatmaps):
    """heatmaps [N, H, W, C] -> [N, C, 3] (x, y, value), first maximum in raster order."""
    heatmaps = np.asarray(heatmaps, np.float32)
    n_, h, w, c_ = heatmaps.shape
    out = np.zeros((n_, c_, 3), np.float32)
    for n in range(n_):
        for c in range(c_):
            flat = heatmaps[n, :, :, c].ravel()
            i = int(np.argmax(flat))  # first occurrence of the maximum
            out[n, c] = (i % w, i // w, flat[i])
    return out
