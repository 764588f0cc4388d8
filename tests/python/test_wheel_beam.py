"""The worker recipe of `openpose-tf beam` on a real runner: the wheel (`make wheel`: the package
with its op library) is built, installed into a folder of its own and put first on the path, and
the job runs on the DirectRunner with 2 worker processes: every DoFn, the model handler and the op
library are pickled and loaded in fresh processes from the wheel, and the JSON equals `run`'s."""

import os
import pathlib
import shutil
import subprocess
import sys

import cv2
import numpy as np

from openpose_tf import _library

ROOT = pathlib.Path(__file__).resolve().parents[2]
NET = ["--net_resolution", "-1x64"]


def test_the_wheel_runs_beam_in_two_worker_processes(model_dir, tmp_path):
    source = tmp_path / "source"  # a copy: the checkout itself is never touched
    source.mkdir()
    for name in ("pyproject.toml", "setup.py", "requirements.txt", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "python", source / "python",
                    ignore=shutil.ignore_patterns("*.egg-info", "__pycache__"))
    shutil.copy(_library.find_library(), source / "python" / "openpose_tf")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps",
                    "--no-build-isolation", "-w", str(tmp_path / "dist"), str(source)],
                   check=True, capture_output=True)
    (wheel,) = (tmp_path / "dist").glob("openpose_tf-*.whl")
    target = tmp_path / "installed"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target",
                    str(target), str(wheel)], check=True, capture_output=True)
    env = dict(os.environ, PYTHONPATH=str(target), TF_CPP_MIN_LOG_LEVEL="3")
    env.pop("OPENPOSE_TF_OPS_LIBRARY", None)
    where = subprocess.run([sys.executable, "-c", "import openpose_tf, openpose_tf._library as l;"
                            " print(openpose_tf.__file__); print(l.find_library())"],
                           env=env, cwd=tmp_path, capture_output=True, text=True, check=True)
    assert all(line.startswith(str(target)) for line in where.stdout.split()), where.stdout

    images = tmp_path / "in"
    images.mkdir()
    rng = np.random.default_rng(5)
    for i in range(3):
        cv2.imwrite(str(images / f"w{i}.png"), rng.integers(0, 256, (50, 70 + 8 * i, 3),
                                                            np.uint8))
    common = ["--model", str(model_dir)] + NET
    subprocess.run([sys.executable, "-m", "openpose_tf", "run", *common, "--image_dir",
                    str(images), "--write_json", str(tmp_path / "run"), "--no_progress"],
                   env=env, cwd=tmp_path, check=True, capture_output=True)
    job = subprocess.run([sys.executable, "-m", "openpose_tf", "beam", *common, "--input",
                          str(images / "*.png"), "--output", str(tmp_path / "beam"),
                          "--direct_running_mode", "multi_processing",
                          "--direct_num_workers", "2"],
                         env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert job.returncode == 0, job.stderr[-3000:]
    for i in range(3):
        assert (tmp_path / "beam" / f"w{i}_keypoints.json").read_bytes() == \
            (tmp_path / "run" / f"w{i}_keypoints.json").read_bytes()
