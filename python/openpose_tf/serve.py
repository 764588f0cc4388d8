"""`openpose-tf serve`: the pipeline behind HTTP (an ASGI app on Starlette, served by uvicorn).

    POST /v1/pose                     an image (raw body or multipart) -> OpenPose's JSON for it,
                                      the bytes `run --write_json` writes; ?render=1 -> the
                                      rendered PNG (with Accept: application/json both:
                                      {"rendered_png": base64, "openpose": ...}, what the page
                                      asks for); ?keypoint_scale=N as `run`
    POST /v1/models/<name>:predict    TF Serving's REST shape: {"instances": [{"b64": ...}]} ->
                                      {"predictions": [<OpenPose JSON>, ...]}
    GET  /healthz                     200 once the model is loaded and warmed up
    GET  /metrics                     Prometheus text: requests, errors by kind, latency,
                                      batch sizes, queue depth
    GET  /                            a page to try it: drop a photo or take one with the webcam

Dynamic batching (`Batcher`): requests whose images have the same size (so the same net input)
go into one pipeline call, up to the extractor's batch size, waiting at most `batch_timeout`;
every call is padded to that batch size (the pipeline's batch rule), so an image's people never
depend on its batch-mates. The calls run on worker threads, never on the event loop.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import concurrent.futures
import contextlib
import dataclasses
import json
import logging
import pathlib
import time

import numpy as np

from openpose_tf import media, outputs

PAGE = pathlib.Path(__file__).with_name("serve_page.html")


class RequestError(Exception):
    """An answer other than 200: `status`, a message and its kind for the metrics."""

    def __init__(self, status: int, kind: str, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status, self.kind, self.headers = status, kind, headers or {}


@dataclasses.dataclass
class ServeOptions:
    batch_timeout: float = 0.005     # seconds
    max_queue: int = 64
    max_image_bytes: int = 20 * 1024 * 1024
    max_image_pixels: int = media.MAX_IMAGE_PIXELS
    model_name: str = "openpose"
    workers: int = 2                 # pipeline calls in flight
    # Threads for decoding, JSON and PNGs (asyncio's default executor: 0 = one per CPU). More
    # than the CPUs only contend with the pipeline: on 2 cores, 16 clients got 29 requests/s
    # with asyncio's default (CPUs + 4) and 37 with 2 (docs/speed.md).
    cpu_threads: int = 0


class Metrics:
    """The Prometheus metrics of one server (its own registry)."""

    def __init__(self):
        import prometheus_client as prom

        self.registry = prom.CollectorRegistry()
        self.requests = prom.Counter("openpose_requests", "Requests answered, by endpoint and "
                                     "status", ["endpoint", "status"], registry=self.registry)
        self.errors = prom.Counter("openpose_errors", "Requests refused or failed, by kind",
                                   ["kind"], registry=self.registry)
        self.latency = prom.Histogram("openpose_request_seconds", "Time to answer a request",
                                      ["endpoint"], registry=self.registry,
                                      buckets=(.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30))
        self.batch_size = prom.Histogram("openpose_batch_images", "Images per pipeline call",
                                         registry=self.registry,
                                         buckets=(1, 2, 3, 4, 6, 8, 12, 16, 32, 64))
        self.queue = prom.Gauge("openpose_queue_images", "Images waiting or in a call",
                                registry=self.registry)
        self.abandoned = prom.Counter("openpose_abandoned_images", "Images dropped before "
                                      "their pipeline call: their client had gone",
                                      registry=self.registry)

    def text(self) -> bytes:
        import prometheus_client as prom

        return prom.generate_latest(self.registry)


class Batcher:
    """Groups images by size into pipeline calls of at most `extractor.images_per_call`,
    waiting at most `timeout` seconds for a group to fill; `options.workers` calls run at once
    on threads. A group that is due (full, or its time up) while every worker is busy waits
    here, not in the threads' queue, and keeps filling until one is free (under load, calls go
    out fuller); due groups take the free workers in turn. An image whose request is cancelled
    before its call (its client left) leaves its group at once and takes no pipeline time.
    `submit(image)` is awaited on the event loop (where all of this runs) and gives the
    image's `People`."""

    def __init__(self, extractor, options: ServeOptions, metrics: Metrics):
        self.extractor, self.options, self.metrics = extractor, options, metrics
        self.size = extractor.images_per_call
        self.calls = concurrent.futures.ThreadPoolExecutor(
            max_workers=options.workers, thread_name_prefix="openpose-tf pipeline")
        self.groups: dict[tuple, list] = {}  # by image shape: [(image, future)], oldest first
        self.timers: dict[tuple, asyncio.TimerHandle] = {}
        self.ready: list[tuple] = []  # groups that are due, in turn, waiting for a worker
        self.busy = 0                 # calls running
        self.waiting = 0              # images queued or in a call

    async def submit(self, image: np.ndarray):
        if self.waiting >= self.options.max_queue:  # the app admits no more; a safety net
            raise RequestError(503, "queue_full", f"the queue is full ({self.waiting} images); "
                               "try again shortly", {"Retry-After": "1"})
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        key = image.shape
        group = self.groups.setdefault(key, [])
        group.append((image, future))
        self.waiting += 1
        if len(group) >= self.size:
            self._due(key)
        elif key not in self.timers and key not in self.ready:
            self.timers[key] = loop.call_later(self.options.batch_timeout, self._due, key)
        try:
            return await future
        finally:
            self.waiting -= 1
            if future.cancelled():
                self._leave(key, future)

    def _leave(self, key, future) -> None:
        """A cancelled request's image leaves its group (if its call has not started)."""
        group = self.groups.get(key, [])
        for i, (_, queued) in enumerate(group):
            if queued is future:
                del group[i]
                self.metrics.abandoned.inc()
                break
        if key in self.groups and not group:
            del self.groups[key]
            timer = self.timers.pop(key, None)
            if timer is not None:
                timer.cancel()
            if key in self.ready:
                self.ready.remove(key)

    def _due(self, key) -> None:
        timer = self.timers.pop(key, None)
        if timer is not None:
            timer.cancel()
        if key not in self.ready:
            self.ready.append(key)
        self._pump()

    def _pump(self) -> None:
        """Calls for the due groups, in turn, while a worker is free."""
        while self.ready and self.busy < self.options.workers:
            key = self.ready[0]
            live = []
            for entry in self.groups.pop(key, []):
                if entry[1].done():  # cancelled (its client has gone) and not yet left
                    self.metrics.abandoned.inc()
                else:
                    live.append(entry)
            chunk, rest = live[:self.size], live[self.size:]
            self.ready.pop(0)
            if rest:  # still due, after the other due groups
                self.groups[key] = rest
                self.ready.append(key)
            if chunk:
                self._run(chunk)

    def _run(self, chunk) -> None:
        loop = asyncio.get_running_loop()
        self.metrics.batch_size.observe(len(chunk))
        self.busy += 1
        call = loop.run_in_executor(self.calls, self.extractor.people_or_errors,
                                    [image for image, _ in chunk])

        def done(call):
            self.busy -= 1
            error = None if call.cancelled() else call.exception()
            for i, (_, future) in enumerate(chunk):
                if future.done():  # the client went away
                    continue
                if call.cancelled():  # close() dropped the call before it started
                    future.cancel()
                elif error is not None:
                    future.set_exception(error)
                else:
                    future.set_result(call.result()[i])
            self._pump()

        call.add_done_callback(done)

    def close(self) -> None:
        """After the server's last connection: the calls that have not started are for nobody
        (their requests were answered or cancelled) and are dropped; a running one finishes."""
        self.calls.shutdown(wait=True, cancel_futures=True)


