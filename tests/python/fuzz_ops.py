"""Fuzzing the ops: random shapes, dtypes, extreme values and attrs through every raw op and
public wrapper. Run by test_fuzz.py in its own process (a crash must not take pytest down), under
an address-space limit so that huge allocations fail as ResourceExhausted instead of swapping.

Every case must end in a clean exception (ValueError, TypeError, InvalidArgument, Unimplemented,
ResourceExhausted) or in a result that keeps the op's contract. Prints "N passed, N failed".

Usage: python fuzz_ops.py SEED CASES [ADDRESS_SPACE_GIB]
"""

import os
import resource
import sys
import traceback

if len(sys.argv) > 3:
    limit = int(sys.argv[3]) << 30
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from openpose_tf import ops, pose_models  # noqa: E402

# MemoryError: numpy copying a large valid result (e.g. 16 x 20 x 100000 peak rows) under the
# address-space limit; the ops themselves report ResourceExhausted.
CLEAN = (ValueError, TypeError, tf.errors.InvalidArgumentError, tf.errors.UnimplementedError,
         tf.errors.ResourceExhaustedError, MemoryError)
F32_MAX = float(np.finfo(np.float32).max)
EXTREMES = [0.0, -0.0, 1.0, -1.0, 0.5, 1e-38, F32_MAX, -F32_MAX, np.inf, -np.inf, np.nan, 1e30]
DIMS = [0, 1, 1, 2, 3, 4, 7, 9, 16]


class Contract(AssertionError):
    """A result outside the op's contract."""


def check(cond, what):
    if not cond:
        raise Contract(what)


def pick(rng, good, bad, p_bad=0.08):
    """Mostly a valid choice, sometimes a hostile one: each knob alone decides little."""
    options = bad if bad and rng.random() < p_bad else good
    return options[int(rng.integers(len(options)))]


def values(rng, shape, dtype=np.float32):
    size = int(np.prod(shape)) if shape else 1
    kind = rng.integers(5)
    if kind == 0:
        x = rng.uniform(0, 1, size)
    elif kind == 1:
        x = rng.normal(0, 1e3, size)
    elif kind == 2:
        x = rng.choice(EXTREMES, size)
    elif kind == 3:
        x = rng.uniform(0, 1, size)
        x[rng.random(size) < 0.1] = rng.choice(EXTREMES)
    else:
        x = np.zeros(size)
    with np.errstate(over="ignore", invalid="ignore"):
        return x.reshape(shape).astype(dtype)


def maps(rng, channels=None, rank=4):
    """A map tensor: mostly valid NHWC shapes, sometimes wrong ranks, zero dims or dtypes."""
    if rng.random() < 0.05:
        rank = int(rng.integers(0, 6))
    shape = [pick(rng, DIMS[1:], [0]) for _ in range(rank)]
    if rank == 4:
        shape[1] = max(shape[1], int(rng.integers(1, 24)))
        shape[2] = max(shape[2], int(rng.integers(1, 24)))
        if rng.random() < 0.05:
            shape[0] = 0  # an empty batch: an empty result
        if channels is not None and rng.random() < 0.9:
            shape[3] = channels
    dtype = pick(rng, [np.float32, np.float32, np.float16, np.float64], [np.int32, np.bool_])
    if dtype == np.bool_:
        return np.zeros(shape, np.bool_)
    return values(rng, shape, dtype)


def fuzz_nms(rng):
    heat = maps(rng)
    threshold = float(pick(rng, [0.05, 0.0, 0.5, 1.0, -0.5, 2.0, -np.inf], [np.nan, np.inf]))
    max_peaks = int(pick(rng, [1, 2, 5, 127, 100000], [2 ** 31 - 1, 0, -3]))
    n = heat.shape[0] if heat.ndim == 4 else 1
    offset = pick(rng, ["pair", "per_image"], ["bad"])
    offset = {"pair": [0.5, 0.5], "per_image": rng.uniform(-2, 2, (n, 2)).astype(np.float32),
              "bad": values(rng, (int(rng.integers(0, 4)),))}[offset]
    variant = pick(rng, ["gpu", "cpu"], ["GPU"])
    data_format = pick(rng, ["NHWC", "NCHW"], ["bad"])
    peaks, counts = ops.nms(heat, threshold, max_peaks, offset, variant, data_format)
    peaks, counts = peaks.numpy(), counts.numpy()
    check(np.all((counts >= 0) & (counts <= max_peaks)), "counts in [0, M]")
    for idx in np.ndindex(*counts.shape):
        rows = peaks[idx]
        check(np.all(np.isfinite(rows[:counts[idx], :2])), "finite peak positions")
        check(np.all(rows[counts[idx]:] == 0), "zero rows past the count")


