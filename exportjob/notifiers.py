"""Notifiers a host can use as they are: ``LoggingNotifier``, ``SmtpNotifier`` and ``WebhookNotifier``.

Each implements ``exportjob.protocols.Notifier``: they deliver one ``JobReport`` and decide nothing (the
engine applies the job's ``emailSetting``). ``exportjob.testing.RecordingNotifier`` is the test double.
``build_report`` makes the report the engine would send, for a host testing or previewing a notifier
of its own.
"""

from __future__ import annotations

import contextlib
import logging
import smtplib
import socket
import ssl
from collections.abc import Callable, Mapping
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import TypeAlias

from typing_extensions import Buffer

from ._addresses import address_problem
from ._deadline import Deadline
from ._email import build_report
from ._log import JobReport
from ._webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, WebhookNotifier, sign, verify_signature
from .exceptions import InvalidRecipientError, NotifierError

__all__ = [
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "AddressBook",
    "LoggingNotifier",
    "SmtpNotifier",
    "WebhookNotifier",
    "build_report",
    "sign",
    "verify_signature",
]


class LoggingNotifier:
    """Deliver notifications to a standard-library logger (``exportjob.notify`` by default).

    >>> import logging
    >>> LoggingNotifier(level=logging.WARNING)
    LoggingNotifier(logger='exportjob.notify', level='WARNING')
    """

    def __init__(self, logger: logging.Logger | None = None, level: int = logging.INFO) -> None:
        self.logger = logger if logger is not None else logging.getLogger("exportjob.notify")
        self.level = level

    def __repr__(self) -> str:
        return (
            f"LoggingNotifier(logger={self.logger.name!r}, "
            f"level={logging.getLevelName(self.level)!r})"
        )

    def notify(self, report: JobReport) -> None:
        """Log *report*'s recipient, subject and body as one record."""
        self.logger.log(
            self.level,
            "notification for %s: %s\n%s",
            report.recipient,
            report.subject,
            report.body,
            extra={"exportjob_job_handle": report.log.job_handle},
        )


#: Where a user's mail goes: a mapping from user handle to address, or a lookup function.
AddressBook: TypeAlias = "Mapping[str, str] | Callable[[str], str | None]"


