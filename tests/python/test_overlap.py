"""openpose_tf.overlap: reading ahead and writing behind keep the order, hand errors to the
caller, stop when asked and lose nothing written."""

import threading
import time

import pytest

from openpose_tf import overlap


def test_read_ahead_keeps_the_order_and_runs_ahead():
    fetched = []

    def items():
        for i in range(10):
            fetched.append(i)
            yield i

    ahead = overlap.read_ahead(items(), depth=3)
    assert next(ahead) == 0
    deadline = time.monotonic() + 5
    while len(fetched) < 4 and time.monotonic() < deadline:  # 1 taken + 3 waiting
        time.sleep(0.01)
    assert len(fetched) >= 4
    assert list(ahead) == list(range(1, 10))


def test_read_ahead_raises_the_producers_error_where_the_item_would_be():
    def items():
        yield 1
        raise OSError("disk gone")

    ahead = overlap.read_ahead(items())
    assert next(ahead) == 1
    with pytest.raises(OSError, match="disk gone"):
        next(ahead)


def test_closing_read_ahead_stops_its_thread():
    def endless():
        i = 0
        while True:
            yield i
            i += 1

    before = threading.active_count()
    ahead = overlap.read_ahead(endless(), depth=2)
    assert next(ahead) == 0
    ahead.close()
    assert threading.active_count() == before


def test_writer_writes_everything_in_order_before_close_returns():
    written = []

    def write(i, text):
        time.sleep(0.001)
        written.append((i, text))

    writer = overlap.Writer(write, depth=2)
    for i in range(20):
        writer.submit(i, str(i))
    writer.close()
    assert written == [(i, str(i)) for i in range(20)]


def test_writer_raises_its_error_on_the_callers_thread_and_writes_nothing_after():
    written = []

    def write(i):
        if i == 3:
            raise PermissionError("read-only folder")
        written.append(i)

    writer = overlap.Writer(write, depth=1)
    with pytest.raises(PermissionError, match="read-only"):
        for i in range(100):
            writer.submit(i)
        writer.close()
    writer.close()  # the error was raised once; closing ends the thread
    assert written == [0, 1, 2]
