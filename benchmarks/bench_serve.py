"""`openpose-tf serve` under load, against `run` on the same images (loopback only, bounded).

For tf-pose-estimation's frozen graph and for OpenPose's BODY_25 (its prototxt with random
weights, converted): a server subprocess on a free loopback port (default batching: one image
per call on a CPU), then concurrency 1, 4 and 16 with `--requests` requests each (BODY_25:
`--body_25_requests`), the real photos of ../shared/images in turn. Prints requests/s,
p50/p95/p99 latency, errors (should be 0), the server's resident memory before and after
(should be flat), then `run --write_json` on the same photos (its steady frames/s, after the
first call), the single-image pipeline time (PoseExtractor, one photo at a time) and, as the
latency a server cannot beat, the same photos decoded and run one after another in this process
(p50 / p95 / p99 over as many calls as requests: on a shared machine the pipeline's own p99 is
well above its median). `run` is timed right before and right after the server's levels, and
the ratios use the mean of the two.

    python benchmarks/bench_serve.py [--requests 200] [--body_25_requests 24]
    python benchmarks/bench_serve.py --soak_minutes 10    # memory under steady load
"""

from __future__ import annotations

import argparse
import concurrent.futures
import pathlib
import re
import statistics
import sys
import tempfile
import threading
import time


ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "python"))  # serve_process, caffe_files
SHARED = ROOT.parent / "shared"
GRAPH = SHARED / "models" / "tfpose_mobilenet_v2_small" / "graph_opt.pb"
TF_POSE = ["--frozen_graph", str(GRAPH), "--model_pose", "COCO", "--output_tensor",
           "Openpose/concat_stage7:0"]


def rss_mb(pid: int) -> float:
    status = pathlib.Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024


def start_server(model_flags, log: pathlib.Path):
    from serve_process import start_server as start

    try:
        return start(model_flags, log, timeout=300)
    except RuntimeError as err:
        sys.exit(str(err))


def load(url, photos, concurrency: int, requests: int):
    """(requests/s, [(photo index, latency s)], errors (answers other than 200, and failed
    connections), the clients' CPU in cores (this process's: at most what the clients took)):
    `concurrency` clients, each with its own kept-alive connection. The clients are the
    standard library's http.client, which takes about a fifth of httpx's CPU per request
    (0.02-0.03 of a core at 16 clients instead of 0.11-0.14): on 2 shared cores the load
    generator's CPU is taken from the server."""
    import http.client
    import urllib.parse

    address = urllib.parse.urlsplit(url)
    local = threading.local()
    connections = []

    def one(i):
        if not hasattr(local, "connection"):
            local.connection = http.client.HTTPConnection(address.hostname, address.port,
                                                          timeout=600)
            connections.append(local.connection)
        start = time.perf_counter()
        try:
            local.connection.request("POST", "/v1/pose", body=photos[i % len(photos)],
                                     headers={"Content-Type": "application/octet-stream"})
            answer = local.connection.getresponse()
            answer.read()
            status = answer.status
        except (OSError, http.client.HTTPException):  # an error to count; a new connection
            local.connection.close()
            del local.connection
            status = None
        return (i % len(photos), time.perf_counter() - start), status

    start, cpu = time.perf_counter(), time.process_time()
    try:
        with concurrent.futures.ThreadPoolExecutor(concurrency) as pool:
            results = list(pool.map(one, range(requests)))
    finally:
        for connection in connections:
            connection.close()
    seconds = time.perf_counter() - start
    return (requests / seconds, [r[0] for r in results], sum(r[1] != 200 for r in results),
            (time.process_time() - cpu) / seconds)


