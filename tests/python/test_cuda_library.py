"""The library built with its CUDA kernels (`make build-cuda`): it loads in tensorflow-cpu, every
op has a GPU kernel registered (with the host-memory arguments the kernels read on the host),
and on the CPU it gives exactly what the CPU-only library gives. `make test` builds it and names
it in $OPENPOSE_TF_CUDA_LIBRARY; without that variable these tests are skipped. (No GPU runs
here: the CUDA kernels themselves are tested by `make gpu-test` on a GPU machine.)"""

import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import openpose_tf
from openpose_tf import _library, ops, pose_models, synthetic

CUDA_LIBRARY = os.environ.get("OPENPOSE_TF_CUDA_LIBRARY", "")
pytestmark = pytest.mark.skipif(
    not CUDA_LIBRARY, reason="OPENPOSE_TF_CUDA_LIBRARY not set (`make test` builds and sets it)")

# What each GPU kernel keeps in host memory: what it reads on the host (attrs aside).
GPU_HOST_MEMORY = {
    "OpenPose>Nms": {"threshold", "offset"},
    "OpenPose>Maximum": set(),
    "OpenPose>ResizeAndMerge": {"target_size", "scale_ratios"},
    "OpenPose>PafScores": {"peaks", "peak_counts"},
    "OpenPose>AssemblePeople": {"peaks", "peak_counts", "pair_scores", "scale_factor",
                                "keypoints", "scores", "people_per_image"},
}

# Runs in a fresh process (one process cannot load two libraries that register the same ops):
# the registered kernels, then the post-processing of the maps in argv[1] on the CPU.
_SCRIPT = """
import json, sys
import numpy as np
import openpose_tf
from openpose_tf import _library, ops
from tensorflow.python.framework import kernels
_library.load()
registered = {op: [[k.device_type, sorted(k.host_memory_arg)]
                   for k in kernels.get_registered_kernels_for_op(op).kernel]
              for op in _library.op_names()}
maps = np.load(sys.argv[1])
results = {}
for variant in ("gpu", "cpu"):
    keypoints, scores = openpose_tf.postprocess(maps, "COCO", variant=variant)
    results[variant] = [keypoints.flat_values.numpy().tolist(), scores.flat_values.numpy().tolist()]
results["maximum"] = ops.maximum(maps[..., :18]).numpy().tolist()
print(json.dumps({"registered": registered, "results": results}))
"""


@pytest.fixture(scope="module")
def cuda_run(tmp_path_factory):
    library = pathlib.Path(CUDA_LIBRARY)
    assert library.is_file(), f"OPENPOSE_TF_CUDA_LIBRARY names {library}, which does not exist"
    model = pose_models.get("COCO")
    rng = np.random.default_rng(12)
    people = synthetic.random_crowd(model, rng, 3, 184, 328)
    maps = synthetic.render_net_output(model, people, 184, 328)[None].astype(np.float32)
    path = tmp_path_factory.mktemp("cuda") / "maps.npy"
    np.save(path, maps)
    env = dict(os.environ, OPENPOSE_TF_OPS_LIBRARY=str(library))
    done = subprocess.run([sys.executable, "-c", _SCRIPT, str(path)], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return maps, json.loads(done.stdout.strip().splitlines()[-1])


def test_every_op_has_a_gpu_kernel_with_its_host_memory(cuda_run):
    _, out = cuda_run
    assert set(out["registered"]) == set(_library.op_names())
    assert set(GPU_HOST_MEMORY) | set(_library.CPU_ONLY_OPS) == set(out["registered"])
    for op, kernels in out["registered"].items():
        devices = {device: set(host) for device, host in kernels}
        if op in _library.CPU_ONLY_OPS:
            assert set(devices) == {"CPU"}, op
            continue
        assert set(devices) == {"CPU", "GPU"}, op
        assert devices["GPU"] == GPU_HOST_MEMORY[op], op


def test_cuda_library_computes_on_the_cpu_what_the_cpu_library_does(cuda_run):
    maps, out = cuda_run
    for variant in ("gpu", "cpu"):
        keypoints, scores = openpose_tf.postprocess(maps, "COCO", variant=variant)
        got_keypoints, got_scores = out["results"][variant]
        assert len(got_scores) == 3, variant  # the three synthetic people are found
        np.testing.assert_array_equal(np.array(got_keypoints, np.float32),
                                      keypoints.flat_values.numpy())
        np.testing.assert_array_equal(np.array(got_scores, np.float32),
                                      scores.flat_values.numpy())
    np.testing.assert_array_equal(np.array(out["results"]["maximum"], np.float32),
                                  ops.maximum(maps[..., :18]).numpy())
