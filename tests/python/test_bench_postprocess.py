"""The post-processing benchmark's own arithmetic (the benchmark itself runs in `make
bench-postprocess`, not in the test suite)."""

from openpose_tf import bench_postprocess


def row(model, people, threads, gpu, cpu, batch=1):
    return {"model": model, "people": people, "threads": threads, "batch": batch,
            "postprocess gpu": gpu, "postprocess cpu": cpu}


def test_growth_is_the_most_people_over_the_fewest_per_model_and_threads():
    rows = [row("COCO", 30, 1, 6.0, 4.0), row("COCO", 1, 1, 1.0, 2.0),
            row("COCO", 10, 1, 3.0, 3.0), row("BODY_25", 1, 2, 2.0, 1.0),
            row("BODY_25", 30, 2, 5.0, 3.0), row("BODY_25", 10, 2, 1.0, 1.0, batch=16)]
    assert bench_postprocess.growth(rows) == [
        "postprocess from 1 to 30 COCO people, 1 thread(s): gpu x6.0, cpu x2.0",
        "postprocess from 1 to 30 BODY_25 people, 2 thread(s): gpu x2.5, cpu x3.0"]


def test_round_robin_times_each_function_once_per_round_after_an_untimed_call():
    calls = []
    figures = bench_postprocess.round_robin_ms(
        {"a": lambda: calls.append("a"), "b": lambda: calls.append("b")}, repeats=3)
    assert calls == ["a", "a", "b", "b"] * 3
    assert set(figures) == {"a", "b"} and all(v >= 0 for v in figures.values())


def _bench_vs_openpose():
    import importlib.util
    import pathlib

    path = pathlib.Path(__file__).resolve().parents[2] / "benchmarks" / "bench_vs_openpose.py"
    spec = importlib.util.spec_from_file_location("bench_vs_openpose", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_vs_openpose_compares_people_count_then_values():
    import numpy as np

    same = _bench_vs_openpose().same_people
    ours = np.arange(12, dtype=np.float32).reshape(2, 2, 3)
    theirs = np.zeros((8, 2, 3), np.float32)
    theirs[:2] = ours
    scores = np.array([3.0, 2.0] + [0.0] * 6, np.float32)
    assert same(2, theirs, scores, ours, scores[:2]) == "yes, identical"
    assert same(3, theirs, scores, ours, scores[:2]) == "no: 3 vs our 2 people"
    theirs[1, 1, 0] += 5e-4
    assert same(2, theirs, scores, ours, scores[:2]) == "yes, within 0.0005"
    ours_scores = scores[:2].copy()
    scores[0] += 0.5
    assert same(2, theirs, scores, ours, ours_scores) == "no: max difference 0.5"
    assert same(0, theirs, scores, ours[:0], scores[:0]) == "yes"


def test_vs_openpose_refuses_a_folder_that_is_not_openpose(tmp_path):
    import pytest

    with pytest.raises(SystemExit, match="is not an OpenPose checkout"):
        _bench_vs_openpose().build(tmp_path, tmp_path)