def decode(data: bytes, max_pixels: int) -> np.ndarray:
    """A BGR image from encoded bytes; RequestError 400 naming why not."""
    try:
        return media.decode_image(data, max_pixels)
    except ValueError as err:
        raise RequestError(400, "bad_image", f"not an image OpenCV can read: {err}") from err


def people_or_raise(people):
    if isinstance(people, Exception):
        import tensorflow as tf

        from openpose_tf.common import error_reason

        if isinstance(people, tf.errors.ResourceExhaustedError):  # the server's, not the image's
            raise RequestError(503, "resource_exhausted", f"out of memory for now: "
                               f"{error_reason(people)}", {"Retry-After": "5"})
        raise RequestError(422, "pipeline", f"the pipeline cannot take this image: "
                           f"{error_reason(people)}")
    return people


def instances_of(body: bytes) -> list[bytes]:
    """The images of a TF Serving REST request (`{"instances": [{"b64": ...}, ...]}`, also
    `{"inputs": ...}` and `{"image": {"b64": ...}}` items); RequestError 400 otherwise."""
    try:
        payload = json.loads(body)
        instances = payload["instances"] if "instances" in payload else payload["inputs"]
        encoded = [item["b64"] if "b64" in item else item["image"]["b64"] for item in instances]
        data = [base64.b64decode(text, validate=True) for text in encoded]
    except (ValueError, KeyError, TypeError, RecursionError, binascii.Error) as err:
        raise RequestError(400, "bad_request", 'the body must be {"instances": [{"b64": '
                           f'"<base64 image>"}}, ...]}} (TF Serving\'s shape): '
                           f"{str(err)[:200]}") from None
    if not data:
        raise RequestError(400, "bad_request", "no instances in the request")
    return data


