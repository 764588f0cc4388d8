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
