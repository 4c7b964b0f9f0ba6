"""WebhookNotifier against a real HTTP server on loopback: signed, retried on 5xx, never on 4xx."""

from __future__ import annotations

import datetime as dt
import http.server
import json
import socket
import threading
import time
from collections.abc import Iterator

import attrs
import pytest

from exportjob import ExportEngine, ExportJob, JobContext
from exportjob.converters import CopyConverter
from exportjob.exceptions import NotifierError
from exportjob.joblog import JobReport
from exportjob.notifiers import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WebhookNotifier,
    sign,
    verify_signature,
)
from exportjob.stores import MemoryStore
from exportjob.testing import sample_report

SECRET = "shared-s3cret"  # noqa: S105 - a test secret
T0 = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.timezone.utc)


@attrs.define
class Received:
    body: bytes
    headers: dict[str, str]
    path: str


@attrs.define
class Script:
    """What the server answers, one status per request (the last one repeats)."""

    statuses: list[int]
    received: list[Received] = attrs.Factory(list)
    hold: threading.Event | None = None  # answer only once this is set
    pause: float = 0.0


class _Handler(http.server.BaseHTTPRequestHandler):
    script: Script

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        body = self.rfile.read(length)
        self.script.received.append(Received(body, dict(self.headers.items()), self.path))
        if self.script.hold is not None:
            self.script.hold.wait(30)
        elif self.script.pause:
            threading.Event().wait(self.script.pause)  # a slow receiver
        statuses = self.script.statuses
        status = statuses.pop(0) if len(statuses) > 1 else statuses[0]
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture
def serve() -> Iterator[object]:
    servers: list[http.server.ThreadingHTTPServer] = []

    def start(script: Script) -> str:
        handler = type("Handler", (_Handler,), {"script": script})
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/hooks/export?src=test"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_the_report_arrives_as_signed_json_a_receiver_can_verify(serve) -> None:  # type: ignore[no-untyped-def]
    script = Script([204])
    notifier = WebhookNotifier(serve(script), secret=SECRET)
    report = sample_report()
    notifier.notify(report)
    (got,) = script.received
    assert got.path == "/hooks/export?src=test"
    assert json.loads(got.body) == json.loads(json.dumps(report.to_dict()))
    assert got.headers["Content-Type"].startswith("application/json")
    timestamp, signature = got.headers[TIMESTAMP_HEADER], got.headers[SIGNATURE_HEADER]
    assert verify_signature(SECRET, timestamp, got.body, signature)
    assert not verify_signature("another secret", timestamp, got.body, signature)
    assert not verify_signature(SECRET, timestamp, got.body + b" ", signature)
    assert not verify_signature(SECRET, str(int(timestamp) + 1), got.body, signature)


def test_an_old_timestamp_is_a_replay() -> None:
    body = b"{}"
    signature = sign(SECRET, "1000", body)
    assert verify_signature(SECRET, "1000", body, signature, now=1100)
    assert not verify_signature(SECRET, "1000", body, signature, now=1000 + 301)
    assert not verify_signature(SECRET, "1000", body, signature, tolerance=10, now=1011)
    assert not verify_signature(SECRET, "not a number", body, signature, now=1000)


def test_5xx_answers_are_retried_with_growing_pauses_until_one_succeeds(serve) -> None:  # type: ignore[no-untyped-def]
    script = Script([503, 500, 200])
    pauses: list[float] = []
    notifier = WebhookNotifier(serve(script), secret=SECRET, backoff=0.2, sleep=pauses.append)
    notifier.notify(sample_report())
    assert len(script.received) == 3
    assert len(pauses) == 2
    assert 0.1 <= pauses[0] <= 0.2
    assert 0.2 <= pauses[1] <= 0.4
    # Each attempt is signed on its own and verifies.
    for got in script.received:
        assert verify_signature(
            SECRET, got.headers[TIMESTAMP_HEADER], got.body, got.headers[SIGNATURE_HEADER]
        )


