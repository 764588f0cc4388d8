"""Slow NumPy reference of OpenPose's GPU resizeAndMerge (resizeAndMergeBase.cu,
docs/algorithms.md#gpu-build-catmull-rom), per output pixel, float32, in cuda.hu's operation
order; and OpenPose's multi-scale sizes (docs/algorithms.md#scales)."""

import numpy as np

f32 = np.float32


def catmull_rom(v0, v1, v2, v3, t):
    a = ((f32(-0.5) * v0 + f32(1.5) * v1) - f32(1.5) * v2) + f32(0.5) * v3
    b = ((v0 - f32(2.5) * v1) + f32(2.0) * v2) - f32(0.5) * v3
    return ((a * t * t * t + b * t * t) - f32(0.5) * (v0 - v2) * t) + v1


def _taps(n, target, scale):
    s = (np.arange(target, dtype=f32) + f32(0.5)) / f32(scale) - f32(0.5)
    i1 = np.clip(np.floor(s).astype(np.int64), 0, n - 1)
    i0 = np.maximum(0, i1 - 1)
    i2 = np.minimum(n - 1, i1 + 1)
    i3 = np.minimum(n - 1, i2 + 1)
    return (i0, i1, i2, i3), (s - i1.astype(f32)).astype(f32)


def bicubic_gpu(img, th, tw, scale_w, scale_h):
    """img [h, w, C] -> [th, tw, C], OpenPose's bicubicInterpolate at every target pixel."""
    h, w, _ = img.shape
    xi, dx = _taps(w, tw, scale_w)
    yi, dy = _taps(h, th, scale_h)
    dx = dx[None, :, None]
    temp = [catmull_rom(*(img[yi[k]][:, xi[j]] for j in range(4)), dx) for k in range(4)]
    return catmull_rom(*temp, dy[:, None, None])


def resize_and_merge_gpu(outputs, target, ratios):
    """outputs: list of [N, h, w, C]; target (H, W); ratios: scaleInputToNetInputs."""
    th, tw = target
    h0, w0 = outputs[0].shape[1:3]
    result = []
    for n in range(outputs[0].shape[0]):
        acc = None
        for s, out in enumerate(outputs):
            ratio = f32(ratios[s]) / f32(ratios[0])
            sw = f32(tw) / f32(w0) / ratio
            sh = f32(th) / f32(h0) / ratio
            v = bicubic_gpu(out[n].astype(f32), th, tw, sw, sh)
            acc = v if len(outputs) == 1 else (f32(0) + v if acc is None else acc + v)
        result.append(acc if len(outputs) == 1 else acc / f32(len(outputs)))
    return np.stack(result)


def openpose_scales(img_w, img_h, net_w=656, net_h=368, scale_number=4, scale_gap=0.25):
    """OpenPose's per-scale net input sizes and scaleInputToNetInputs
    (docs/algorithms.md#scales)."""
    sizes, ratios = [], []
    for i in range(scale_number):
        s = 1 - i * scale_gap
        tw = min(max((int(net_w * s + 0.5) // 16) * 16, 1), net_w)
        th = min(max((int(net_h * s + 0.5) // 16) * 16, 1), net_h)
        sizes.append((th, tw))
        ratios.append(min((tw - 1) / (img_w - 1), (th - 1) / (img_h - 1)))
    return sizes, ratios
