"""Post-processing against OpenPose's own CPU code (issue: 10x faster than OpenPose, exact).

Compiles benchmarks/openpose_reference.cc with the needed files of an OpenPose checkout
(resizeAndMergeCpu, nmsCpu, connectBodyPartsCpu and what they use; no Caffe), then, in one
process on one thread, on the net outputs of `make bench-postprocess` (synthetic crowds, clean
and with N(0, 0.01) / N(0, 0.02) background noise, and tf-pose-estimation's real output on
../shared's photos when that folder is beside the project), times round-robin: OpenPose's three
functions, `postprocess` (both variants) and plain TensorFlow (bicubic resize + max-pool NMS).
Prints a Markdown table: milliseconds, our time over OpenPose's, OpenPose's stages, and whether
`postprocess(variant="cpu")` found the same people as OpenPose's CPU build (the same count, and
keypoints and scores identical or within 1e-3, the largest difference shown: OpenCV's vectorised
cubic sums in another order than its scalar code, which ours follows, so a few map values differ
by an ulp), and whether OpenPose's nmsCpu + connectBodyPartsCpu on our cpu variant's upsampled
maps give exactly our people (the comparison without OpenCV in between).

    python benchmarks/bench_vs_openpose.py --openpose PATH/TO/openpose [--repeats 5]
    python benchmarks/bench_vs_openpose.py --openpose PATH/TO/openpose --exactness

Needs g++ and OpenCV's C++ headers (Debian: apt-get install libopencv-dev; pkg-config opencv4).
OpenPose's files are compiled with its CMake's flags (default -O3; --instruction_set AVX2 as its
AVX2 option). Not part of `make test`.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import ctypes
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
SHARED = HERE.parents[1] / "shared"
GRAPH = SHARED / "models" / "tfpose_mobilenet_v2_small" / "graph_opt.pb"
# OpenPose's files that the three functions need (src/openpose/...).
SOURCES = ["net/nmsBase.cpp", "net/resizeAndMergeBase.cpp", "net/bodyPartConnectorBase.cpp",
           "pose/poseParameters.cpp", "core/array.cpp", "core/matrix.cpp", "core/point.cpp",
           "core/rectangle.cpp", "core/string.cpp", "utilities/errorAndLog.cpp",
           "utilities/keypoint.cpp", "utilities/string.cpp", "utilities/openCv.cpp",
           "utilities/openCvPrivate.cpp", "utilities/fileSystem.cpp", "utilities/profiler.cpp"]
MAX_PEOPLE = 256
# OpenPose's PoseModel numbers (include/openpose/pose/enumClasses.hpp) of the models whose CPU
# connector it implements.
OPENPOSE_MODEL = {"BODY_25": 0, "COCO": 1, "MPI": 2, "MPI_4_layers": 3}


def build(openpose: pathlib.Path, folder: pathlib.Path, instruction_set: str = "NONE"
          ) -> pathlib.Path:
    """The reference library, compiled into `folder` (a file at a time, on two processes) with
    the flags of OpenPose's CMake build on Linux: -O3 -fopenmp, and -mavx -march=native for its
    INSTRUCTION_SET=AVX2 (default NONE)."""
    missing = [s for s in SOURCES if not (openpose / "src" / "openpose" / s).exists()]
    if missing or not (openpose / "include" / "openpose").is_dir():
        raise SystemExit(f"{openpose} is not an OpenPose checkout (no include/openpose, or "
                         f"missing src/openpose/{', '.join(missing[:3])})")
    if shutil.which("pkg-config") is None:
        raise SystemExit("pkg-config not found (Debian: apt-get install pkg-config)")
    found = subprocess.run(["pkg-config", "--cflags", "--libs", "opencv4"], capture_output=True,
                           text=True)
    if found.returncode != 0:
        raise SystemExit("OpenCV's C++ development files not found (pkg-config opencv4; "
                         "Debian: apt-get install libopencv-dev)")
    flags = found.stdout.split()
    cflags = [f for f in flags if f.startswith("-I")]
    libs = [f for f in flags if not f.startswith("-I")]
    simd = ["-mavx", "-march=native"] if instruction_set == "AVX2" else []
    compile_flags = ["g++", "-O3", "-fopenmp", *simd, "-std=c++14", "-fPIC", "-w",
                     f"-I{openpose / 'include'}"] + cflags
    files = [HERE / "openpose_reference.cc"] + [openpose / "src" / "openpose" / s for s in SOURCES]

    def compile_one(i_file):
        i, path = i_file
        obj = folder / f"{i}.o"
        done = subprocess.run(compile_flags + ["-c", str(path), "-o", str(obj)],
                              capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"compiling {path} failed:\n{done.stderr[-3000:]}")
        return str(obj)

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        objects = list(pool.map(compile_one, enumerate(files)))
    library = folder / "libopenpose_reference.so"
    done = subprocess.run(["g++", "-shared", "-fopenmp", "-o", str(library)] + objects + libs,
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"linking failed:\n{done.stderr[-3000:]}")
    return library


class OpenPoseReference:
    """The compiled library's two functions, on one image's [1, h, w, C] maps."""

    def __init__(self, library: pathlib.Path):
        self.lib = ctypes.CDLL(str(library))
        floats, integer = ctypes.POINTER(ctypes.c_float), ctypes.c_int
        milliseconds = ctypes.POINTER(ctypes.c_double)
        self.lib.openpose_postprocess.argtypes = [floats] + [integer] * 7 + [floats, floats,
                                                                              milliseconds]
        self.lib.openpose_postprocess.restype = integer
        self.lib.openpose_nms_and_connect.argtypes = [floats] + [integer] * 6 + [floats, floats,
                                                                                  milliseconds]
        self.lib.openpose_nms_and_connect.restype = integer

    @staticmethod
    def _buffers(maps, model_name: str, stages: int):
        """maps as OpenPose's [C, h, w] planes, and the outputs: keypoints, scores and each
        stage's milliseconds."""
        import numpy as np

        from openpose_tf import pose_models

        planes = np.ascontiguousarray(maps[0].transpose(2, 0, 1), np.float32)
        keypoints = np.zeros((MAX_PEOPLE, pose_models.get(model_name).num_parts, 3), np.float32)
        return planes, keypoints, np.zeros(MAX_PEOPLE, np.float32), (ctypes.c_double * stages)()

    @staticmethod
    def _pointer(array):
        return array.ctypes.data_as(ctypes.POINTER(ctypes.c_float))

    @staticmethod
    def _checked(people: int) -> int:
        if people < 0:
            raise RuntimeError("OpenPose's functions threw (see stderr)")
        return people

    def nms_and_connect(self, heat, model_name: str, maximize_positives: bool = False):
        """OpenPose's nmsCpu + connectBodyPartsCpu on upsampled maps [1, H, W, C]: (people,
        keypoints, scores)."""
        planes, keypoints, scores, ms = self._buffers(heat, model_name, 2)
        people = self.lib.openpose_nms_and_connect(
            self._pointer(planes), *planes.shape, OPENPOSE_MODEL[model_name],
            int(maximize_positives), MAX_PEOPLE, self._pointer(keypoints), self._pointer(scores),
            ms)
        return self._checked(people), keypoints, scores

    def prepare(self, data, model_name: str, target_hw):
        """(call, keypoints, scores, ms): call() runs OpenPose's three functions on the net
        output `data`, upsampled to target_hw, into the other three; returns the people count."""
        planes, keypoints, scores, ms = self._buffers(data, model_name, 3)
        args = (self._pointer(planes), *planes.shape, *target_hw, OPENPOSE_MODEL[model_name],
                MAX_PEOPLE, self._pointer(keypoints), self._pointer(scores), ms)

        def call():
            return self._checked(self.lib.openpose_postprocess(*args))

        # planes stays alive with the closure (its pointer is in args).
        call.keep = planes
        return call, keypoints, scores, ms


