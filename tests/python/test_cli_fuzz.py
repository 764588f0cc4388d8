"""The command line against hostile files and flag values (as fuzz_ops.py does for the ops):
`openpose-tf run` in a subprocess with a time and an address-space cap over a folder of
truncated, header-bomb, odd-sized, empty and garbage images, a non-UTF-8 name, a FIFO, a
symlink loop, a dangling link and a folder named like an image; then a corrupt and a truncated
video; then bad flag values. Each must end without a signal, a hang or a traceback, write only
valid JSON (no NaN or Infinity), and still write every good image's output."""

import json
import os
import resource
import struct
import subprocess
import sys
import zlib

import cv2
import numpy as np
import pytest

from openpose_tf import cli

NET = ["--net_resolution", "-1x128"]
LIMIT_GIB = 8  # as fuzz_ops.py: TensorFlow runs under it, a 10 GiB allocation does not


def capped():
    limit = LIMIT_GIB * 1024 ** 3
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def run_cli(args, timeout=180):
    process = subprocess.run([sys.executable, "-m", "openpose_tf", *args], capture_output=True,
                             text=True, timeout=timeout, preexec_fn=capped,
                             env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    assert process.returncode >= 0, f"killed by signal {-process.returncode}: {process.stderr}"
    assert "Traceback" not in process.stderr, process.stderr[-3000:]
    return process


def png_header_bomb(width, height):
    """A PNG whose header declares width x height and holds one row of data."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + \
            struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + \
        chunk(b"IDAT", zlib.compress(b"\0" * (3 * min(width, 1000) + 1))) + chunk(b"IEND", b"")


def strict_json(path):
    def refuse(constant):
        raise ValueError(f"{path} holds {constant}")
    return json.loads(path.read_bytes(), parse_constant=refuse)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    rng = np.random.default_rng(7)
    good = {}
    for name, size in (("good1.png", (120, 160)), ("good2.jpg", (90, 70))):
        image = rng.integers(0, 256, size + (3,), np.uint8)
        cv2.imwrite(str(folder / name), image)
        good[name.rsplit(".", 1)[0]] = image
    with open(os.path.join(os.fsencode(folder), b"latin\xe9.png"), "wb") as f:  # not UTF-8
        f.write(cv2.imencode(".png", rng.integers(0, 256, (64, 64, 3), np.uint8))[1])
    jpeg = cv2.imencode(".jpg", rng.integers(0, 256, (100, 100, 3), np.uint8))[1].tobytes()
    (folder / "truncated.jpg").write_bytes(jpeg[:len(jpeg) // 2])
    (folder / "bomb.png").write_bytes(png_header_bomb(100_000, 100_000))
    (folder / "wide_bomb.png").write_bytes(png_header_bomb(2 ** 31 - 1, 1))
    cv2.imwrite(str(folder / "thin.png"), np.zeros((1000, 3, 3), np.uint8))
    cv2.imwrite(str(folder / "pixel.png"), np.zeros((1, 1, 3), np.uint8))
    (folder / "empty.jpg").write_bytes(b"")
    (folder / "garbage.png").write_bytes(rng.integers(0, 256, 5000, np.uint8).tobytes())
    os.mkfifo(folder / "fifo.jpg")
    os.symlink("loop.jpg", folder / "loop.jpg")
    os.symlink("missing.jpg", folder / "dangling.jpg")
    (folder / "folder.jpg").mkdir()
    return folder, good


def test_run_over_hostile_files(model_dir, hostile, tmp_path):
    folder, good = hostile
    out = tmp_path / "out"
    process = run_cli(["run", "--model", str(model_dir), "--image_dir", str(folder),
                       "--write_json", str(out), "--write_images", str(out), "--keypoint_scale",
                       "4", "--no_progress"] + NET)
    assert process.returncode == 1, process.stderr  # some were skipped, said, not fatal
    for name in ("bomb", "wide_bomb", "thin", "empty", "garbage"):
        assert f"skipped {name}" in process.stderr or f"{name}." in process.stderr, name
    for name in list(good) + ["truncated"]:
        strict_json(out / f"{name}_keypoints.json")
        assert (out / f"{name}_rendered.png").is_file()
    assert os.path.exists(os.path.join(os.fsencode(out), b"latin\xe9_keypoints.json"))
    for path in out.glob("*.json"):  # --keypoint_scale 4 on a 1-pixel image too
        strict_json(path)
    assert not [p for p in out.iterdir() if ".partial" in p.name or p.name.startswith(".")]


def test_run_over_broken_videos(model_dir, tmp_path):
    corrupt = tmp_path / "corrupt.avi"
    corrupt.write_bytes(np.random.default_rng(3).integers(0, 256, 20000, np.uint8).tobytes())
    whole = tmp_path / "whole.avi"
    writer = cv2.VideoWriter(str(whole), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (64, 48))
    for t in range(8):
        writer.write(np.full((48, 64, 3), 30 * t, np.uint8))
    writer.release()
    truncated = tmp_path / "truncated.avi"
    truncated.write_bytes(whole.read_bytes()[:len(whole.read_bytes()) * 2 // 3])
    process = run_cli(["run", "--model", str(model_dir), "--video", str(corrupt),
                       "--write_json", str(tmp_path / "a")] + NET)
    assert process.returncode == 2 and "openpose-tf: error:" in process.stderr
    process = run_cli(["run", "--model", str(model_dir), "--video", str(truncated),
                       "--write_json", str(tmp_path / "b"), "--write_video",
                       str(tmp_path / "b.avi"), "--no_progress"] + NET)
    if process.returncode == 2:  # OpenCV could not open what is left: said in one line
        assert "cannot open it as a video" in process.stderr
    else:
        assert process.returncode in (0, 1)
        written = sorted((tmp_path / "b").glob("*.json"))
        assert written and all(strict_json(p) is not None for p in written)


@pytest.mark.parametrize("flags", [
    ["--net_resolution", "-1x16000"], ["--net_resolution", "-1x2147483648"],
    ["--net_resolution", "abc"], ["--net_resolution", "0x0"], ["--scale_number", "0"],
    ["--scale_gap", "nan"], ["--keypoint_scale", "7"],
    ["--write_images", "OUT", "--write_images_format", "../evil"],
    ["--write_images", "OUT", "--write_images_format", ""],
    ["--write_video", "OUT/v.avi", "--write_video_fps", "inf"], ["--frame_step", "0"],
    ["--batch_size", "0"], ["--max_image_pixels", "0"], ["--render_threshold", "nan"],
    ["--hand"], ["--hand_face_batch_size", "0", "--hand", "--hand_model", "MODEL"],
])
def test_bad_flags_are_one_clear_error(model_dir, hostile, tmp_path, capsys, flags):
    folder, _ = hostile
    flags = [f.replace("OUT", str(tmp_path / "o")).replace("MODEL", str(model_dir))
             for f in flags]
    try:
        code = cli.main(["run", "--model", str(model_dir), "--image", str(folder / "good1.png"),
                         "--no_progress"] + flags)
    except SystemExit as exit:  # argparse's own refusal
        code = exit.code
    err = capsys.readouterr().err
    assert code == 2, err
    assert "error:" in err and "Traceback" not in err
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").rglob("*.json"))