def fuzz_maximum(rng):
    heat = maps(rng)
    data_format = str(rng.choice(["NHWC", "NCHW"]))
    out = ops.maximum(heat, data_format).numpy()
    h, w = (heat.shape[1], heat.shape[2]) if data_format == "NHWC" else heat.shape[2:]
    xy = out[..., :2]
    check(np.all(xy == np.floor(xy)) and np.all(xy[..., 0] < w) and np.all(xy[..., 1] < h)
          and np.all(xy >= 0), "integral positions inside the map")


def fuzz_resize(rng):
    scales = int(rng.integers(1, 4))
    first = maps(rng)
    outputs = [first]
    for _ in range(scales - 1):
        shape = list(first.shape)
        if len(shape) == 4:
            shape[1] = max(1, int(shape[1] * rng.uniform(0.3, 1.2)))
            shape[2] = max(1, int(shape[2] * rng.uniform(0.3, 1.2)))
        outputs.append(values(rng, shape) if first.dtype != np.bool_ else np.zeros(shape, bool))
    target = pick(rng, ["default", "small"], ["huge", "bad", "zero"])
    target = {"default": None, "small": [int(rng.integers(1, 40)), int(rng.integers(1, 40))],
              "huge": [2 ** 31 - 1, 1], "bad": [3, 3, 3], "zero": [0, 4]}[target]
    ratios = pick(rng, ["ones", "random"], ["huge", "bad", "none"])
    ratios = {"ones": [1.0] * scales, "random": list(rng.uniform(0.1, 2.0, scales)),
              "huge": [1.0] + [1e30] * (scales - 1), "bad": [np.nan] * scales,
              "none": None}[ratios]
    variant = pick(rng, ["gpu", "cpu"], [])
    out = ops.resize_and_merge(outputs if scales > 1 or rng.random() < 0.5 else first, target,
                               ratios, variant).numpy()
    finite_in = all(np.all(np.isfinite(o.astype(np.float64))) and
                    np.all(np.abs(o.astype(np.float64)) < 1e6) for o in outputs)
    if finite_in:
        check(np.all(np.isfinite(out)), "finite output for finite inputs")
        bound = max(float(np.abs(o.astype(np.float64)).max(initial=0)) for o in outputs)
        # Catmull-Rom overshoots by a bounded factor; extrapolation (garbage) would not be.
        check(np.abs(out).max(initial=0) <= 8 * bound + 1e-6, f"bounded values {bound}")


def connector_inputs(rng, model):
    n = pick(rng, [1, 2, 3], [0])
    h, w = int(rng.integers(1, 30)), int(rng.integers(1, 30))
    l2 = pick(rng, [model.num_pafs], [int(rng.integers(0, 80))])
    pafs = values(rng, (n, h, w, l2))
    parts = pick(rng, [model.num_parts], [int(rng.integers(1, 60))])
    m = pick(rng, [1, 2, 5, 127], [])
    peaks = values(rng, (n, parts, m, 3))
    peaks[..., :2] = np.where(rng.random((n, parts, m, 2)) < 0.9,
                              rng.uniform(-2, max(h, w) + 2, (n, parts, m, 2)), peaks[..., :2])
    count_kind = pick(rng, ["ok", "ok", "int64"], ["big", "negative", "float"])
    counts = rng.integers(0, m + 1, (n, parts)).astype(np.int32)
    if count_kind == "big" and counts.size:
        counts.flat[0] = m + 1
    elif count_kind == "negative" and counts.size:
        counts.flat[0] = -1
    elif count_kind == "int64":
        counts = counts.astype(np.int64)
        if counts.size and rng.random() < 0.5:
            counts.flat[0] = 2 ** 32 + 1
    elif count_kind == "float":
        counts = counts.astype(np.float32) + 0.9
    return pafs, peaks, counts


