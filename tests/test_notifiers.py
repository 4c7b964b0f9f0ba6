"""LoggingNotifier, and SmtpNotifier sending real mail to a real SMTP server on loopback."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import logging
import socket
import ssl
import threading
from collections.abc import Iterator
from typing import Any

import attrs
import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from exportjob import ExportEngine, ExportJob, JobContext, JobLog, testing
from exportjob.converters import CopyConverter
from exportjob.exceptions import InvalidRecipientError, NotifierError
from exportjob.joblog import INVALID_RECIPIENT, JobReport
from exportjob.notifiers import LoggingNotifier, SmtpNotifier
from exportjob.stores import MemoryStore

T0 = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.timezone.utc)


def sample_report(recipient: str = "ann") -> JobReport:
    return testing.sample_report(recipient, locale="en-GB")


# -- a real SMTP server on loopback


@attrs.define
class Inbox:
    """Collects what the server receives."""

    envelopes: list[Any] = attrs.Factory(list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted"

    def messages(self) -> list[email.message.EmailMessage]:
        return [
            email.message_from_bytes(e.content, policy=email.policy.default) for e in self.envelopes
        ]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@attrs.frozen
class Server:
    inbox: Inbox
    port: int


def start(**kwargs: Any) -> tuple[Controller, Server]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    return controller, Server(inbox, port)


@pytest.fixture
def smtp() -> Iterator[Server]:
    controller, server = start()
    try:
        yield server
    finally:
        controller.stop()


def test_smtp_notifier_delivers_subject_and_body_to_the_users_address(smtp: Server) -> None:
    notifier = SmtpNotifier(
        "127.0.0.1", smtp.port, sender="exports@example.com", addresses={"ann": "ann@example.org"}
    )
    report = sample_report()
    notifier.notify(report)

    [envelope] = smtp.inbox.envelopes
    assert envelope.mail_from == "exports@example.com"
    assert envelope.rcpt_tos == ["ann@example.org"]
    [msg] = smtp.inbox.messages()
    assert msg["To"] == "ann@example.org"
    assert msg["Subject"] == report.subject
    assert msg["X-Exportjob-Job-Handle"] == "acme|nightly|1"
    assert msg["Content-Language"] == "en-GB"
    body = msg.get_content()
    assert "Job handle:  acme|nightly|1" in body
    assert "Exported:    2" in body


def test_an_engine_job_arrives_by_mail_with_its_errors(smtp: Server) -> None:
    store = MemoryStore(default_company="acme")
    store.add("a|1", b"\xff\xd8\xff" + b"x" * 10, file_name="one.jpg")
    notifier = SmtpNotifier("127.0.0.1", smtp.port, sender="exports@example.com")
    job = ExportJob(asset_handles=["a|1", "a|404"], fmt="orig", email_setting="Error")
    with ExportEngine(store, CopyConverter(), notifier=notifier) as engine:
        log = engine.run(job, JobContext(company="acme", user="ann@example.com"))

    assert log.warnings == ()  # delivered: no notifier warning
    [msg] = smtp.inbox.messages()
    assert msg["To"] == "ann@example.com"
    assert "completed with errors" in msg["Subject"]
    assert "a|404 ASSET_NOT_FOUND" in msg.get_content()


def test_address_book_may_be_a_function(smtp: Server) -> None:
    notifier = SmtpNotifier(
        "127.0.0.1", smtp.port, sender="x@example.com", addresses=lambda user: f"{user}@corp.test"
    )
    notifier.notify(sample_report("bob"))
    assert smtp.inbox.envelopes[0].rcpt_tos == ["bob@corp.test"]


def test_smtp_login_is_used_when_given() -> None:
    seen: list[tuple[bytes, bytes]] = []

    def authenticator(
        server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        seen.append((data.login, data.password))
        return AuthResult(success=data.password == b"s3cret", handled=False)

    controller, server = start(
        authenticator=authenticator, auth_require_tls=False, auth_exclude_mechanism=["LOGIN"]
    )
    try:
        good = SmtpNotifier(
            "127.0.0.1",
            server.port,
            sender="x@example.com",
            username="exports",
            password="s3cret",  # noqa: S106 - a test server's
        )
        good.notify(sample_report("ann@example.com"))
        bad = SmtpNotifier(
            "127.0.0.1",
            server.port,
            sender="x@example.com",
            username="exports",
            password="wrong",  # noqa: S106
        )
        with pytest.raises(NotifierError, match="could not send"):
            bad.notify(sample_report("ann@example.com"))
    finally:
        controller.stop()
    assert seen == [(b"exports", b"s3cret"), (b"exports", b"wrong")]
    assert len(server.inbox.envelopes) == 1


def test_a_user_without_an_address_is_a_notifier_error() -> None:
    notifier = SmtpNotifier("127.0.0.1", 1, sender="x@example.com", addresses={"ann": "a@x.org"})
    with pytest.raises(NotifierError, match="no email address for user 'bob'"):
        notifier.notify(sample_report("bob"))
    with pytest.raises(NotifierError, match="no email address"):
        SmtpNotifier("127.0.0.1", 1, sender="x@example.com").notify(sample_report("not-an-address"))


def test_an_unreachable_server_is_a_notifier_error() -> None:
    notifier = SmtpNotifier("127.0.0.1", free_port(), sender="x@example.com", timeout=5)
    with pytest.raises(NotifierError, match="could not send") as info:
        notifier.notify(sample_report("ann@example.com"))
    assert isinstance(info.value.__cause__, OSError)


def test_smtp_notifier_repr_hides_the_password_and_checks_credentials() -> None:
    secret = "pw"  # noqa: S105 - checked to stay out of the repr
    notifier = SmtpNotifier("h", 587, sender="s@x", starttls=True, username="u", password=secret)
    assert secret not in repr(notifier)
    with pytest.raises(ValueError, match="both"):
        SmtpNotifier("h", sender="s@x", username="u")


def test_logging_notifier_logs_recipient_subject_and_body(caplog: pytest.LogCaptureFixture) -> None:
    report = sample_report()
    with caplog.at_level(logging.INFO, logger="exportjob.notify"):
        LoggingNotifier().notify(report)
    [record] = caplog.records
    assert record.levelno == logging.INFO
    assert record.getMessage().startswith(f"notification for ann: {report.subject}\n")
    assert "Exported:    2" in record.getMessage()


def test_logging_notifier_uses_the_logger_and_level_given(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("host.mail")
    with caplog.at_level(logging.DEBUG, logger="host.mail"):
        LoggingNotifier(logger, logging.WARNING).notify(sample_report())
    assert [(r.name, r.levelno) for r in caplog.records] == [("host.mail", logging.WARNING)]


def test_starttls_upgrades_the_connection_before_logging_in() -> None:
    ca = trustme.CA()
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_tls)
    client_tls = ssl.create_default_context()
    ca.configure_trust(client_tls)
    logins: list[tuple[bytes, bool]] = []

    def authenticator(
        server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        logins.append((data.login, session.ssl is not None))
        return AuthResult(success=True, handled=False)

    controller, server = start(
        tls_context=server_tls,
        require_starttls=True,
        authenticator=authenticator,
        auth_exclude_mechanism=["LOGIN"],
    )
    try:
        SmtpNotifier(
            "127.0.0.1",
            server.port,
            sender="exports@example.com",
            starttls=True,
            ssl_context=client_tls,
            username="exports",
            password="s3cret",  # noqa: S106 - a test server's
        ).notify(sample_report("ann@example.com"))
        plain = SmtpNotifier("127.0.0.1", server.port, sender="exports@example.com")
        with pytest.raises(NotifierError, match="could not send"):  # the server insists on TLS
            plain.notify(sample_report("ann@example.com"))
        untrusting = SmtpNotifier(
            "127.0.0.1", server.port, sender="exports@example.com", starttls=True
        )
        with pytest.raises(NotifierError, match="CERTIFICATE_VERIFY_FAILED"):  # not a trusted CA
            untrusting.notify(sample_report("ann@example.com"))
    finally:
        controller.stop()
    assert logins == [(b"exports", True)]
    assert [m["To"] for m in server.inbox.messages()] == ["ann@example.com"]


# -- security: a deadline for the whole delivery, exactly one recipient (docs/security.md)


class SlowGreeter:
    """An SMTP server on loopback that sends its greeting one byte every *gap* seconds."""

    def __init__(self, gap: float = 2.0) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.listener.getsockname()[1]
        self.gap = gap
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        conn, _ = self.listener.accept()
        with conn:
            for byte in b"220 slow.example ESMTP\r\n":
                if self.stopping.wait(self.gap):
                    return
                try:
                    conn.sendall(bytes([byte]))
                except OSError:
                    return

    def close(self) -> None:
        self.stopping.set()
        self.listener.close()
        self.thread.join(10)


@pytest.mark.parametrize(
    "gap",
    [
        pytest.param(2.0, id="byte-every-2s"),  # the issue's server: the time left times it out
        pytest.param(0.3, id="byte-every-0.3s"),  # each read in time: only the cut ends it
    ],
)
def test_a_server_that_answers_one_byte_at_a_time_cannot_outlast_the_deadline(gap: float) -> None:
    """Each byte comes within the per-operation timeout; the deadline ends the delivery anyway."""
    server = SlowGreeter(gap)
    notifier = SmtpNotifier(
        "127.0.0.1", server.port, sender="exports@example.com", timeout=30, deadline=1.5
    )
    store = MemoryStore(default_company="acme")
    store.add("a|1", b"\xff\xd8\xff" + b"x" * 10, file_name="one.jpg")
    job = ExportJob(asset_handles=["a|1"], fmt="orig", email_setting="All")
    try:
        with ExportEngine(store, CopyConverter(), notifier=notifier) as engine:
            job_run = engine.submit(job, JobContext(company="acme", user="ann@example.com"))
            log = job_run.result(timeout=60)  # a generous bound, only so a regression cannot hang
    finally:
        server.close()
    assert log.outcome("a|1").exported
    [warning] = log.warnings
    assert warning.code == "NOTIFIER_FAILED"
    assert "deadline of 1.5 s" in warning.message


def test_the_deadline_must_be_positive() -> None:
    with pytest.raises(ValueError, match="deadline"):
        SmtpNotifier("h", sender="s@x", deadline=0)


def run_notified(
    smtp: Server, user: str, addresses: dict[str, str] | None = None
) -> tuple[JobLog, list[str]]:
    store = MemoryStore(default_company="acme")
    store.add("a|1", b"\xff\xd8\xff" + b"x" * 10, file_name="one.jpg")
    notifier = SmtpNotifier(
        "127.0.0.1", smtp.port, sender="exports@example.com", addresses=addresses
    )
    job = ExportJob(asset_handles=["a|1"], fmt="orig", email_setting="All")
    with ExportEngine(store, CopyConverter(), notifier=notifier) as engine:
        log = engine.run(job, JobContext(company="acme", user=user))
    return log, [rcpt for envelope in smtp.inbox.envelopes for rcpt in envelope.rcpt_tos]


@pytest.mark.parametrize(
    ("user", "addresses"),
    [
        pytest.param("ann@example.com,eve@evil.example", None, id="comma-list"),
        pytest.param("ann@example.com;eve@evil.example", None, id="semicolon-list"),
        pytest.param('"Ann" <ann@example.com>, eve@evil.example', None, id="display-names"),
        pytest.param("Ann <ann@example.com>", None, id="one-display-name"),
        pytest.param("ann", {"ann": "ann@example.com, eve@evil.example"}, id="book-gives-two"),
        pytest.param("ann", {"ann": "ann@example.com\r\nBcc: eve@evil.example"}, id="book-crlf"),
        pytest.param("ann", {"ann": "ann@example.com\neve@evil.example"}, id="book-lf"),
        pytest.param("ann", {"ann": "Ann <eve@evil.example>"}, id="book-display-name"),
    ],
)
def test_a_recipient_that_is_not_exactly_one_address_gets_no_mail(
    smtp: Server, user: str, addresses: dict[str, str] | None
) -> None:
    log, recipients = run_notified(smtp, user, addresses)
    assert recipients == []
    assert smtp.inbox.envelopes == []
    assert log.outcome("a|1").exported
    [warning] = log.warnings
    assert warning.code == "INVALID_RECIPIENT"
    assert "no " in warning.message


@pytest.mark.parametrize(
    ("user", "addresses"),
    [
        pytest.param("ann@example.com", None, id="handle-is-address"),
        pytest.param("ann", {"ann": "ann@example.com"}, id="book"),
        pytest.param("o'brien+exports@mail.example.com", None, id="unusual-but-one"),
    ],
)
def test_one_address_is_still_delivered_to_that_address_only(
    smtp: Server, user: str, addresses: dict[str, str] | None
) -> None:
    log, recipients = run_notified(smtp, user, addresses)
    assert log.warnings == ()
    [recipient] = recipients
    assert recipient == (addresses or {}).get(user, user)


def test_an_address_book_function_returning_two_is_refused_before_connecting() -> None:
    notifier = SmtpNotifier(
        "127.0.0.1", free_port(), sender="x@example.com", addresses=lambda u: "a@x.org,b@y.org"
    )
    with pytest.raises(InvalidRecipientError, match="more than one address") as info:
        notifier.notify(sample_report("ann"))
    assert info.value.code == INVALID_RECIPIENT
    assert info.value.recipient == "ann"


@pytest.mark.parametrize(
    "sender", ["", "  ", "exports@example.com\nBcc: eve@evil.example", "a@b\r"], ids=repr
)
def test_a_sender_the_from_header_cannot_hold_is_refused_when_made(sender: str) -> None:
    with pytest.raises(ValueError, match="sender must be the From address on one line"):
        SmtpNotifier("127.0.0.1", 25, sender=sender)


def test_a_sender_with_a_display_name_is_taken(smtp: Server) -> None:
    notifier = SmtpNotifier("127.0.0.1", smtp.port, sender="Exports <exports@example.com>")
    notifier.notify(sample_report("ann@example.com"))
    [msg] = smtp.inbox.messages()
    assert msg["From"] == "Exports <exports@example.com>"