def test_retries_are_bounded(serve) -> None:  # type: ignore[no-untyped-def]
    script = Script([502])
    notifier = WebhookNotifier(serve(script), secret=SECRET, attempts=3, sleep=lambda _: None)
    with pytest.raises(NotifierError, match="HTTP 502"):
        notifier.notify(sample_report())
    assert len(script.received) == 3


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 422])
def test_a_4xx_answer_is_never_retried(serve, status: int) -> None:  # type: ignore[no-untyped-def]
    script = Script([status])
    notifier = WebhookNotifier(serve(script), secret=SECRET, sleep=lambda _: None)
    with pytest.raises(NotifierError, match=f"refused the report: HTTP {status}"):
        notifier.notify(sample_report())
    assert len(script.received) == 1


def test_a_slow_receiver_within_the_deadline_is_waited_for(serve) -> None:  # type: ignore[no-untyped-def]
    script = Script([200], pause=0.3)
    WebhookNotifier(serve(script), secret=SECRET, deadline=20).notify(sample_report())
    assert len(script.received) == 1


def test_a_receiver_that_never_answers_is_given_up_at_the_deadline(serve) -> None:  # type: ignore[no-untyped-def]
    hold = threading.Event()
    script = Script([200], hold=hold)
    notifier = WebhookNotifier(serve(script), secret=SECRET, deadline=0.5, attempts=5)
    try:
        with pytest.raises(NotifierError, match=r"took longer than its deadline of 0.5 s"):
            notifier.notify(sample_report())
    finally:
        hold.set()
    assert len(script.received) == 1  # the deadline covers the retries too


#: A whole answer: a status line, 25 bytes of padding in a header, and a body.
DRIPPED = b"HTTP/1.1 200 OK\r\nX-Pad: " + b"x" * 25 + b"\r\nContent-Length: 2\r\n\r\nok"
DRIP_FOR = 6.0  # the server gives up dripping after this long, so a regression fails, never hangs


class Dripper:
    """A TCP server on loopback that reads a request, then sends *reply* one byte every *gap* s.

    The first *at_once* bytes go at once (to drip the headers, or the body, only). Each connection
    is dripped to for ``DRIP_FOR`` seconds at most, then closed.
    """

    def __init__(self, reply: bytes, *, gap: float = 0.2, at_once: int = 0) -> None:
        self.reply, self.gap, self.at_once = reply, gap, at_once
        self.connections = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return  # closed
            self.connections += 1
            threading.Thread(target=self._drip, args=(conn,), daemon=True).start()

    def _drip(self, conn: socket.socket) -> None:
        stop = time.monotonic() + DRIP_FOR
        with conn:
            try:
                conn.recv(65536)
                conn.sendall(self.reply[: self.at_once])
                for byte in self.reply[self.at_once :]:
                    if time.monotonic() > stop:
                        return
                    conn.sendall(bytes([byte]))
                    time.sleep(self.gap)
            except OSError:
                return  # the client cut the connection

    def close(self) -> None:
        self._listener.close()


@pytest.fixture
def drip() -> Iterator[object]:
    servers: list[Dripper] = []

    def start(reply: bytes = DRIPPED, *, at_once: int = 0) -> Dripper:
        servers.append(Dripper(reply, at_once=at_once))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


