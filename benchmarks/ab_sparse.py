"""A/B of the sparse post-processing's C++ core: two versions, call by call, in one process.

Builds `kernels/core` of two versions (a git ref, or `worktree` for the files as they are) with
benchmarks/ab_sparse_entry.cc into two shared libraries (g++, the core's Bazel flags), loads
both, and on the net outputs of `make bench-postprocess` (synthetic crowds, clean and noisy)
calls their `SparsePeaksAndPafScores` in turn, one call of each per round, on one thread. Prints
per case and variant the 25th percentile of each version's milliseconds, the ratio new / base,
and whether the two gave the same peaks and pair scores (a checksum).

Why: on a shared machine the load moves from second to second; timing each version in its own
process (as the Python benchmarks do) moved 5-10% between runs here, this harness 1-2%, so a
change of a few percent shows. It times the op's core only (no TensorFlow, no grouping).

    python benchmarks/ab_sparse.py --base main [--new worktree] [--calls 40] [--cases noisy]
    make bench-ab BASE=main

Needs g++ (and git for a ref). Not part of `make test`.
"""

from __future__ import annotations

import argparse
import ctypes
import pathlib
import subprocess
import sys
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "python"))

# The core's copts (kernels/core/BUILD) and Bazel's -c opt.
FLAGS = ["-std=c++17", "-O3", "-DNDEBUG", "-Wno-psabi", "-ffp-contract=off", "-fno-math-errno",
         "-fno-trapping-math", "-fPIC", "-shared", "-Wl,-Bsymbolic"]
CASES = {
    "clean": [("BODY_25", 1, 0.0), ("BODY_25", 10, 0.0), ("BODY_25", 30, 0.0), ("COCO", 10, 0.0)],
    "noisy": [("COCO", 10, 0.01), ("BODY_25", 1, 0.02), ("BODY_25", 10, 0.02),
              ("BODY_25", 30, 0.02), ("COCO", 10, 0.02)],
}


def build(version: str, work: pathlib.Path) -> pathlib.Path:
    """The shared library of `version`'s kernels/core (a git ref, or "worktree")."""
    if version == "worktree":
        tree = ROOT
    else:
        tree = work / f"tree-{len(list(work.iterdir()))}"
        tree.mkdir()
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", version, "kernels/core"],
                                 check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    library = work / f"{version.replace('/', '_')}-{len(list(work.iterdir()))}.so"
    sources = sorted(str(p) for p in (tree / "kernels" / "core").glob("*.cc"))
    subprocess.run(["g++", *FLAGS, f"-I{tree}", *sources, str(HERE / "ab_sparse_entry.cc"),
                    "-o", str(library)], check=True)
    return library


def load(library: pathlib.Path):
    function = ctypes.CDLL(str(library)).ab_sparse_run
    function.restype = ctypes.c_double
    function.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_int,
                         ctypes.c_int, ctypes.c_float, ctypes.c_float, ctypes.c_float,
                         ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p]
    return function


def case_arguments(name: str, people: int, noise: float):
    """(net output, the arguments after it but the variant) of one benchmark case."""
    import numpy as np

    from openpose_tf import pose_models
    from openpose_tf.bench_postprocess import net_output

    model = pose_models.get(name)
    defaults = model.connector_defaults(False)
    x = np.ascontiguousarray(net_output(name, people, 1, noise)[0], np.float32)
    pairs = np.array([p for pair in model.pairs for p in pair], np.int32)
    paf = np.array([model.num_heatmaps + c for xy in model.paf_indices for c in xy], np.int32)
    return x, pairs, paf, (x.shape[0], x.shape[1], x.shape[2]), (
        model.num_parts, defaults.nms_threshold, defaults.inter_min_above_threshold,
        defaults.inter_threshold, len(pairs) // 2)


def compare(functions, cases, calls: int) -> None:
    print("| case | variant | base ms | new ms | new / base | same results |")
    print("|---|---|---|---|---|---|")
    for name, people, noise in cases:
        x, pairs, paf, shape, params = case_arguments(name, people, noise)
        for variant in ("gpu", "cpu"):
            args = (x.ctypes.data, *shape, int(variant == "gpu"), *params, pairs.ctypes.data,
                    paf.ctypes.data)
            times = [[] for _ in functions]
            sums = [f(*args) for f in functions]  # (and a first, untimed call of each)
            for r in range(calls):
                for k in range(len(functions)):
                    i = (k + r) % len(functions)  # who goes first alternates
                    start = time.perf_counter()
                    functions[i](*args)
                    times[i].append(time.perf_counter() - start)
            ms = [sorted(t)[len(t) // 4] * 1e3 for t in times]
            print(f"| {name}, {people} people, noise {noise} | {variant} | {ms[0]:.3f} | "
                  f"{ms[1]:.3f} | {ms[1] / ms[0]:.3f} | {'yes' if sums[0] == sums[1] else 'NO'} |",
                  flush=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", required=True, help="a git ref, or worktree")
    parser.add_argument("--new", default="worktree", help="a git ref, or worktree (default)")
    parser.add_argument("--calls", type=int, default=40, help="timed calls of each per case")
    parser.add_argument("--cases", choices=["all", *CASES], default="all")
    args = parser.parse_args(argv)
    if args.calls < 1:
        parser.error(f"--calls must be >= 1, got {args.calls}")
    cases = [c for key, group in CASES.items() if args.cases in ("all", key) for c in group]
    with tempfile.TemporaryDirectory(prefix="ab_sparse-") as work:
        work = pathlib.Path(work)
        libraries = [build(v, work) for v in (args.base, args.new)]
        print(f"base {args.base}, new {args.new}; {args.calls} calls each, alternating; "
              "25th percentile", flush=True)
        compare([load(path) for path in libraries], cases, args.calls)
    return 0


if __name__ == "__main__":
    sys.exit(main())
