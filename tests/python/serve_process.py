"""`openpose-tf serve` as a subprocess on a free loopback port, for the tests and
benchmarks/bench_serve.py."""

import os
import socket
import subprocess
import sys
import time


def free_port() -> int:
    """A loopback port nobody listens on (for a server started right after)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(flags, log, timeout: float = 120):
    """(process, url) of `openpose-tf serve FLAGS --port P` once `/healthz` answers 200, its
    output in the file `log`; RuntimeError with the log's end if it exits or takes longer."""
    import httpx

    port = free_port()
    with open(log, "w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "openpose_tf", "serve", *flags, "--port", str(port)],
            stdout=out, stderr=subprocess.STDOUT, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return process, url
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"the server did not start: {open(log).read()[-3000:]}")
        time.sleep(0.2)
