"""Small pieces every part of the package shares, with no import of the pipeline (so that the
pipeline's modules can all import it without a circle):

- `People`: one image's people, what every route returns;
- `write_atomic`: a file written to a temporary name beside it, then renamed, with the mode the
  user's umask gives a new file (not the temporary file's 0600);
- `Stopwatch`: time per named stage, for `run --profile` and the benchmarks.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import pathlib
import statistics
import tempfile
import time

import numpy as np

# What a network may want as input (net_input.normalise): OpenPose's x/256 - 0.5 (BGR), raw BGR,
# raw RGB, RGB / 255.
INPUT_FORMATS = ("openpose", "bgr255", "rgb255", "rgb01")


@dataclasses.dataclass
class People:
    """One image's people: keypoints `[T, P, 3]` (x, y, score) in image pixels, scores `[T]`,
    and OpenPose's scaleNetToOutput (heatmap pixels -> image pixels, for `--keypoint_scale 1`)."""

    keypoints: np.ndarray
    scores: np.ndarray
    scale_net_to_output: float = 1.0
    # With hands / faces: [T, 21, 3] and [T, 70, 3] in image pixels, zeros for a person without
    # a region (OpenPose's handExtractor / faceExtractor); else None.
    hand_left: np.ndarray | None = None
    hand_right: np.ndarray | None = None
    face: np.ndarray | None = None


def check_batch_size(batch_size) -> int:
    """A batch size (images or crops per network call) as an int >= 1."""
    if int(batch_size) < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    return int(batch_size)


def _umask() -> int:
    """The process's umask, read without changing it where Linux says it (another thread may be
    creating files meanwhile); else set and restored at once."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _new_file_mode() -> int:
    """0666 less the process's umask: what `open(path, "w")` would give a new file."""
    return 0o666 & ~_umask()


def write_atomic(path, data: str | bytes) -> pathlib.Path:
    """Writes `data` (text as UTF-8) to a temporary file beside `path`, then renames it into
    place: readers never see half a file, and an interrupted write leaves the old one."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    tmp = None
    try:  # (an interrupt right after mkstemp must not leave the temporary file either)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.fchmod(fd, _new_file_mode())  # mkstemp's files are 0600
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        if tmp is not None:
            pathlib.Path(tmp).unlink(missing_ok=True)
        raise
    return path


class Stopwatch:
    """Seconds per named stage: `with watch("network"): ...`; `summary()` prints them."""

    def __init__(self):
        self.seconds: dict[str, list[float]] = {}

    @contextlib.contextmanager
    def __call__(self, stage: str):
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds.setdefault(stage, []).append(time.perf_counter() - start)

    def total(self, stage: str) -> float:
        return sum(self.seconds.get(stage, ()))

    def summary(self, frames: int) -> str:
        """`stage total s (ms per frame)` for each stage, in first-use order."""
        parts = [f"{stage} {sum(times):.2f} s ({1e3 * sum(times) / max(frames, 1):.1f} ms/frame)"
                 for stage, times in self.seconds.items()]
        return ", ".join(parts)


def error_reason(error: BaseException) -> str:
    """The line of an error that says what went wrong: TensorFlow's runtime errors wrap it in
    "Graph execution error:", node names and Python stack lines, which are left out (and an
    assertion's message is taken out of its brackets)."""
    message = getattr(error, "message", None) or str(error)
    for line in message.splitlines():
        line = line.strip()
        if not line or line.startswith(("Graph execution error", "Detected at node",
                                         "<stack traces", "[[", 'File "')) or \
                line.endswith(":"):
            continue
        if line.startswith("assertion failed: ["):
            return line[len("assertion failed: ["):].split("]")[0].strip()
        return line.split(" [Op:")[0]
    return type(error).__name__


def median_ms(fn, repeats: int) -> float:
    """The median time of `fn()` in ms over `repeats` calls, after one untimed warm-up call
    (tracing, allocations)."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3
