"""`openpose-tf serve`: pose estimation as a web service (HTTP, on uvicorn), with dynamic
batching, TF Serving's REST request shape, Prometheus metrics and a page to try it.

    openpose-tf serve --model DIR [--port 8080] [--max_batch_size N] [--batch_timeout_ms 5]
    curl --data-binary @photo.jpg http://127.0.0.1:8080/v1/pose          # OpenPose's JSON
    curl --data-binary @photo.jpg 'http://127.0.0.1:8080/v1/pose?render=1' -o rendered.png

Answers are the bytes `run --write_json` writes for the same image and flags. Binds to loopback
unless --host says otherwise; nothing from a request reaches the file system. SIGTERM (Ctrl-C)
finishes the requests in flight, then exits 0.
"""

from __future__ import annotations

import argparse
import re
import signal
import sys

from openpose_tf.cli.flags import (add_hand_face_arguments, add_input_arguments,
                                    add_network_arguments, add_pose_arguments,
                                    check_input_arguments, make_extractor, network_from_args)

_SIZE = re.compile(r"^\s*(\d+)\s*([kKmMgG]?)i?[bB]?\s*$")


def byte_size(text: str) -> int:
    """`20MB`, `512k`, `1048576` -> bytes (k, M, G are powers of 1024)."""
    match = _SIZE.match(text)
    if not match:
        raise argparse.ArgumentTypeError(f"a size in bytes (e.g. 20MB), got {text!r}")
    return int(match.group(1)) * 1024 ** " KMG".index((match.group(2) or " ").upper())


def register(commands) -> None:
    serve = commands.add_parser(
        "serve", help="pose estimation as a web service (HTTP, dynamic batching, metrics)",
        description=" ".join(__doc__.split("\n\n")[0].split()) + " " +
        " ".join(__doc__.split("\n\n")[2].split()),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    add_network_arguments(serve)
    add_pose_arguments(serve)
    add_hand_face_arguments(serve)
    add_input_arguments(serve)
    http = serve.add_argument_group("service")
    http.add_argument("--host", default="127.0.0.1", help="address to bind (loopback only by "
                      "default; 0.0.0.0 for every interface)")
    http.add_argument("--port", type=int, default=8080)
    http.add_argument("--max_batch_size", type=int, default=None,
                      help="same-sized images per pipeline call, every call padded to it (so "
                           "an answer never depends on the other requests); default 8 where "
                           "TensorFlow sees a GPU, 1 on a CPU (there batching gains ~2%% and "
                           "padding a lone request costs up to 8x)")
    http.add_argument("--batch_timeout_ms", type=float, default=5.0,
                      help="how long a request waits for batch-mates")
    http.add_argument("--max_queue", type=int, default=64,
                      help="images waiting or in a call beyond which requests get 503")
    http.add_argument("--max_image_bytes", type=byte_size, default="20MB",
                      help="larger request bodies get 413 (not read)")
    http.add_argument("--model_name", default="openpose",
                      help="the name in /v1/models/<name>:predict (TF Serving's REST API)")
    http.add_argument("--graceful_timeout_s", type=float, default=60.0,
                      help="on SIGTERM, how long the requests in flight may take to be "
                           "answered before they are cancelled")
    http.add_argument("--log_level", default="warning",
                      choices=("critical", "error", "warning", "info", "debug"),
                      help="uvicorn's log level (info logs every request)")
    serve.set_defaults(run=_serve)


class StoppedWhileLoading(Exception):
    """SIGTERM before the server has answered anything: there is nothing to finish."""


def stop_on_signals() -> dict:
    """Handlers for SIGTERM and SIGINT, installed before the model loads. While it loads
    (state["server"] is None) SIGTERM ends the command at once (raises StoppedWhileLoading,
    which `serve` turns into exit 0) and SIGINT interrupts it as usual; once state["server"] is
    the uvicorn.Server, either stops it. uvicorn finishes the requests in flight on these
    signals, restores the handlers it found and raises the signal again: these make that the end
    of a clean run (exit 0), and a signal that comes before uvicorn has installed its own
    handlers stops it as soon as it has started. The signals received: state["stopped"]."""
    state = {"stopped": [], "server": None}

    def stop(number, frame):
        state["stopped"].append(number)
        if state["server"] is not None:
            state["server"].should_exit = True
        elif number == signal.SIGINT:
            raise KeyboardInterrupt
        else:
            raise StoppedWhileLoading

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, stop)
    from openpose_tf.cli import EARLY_SIGTERMS

    if EARLY_SIGTERMS:  # one came while the command line was being imported
        EARLY_SIGTERMS.clear()
        signal.raise_signal(signal.SIGTERM)
    return state


def _serve(args) -> int:
    try:
        signals = stop_on_signals()
        server = _load(args)
        signals["server"] = server
    except StoppedWhileLoading:
        print("openpose-tf serve: stopped by SIGTERM while loading", file=sys.stderr)
        return 0
    server.run()
    stopped = signals["stopped"]
    print(f"openpose-tf serve: stopped{' by ' + signal.Signals(stopped[0]).name if stopped else ''}"
          ", the requests in flight answered", file=sys.stderr)
    return 0


def _load(args):
    """The uvicorn.Server of `serve`'s flags, its model loaded and warmed up."""
    import numpy as np
    import tensorflow as tf
    import uvicorn

    from openpose_tf import serve

    check_input_arguments(args)
    if args.max_batch_size is None:
        args.max_batch_size = 8 if tf.config.list_physical_devices("GPU") else 1
    for flag in ("max_batch_size", "max_queue"):
        if getattr(args, flag) < 1:
            raise ValueError(f"--{flag} must be >= 1, got {getattr(args, flag)}")
    if not 0 < args.graceful_timeout_s <= 86400:
        raise ValueError(f"--graceful_timeout_s must be in (0, 86400], got "
                         f"{args.graceful_timeout_s}")
    if not 0 <= args.port <= 65535:
        raise ValueError(f"--port must be in [0, 65535], got {args.port}")
    if not 0 <= args.batch_timeout_ms <= 60_000:
        raise ValueError(f"--batch_timeout_ms must be in [0, 60000], got "
                         f"{args.batch_timeout_ms}")
    network, pose = network_from_args(args)
    args.batch_size, args.one_image_per_call = args.max_batch_size, "auto"
    extractor = make_extractor(args, network, pose)
    extractor([np.zeros((64, 64, 3), np.uint8)])  # traced and warmed up before the first request
    options = serve.ServeOptions(
        batch_timeout=args.batch_timeout_ms / 1e3,
        max_queue=args.max_queue, max_image_bytes=args.max_image_bytes,
        max_image_pixels=args.max_image_pixels, model_name=args.model_name)
    from openpose_tf.outputs import OutputOptions, check_options

    render = OutputOptions(hand_render_threshold=args.hand_render_threshold,
                           face_render_threshold=args.face_render_threshold)
    check_options(render)
    app = serve.create_app(extractor, pose, options, render)
    config = uvicorn.Config(app, host=args.host, port=args.port, log_level=args.log_level,
                            timeout_graceful_shutdown=args.graceful_timeout_s,
                            access_log=args.log_level in ("info", "debug"))
    source = args.model or args.frozen_graph or args.meta_graph
    print(f"openpose-tf serve: {source} ({pose}), {extractor.images_per_call} image(s) per "
          f"call; listening on http://{args.host}:{args.port}/ (POST /v1/pose)",
          file=sys.stderr, flush=True)
    return uvicorn.Server(config)
