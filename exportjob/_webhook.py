"""``WebhookNotifier``: the job report POSTed as signed JSON, with a deadline and bounded retries."""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import math
import random
import socket
import time
import urllib.parse
from collections.abc import Callable

from ._deadline import Deadline
from ._log import JobReport
from .exceptions import NotifierError

__all__ = ["SIGNATURE_HEADER", "TIMESTAMP_HEADER", "WebhookNotifier", "sign", "verify_signature"]

#: The header carrying ``sha256=<hex>``: HMAC-SHA256 of ``timestamp + "." + body`` with the secret.
SIGNATURE_HEADER = "X-Exportjob-Signature"
#: The header carrying the Unix time (whole seconds) the request was signed at.
TIMESTAMP_HEADER = "X-Exportjob-Timestamp"


def sign(secret: str | bytes, timestamp: str, body: bytes) -> str:
    """Return the signature header value of *body* signed at *timestamp* with *secret*.

    >>> sign("s3cret", "1700000000", b"{}")
    'sha256=97926816e98fbb41ccb1673225ff29a2f35369099990e1b1561651e7bd097ebf'
    """
    key = secret.encode() if isinstance(secret, str) else secret
    digest = hmac.new(key, timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def verify_signature(
    secret: str | bytes,
    timestamp: str,
    body: bytes,
    signature: str,
    *,
    tolerance: float = 300.0,
    now: float | None = None,
) -> bool:
    """Check a webhook request as a receiver: the signature matches and the timestamp is recent.

    Args:
        secret: the shared secret.
        timestamp: the ``X-Exportjob-Timestamp`` header.
        body: the request body, exactly as received (before any JSON parsing).
        signature: the ``X-Exportjob-Signature`` header.
        tolerance: how many seconds old (or early) a request may be; older ones are replays.
        now: the current Unix time (default: ``time.time()``).

    Returns:
        Whether the request is authentic and fresh. The comparison takes constant time.

    >>> body = b'{"subject": "done"}'
    >>> header = sign("s3cret", "1700000000", body)
    >>> verify_signature("s3cret", "1700000000", body, header, now=1700000010)
    True
    >>> verify_signature("s3cret", "1700000000", body, header, now=1700009999)  # a replay
    False
    >>> verify_signature("wrong", "1700000000", body, header, now=1700000010)
    False
    """
    try:
        sent = int(timestamp)
    except ValueError:
        return False
    current = time.time() if now is None else now
    if abs(current - sent) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


class WebhookNotifier:
    """POST each job report as JSON (``JobReport.to_dict()``) to a host's URL, signed.

    Args:
        url: an ``http://`` or ``https://`` URL.
        secret: the shared secret the HMAC-SHA256 signature is made with.
        deadline: seconds the whole delivery may take, retries included.
        attempts: how many times to try at most.
        backoff: the first pause between attempts, in seconds; it doubles each time (with jitter).
        headers: more request headers (an ``Authorization``, say).

    Each request carries ``X-Exportjob-Timestamp`` (Unix seconds) and ``X-Exportjob-Signature``
    (``sha256=`` and the hex HMAC of ``timestamp + "." + body``); a receiver checks both with
    ``verify_signature``. A 2xx answer is delivered; a 5xx answer or a connection error is
    retried; a 4xx answer is not (the receiver refused it, so asking again cannot help). Every
    failure raises ``NotifierError``: the engine logs it and the job goes on.

    >>> WebhookNotifier("https://hooks.example.com/exports", secret="s3cret", deadline=10)
    WebhookNotifier('https://hooks.example.com/exports', deadline=10, attempts=4)
    """

    def __init__(
        self,
        url: str,
        *,
        secret: str | bytes,
        deadline: float = 30.0,
        attempts: int = 4,
        backoff: float = 0.5,
        headers: dict[str, str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            msg = f"a webhook URL must be http:// or https:// with a host, got {url!r}"
            raise ValueError(msg)
        if deadline <= 0 or attempts < 1 or backoff < 0:
            msg = "deadline must be positive, attempts at least 1 and backoff not negative"
            raise ValueError(msg)
        self.url = url
        self._parts = parts
        self._secret = secret
        self.deadline = deadline
        self.attempts = attempts
        self.backoff = backoff
        self.headers = dict(headers or {})
        self._sleep = sleep

    def __repr__(self) -> str:
        return (
            f"WebhookNotifier({self.url!r}, deadline={self.deadline:g}, attempts={self.attempts})"
        )

    def request(
        self, report: JobReport, *, now: float | None = None
    ) -> tuple[bytes, dict[str, str]]:
        """Return the body and headers ``notify`` sends for *report*."""
        body = json.dumps(report.to_dict(), ensure_ascii=False, sort_keys=True).encode()
        timestamp = str(int(time.time() if now is None else now))
        headers = {
            **self.headers,
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "exportjob-webhook",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(self._secret, timestamp, body),
            "X-Exportjob-Job-Handle": report.log.job_handle,
        }
        return body, headers

    def notify(self, report: JobReport) -> None:
        """POST *report*; retry 5xx answers and connection errors until the deadline.

        Raises:
            NotifierError: the receiver refused (4xx), or no attempt succeeded before the deadline.
        """
        deadline = Deadline(self.deadline)  # one for the whole delivery, retries included
        problem = "no attempt was made"
        for attempt in range(self.attempts):
            if deadline.expired:
                break
            body, headers = self.request(report)  # signed afresh: the timestamp stays current
            try:
                status, reason = self._post(body, headers, deadline)
            except (OSError, http.client.HTTPException) as exc:
                if deadline.expired:
                    raise NotifierError(
                        f"could not deliver the report to the webhook {self.url}: the delivery "
                        f"took longer than its deadline of {self.deadline:g} s "
                        f"({attempt + 1} attempt(s))"
                    ) from exc
                problem = f"{type(exc).__name__}: {exc}"
            else:
                if 200 <= status < 300:
                    return
                problem = f"HTTP {status} {reason}"
                if status < 500:
                    raise NotifierError(f"the webhook {self.url} refused the report: {problem}")
            pause = self.backoff * 2**attempt * (0.5 + random.random() / 2)  # noqa: S311 - jitter
            if attempt + 1 < self.attempts and pause < deadline.remaining():
                self._sleep(pause)
            else:
                break
        raise NotifierError(
            f"could not deliver the report to the webhook {self.url} within "
            f"{self.deadline:g} s ({self.attempts} attempt(s) at most): {problem}"
        )

    def _post(self, body: bytes, headers: dict[str, str], deadline: Deadline) -> tuple[int, str]:
        """Make one attempt, which ends at the deadline however slowly the receiver answers.

        Connecting and the TLS handshake wait at most the time left; so does each send and read
        after, and the deadline's timer cuts the connection, which ends a read in progress.
        """
        parts = self._parts
        connection: _DeadlineHTTPConnection
        if parts.scheme == "https":
            connection = _DeadlineHTTPSConnection(parts.hostname or "", parts.port, deadline)
        else:
            connection = _DeadlineHTTPConnection(parts.hostname or "", parts.port, deadline)
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        try:
            with deadline.watching(lambda: connection.watched):
                connection.request("POST", path, body=body, headers=headers)
                connection.wait_at_most_the_time_left()
                response = connection.getresponse()
                connection.wait_at_most_the_time_left()
                response.read()
                return response.status, response.reason
        finally:
            connection.close()


class _DeadlineHTTPConnection(http.client.HTTPConnection):
    """An HTTP connection whose socket operations wait at most until one ``Deadline``.

    ``watched`` is the connection's socket from connecting on, kept even once ``getresponse``
    hands the socket to the response (as it does for ``Connection: close``), so the deadline's
    timer can still cut a body being read.
    """

    def __init__(self, host: str, port: int | None, deadline: Deadline) -> None:
        super().__init__(host, port, timeout=deadline.left())
        self._deadline = deadline
        self._create_connection = self._connect_within_the_deadline
        self.watched: socket.socket | None = None

    def _connect_within_the_deadline(
        self, address: tuple[str, int], timeout: float | None, source: tuple[str, int] | None
    ) -> socket.socket:
        sock = socket.create_connection(
            address, min(timeout or math.inf, self._deadline.left()), source
        )
        sock.settimeout(self._deadline.left())  # what an HTTPS handshake waits, as a whole, at most
        return sock

    def connect(self) -> None:
        super().connect()  # HTTPSConnection's wraps the socket in TLS and makes the handshake
        self.watched = self.sock

    def send(self, data: http.client._DataType | str) -> None:
        self.wait_at_most_the_time_left()
        super().send(data)

    def wait_at_most_the_time_left(self) -> None:
        """Let the next socket operation wait only the time left (``TimeoutError`` if none)."""
        timeout = self._deadline.left()
        if self.watched is not None:
            self.watched.settimeout(timeout)


class _DeadlineHTTPSConnection(_DeadlineHTTPConnection, http.client.HTTPSConnection):
    """The HTTPS one, with http.client's own TLS context."""