def same_people(found: int, keypoints, scores, ours_keypoints, ours_scores) -> str:
    """'yes', or how OpenPose's people differ from ours."""
    import numpy as np

    if found != len(ours_keypoints):
        return f"no: {found} vs our {len(ours_keypoints)} people"
    if found > MAX_PEOPLE:
        return f"unchecked: more than {MAX_PEOPLE} people"
    if found == 0:
        return "yes"
    worst = max(float(np.max(np.abs(keypoints[:found] - ours_keypoints))),
                float(np.max(np.abs(scores[:found] - ours_scores))))
    if worst == 0:
        return "yes, identical"
    return f"yes, within {worst:.2g}" if worst <= 1e-3 else f"no: max difference {worst:.3g}"


def worker(library: pathlib.Path, repeats: int, graph, images) -> None:
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    import statistics

    import openpose_tf
    from openpose_tf import bench_postprocess, ops, pose_models

    reference = OpenPoseReference(library)
    size = (bench_postprocess.NET_H, bench_postprocess.NET_W)
    for name, people, batch, noise, data in bench_postprocess.inputs(graph, images):
        if batch != 1:
            continue
        model = pose_models.get(name)
        x = tf.constant(data)
        call, keypoints, scores, ms = reference.prepare(data, name, size)
        parts = model.num_parts

        @tf.function
        def plain(x):
            heat = tf.image.resize(x, size, method="bicubic")
            p = heat[..., :parts]
            pooled = tf.nn.max_pool2d(p, 3, 1, "SAME")
            return tf.where((p == pooled) & (p > 0.05))

        gpu = tf.function(lambda x: openpose_tf.postprocess(x, model, variant="gpu"))
        cpu = tf.function(lambda x: openpose_tf.postprocess(x, model, variant="cpu"))
        stages, counts = [], []

        def openpose():
            counts.append(call())  # keypoints and scores: the last call's
            stages.append(list(ms))

        times = bench_postprocess.round_robin_ms(
            {"tf": lambda: plain(x), "openpose": openpose, "gpu": lambda: gpu(x),
             "cpu": lambda: cpu(x)}, repeats)
        stages = stages[1::2]  # the timed calls (each follows an untimed one)
        found = counts[-1]
        ours = [t[0].numpy() for t in cpu(x)]
        on_ours = reference.nms_and_connect(ops.resize_and_merge(x, variant="cpu").numpy(), name)
        print(json.dumps({
            "model": name, "people": people, "noise": noise, "found": found, **times,
            "stages": [statistics.median(s[i] for s in stages) for i in range(3)],
            "same": same_people(found, keypoints, scores, *ours),
            "same_on_our_maps": same_people(*on_ours, *ours)}), flush=True)


