"""`openpose-tf serve` in a subprocess on a free loopback port, with a small converted network:
its JSON is `run --write_json`'s, byte for byte; TF Serving's REST shape; rendering; health and
metrics; concurrent requests of mixed sizes each get their own answer, batched; bad requests get
their status and the server goes on; SIGTERM ends it with exit code 0."""

import base64
import concurrent.futures
import json
import os
import pathlib
import signal
import time

import cv2
import numpy as np
import pytest

from openpose_tf import cli
from serve_process import start_server

httpx = pytest.importorskip("httpx", reason="the serve extra (httpx for the tests) is missing")
SHARED_IMAGES = pathlib.Path(os.environ.get(
    "OPENPOSE_TF_SHARED", pathlib.Path(__file__).resolve().parents[3] / "shared")) / "images"


def photos(count=6, seed=0):
    """Random images of three sizes, PNG-encoded."""
    rng = np.random.default_rng(seed)
    sizes = [(96, 128), (80, 80), (100, 60)]
    out = []
    for i in range(count):
        image = rng.integers(0, 256, sizes[i % 3] + (3,), np.uint8)
        out.append((f"img{i}", cv2.imencode(".png", image)[1].tobytes()))
    return out


@pytest.fixture(scope="module")
def server(model_dir, tmp_path_factory):
    log = tmp_path_factory.mktemp("serve") / "server.log"
    try:
        process, url = start_server(
            ["--model", str(model_dir), "--net_resolution", "-1x128", "--max_batch_size", "4",
             "--batch_timeout_ms", "50", "--max_queue", "40", "--max_image_bytes", "200k"], log)
    except RuntimeError as err:
        pytest.fail(str(err))
    yield url, process, log
    if process.poll() is None:
        process.kill()
        process.wait()


@pytest.fixture(scope="module")
def run_json(model_dir, tmp_path_factory):
    """`run --write_json` on the same images and flags: {name: bytes}."""
    folder = tmp_path_factory.mktemp("run")
    (folder / "in").mkdir()
    for name, data in photos():
        (folder / "in" / f"{name}.png").write_bytes(data)
    assert cli.main(["run", "--model", str(model_dir), "--image_dir", str(folder / "in"),
                     "--write_json", str(folder / "out"), "--write_images", str(folder / "out"),
                     "--net_resolution", "-1x128", "--no_progress"]) == 0
    return folder / "out"


def test_json_is_runs_byte_for_byte_and_render_is_its_picture(server, run_json):
    url, _, _ = server
    for name, data in photos():
        answer = httpx.post(url + "/v1/pose", content=data, timeout=60)
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"] == "application/json"
        assert answer.content == (run_json / f"{name}_keypoints.json").read_bytes()
    name, data = photos()[0]
    files = {"image": (f"{name}.png", data, "image/png")}
    multipart = httpx.post(url + "/v1/pose", files=files, timeout=60)
    assert multipart.content == (run_json / f"{name}_keypoints.json").read_bytes()
    png = httpx.post(url + "/v1/pose?render=1", content=data, timeout=60)
    assert png.headers["content-type"] == "image/png"
    np.testing.assert_array_equal(cv2.imdecode(np.frombuffer(png.content, np.uint8), 1),
                                  cv2.imread(str(run_json / f"{name}_rendered.png")))
    both = httpx.post(url + "/v1/pose?render=1", content=data, timeout=60,
                      headers={"Accept": "application/json"})
    assert both.content == b'{"rendered_png":"' + base64.b64encode(png.content) + \
        b'","openpose":' + (run_json / f"{name}_keypoints.json").read_bytes() + b"}"
    scaled = httpx.post(url + "/v1/pose?keypoint_scale=3", content=data, timeout=60)
    assert scaled.status_code == 200 and json.loads(scaled.content)["version"] == 1.3