def fuzz_connector(rng):
    model = pose_models.get(str(rng.choice(["BODY_25", "COCO", "MPI", "BODY_25B"])))
    pafs, peaks, counts = connector_inputs(rng, model)
    scale = pick(rng, [1.0, 2.5, 1e-3, "per_image"], [0.0, -1.0, np.nan, np.inf, "hostile"])
    scale = {"per_image": rng.uniform(0.5, 4, peaks.shape[0]).astype(np.float32),
             "hostile": values(rng, (peaks.shape[0],))}.get(scale, scale)
    variant = pick(rng, ["gpu", "cpu"], [])
    thresholds = {}
    if rng.random() < 0.3:
        thresholds = dict(inter_threshold=float(rng.choice([-1.0, 0.0, 0.05, 2.0])),
                          inter_min_above_threshold=float(rng.choice([-1.0, 0.0, 0.95, 1.0])),
                          min_subset_cnt=int(rng.choice([-5, 0, 3, 100])),
                          min_subset_score=float(rng.choice([-1.0, 0.0, 0.4, 1e9])))
    how = pick(rng, ["composed", "split"], ["raw"], p_bad=0.15)
    if how == "composed":
        keypoints, scores = ops.body_part_connector(pafs, peaks, counts, model, variant,
                                                    scale_factor=scale, **thresholds)
    elif how == "split":
        pair_scores = ops.paf_scores(pafs, peaks, counts, model).numpy()
        k = int(np.max(counts, initial=0)) if np.issubdtype(counts.dtype, np.integer) else 0
        check(pair_scores.shape[2:] == (k, k) or pair_scores.shape[0] == 0, "[N, L, K, K]")
        check(np.all((pair_scores == -1) | ((pair_scores >= 0) & np.isfinite(pair_scores))),
              "pair scores are -1 or finite >= 0")
        keypoints, scores = ops.assemble_people(peaks, counts, pair_scores, model, variant,
                                                scale_factor=scale)
    else:  # the raw op with hostile attrs
        lib = ops.load_library()
        pairs = [int(v) for v in rng.integers(-2, model.num_parts + 3, 2 * model.num_pairs)]
        out = lib.open_pose_assemble_people(
            peaks, counts.astype(np.int32), np.zeros((peaks.shape[0], model.num_pairs, 0, 0),
                                                     np.float32), 1.0,
            pairs=pairs, num_parts=int(rng.choice([model.num_parts, 1, 300])),
            ear_limbs=[int(rng.integers(-3, 40))], foot_parts=[int(rng.integers(-3, 40))],
            min_subset_cnt=3, min_subset_score=0.4)
        keypoints = tf.RaggedTensor.from_row_lengths(out[0], out[2])
        scores = tf.RaggedTensor.from_row_lengths(out[1], out[2])
    flat = keypoints.flat_values.numpy()
    check(flat.shape[1:] == (model.num_parts, 3), "[T, P, 3]")
    check(np.all(np.isfinite(flat[..., :2])), "finite keypoint positions")
    check(scores.flat_values.shape[0] == flat.shape[0], "one score per person")


def fuzz_fused(rng):
    """peaks_and_paf_scores: a clean error, or exactly what the composed ops give."""
    model = pose_models.get("COCO")
    x = maps(rng, model.num_channels)
    target = pick(rng, [None, [int(rng.integers(1, 48)), int(rng.integers(1, 48))]],
                  [[2 ** 31 - 1, 2 ** 31 - 1], [0, 3]])
    threshold = float(pick(rng, [0.05, 0.0, 0.5, 1.0, -0.5], [np.nan, np.inf, -np.inf]))
    variant = pick(rng, ["gpu", "cpu"], [])
    max_peaks = int(pick(rng, [1, 3, 127], [0]))
    got = [t.numpy() for t in ops.peaks_and_paf_scores(x, model, target, None, variant, threshold,
                                                       max_peaks)]
    maps_ = ops.resize_and_merge(x, target, None, variant)
    peaks, counts = ops.nms(maps_, threshold, max_peaks, (0.5, 0.5), variant,
                            channels=(0, model.num_parts))
    scores = ops.paf_scores(maps_, peaks, counts, model, nms_threshold=threshold,
                            channel_begin=model.num_heatmaps)
    for g, w in zip(got, (peaks, counts, scores)):
        check(g.shape == w.shape and np.array_equal(g, w.numpy()), "equal to the composed ops")