def exactness(library: pathlib.Path) -> None:
    """OpenPose's nmsCpu + connectBodyPartsCpu on our cpu variant's upsampled maps against
    `postprocess(variant="cpu")`, over the models OpenPose's CPU connector implements, 1, 6 and
    25 synthetic people (overlapping, cut by the border), clean and with N(0, 0.02) noise, with
    and without --maximize_positives. Prints one line per difference, then a count."""
    import numpy as np
    import tensorflow as tf

    import openpose_tf
    from openpose_tf import bench_postprocess, ops, pose_models, synthetic

    reference = OpenPoseReference(library)
    h, w = bench_postprocess.NET_H, bench_postprocess.NET_W
    cases = differ = 0
    for name in OPENPOSE_MODEL:
        model = pose_models.get(name)
        for people in (1, 6, 25):
            for noise in (0.0, 0.02):
                for positives in (False, True):
                    rng = np.random.default_rng(people * 2 + positives)
                    crowd = synthetic.random_crowd(model, rng, people, h, w, overlap=True,
                                                   inside=False)
                    x = synthetic.render_net_output(model, crowd, h, w)
                    if noise:
                        x = x + rng.normal(0, noise, x.shape)
                    x = tf.constant(x[None].astype(np.float32))
                    heat = ops.resize_and_merge(x, variant="cpu").numpy()
                    ours = [t[0].numpy() for t in openpose_tf.postprocess(
                        x, model, variant="cpu", maximize_positives=positives)]
                    verdict = same_people(*reference.nms_and_connect(heat, name, positives),
                                          *ours)
                    cases += 1
                    if verdict != "yes, identical" and not (verdict == "yes" and not len(ours[0])):
                        differ += 1
                        print(f"{name}, {people} people, noise {noise}, maximize_positives "
                              f"{positives}: {verdict}", flush=True)
    print(f"OpenPose's nms + connect on our maps against postprocess(variant='cpu'): "
          f"{cases - differ} of {cases} cases identical", flush=True)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--openpose", required=True, type=pathlib.Path,
                        help="an OpenPose source checkout (its include/ and src/)")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per figure (5)")
    parser.add_argument("--instruction_set", choices=("NONE", "AVX2"), default="NONE",
                        help="OpenPose's CMake option: NONE (its default, -O3) or AVX2 (adds "
                             "-mavx -march=native; GCC then fuses multiply-adds, which moves "
                             "some keypoints by a float rounding)")
    parser.add_argument("--exactness", action="store_true",
                        help="instead of timing: OpenPose's NMS and grouping on our maps against "
                             "ours, for BODY_25, COCO, MPI and MPI_4_layers, with and without "
                             "--maximize_positives")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    graph = images = None
    if GRAPH.exists():
        graph, images = str(GRAPH), str(SHARED / "images")
    elif not args.exactness and not args.worker:
        print(f"(no real-output rows: {GRAPH} not found)", flush=True)
    if args.worker:
        if args.exactness:
            return exactness(pathlib.Path(args.worker))
        return worker(pathlib.Path(args.worker), args.repeats, graph, images)
    if args.repeats < 1:
        raise SystemExit(f"--repeats must be >= 1, got {args.repeats}")
    with tempfile.TemporaryDirectory() as folder:
        library = build(args.openpose.resolve(), pathlib.Path(folder), args.instruction_set)
        print(f"OpenPose built with INSTRUCTION_SET={args.instruction_set}", flush=True)
        # A process of its own: the thread counts are set before TensorFlow starts.
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", OMP_NUM_THREADS="1")
        command = [sys.executable, __file__, "--openpose", str(args.openpose), "--repeats",
                   str(args.repeats), "--worker", str(library)]
        if args.exactness:
            done = subprocess.run(command + ["--exactness"], env=env)
            if done.returncode != 0:
                raise SystemExit(f"the check failed (exit {done.returncode})")
            return
        child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
        try:
            table(child.stdout)
        except BaseException:  # not left running: its library is in `folder`
            child.kill()
            raise
        finally:
            child.wait()
        if child.returncode != 0:
            raise SystemExit(f"the benchmark process failed (exit {child.returncode})")


def table(lines) -> None:
    """Prints the Markdown table of the worker's JSON lines."""
    print("| case | noise | OpenPose: resize / nms / connect (ms) | OpenPose (ms) | plain TF "
          "(ms) | postprocess gpu (ms, x OpenPose) | postprocess cpu (ms, x OpenPose) | "
          "same people as OpenPose (cpu) | OpenPose's nms + connect on our maps |")
    print("|---" * 9 + "|")
    for line in lines:
        if not line.startswith("{"):
            continue
        r = json.loads(line)
        op = r["openpose"]
        print(f"| {r['model']}, {r['people']} ({r['found']} found) | {r['noise']} | "
              + " / ".join(f"{s:.2f}" for s in r["stages"])
              + f" | {op:.2f} | {r['tf']:.2f} | {r['gpu']:.2f} ({r['gpu'] / op:.3f}) | "
              f"{r['cpu']:.2f} ({r['cpu'] / op:.3f}) | {r['same']} | "
              f"{r['same_on_our_maps']} |", flush=True)


if __name__ == "__main__":
    main()
