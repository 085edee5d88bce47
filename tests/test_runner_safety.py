"""The runner fails fast (issue 28): an address that is not a Dask scheduler gets a clear error within its time
limit instead of hanging or asking for exabytes, and a task that never returns cannot block a run forever."""

import http.server
import socket
import threading
import time

import pytest

from anomalylab import runner
from anomalylab.errors import InputError


def _serve(handler_cls):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler_cls)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class _BadRequest(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's interface)
        self.send_error(400)

    def handle(self):  # answer whatever Dask writes with an HTTP 400, as a web server does
        self.rfile.read(1)
        self.wfile.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n" * 4)

    def log_message(self, *args):
        pass


class _Silent(http.server.BaseHTTPRequestHandler):
    def handle(self):  # accepts the connection and never answers
        time.sleep(30)

    def log_message(self, *args):
        pass


@pytest.mark.parametrize("handler", [_BadRequest, _Silent], ids=["answers_http_400", "never_answers"])
def test_an_address_that_is_not_a_dask_scheduler_fails_within_its_limit(handler, monkeypatch):
    server = _serve(handler)
    monkeypatch.setenv(runner.CONNECT_TIMEOUT_ENV, "3")
    address = f"tcp://127.0.0.1:{server.server_address[1]}"
    start = time.monotonic()
    try:
        with pytest.raises(InputError, match="Dask scheduler"):
            runner.client(address)
    finally:
        server.shutdown()
    assert time.monotonic() - start < 15
    assert address not in runner._clients


def test_an_address_nobody_listens_on_is_refused_at_once(monkeypatch):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there
    start = time.monotonic()
    with pytest.raises(InputError, match="cannot reach the dask scheduler"):
        runner.client(f"tcp://127.0.0.1:{port}")
    assert time.monotonic() - start < 5


@pytest.mark.parametrize("value", ["soon", "0", "-3", "inf"])
def test_a_bad_task_time_limit_is_refused(value, monkeypatch):
    monkeypatch.setenv(runner.TIMEOUT_ENV, value)
    with pytest.raises(InputError, match="seconds"):
        runner.task_timeout_setting()


def _nap(seconds):
    time.sleep(seconds)
    return seconds


def test_a_task_that_does_not_return_is_cancelled_and_named(monkeypatch):
    monkeypatch.setenv("ANOMALYLAB_DASK_WORKERS", "2")
    tasks = [runner.Task("quick", _nap, {"seconds": 0.1}), runner.Task("stuck", _nap, {"seconds": 600})]
    start = time.monotonic()
    try:
        with pytest.raises(runner.TaskError, match=r"task 1 \(stuck\): TimeoutError") as caught:
            runner.run(tasks, scheduler="local", progress=False, task_timeout=8)
    finally:
        runner.shutdown()  # the stuck worker goes with its cluster
    assert time.monotonic() - start < 120
    assert caught.value.results[0] == 0.1 and list(caught.value.failures) == [1]