def stop_server(process) -> None:
    """SIGTERM, then SIGKILL if it has not exited within a minute."""
    import subprocess

    process.terminate()
    try:
        process.wait(60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def soak(model_flags, photos, minutes: float, tmp: pathlib.Path, concurrency: int = 4) -> None:
    """Memory under steady load: `concurrency` clients for `minutes`, the server's resident
    memory every 30 s (it should stay flat after the first calls)."""
    import httpx

    process, url = start_server(model_flags, tmp / "soak.log")
    stop = time.monotonic() + minutes * 60
    counts, errors = [0] * concurrency, [0] * concurrency

    def client(k):
        with httpx.Client(timeout=600) as session:
            i = k
            while time.monotonic() < stop:
                try:
                    answer = session.post(url + "/v1/pose", content=photos[i % len(photos)])
                    errors[k] += answer.status_code != 200
                except httpx.HTTPError:  # a failure to count, not the end of this client
                    errors[k] += 1
                counts[k] += 1
                i += 1

    try:
        start = time.monotonic()
        threads = [threading.Thread(target=client, args=(k,)) for k in range(concurrency)]
        for thread in threads:
            thread.start()
        samples = []
        while time.monotonic() < stop:
            samples.append((time.monotonic() - start, rss_mb(process.pid), sum(counts)))
            print(f"{samples[-1][0]:.0f} s: server RSS {samples[-1][1]:.0f} MB, "
                  f"{samples[-1][2]} requests", flush=True)
            time.sleep(min(30, max(0.0, stop - time.monotonic())))
        for thread in threads:
            thread.join()
        settled = [rss for t, rss, _ in samples if t >= 60] or [samples[-1][1]]
        print(f"soak: {sum(counts)} requests in {minutes:g} min at concurrency {concurrency}, "
              f"{sum(errors)} errors; server RSS {samples[0][1]:.0f} MB at start, "
              f"{min(settled):.0f}-{max(settled):.0f} MB from the first minute on, "
              f"{rss_mb(process.pid):.0f} MB at the end", flush=True)
    finally:
        stop_server(process)


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def run_rate(model_flags, folder: pathlib.Path, out: pathlib.Path) -> float:
    import contextlib
    import io

    from openpose_tf import cli

    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        assert cli.main(["run", *model_flags, "--image_dir", str(folder), "--write_json",
                         str(out), "--no_progress"]) == 0, err.getvalue()[-2000:]
    steady = re.findall(r"([\d.]+) frames/s after the first", err.getvalue())
    return float(steady[-1]) if steady else float("nan")


def pipeline_seconds(model_flags, photos, requests: int):
    """In this process, the work of a request without the server: (the single-image pipeline
    time of each photo, median of 3, warmed up; the decode + pipeline time of `requests` photos
    one after another, the photos in turn as the load sends them)."""
    import argparse as ap

    import openpose_tf
    from openpose_tf import media
    from openpose_tf.cli import flags

    parser = ap.ArgumentParser()
    flags.add_network_arguments(parser)
    flags.add_pose_arguments(parser)
    args, _ = parser.parse_known_args(model_flags)
    network, pose = flags.network_from_args(args)
    extractor = openpose_tf.PoseExtractor(network, pose)
    images = [media.decode_image(p, media.MAX_IMAGE_PIXELS) for p in photos]
    for image in images:
        extractor([image])
    times = []
    for image in images:
        runs = []
        for _ in range(3):
            start = time.perf_counter()
            extractor([image])
            runs.append(time.perf_counter() - start)
        times.append(statistics.median(runs))
    serial = []
    for i in range(requests):
        start = time.perf_counter()
        extractor([media.decode_image(photos[i % len(photos)], media.MAX_IMAGE_PIXELS)])
        serial.append(time.perf_counter() - start)
    return times, serial


def bench(label, model_flags, folder, photos, requests, tmp):
    # First, before this process runs `run` (after it, this one's calls take longer; the
    # server is a fresh process).
    single, serial = pipeline_seconds(model_flags, photos, requests)
    # `run` right before and right after the server's levels (this machine's speed drifts over
    # minutes; the ratios use the mean of the two).
    frames_before = run_rate(model_flags, folder, tmp / f"{label}_json_before")
    process, url = start_server(model_flags, tmp / f"{label}.log")
    try:
        before = rss_mb(process.pid)
        rows = []
        for concurrency in (1, 4, 16):
            rate, latencies, errors, client_cpu = load(url, photos, concurrency, requests)
            rows.append((concurrency, rate, latencies, errors, rss_mb(process.pid), client_cpu))
        after = rss_mb(process.pid)
    finally:
        stop_server(process)
    frames_after = run_rate(model_flags, folder, tmp / f"{label}_json_after")
    frames = (frames_before + frames_after) / 2
    s50, s95, s99 = (percentile(serial, q) * 1e3 for q in (0.5, 0.95, 0.99))
    print(f"\n{label}: {requests} requests per level; server RSS {before:.0f} -> {after:.0f} MB; "
          f"run {frames:.2f} frames/s (after its first call; {frames_before:.2f} before the "
          f"server, {frames_after:.2f} after); single-image pipeline "
          f"{', '.join(f'{t * 1e3:.0f}' for t in single)} ms (the {len(single)} photos); "
          f"without a server, decode + pipeline of {requests} photos one after another: "
          f"p50 / p95 / p99 {s50:.0f} / {s95:.0f} / {s99:.0f} ms")
    print("| concurrency | requests/s | vs run | p50 ms | p95 ms | p99 ms | p99 of latency / "
          "its photo's pipeline time | p50, p99 / without a server's | errors | "
          "server RSS after, MB | the clients' CPU (cores) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for concurrency, rate, latencies, errors, rss, client_cpu in rows:
        seconds = [t for _, t in latencies]
        p50, p95, p99 = (percentile(seconds, q) * 1e3 for q in (0.5, 0.95, 0.99))
        ratio = percentile([t / single[i] for i, t in latencies], 0.99)
        print(f"| {concurrency} | {rate:.2f} | {rate / frames:.2f}x | {p50:.0f} | {p95:.0f} | "
              f"{p99:.0f} | {ratio:.2f}x | {p50 / s50:.2f}x, {p99 / s99:.2f}x | {errors} | "
              f"{rss:.0f} | {client_cpu:.2f} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--body_25_requests", type=int, default=24)
    parser.add_argument("--skip_body_25", action="store_true")
    parser.add_argument("--soak_minutes", type=float, default=0,
                        help="instead: tf-pose's server under 4 clients for this long, its "
                             "resident memory every 30 s")
    args = parser.parse_args()
    if not GRAPH.exists():
        sys.exit(f"needs {GRAPH} (../shared beside the project)")
    paths = sorted((SHARED / "images").glob("*.jpg"))
    photos = [p.read_bytes() for p in paths]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        if args.soak_minutes > 0:
            return soak(TF_POSE, photos, args.soak_minutes, tmp)
        folder = tmp / "photos"
        folder.mkdir()
        for k in range(6):  # enough frames for run's steady rate
            for p in paths:
                (folder / f"{p.stem}_{k}{p.suffix}").write_bytes(p.read_bytes())
        bench("tf-pose mobilenet", TF_POSE, folder, photos, args.requests, tmp)
        if args.skip_body_25:
            return
        import caffe_files

        from openpose_tf import cli

        prototxt = SHARED / "models" / "pose" / "body_25" / "pose_deploy.prototxt"
        caffe_files.random_caffemodel(prototxt, tmp / "body_25.caffemodel")
        assert cli.main(["convert", str(prototxt), str(tmp / "body_25.caffemodel"), "-o",
                         str(tmp / "body_25")]) == 0
        bench("BODY_25 (random weights)", ["--model", str(tmp / "body_25")], folder, photos,
              args.body_25_requests, tmp)


if __name__ == "__main__":
    main()