def test_tf_serving_rest_shape(server, run_json):
    url, _, _ = server
    images = photos()[:3]
    body = {"instances": [{"b64": base64.b64encode(data).decode()} for _, data in images]}
    answer = httpx.post(url + "/v1/models/openpose:predict", json=body, timeout=60)
    assert answer.status_code == 200, answer.text
    predictions = json.loads(answer.content)["predictions"]
    assert [json.dumps(p, separators=(",", ":")) for p in predictions] == [
        json.dumps(json.loads((run_json / f"{n}_keypoints.json").read_bytes()),
                   separators=(",", ":")) for n, _ in images]
    missing = httpx.post(url + "/v1/models/other:predict", json=body, timeout=60)
    assert missing.status_code == 404 and "error" in missing.json()
    for wrong in ({"instances": [{"x": 1}]}, [1, 2], {"instances": []}):
        bad = httpx.post(url + "/v1/models/openpose:predict", json=wrong)
        assert bad.status_code == 400 and "instances" in bad.json()["error"], wrong
    nested = httpx.post(url + "/v1/models/openpose:predict", content=b"[" * 100_000)
    assert nested.status_code == 400
    tiny = base64.b64encode(cv2.imencode(".png", np.zeros((8, 8, 3), np.uint8))[1]).decode()
    many = {"instances": [{"b64": tiny}] * 41}  # --max_queue 40
    assert httpx.post(url + "/v1/models/openpose:predict", json=many).status_code == 400


def test_concurrent_mixed_sizes_each_get_their_own_answer_in_batches(server):
    url, _, _ = server
    images = photos(32, seed=1)
    serial = {name: httpx.post(url + "/v1/pose", content=data, timeout=60).content
              for name, data in images[:6]}
    with concurrent.futures.ThreadPoolExecutor(32) as pool:
        answers = list(pool.map(lambda item: (item[0], httpx.post(
            url + "/v1/pose", content=item[1], timeout=120)), images))
    for name, answer in answers:
        assert answer.status_code == 200, answer.text
        if name in serial:
            assert answer.content == serial[name]
    metrics = httpx.get(url + "/metrics").text
    batched = [line for line in metrics.splitlines()
               if line.startswith("openpose_batch_images_bucket") and 'le="1.0"' in line]
    count = [line for line in metrics.splitlines()
             if line.startswith("openpose_batch_images_count")]
    assert batched and count
    assert float(batched[0].split()[-1]) < float(count[0].split()[-1])  # some calls had > 1


def test_bad_requests_get_their_status_and_the_server_goes_on(server):
    url, _, _ = server
    assert httpx.post(url + "/v1/pose", content=b"not an image").status_code == 400
    assert httpx.post(url + "/v1/pose", content=b"").status_code == 400
    too_big = httpx.post(url + "/v1/pose", content=b"\0" * 300_000)
    assert too_big.status_code == 413 and too_big.headers["connection"] == "close"
    assert httpx.post(url + "/v1/pose?keypoint_scale=9", content=photos()[0][1]).status_code \
        == 400
    thin = cv2.imencode(".png", np.zeros((1000, 3, 3), np.uint8))[1].tobytes()  # no net column
    assert httpx.post(url + "/v1/pose", content=thin, timeout=60).status_code == 422
    assert httpx.post(url + "/v1/pose", content=photos()[0][1], timeout=60).status_code == 200
    metrics = httpx.get(url + "/metrics").text
    assert 'openpose_errors_total{kind="bad_image"}' in metrics
    assert 'openpose_errors_total{kind="too_large"}' in metrics
    assert "openpose_queue_images" in metrics and "openpose_request_seconds" in metrics


def test_page_and_health(server):
    url, _, _ = server
    page = httpx.get(url + "/")
    assert page.status_code == 200 and "/v1/pose" in page.text and "<script" in page.text
    assert "http" not in page.text.split("<script", 1)[1].split("fetch(")[0]  # no external assets
    assert httpx.get(url + "/healthz").text == "ok\n"