def create_app(extractor, pose_model, options: ServeOptions, render_options=None):
    """The Starlette app: `extractor` (a warmed-up `PoseExtractor` or `SavedPipeline`)."""
    from starlette.applications import Starlette
    from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
    from starlette.routing import Route

    metrics = Metrics()
    render_options = render_options or outputs.OutputOptions()
    model = outputs.pose_models.get(pose_model)
    state = {"batcher": None, "admitted": 0}

    # 413 closes the connection, so the rest of the body is not read.
    too_large = {"Connection": "close"}

    async def read_body(request) -> bytes:
        from starlette.requests import ClientDisconnect

        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > options.max_image_bytes:
            raise RequestError(413, "too_large", f"the body has {length} bytes, at most "
                               f"{options.max_image_bytes} are taken (--max_image_bytes)",
                               too_large)
        chunks, size = [], 0
        try:
            async for chunk in request.stream():
                size += len(chunk)
                if size > options.max_image_bytes:
                    raise RequestError(413, "too_large", f"the body exceeds "
                                       f"{options.max_image_bytes} bytes (--max_image_bytes)",
                                       too_large)
                chunks.append(chunk)
        except ClientDisconnect:
            raise RequestError(499, "client_gone", "the client went away") from None
        return b"".join(chunks)

    @contextlib.contextmanager
    def admitted(images: int):
        """Holds `images` of the --max_queue places from before the body is read until the
        answer: a full server refuses before any reading or decoding."""
        if state["admitted"] + images > options.max_queue:
            raise RequestError(503, "queue_full", f"the queue is full ({state['admitted']} "
                               "images); try again shortly", {"Retry-After": "1"})
        state["admitted"] += images
        metrics.queue.set(state["admitted"])
        try:
            yield
        finally:
            state["admitted"] -= images
            metrics.queue.set(state["admitted"])

    async def image_bytes(request) -> bytes:
        body = await read_body(request)
        if request.headers.get("content-type", "").startswith("multipart/form-data"):
            body = await first_file(request, body)
        if not body:
            raise RequestError(400, "bad_image", "no image in the request body")
        return body

    async def first_file(request, body: bytes) -> bytes:
        from starlette.formparsers import MultiPartException, MultiPartParser

        async def stream():
            yield body
            yield b""

        parser = MultiPartParser(request.headers, stream())
        parser.spool_max_size = len(body) + 1  # parts stay in memory: never on the disk
        try:
            form = await parser.parse()
        except MultiPartException as err:
            raise RequestError(400, "bad_request", f"unreadable multipart body: {err}") from err
        for _, value in form.multi_items():
            if hasattr(value, "read"):
                return await value.read()
        raise RequestError(400, "bad_request", "the multipart body has no file")

    async def estimate(data: bytes):
        image = await asyncio.to_thread(decode, data, options.max_image_pixels)
        return image, people_or_raise(await state["batcher"].submit(image))

    async def while_connected(request, work):
        """`work`'s result, unless the client disconnects first: then `work` is cancelled
        (its images leave the Batcher and take no pipeline time unless their call has started,
        whose result is then dropped; a decode in progress finishes) and the answer is 499."""
        async def disconnect():
            while (await request.receive())["type"] != "http.disconnect":
                pass

        task, gone = asyncio.ensure_future(work), asyncio.ensure_future(disconnect())
        try:
            await asyncio.wait((task, gone), return_when=asyncio.FIRST_COMPLETED)
        finally:
            gone.cancel()
            if not task.done():
                task.cancel()
        if task.done() and not task.cancelled():
            return task.result()
        if gone.done() and not gone.cancelled() and gone.exception() is not None:
            raise gone.exception()  # not a disconnect: a failure to report
        try:
            await task
        except asyncio.CancelledError:
            # This handler's own cancellation (e.g. the end of a graceful shutdown) goes on.
            if getattr(asyncio.current_task(), "cancelling", lambda: 0)():
                raise
        raise RequestError(499, "client_gone", "the client went away")

    def keypoint_scale(request) -> int:
        value = request.query_params.get("keypoint_scale", "0")
        try:
            return outputs.check_keypoint_scale(int(value))
        except ValueError as err:
            raise RequestError(400, "bad_request", f"keypoint_scale: {err}") from err

    def answered(endpoint):
        """Wraps a handler: errors as statuses, the metrics."""
        def wrap(handler):
            async def handle(request):
                start = time.perf_counter()
                try:
                    response = await handler(request)
                except Exception as error:  # noqa: BLE001 - every failure is an answer
                    if not isinstance(error, RequestError):
                        logging.getLogger("openpose_tf.serve").exception("request failed")
                        error = RequestError(500, "internal", f"internal error: "
                                             f"{type(error).__name__}: {error}")
                    metrics.errors.labels(error.kind).inc()
                    if endpoint == "predict":  # TF Serving answers errors as JSON
                        response = JSONResponse({"error": str(error)}, error.status,
                                                error.headers)
                    else:
                        response = PlainTextResponse(str(error) + "\n", error.status,
                                                     error.headers)
                metrics.requests.labels(endpoint, str(response.status_code)).inc()
                metrics.latency.labels(endpoint).observe(time.perf_counter() - start)
                return response
            return handle
        return wrap

    @answered("pose")
    async def pose(request):
        scale = keypoint_scale(request)
        render = request.query_params.get("render", "0") not in ("0", "", "false")
        with admitted(1):
            image, people = await while_connected(request,
                                                  estimate(await image_bytes(request)))
        if render:
            def png():
                import cv2

                drawn = outputs.render_frame(image, people, model, render_options)
                return cv2.imencode(".png", drawn)[1].tobytes()

            picture = await asyncio.to_thread(png)
            if "application/json" not in request.headers.get("accept", ""):
                return Response(picture, media_type="image/png")
            # Both in one answer (the page): the PNG in base64, then OpenPose's JSON text as is.
            text = await asyncio.to_thread(outputs.frame_json, people, image, scale)
            return Response('{"rendered_png":"' + base64.b64encode(picture).decode() +
                            '","openpose":' + text + "}", media_type="application/json")
        text = await asyncio.to_thread(outputs.frame_json, people, image, scale)
        return Response(text, media_type="application/json")

    @answered("predict")
    async def predict(request):
        name, _, verb = request.path_params["target"].partition(":")
        if name != options.model_name or verb != "predict":
            raise RequestError(404, "not_found", f"Servable not found for request: "
                               f"{request.path_params['target']} (serving "
                               f"{options.model_name}:predict)")
        scale = keypoint_scale(request)
        with admitted(1):
            data = await asyncio.to_thread(instances_of, await read_body(request))
        if len(data) > options.max_queue:
            raise RequestError(400, "bad_request", f"{len(data)} instances, more than "
                               f"--max_queue {options.max_queue} can ever hold")
        with admitted(len(data)):
            tasks = [asyncio.ensure_future(estimate(d)) for d in data]
            try:
                found = await while_connected(request, asyncio.gather(*tasks))
            finally:  # one failed, or the client left: the others need no pipeline time
                for task in tasks:
                    task.cancel()

        def texts():
            return [outputs.frame_json(people, image, scale) for image, people in found]

        return Response('{"predictions":[' + ",".join(await asyncio.to_thread(texts)) + "]}",
                        media_type="application/json")

    async def healthz(request):
        if state["batcher"] is None:
            return PlainTextResponse("loading\n", 503)
        return PlainTextResponse("ok\n")

    async def metrics_text(request):
        return Response(metrics.text(), media_type="text/plain; version=0.0.4")

    async def page(request):
        return HTMLResponse(PAGE.read_text(encoding="utf-8"))

    @contextlib.asynccontextmanager
    async def lifespan(app):
        import os

        asyncio.get_running_loop().set_default_executor(concurrent.futures.ThreadPoolExecutor(
            options.cpu_threads or os.cpu_count() or 1, thread_name_prefix="openpose-tf cpu"))
        state["batcher"] = Batcher(extractor, options, metrics)
        try:
            yield
        finally:  # uvicorn has finished the requests in flight (SIGTERM)
            await asyncio.to_thread(state["batcher"].close)

    routes = [Route("/v1/pose", pose, methods=["POST"]),
              Route("/v1/models/{target:path}", predict, methods=["POST"]),
              Route("/healthz", healthz), Route("/metrics", metrics_text),
              Route("/", page)]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.metrics = metrics
    return app