@pytest.mark.parametrize(
    ("reply", "at_once"),
    [
        pytest.param(DRIPPED, 0, id="status-line"),
        pytest.param(DRIPPED, DRIPPED.index(b"X-Pad"), id="headers"),
        pytest.param(  # Connection: close hands the socket to the response: it is cut all the same
            b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 40\r\n\r\n" + b"x" * 40,
            len(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 40\r\n\r\n"),
            id="body",
        ),
    ],
)
def test_a_receiver_that_answers_one_byte_at_a_time_cannot_outlast_the_deadline(  # type: ignore[no-untyped-def]
    drip, reply: bytes, at_once: int
) -> None:
    """Each byte comes well within the time left; the deadline ends the delivery anyway."""
    server = drip(reply, at_once=at_once)
    notifier = WebhookNotifier(
        f"http://127.0.0.1:{server.port}/hook", secret=SECRET, deadline=1.0, attempts=3
    )
    start = time.monotonic()
    with pytest.raises(NotifierError, match=r"took longer than its deadline of 1 s"):
        notifier.notify(sample_report())
    assert time.monotonic() - start < 2.0
    assert server.connections == 1  # no retry past the deadline


def test_a_tls_handshake_dripped_one_byte_at_a_time_cannot_outlast_the_deadline(drip) -> None:  # type: ignore[no-untyped-def]
    """A TLS record header that promises 16 KB, then its bytes one at a time: cut at the deadline."""
    server = drip(b"\x16\x03\x03\x40\x00" + b"\x00" * 100, at_once=5)
    notifier = WebhookNotifier(f"https://127.0.0.1:{server.port}/", secret=SECRET, deadline=1.0)
    start = time.monotonic()
    with pytest.raises(NotifierError, match=r"took longer than its deadline of 1 s"):
        notifier.notify(sample_report())
    assert time.monotonic() - start < 2.0


def test_an_engine_job_is_not_held_past_the_deadline_by_a_dripping_receiver(drip) -> None:  # type: ignore[no-untyped-def]
    server = drip()
    store = MemoryStore()
    store.add("h1", b"%PDF-1.4 ...", file_name="a.pdf")
    notifier = WebhookNotifier(f"http://127.0.0.1:{server.port}/", secret=SECRET, deadline=1.0)
    start = time.monotonic()
    with ExportEngine(store, CopyConverter(), notifier=notifier) as engine:
        log = engine.run(
            ExportJob(asset_handles=["h1"], fmt="orig", email_setting="JobCompletion"),
            JobContext(company="default", user="ann"),
        )
    assert time.monotonic() - start < 2.0
    assert log.outcome("h1").exported
    [warning] = log.warnings
    assert warning.code == "NOTIFIER_FAILED"
    assert "took longer than its deadline of 1 s" in warning.message


def test_a_refused_connection_is_retried_then_reported() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    pauses: list[float] = []
    notifier = WebhookNotifier(
        f"http://127.0.0.1:{port}/", secret=SECRET, attempts=3, sleep=pauses.append
    )
    with pytest.raises(NotifierError, match="ConnectionRefusedError"):
        notifier.notify(sample_report())
    assert len(pauses) == 2


def test_an_engine_job_posts_its_report(serve) -> None:  # type: ignore[no-untyped-def]
    script = Script([200])
    store = MemoryStore()
    store.add("h1", b"%PDF-1.4 ...", file_name="a.pdf")
    notifier = WebhookNotifier(serve(script), secret=SECRET)
    with ExportEngine(store, CopyConverter(), notifier=notifier) as engine:
        log = engine.run(
            ExportJob(asset_handles=["h1"], fmt="orig", email_setting="JobCompletion"),
            JobContext(company="default", user="ann"),
        )
    (got,) = script.received
    sent = json.loads(got.body)
    assert sent["recipient"] == "ann"
    assert sent["log"]["job_handle"] == log.job_handle
    assert JobReport.from_dict(sent).log == log


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        pytest.param({"url": "ftp://example.com/"}, "http", id="scheme"),
        pytest.param({"url": "http:///path"}, "host", id="no-host"),
        pytest.param({"deadline": 0}, "deadline", id="deadline"),
        pytest.param({"attempts": 0}, "attempts", id="attempts"),
    ],
)
def test_bad_settings_are_refused(kwargs: dict[str, object], match: str) -> None:
    settings: dict[str, object] = {"url": "http://127.0.0.1/", "secret": SECRET, **kwargs}
    with pytest.raises(ValueError, match=match):
        WebhookNotifier(**settings)  # type: ignore[arg-type]