def test_the_page_in_a_browser(server, tmp_path):
    """Debian's chromium, headless, driven by Selenium through chromium-driver: a photo chosen
    on the page comes back rendered, with the people count of the JSON endpoint."""
    import shutil

    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    if not browser or not driver_path:
        pytest.skip("no chromium / chromedriver here (make test installs Debian's chromium and "
                    "chromium-driver)")
    url, _, _ = server
    photo = SHARED_IMAGES / "p1.jpg"
    if not photo.is_file():
        photo = tmp_path / "photo.png"
        photo.write_bytes(photos()[0][1])
    want = len(json.loads(httpx.post(url + "/v1/pose", content=photo.read_bytes(),
                                     timeout=60).content)["people"])
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                 "--window-size=1000,1200"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    try:
        driver.get(url + "/")
        driver.find_element(By.ID, "file").send_keys(str(photo))
        status = WebDriverWait(driver, 120).until(
            lambda d: d.find_element(By.ID, "status").get_attribute("data-people"))
        assert int(status) == want
        image = driver.find_element(By.ID, "rendered")
        width = driver.execute_script("return arguments[0].naturalWidth", image)
        assert image.is_displayed() and width == cv2.imread(str(photo)).shape[1]
        assert "person" in driver.find_element(By.ID, "status").text or "people" in \
            driver.find_element(By.ID, "status").text
        if os.environ.get("OPENPOSE_TF_SCREENSHOT"):  # the README's picture
            driver.save_screenshot(os.environ["OPENPOSE_TF_SCREENSHOT"])
    finally:
        driver.quit()


def test_sigterm_answers_the_requests_in_flight_then_exits_0(server):
    url, process, log = server
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        # A lone request waits --batch_timeout_ms (50) for batch-mates: caught in flight.
        answer = pool.submit(httpx.post, url + "/v1/pose", content=photos()[1][1], timeout=60)
        deadline = time.monotonic() + 30
        while "openpose_queue_images 1.0" not in httpx.get(url + "/metrics").text:
            assert time.monotonic() < deadline and not answer.done()
        process.send_signal(signal.SIGTERM)
        assert answer.result().status_code == 200
    assert process.wait(timeout=60) == 0, log.read_text()[-2000:]
    assert "stopped by SIGTERM" in log.read_text()


@pytest.fixture
def signal_handlers():
    """The test process's SIGTERM and SIGINT handlers, restored after the test."""
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    yield
    for sig, handler in handlers.items():
        signal.signal(sig, handler)


def test_a_signal_before_uvicorn_has_its_handlers_stops_it_once_started(signal_handlers):
    """SIGTERM once the model is loaded but before uvicorn has installed its own handlers (as a
    service manager may send it): the server starts, stops at once, and the signal is noted."""
    import threading

    import uvicorn

    from openpose_tf.cli.serve import stop_on_signals

    async def app(scope, receive, send):  # never called: no request is made
        raise AssertionError(scope)

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="off",
                                           log_level="error"))
    # Were the signal lost, the server would run: a watchdog stops it (and the test fails).
    watchdog = threading.Timer(30, lambda: setattr(server, "should_exit", True))
    try:
        state = stop_on_signals()
        state["server"] = server
        signal.raise_signal(signal.SIGTERM)
        watchdog.start()
        start = time.monotonic()
        server.run()
        assert time.monotonic() - start < 20
        assert state["stopped"] == [signal.SIGTERM]
    finally:
        watchdog.cancel()


def test_signals_while_the_model_loads_end_it_at_once(signal_handlers):
    """Before there is a server: SIGTERM ends `serve` (StoppedWhileLoading, which it turns into
    exit 0), SIGINT interrupts as usual."""
    from openpose_tf.cli.serve import StoppedWhileLoading, stop_on_signals

    state = stop_on_signals()
    with pytest.raises(StoppedWhileLoading):
        signal.raise_signal(signal.SIGTERM)
    with pytest.raises(KeyboardInterrupt):
        signal.raise_signal(signal.SIGINT)
    assert state["stopped"] == [signal.SIGTERM, signal.SIGINT]


