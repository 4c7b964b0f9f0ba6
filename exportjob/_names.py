"""Output file names: derived from user data, so made safe, and made distinct within a job."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from .exceptions import UnsafeNameError

__all__ = ["check_name", "distinct_names", "safe_name", "split_name"]

MAX_NAME_BYTES = 200
_FORBIDDEN = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]')
_RESERVED = frozenset(
    {"con", "prn", "aux", "nul"}
    | {f"com{i}" for i in range(10)}
    | {f"lpt{i}" for i in range(10)}
    | {"com¹", "com²", "com³", "lpt¹", "lpt²", "lpt³"}
)


def split_name(name: str) -> tuple[str, str]:
    """Split *name* into stem and extension (``"a.tar.gz"`` -> ``("a.tar", ".gz")``; dotfiles keep it)."""
    dot = name.rfind(".")
    if dot <= 0:
        return name, ""
    return name[:dot], name[dot:]


def _is_reserved(name: str) -> bool:
    return split_name(name)[0].rstrip(" .").casefold() in _RESERVED or name in {".", ".."}


def check_name(name: str) -> str:
    """Return *name* if it is a plain, portable file name; raise ``UnsafeNameError`` otherwise.

    Stores call this on every name they are asked to write, so nothing lands outside their folder.
    """
    if not isinstance(name, str) or not name:
        raise UnsafeNameError("an output name must be a non-empty string", name=str(name))
    if _FORBIDDEN.search(name):
        raise UnsafeNameError(
            "an output name must not contain path separators, control or reserved characters",
            name=name,
        )
    if _is_reserved(name) or name != name.rstrip(" ."):
        raise UnsafeNameError(
            "an output name must not be a reserved device name or end in a dot or space", name=name
        )
    if len(name.encode()) > MAX_NAME_BYTES:
        raise UnsafeNameError(f"an output name must be at most {MAX_NAME_BYTES} bytes", name=name)
    return name


def _truncate(text: str, limit: int) -> str:
    encoded = text.encode()
    if len(encoded) <= limit:
        return text
    return encoded[:limit].decode(errors="ignore")


def safe_name(name: str, *, extension: str | None = None, fallback: str = "asset") -> str:
    """Make a safe file name from an asset's file name, optionally replacing its extension.

    Directory parts are dropped (``../../etc/passwd`` -> ``passwd``), forbidden characters become
    ``_``, reserved device names get a ``_`` prefix, and the result is at most 200 bytes.

    >>> safe_name("../photos/fileToExport.jpg", extension=".tiff")
    'fileToExport.tiff'
    """
    base = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    base = _FORBIDDEN.sub("_", base).strip().rstrip(" .")
    stem, ext = split_name(base)
    if extension is not None:
        ext = extension
    stem = stem.strip() or fallback
    ext = _FORBIDDEN.sub("_", ext)
    if stem.rstrip(" .").casefold() in _RESERVED or stem in {".", ".."}:
        stem = f"_{stem}"
    stem = _truncate(stem, MAX_NAME_BYTES - len(ext.encode()))
    return check_name(f"{stem}{ext}".rstrip(" ."))


def distinct_names(names: Iterable[str]) -> list[str]:
    """Return *names* made distinct, case-insensitively, by ``-2``, ``-3``... suffixes, in order.

    The first occurrence keeps its name, so the result is deterministic for a given job order.

    >>> distinct_names(["a.jpg", "b.jpg", "A.jpg", "a.jpg"])
    ['a.jpg', 'b.jpg', 'A-2.jpg', 'a-3.jpg']
    """
    wanted = list(names)
    taken = {n.casefold() for n in wanted}
    used: set[str] = set()
    out: list[str] = []
    for name in wanted:
        key = name.casefold()
        if key not in used:
            used.add(key)
            out.append(name)
            continue
        stem, ext = split_name(name)
        n = 2
        while True:
            candidate = f"{_truncate(stem, MAX_NAME_BYTES - len(ext.encode()) - 8)}-{n}{ext}"
            ckey = candidate.casefold()
            if ckey not in used and ckey not in taken:
                break
            n += 1
        used.add(ckey)
        out.append(candidate)
    return out