def fuzz_coverage(rng):
    """sparse_coverage: a clean error, or fractions in [0, 1], each stage within the one before."""
    model = pose_models.get("COCO")
    x = maps(rng, model.num_channels)
    target = pick(rng, [None, [int(rng.integers(1, 48)), int(rng.integers(1, 48))]],
                  [[2 ** 31 - 1, 2 ** 31 - 1], [0, 3]])
    threshold = float(pick(rng, [0.05, 0.0, 0.5, -0.5], [np.nan, np.inf, -np.inf]))
    got = ops.sparse_coverage(x, model, target, None, pick(rng, ["gpu", "cpu"], []),
                              threshold).numpy()
    check(got.shape == (x.shape[0], 2), "[N, 2]")
    check(np.all((got >= 0) & (got <= 1)), "fractions")
    check(np.all(got[:, 0] >= got[:, 1]), "stages nested")


FUZZERS = [fuzz_nms, fuzz_maximum, fuzz_resize, fuzz_connector, fuzz_fused, fuzz_coverage]

# The instances of the hardening issue's classes, each with the clean error it must now give.
TARGETED = [
    # Allocations sized from validated sizes, failing as ResourceExhausted (8.6 GB output here).
    ("resize 2^31-1 rows", tf.errors.ResourceExhaustedError,
     lambda: ops.resize_and_merge(tf.ones([1, 1, 1, 1]), target_size=(2 ** 31 - 1, 1))),
    ("nms 2^31-1 peaks", tf.errors.ResourceExhaustedError,
     lambda: ops.nms(tf.ones([1, 4, 4, 2]), max_peaks=2 ** 31 - 1)),
    ("resize workspace over 2^31", tf.errors.InvalidArgumentError,
     lambda: ops.resize_and_merge(tf.ones([1, 65536, 1, 1]), target_size=(1, 32768))),
    ("ratios in the wrong order", tf.errors.InvalidArgumentError,
     lambda: ops.resize_and_merge([tf.ones([1, 46, 82, 2]), tf.ones([1, 34, 60, 2])],
                                  scale_ratios=[0.2496, 0.3401])),
    ("empty batch with a 2^31 height", (ValueError, tf.errors.InvalidArgumentError),
     lambda: ops.nms(tf.zeros([0, 2 ** 31, 1, 1]))),
    ("int64 count 2^32+3", tf.errors.InvalidArgumentError,
     lambda: ops.body_part_connector(np.zeros((1, 8, 8, 52), np.float32),
                                     np.zeros((1, 25, 4, 3), np.float32),
                                     np.full((1, 25), 2 ** 32 + 3, np.int64))),
    ("float counts", TypeError,
     lambda: ops.body_part_connector(np.zeros((1, 8, 8, 52), np.float32),
                                     np.zeros((1, 25, 4, 3), np.float32),
                                     np.full((1, 25), 2.9, np.float32))),
    ("NaN scale factor", ValueError,
     lambda: ops.body_part_connector(np.zeros((1, 8, 8, 52), np.float32),
                                     np.zeros((1, 25, 4, 3), np.float32),
                                     np.zeros((1, 25), np.int32), scale_factor=float("nan"))),
]


def run_targeted():
    failed = 0
    for name, error, call in TARGETED:
        print(f"targeted: {name}", flush=True)
        try:
            call()
            failed += 1
            print(f"FAILED targeted {name}: no error", flush=True)
        except error:
            pass
        except Exception:  # noqa: BLE001
            failed += 1
            print(f"FAILED targeted {name}:\n{traceback.format_exc()}", flush=True)
    return failed


def main():
    seed, cases = int(sys.argv[1]), int(sys.argv[2])
    targeted_failures = run_targeted()
    passed = failed = 0
    results = {f.__name__: [0, 0] for f in FUZZERS}  # [results checked, clean errors]
    for case in range(cases):
        rng = np.random.default_rng([seed, case])
        fuzzer = FUZZERS[case % len(FUZZERS)]
        print(f"case {case} {fuzzer.__name__}", flush=True)  # the last line names a crash
        try:
            fuzzer(rng)
            passed += 1
            results[fuzzer.__name__][0] += 1
        except CLEAN:
            passed += 1
            results[fuzzer.__name__][1] += 1
        except Exception:  # noqa: BLE001 - report and go on
            failed += 1
            print(f"FAILED case {case} {fuzzer.__name__}:\n{traceback.format_exc()}", flush=True)
    for name, (checked, errors) in results.items():
        print(f"{name}: {checked} results in contract, {errors} clean errors")
    print(f"targeted cases: {len(TARGETED) - targeted_failures} of {len(TARGETED)} as expected")
    failed += targeted_failures
    print(f"{passed} passed, {failed} failed", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