def test_a_sigterm_while_the_command_line_is_imported_ends_serve_once_it_can(signal_handlers,
                                                                              monkeypatch):
    """A SIGTERM noted before `serve`'s handlers exist (while the command line is imported) ends
    it with exit 0 as soon as they are installed, before the model loads."""
    import argparse

    from openpose_tf import cli
    from openpose_tf.cli import serve

    def load(args):
        raise AssertionError("the model loads after a SIGTERM")

    noted = [signal.SIGTERM]
    monkeypatch.setattr(cli, "EARLY_SIGTERMS", noted)
    monkeypatch.setattr(serve, "_load", load)
    assert serve._serve(argparse.Namespace()) == 0
    assert noted == []


class SlowExtractor:
    """A stand-in pipeline that records its calls and waits until released."""

    images_per_call = 3

    def __init__(self):
        import threading

        self.calls, self.release = [], threading.Event()

    def people_or_errors(self, images):
        self.calls.append([image.shape for image in images])
        self.release.wait(10)
        return [f"people of {image.shape}" for image in images]


def test_batcher_groups_by_size_fills_calls_and_refuses_a_full_queue():
    import asyncio

    from openpose_tf import serve

    extractor = SlowExtractor()
    options = serve.ServeOptions(batch_timeout=0.05, max_queue=5)

    async def scenario():
        batcher = serve.Batcher(extractor, options, serve.Metrics())
        a, b = np.zeros((4, 4, 3), np.uint8), np.zeros((5, 4, 3), np.uint8)
        tasks = [asyncio.create_task(batcher.submit(image)) for image in (a, a, a, b, b)]
        await asyncio.sleep(0.01)
        assert extractor.calls == [[a.shape] * 3]          # a full group goes at once
        with pytest.raises(serve.RequestError) as refused:  # 5 waiting: the queue is full
            await batcher.submit(a)
        assert refused.value.status == 503 and refused.value.headers == {"Retry-After": "1"}
        await asyncio.sleep(0.1)                            # the timeout sends the rest
        assert extractor.calls == [[a.shape] * 3, [b.shape] * 2]
        extractor.release.set()
        results = await asyncio.gather(*tasks)
        assert results == [f"people of {a.shape}"] * 3 + [f"people of {b.shape}"] * 2
        assert batcher.waiting == 0
        batcher.close()

    asyncio.run(scenario())


def test_a_group_whose_time_is_up_waits_for_a_free_worker_and_keeps_filling():
    import asyncio

    from openpose_tf import serve

    extractor = SlowExtractor()
    options = serve.ServeOptions(batch_timeout=0.02, max_queue=10, workers=1)

    async def scenario():
        batcher = serve.Batcher(extractor, options, serve.Metrics())
        a, b = np.zeros((4, 4, 3), np.uint8), np.zeros((5, 4, 3), np.uint8)
        tasks = [asyncio.create_task(batcher.submit(a)) for _ in range(3)]  # the one worker
        await asyncio.sleep(0.01)
        tasks.append(asyncio.create_task(batcher.submit(b)))
        await asyncio.sleep(0.05)                     # b's time is up; no worker is free
        tasks.append(asyncio.create_task(batcher.submit(b)))
        await asyncio.sleep(0.05)
        assert extractor.calls == [[a.shape] * 3]
        extractor.release.set()                       # the worker frees: b goes, with 2 images
        await asyncio.gather(*tasks)
        assert extractor.calls == [[a.shape] * 3, [b.shape] * 2]
        assert batcher.busy == 0 and batcher.waiting == 0 and not batcher.ready
        batcher.close()

    asyncio.run(scenario())