class SmtpNotifier:
    """Send each notification as a plain-text email, with the standard library's ``smtplib``.

    Args:
        host: the SMTP server.
        port: its port (25, or 587 for submission with STARTTLS).
        sender: the ``From`` address.
        addresses: where a user's mail goes: a mapping from user handle to address, or a callable
            returning the address (or ``None``). Without it the user handle is the address, which it
            must then look like (``ann@example.com``).
        starttls: upgrade the connection with STARTTLS before anything else is sent.
        username: log in with this user (and *password*) after STARTTLS, if given.
        password: the password for *username*.
        timeout: seconds to wait for the server on each operation.
        deadline: seconds the whole delivery may take, from connecting to the end of the message;
            each operation waits at most the time left, and the connection is cut when none is.
        ssl_context: the TLS context for STARTTLS; the system's default trust store if omitted.

    Every failure (no address for the user, a refused connection, a rejected recipient, the
    deadline passed) raises ``NotifierError``; the engine logs it and records a warning, and the
    export goes on. An address that is not exactly one bare address (a list, a display name, a line
    break) raises ``InvalidRecipientError`` before anything is sent.

    >>> SmtpNotifier("mail.example.com", 587, sender="exports@example.com", starttls=True,
    ...              username="exports", password="secret")
    SmtpNotifier('mail.example.com', 587, sender='exports@example.com', starttls=True, username='exports')
    """

    def __init__(
        self,
        host: str,
        port: int = 25,
        *,
        sender: str,
        addresses: AddressBook | None = None,
        starttls: bool = False,
        username: str | None = None,
        password: str | None = None,
        timeout: float = 30.0,
        deadline: float = 60.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        if (username is None) != (password is None):
            msg = "give both username and password, or neither"
            raise ValueError(msg)
        if not deadline > 0:
            msg = f"deadline must be a positive number of seconds, got {deadline!r}"
            raise ValueError(msg)
        if not isinstance(sender, str) or not sender.strip() or any(c in sender for c in "\r\n"):
            # Refused here, not by every job's send: the From header cannot hold it.
            msg = (
                f"sender must be the From address on one line (exports@example.com), got {sender!r}"
            )
            raise ValueError(msg)
        self.host = host
        self.port = port
        self.sender = sender
        self.addresses = addresses
        self.starttls = starttls
        self.username = username
        self._password = password
        self.timeout = timeout
        self.deadline = deadline
        self.ssl_context = ssl_context

    def __repr__(self) -> str:
        return (
            f"SmtpNotifier({self.host!r}, {self.port}, sender={self.sender!r}, "
            f"starttls={self.starttls}, username={self.username!r})"
        )

    def address_of(self, user: str) -> str:
        """Return the one email address of *user*.

        Raises:
            NotifierError: there is none.
            InvalidRecipientError: what the handle or the address book gives is not exactly one
                bare address (``a@x,b@y``, ``Ann <a@x>``, a line break).
        """
        if self.addresses is None:
            address: object = user
        elif isinstance(self.addresses, Mapping):
            address = self.addresses.get(user)
        else:
            address = self.addresses(user)
        if not address or (isinstance(address, str) and "@" not in address):
            raise NotifierError(f"no email address for user {user!r}")
        problem = address_problem(address)
        if problem is not None:
            raise InvalidRecipientError(
                f"the address of user {user!r} {problem}: {address!r}; no mail was sent",
                recipient=user,
            )
        return str(address)

    def message(self, report: JobReport) -> EmailMessage:
        """Return the email that ``notify`` sends for *report*."""
        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = self.address_of(report.recipient)
        msg["Subject"] = report.subject
        msg["Date"] = formatdate(localtime=False, usegmt=True)
        msg["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2] or None)
        msg["X-Exportjob-Job-Handle"] = report.log.job_handle
        msg.set_content(report.body)
        if report.locale:  # after set_content, which clears Content-* headers
            msg["Content-Language"] = report.locale
        return msg

    def notify(self, report: JobReport) -> None:
        """Send *report* to its recipient's address.

        Raises:
            NotifierError: the user has no address, or the server could not be reached or refused.
        """
        msg = self.message(report)
        smtp = _DeadlineSMTP(self.host, Deadline(self.deadline), self.timeout)
        try:
            with smtp.watched():
                smtp.connect(self.host, self.port)
                if self.starttls:
                    smtp.starttls(context=self.ssl_context or ssl.create_default_context())
                if self.username is not None and self._password is not None:
                    smtp.login(self.username, self._password)
                smtp.send_message(msg, to_addrs=[msg["To"]])
                with contextlib.suppress(smtplib.SMTPException, OSError):
                    smtp.quit()  # the message is accepted: a slow goodbye is no failure
        except (smtplib.SMTPException, OSError) as exc:
            why = (
                f"the delivery took longer than its deadline of {self.deadline:g} s"
                if smtp.expired
                else str(exc)
            )
            raise NotifierError(
                f"could not send the notification to {msg['To']} via {self.host}:{self.port}: {why}"
            ) from exc
        finally:
            smtp.close()


class _DeadlineSMTP(smtplib.SMTP):
    """An SMTP client whose every socket operation waits at most until one ``Deadline``.

    A server can answer each read just in time (one byte a second) and so outlast any per-operation
    timeout: each send and reply here waits only for the time left, and ``watched`` cuts the
    connection at the deadline, which ends a read in progress whatever its timeout.
    """

    def __init__(self, host: str, deadline: Deadline, timeout: float) -> None:
        super().__init__(timeout=timeout)
        self._host = host  # what STARTTLS checks the certificate against (connect leaves it)
        self._deadline = deadline

    @property
    def expired(self) -> bool:
        """Whether the deadline has passed (a failure now is the deadline's)."""
        return self._deadline.expired

    def _left(self) -> float:
        return self._deadline.left(self.timeout)

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        return super()._get_socket(host, port, min(timeout, self._left()))  # type: ignore[misc, no-any-return]

    def send(self, s: Buffer | str) -> None:
        if self.sock is not None:
            self.sock.settimeout(self._left())
        super().send(s)

    def getreply(self) -> tuple[int, bytes]:
        if self.sock is not None:
            self.sock.settimeout(self._left())
        return super().getreply()

    def watched(self) -> contextlib.AbstractContextManager[None]:
        """Cut the connection if the block is still running at the deadline."""
        return self._deadline.watching(lambda: self.sock)
