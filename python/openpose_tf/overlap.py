"""Keeping the network busy: the frames are read ahead on one thread and the outputs written
behind on another, while the calling thread runs the pipeline (TensorFlow, OpenCV's decoders and
encoders and file writes release the GIL, so the three overlap).

Order is kept (one reader, one writer); an error on either thread is raised on the calling one;
nothing is lost on the way out: `Writer.close` writes what was handed to it before it returns.
"""

from __future__ import annotations

import queue
import threading

_DONE = object()


class _Failure:
    def __init__(self, error: BaseException):
        self.error = error


def read_ahead(items, depth: int = 4):
    """Yields `items` (an iterable) while a thread fetches up to `depth` ahead; an exception
    from `items` is raised here, where the item would have come. Closing the generator stops the
    thread at its next item."""
    q: queue.Queue = queue.Queue(maxsize=max(1, depth))
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce():
        try:
            for item in items:
                if not put(item):
                    return
            put(_DONE)
        except BaseException as error:  # noqa: BLE001 - handed to the consumer
            put(_Failure(error))

    thread = threading.Thread(target=produce, name="openpose-tf read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            item = q.get()
            if item is _DONE:
                return
            if isinstance(item, _Failure):
                raise item.error
            yield item
    finally:
        stop.set()
        thread.join(timeout=5)


class Writer:
    """Calls `write(*args)` for each `submit(*args)` on a thread of its own, in order, at most
    `depth` waiting. The first error is raised by the next `submit` or by `close`; the items
    after it are dropped."""

    def __init__(self, write, depth: int = 4):
        self._write = write
        self._queue: queue.Queue = queue.Queue(maxsize=max(1, depth))
        self._error: BaseException | None = None
        self._failed = False
        self._thread = threading.Thread(target=self._loop, name="openpose-tf writer",
                                        daemon=True)
        self._thread.start()

    def _loop(self):
        while True:
            item = self._queue.get()
            if item is _DONE:
                return
            if not self._failed:
                try:
                    self._write(*item)
                except BaseException as error:  # noqa: BLE001 - raised on the caller's thread
                    self._error, self._failed = error, True

    def _raise(self):
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def submit(self, *args) -> None:
        self._raise()
        self._queue.put(args)

    def close(self) -> None:
        """Waits until everything submitted is written; raises the first error."""
        if self._thread.is_alive():
            self._queue.put(_DONE)
            self._thread.join()
        self._raise()
