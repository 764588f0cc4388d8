"""Frames in and pictures out, with OpenCV, named as OpenPose names them.

- `image_frames(paths)`: one frame per image, named by the file's stem (`p3.jpg` -> `p3`).
- `video_frames(path, frame_step, start, stop)`: frames of a video (or of a range of it), named
  `<video stem>_<frame index, 12 digits>` (OpenPose's VideoReader: `clip_000000000012`), every
  `frame_step`-th frame.
- `write_image(path, image)`: an image written to a temporary name, then renamed.
- `VideoWriter`: a video written to a temporary file, renamed into place only when closed after
  a complete run (an interrupted run leaves no half video).

A frame that cannot be read is yielded with `image=None` and the reason, so callers report it and
go on.
"""

from __future__ import annotations

import dataclasses
import os
import pathlib
from typing import Callable, Iterator

import numpy as np

from openpose_tf.common import write_atomic

# OpenPose's image extensions (fileSystem.cpp: getFilesOnDirectory with the image extensions).
IMAGE_EXTENSIONS = (".bmp", ".dib", ".pbm", ".pgm", ".ppm", ".sr", ".ras", ".jpg", ".jpeg",
                    ".png", ".jpe", ".jp2", ".tiff", ".tif", ".webp")
# What a glob of mixed inputs (openpose_tf.beam) takes for a video: OpenPose itself is told by
# its --video flag. Any container OpenCV's FFmpeg reads.
VIDEO_EXTENSIONS = (".avi", ".mp4", ".mov", ".mkv", ".mpg", ".mpeg", ".wmv", ".flv", ".webm",
                    ".m4v")
# Containers and the codecs OpenCV's pip wheels write them with.
VIDEO_CODECS = {".avi": "MJPG", ".mp4": "mp4v"}


@dataclasses.dataclass
class Frame:
    name: str                   # OpenPose's name for the frame (JSON and image file names)
    image: np.ndarray | None    # BGR uint8 [H, W, 3], or None if unreadable
    error: str = ""             # why it is None
    index: int | None = None    # the frame's index in its video (None for an image)


def list_images(folder) -> list[pathlib.Path]:
    """The images of a folder (OpenPose's extensions), in name order."""
    folder = pathlib.Path(folder)
    if not folder.is_dir():
        raise ValueError(f"--image_dir {folder} is not a folder")
    # is_file(): regular files only (a FIFO or a device would block or never end).
    return sorted(p for p in folder.iterdir()
                  if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file())


_JPEG_START, _JPEG_END = b"\xff\xd8", b"\xff\xd9"
# The largest image decoded (--max_image_pixels): 100 Mpx is 300 MB as BGR, several GB once
# warped and normalised; larger ones are refused from their header, before decoding.
MAX_IMAGE_PIXELS = 100_000_000


