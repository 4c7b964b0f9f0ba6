"""The submitJob context around a job, and its IPS wire form.

As for the job, the constructor and ``from_ips`` check the fields with the same code (``_check``)
and report every bad field at once, under the IPS wire names, in one ``InvalidJobError``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import attrs
from typing_extensions import NotRequired, TypedDict

from ._values import Problems, read_wire, text
from .exceptions import InvalidValueError

__all__ = ["JOB_CONTEXT_FIELDS", "JobContext", "RawJobContext"]

_SUBJECT = "job context"
_LOCALE = re.compile(r"^[a-z]{2}(-[A-Z]{2})?$")
_DEFAULT_NAME = "export"

#: Each attribute of a context -> its IPS wire name, the name problems use; in the order they are reported.
JOB_CONTEXT_FIELDS = MappingProxyType(
    {
        "company": "companyHandle",
        "job_name": "jobName",
        "user": "userHandle",
        "submit_user": "submitUser",
        "locale": "locale",
        "description": "description",
    }
)


def _company(field: str, value: Any) -> str:
    if value is None:
        raise InvalidValueError(field, value, "is required")
    return text(field, value)


def _job_name(field: str, value: Any) -> str:
    return _DEFAULT_NAME if value is None else text(field, value)


def _optional_text(field: str, value: Any) -> str | None:
    return None if value is None else text(field, value)


def _locale(field: str, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not _LOCALE.match(value):
        raise InvalidValueError(field, value, "must be 'll' or 'll-CC', for example 'en-US'")
    return value


_PARSERS = {
    "company": _company,
    "job_name": _job_name,
    "user": _optional_text,
    "submit_user": _optional_text,
    "locale": _locale,
    "description": _optional_text,
}


def _check(values: Mapping[str, object], problems: Problems) -> dict[str, Any]:
    """Normalise a context's attribute values; record each problem under its IPS wire name."""
    out = {
        attr: problems.check(JOB_CONTEXT_FIELDS[attr], parse, values[attr])
        for attr, parse in _PARSERS.items()
    }
    problems.raise_any(_SUBJECT)
    return out


@attrs.frozen(kw_only=True, init=False)
class JobContext:
    """The submitJob context around a job: who submits it, for which company, under what name.

    ``company`` is required: only that company's assets are exported. Notifications go to ``user``,
    or to ``submit_user`` (the submitter) when no user is given, as submitJob's ``userHandle`` rule says.

    >>> JobContext(company="acme", user="ann@example.com").recipient
    'ann@example.com'

    Raises:
        InvalidJobError: listing every bad field under its IPS wire name, as ``from_ips`` does.
    """

    company: str
    job_name: str = _DEFAULT_NAME
    user: str | None = None
    submit_user: str | None = None
    locale: str | None = None
    description: str | None = None

    # A hand-written __init__, because attrs validators stop at the first bad field.
    def __init__(
        self,
        *,
        company: str,
        job_name: str = _DEFAULT_NAME,
        user: str | None = None,
        submit_user: str | None = None,
        locale: str | None = None,
        description: str | None = None,
    ) -> None:
        given = {
            "company": company,
            "job_name": job_name,
            "user": user,
            "submit_user": submit_user,
            "locale": locale,
            "description": description,
        }
        self.__attrs_init__(**_check(given, Problems()))

    @property
    def recipient(self) -> str | None:
        """Who is notified: the job's user, else the submitter, else nobody.

        The handle as given: the engine sends nothing to one that is not exactly one address or
        one plain handle (``INVALID_RECIPIENT``, docs/email.md).
        """
        return self.user or self.submit_user

    @classmethod
    def from_ips(cls, raw: Mapping[str, Any]) -> JobContext:
        """Build a context from the submitJob names (``companyHandle``, ``jobName``, ...).

        ``jobName`` defaults to ``export``, as the constructor's ``job_name`` does.

        Raises:
            InvalidJobError: with one ``FieldProblem`` per invalid, unknown or missing field.
        """
        given, problems = read_wire(raw, JOB_CONTEXT_FIELDS, root="jobContext", subject=_SUBJECT)
        return cls(**_check(given, problems))

    def to_ips(self) -> RawJobContext:
        """Return the context keyed by the submitJob names."""
        out: RawJobContext = {"companyHandle": self.company, "jobName": self.job_name}
        if self.user is not None:
            out["userHandle"] = self.user
        if self.submit_user is not None:
            out["submitUser"] = self.submit_user
        if self.locale is not None:
            out["locale"] = self.locale
        if self.description is not None:
            out["description"] = self.description
        return out


class RawJobContext(TypedDict):
    """The IPS wire form of the submitJob context."""

    companyHandle: str
    jobName: str
    userHandle: NotRequired[str]
    submitUser: NotRequired[str]
    locale: NotRequired[str]
    description: NotRequired[str]