def test_due_groups_take_the_worker_in_turn_and_a_cancelled_image_leaves_at_once():
    """One worker, 3 images a call: a group with more due images than a call takes goes behind
    the other due groups (a busy shape cannot starve another); a cancelled request's image leaves
    its group at once (counted), so it neither fills a call nor waits in memory."""
    import asyncio

    from openpose_tf import serve

    extractor = SlowExtractor()
    options = serve.ServeOptions(batch_timeout=0.01, max_queue=20, workers=1)

    async def scenario():
        metrics = serve.Metrics()
        batcher = serve.Batcher(extractor, options, metrics)
        a, b = np.zeros((4, 4, 3), np.uint8), np.zeros((5, 4, 3), np.uint8)
        tasks = [asyncio.create_task(batcher.submit(a))]  # takes the one worker
        await asyncio.sleep(0.05)
        tasks += [asyncio.create_task(batcher.submit(a)) for _ in range(4)]
        await asyncio.sleep(0.01)
        tasks.append(asyncio.create_task(batcher.submit(b)))
        gone = asyncio.create_task(batcher.submit(b))
        await asyncio.sleep(0.05)                    # both groups are due; the worker is busy
        gone.cancel()
        await asyncio.sleep(0.01)
        assert len(batcher.groups[b.shape]) == 1 and batcher.waiting == 6
        assert metrics.registry.get_sample_value("openpose_abandoned_images_total") == 1
        extractor.release.set()
        await asyncio.gather(*tasks)
        assert extractor.calls == [[a.shape], [a.shape] * 3, [b.shape], [a.shape]]
        assert batcher.busy == 0 and batcher.waiting == 0 and not batcher.ready
        assert not batcher.groups
        batcher.close()

    asyncio.run(scenario())


def test_a_request_whose_client_leaves_while_queued_takes_no_pipeline_call():
    """The app in process, called as uvicorn calls it: B waits behind A for the one worker, its
    client disconnects, it is answered 499 and its image never reaches the pipeline."""
    import asyncio

    import cv2

    from openpose_tf import common, serve

    class OneAtATime(SlowExtractor):
        images_per_call = 1

        def people_or_errors(self, images):
            super().people_or_errors(images)
            return [common.People(np.zeros((0, 18, 3), np.float32), np.zeros(0, np.float32))
                    for _ in images]

    extractor = OneAtATime()
    options = serve.ServeOptions(batch_timeout=0.0, workers=1)
    app = serve.create_app(extractor, "COCO", options)

    async def post(shape, gone: asyncio.Event):
        body = cv2.imencode(".png", np.zeros(shape + (3,), np.uint8))[1].tobytes()
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
                 "method": "POST", "scheme": "http", "path": "/v1/pose", "raw_path": b"/v1/pose",
                 "query_string": b"", "root_path": "", "server": ("127.0.0.1", 80),
                 "client": ("127.0.0.1", 1234), "headers": [(b"content-length",
                                                              str(len(body)).encode())]}
        messages = [{"type": "http.request", "body": body, "more_body": False}]
        sent = []

        async def receive():
            if messages:
                return messages.pop()
            await gone.wait()
            return {"type": "http.disconnect"}

        async def send(message):
            sent.append(message)

        await app(scope, receive, send)
        return sent[0]["status"]

    async def scenario():
        async with app.router.lifespan_context(app):
            stays, leaves = asyncio.Event(), asyncio.Event()
            a = asyncio.create_task(post((4, 4), stays))
            await asyncio.sleep(0.2)                      # A holds the worker
            b = asyncio.create_task(post((5, 5), leaves))
            await asyncio.sleep(0.2)                      # B waits for it
            leaves.set()                                  # B's client disconnects
            assert await b == 499
            extractor.release.set()
            assert await a == 200
            assert await post((6, 6), stays) == 200       # the server goes on
        assert extractor.calls == [[(4, 4, 3)], [(6, 6, 3)]]
        registry = app.state.metrics.registry
        assert registry.get_sample_value("openpose_abandoned_images_total") == 1
        assert registry.get_sample_value("openpose_errors_total", {"kind": "client_gone"}) == 1

    asyncio.run(scenario())