def header_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) an image file's header declares (Pillow reads the header only), or None
    where Pillow does not know the format (OpenCV may still decode it)."""
    import io

    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as image:
            return image.size
    except Image.DecompressionBombError as err:  # Pillow's own cap (~179 Mpx) said it first
        raise ValueError(f"its header declares too many pixels ({err})") from None
    except Exception:  # noqa: BLE001 - any format or parse error: let OpenCV try
        return None


def check_unique_names(paths) -> None:
    """Refuses inputs whose outputs would share a name (`a.jpg` and `a.png` both write
    `a_keypoints.json`), naming both, before any work."""
    seen: dict[str, pathlib.Path] = {}
    for path in paths:
        path = pathlib.Path(path)
        if path.stem in seen:
            first, second = seen[path.stem], path
            if first.name == second.name:  # the same name in two folders: say which folders
                first, second = str(first), str(second)
            else:
                first, second = first.name, second.name
            raise ValueError(f"{first!r} and {second!r} would write the same outputs "
                             f"({path.stem}_keypoints.json...): rename one")
        seen[path.stem] = path


def decode_image(data: bytes, max_pixels: int = MAX_IMAGE_PIXELS) -> np.ndarray:
    """A BGR uint8 image from an encoded file's bytes (OpenCV's decoders); a ValueError with the
    reason for a file that is not an image OpenCV can decode, or whose header declares more than
    `max_pixels` pixels (checked before decoding). `run` and `beam` both decode with it, so a
    damaged file gets the same answer on both.

    A truncated JPEG is decoded as OpenPose's `cv::imread` decodes the file: libjpeg's file
    reader ends the data with an end-of-image marker and fills the missing rows, where
    `cv::imdecode`'s memory reader gives up; the marker is added here, which makes the two equal
    pixel for pixel."""
    import cv2

    if not data:
        raise ValueError("an empty file")
    size = header_size(data)
    if size is not None and size[0] * size[1] > max_pixels:
        raise ValueError(f"{size[0]}x{size[1]} pixels, more than --max_image_pixels "
                         f"{max_pixels}")
    if data.startswith(_JPEG_START) and not data.endswith(_JPEG_END):
        data += _JPEG_END
    try:
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    except cv2.error as err:  # e.g. OpenCV's own pixel cap, a corrupt header
        reason = str(err).strip().splitlines()[-1]
        raise ValueError(f"OpenCV cannot decode it ({reason})") from None
    except MemoryError:
        raise ValueError("not enough memory to decode it") from None
    if image is None:
        raise ValueError("not a readable image")
    if image.shape[0] * image.shape[1] > max_pixels:
        raise ValueError(f"{image.shape[1]}x{image.shape[0]} pixels, more than "
                         f"--max_image_pixels {max_pixels}")
    return image


def image_frames(paths, max_pixels: int = MAX_IMAGE_PIXELS) -> Iterator[Frame]:
    """Frames of image files, read one by one (the bytes by Python, so that no file name reaches
    OpenCV); an image that cannot be read or decoded is a frame without image, with the reason."""
    for path in paths:
        path = pathlib.Path(path)
        try:
            yield Frame(path.stem, decode_image(path.read_bytes(), max_pixels))
        except OSError as err:
            yield Frame(path.stem, None, f"{path}: {err.strerror or err}")
        except ValueError as err:
            yield Frame(path.stem, None, f"{path}: {err}")


def video_properties(path) -> tuple[int, float]:
    """(frame count as the container says, frames per second) of a video."""
    import cv2

    capture = _open_video(path)
    try:
        return int(capture.get(cv2.CAP_PROP_FRAME_COUNT)), float(capture.get(cv2.CAP_PROP_FPS))
    finally:
        capture.release()


def video_frames(path, frame_step: int = 1,
                 skip: Callable[[str], bool] = lambda name: False, start: int = 0,
                 stop: int | None = None, stem: str | None = None) -> Iterator[Frame]:
    """Frames start, start + step... (indices that are multiples of frame_step) of a video, up to
    `stop` (exclusive; None: the end), named `<stem>_<index, 12 digits>` (OpenPose's
    VideoReader; `stem` defaults to the file's); frames in between (and skipped ones) are grabbed
    but not decoded. A start past 0 is reached by OpenCV's seek (frame-accurate for intra-frame
    codecs such as MJPG; FFmpeg decodes forward from the previous key frame for others)."""
    import cv2

    step = check_step(frame_step)
    capture = _open_video(path)
    stem = stem or pathlib.Path(path).stem
    try:
        if start > 0 and not capture.set(cv2.CAP_PROP_POS_FRAMES, start):
            raise ValueError(f"{path}: OpenCV cannot seek to frame {start}")
        index = start
        while (stop is None or index < stop) and capture.grab():
            name = f"{stem}_{index:012d}"
            if index % step == 0 and not skip(name):
                ok, image = capture.retrieve()
                yield Frame(name, image if ok else None,
                            "" if ok else f"{path}: frame {index} could not be decoded", index)
            index += 1
    finally:
        capture.release()


def write_image(path, image: np.ndarray) -> pathlib.Path:
    """Writes `image` with OpenCV (format from the extension) via a temporary file."""
    path = pathlib.Path(path)
    return write_atomic(path, encode_image(path.suffix, image))


def encode_image(suffix: str, image: np.ndarray) -> bytes:
    """`image` encoded by OpenCV in the format of the file extension `suffix` (`.png`)."""
    import cv2

    ok, data = cv2.imencode(suffix, image)
    if not ok:
        raise ValueError(f"OpenCV cannot encode {suffix!r} images")
    return data.tobytes()


class VideoWriter:
    """OpenPose's `--write_video`: frames of one size into `path` (.avi MJPG or .mp4 mp4v)."""

    def __init__(self, path, fps: float):
        self.path = pathlib.Path(path)
        codec = VIDEO_CODECS.get(self.path.suffix.lower())
        if codec is None:
            raise ValueError(f"--write_video must end in one of {', '.join(VIDEO_CODECS)}, got "
                             f"{self.path.name!r}")
        if not (np.isfinite(fps) and fps > 0):  # (inf made OpenCV's writer loop for ever)
            raise ValueError(f"video frames per second must be finite and > 0, got {fps}")
        self.codec, self.fps = codec, fps
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # A name of this process's own (two runs writing one video never share it); partial
        # files left by runs that died (kill -9) are removed.
        self.tmp = self.path.with_name(f".{self.path.stem}.partial-{os.getpid()}"
                                       f"{self.path.suffix}")
        _remove_dead_partials(self.path)
        self.writer = None
        self.size = None

    def write(self, image: np.ndarray, name: str = "") -> None:
        import cv2

        size = (image.shape[1], image.shape[0])
        if self.writer is None:
            self.writer = cv2.VideoWriter(str(self.tmp), cv2.VideoWriter_fourcc(*self.codec),
                                          self.fps, size)
            if not self.writer.isOpened():
                raise OSError(f"OpenCV cannot write {self.codec} video to {self.tmp}")
            self.size = size
        elif size != self.size:
            raise ValueError(f"--write_video needs frames of one size: {name} is "
                             f"{size[0]}x{size[1]}, the video is {self.size[0]}x{self.size[1]}")
        self.writer.write(image)

    def close(self, complete: bool = True) -> pathlib.Path | None:
        """Finishes the file; renames it into place if `complete`, else deletes it."""
        if self.writer is None:
            return None
        self.writer.release()
        self.writer = None
        if complete:
            os.replace(self.tmp, self.path)
            return self.path
        self.tmp.unlink(missing_ok=True)
        return None


def _remove_dead_partials(path: pathlib.Path) -> None:
    """Deletes `.<stem>.partial-<pid><suffix>` files beside `path` whose process is gone."""
    prefix = f".{path.stem}.partial-"
    for partial in path.parent.glob(f"{prefix}*{path.suffix}"):
        pid = partial.name[len(prefix):-len(path.suffix) or None]
        if not pid.isdigit():
            continue
        try:
            os.kill(int(pid), 0)  # still running: its file
        except ProcessLookupError:
            partial.unlink(missing_ok=True)
        except (PermissionError, OverflowError):
            pass


def check_step(frame_step: int) -> int:
    if int(frame_step) < 1:
        raise ValueError(f"--frame_step must be >= 1, got {frame_step}")
    return int(frame_step)


def _open_video(path):
    import cv2

    if not pathlib.Path(path).is_file():
        raise ValueError(f"--video {path} is not a file")
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise ValueError(f"--video {path}: OpenCV cannot open it as a video")
    return capture
