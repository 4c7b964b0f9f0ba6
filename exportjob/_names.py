"""Output file names: derived from user data, so made safe, and made distinct within a job."""

from __future__ import annotations

import re
import unicodedata

from .exceptions import UnsafeNameError

__all__ = ["MAX_NAME_BYTES", "NameBook", "check_name", "safe_name", "split_name"]

MAX_NAME_BYTES = 200
"""The longest output name, in UTF-8 bytes, that ``check_name`` accepts and ``safe_name`` makes."""
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


#: Invisible characters that change how a name reads: format characters (category ``Cf``: bidi
#: overrides such as U+202E, zero-width joiners and spaces, soft hyphens, BOM) and the line and
#: paragraph separators. ``invoice\u202egpj.exe`` shows as ``invoiceexe.jpg``.
_INVISIBLE_CATEGORIES = frozenset({"Cf", "Zl", "Zp"})


def _invisible(text: str) -> str | None:
    """The first invisible format character in *text*, if any."""
    return next((c for c in text if unicodedata.category(c) in _INVISIBLE_CATEGORIES), None)


def _drop_invisible(text: str) -> str:
    if _invisible(text) is None:
        return text
    return "".join(c for c in text if unicodedata.category(c) not in _INVISIBLE_CATEGORIES)


def _is_reserved(name: str) -> bool:
    return split_name(name)[0].rstrip(" .").casefold() in _RESERVED or name in {".", ".."}


def _plain_unicode(text: str) -> str:
    # Lone surrogates (undecodable bytes in a file name) cannot be written: show them as U+FFFD.
    return text.encode("utf-8", "replace").decode("utf-8") if _has_surrogates(text) else text


def _has_surrogates(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def check_name(name: str) -> str:
    """Return *name* if it is a plain, portable file name; raise ``UnsafeNameError`` otherwise.

    Stores call this on every name they are asked to write, so nothing lands outside their folder.
    """
    if not isinstance(name, str) or not name:
        raise UnsafeNameError("an output name must be a non-empty string", name=str(name))
    if _has_surrogates(name):
        raise UnsafeNameError("an output name must be valid Unicode", name=name)
    invisible = _invisible(name)
    if invisible is not None:
        raise UnsafeNameError(
            f"an output name must not contain invisible format characters "
            f"(U+{ord(invisible):04X} {unicodedata.name(invisible, 'unnamed')})",
            name=name,
        )
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

    Directory parts are dropped (``../../etc/passwd`` -> ``passwd``), forbidden characters and
    undecodable bytes become ``_``, invisible format characters (bidi overrides such as U+202E,
    zero-width characters, soft hyphens; Unicode ``Cf``, ``Zl``, ``Zp``) are removed, reserved device names get a ``_`` prefix, an empty stem becomes
    *fallback* (made safe the same way), and the result is at most 200 bytes (an extension at most
    50). It never raises: any string gives a name that ``check_name`` accepts.

    >>> safe_name("../photos/fileToExport.jpg", extension=".tiff")
    'fileToExport.tiff'
    """
    stem, ext = split_name(_clean(name))
    if extension is not None:
        ext = _FORBIDDEN.sub("_", _drop_invisible(_plain_unicode(extension)))
    stem = (
        stem.strip()
        or _FORBIDDEN.sub("_", _drop_invisible(_plain_unicode(fallback))).strip(" .")
        or "asset"
    )
    if stem.rstrip(" .").casefold() in _RESERVED or stem in {".", ".."}:
        stem = f"_{stem}"
    ext = _truncate(ext, MAX_NAME_BYTES // 4)
    stem = _truncate(stem, MAX_NAME_BYTES - len(ext.encode()))
    return check_name(f"{stem}{ext}".rstrip(" .") or "asset")


def _clean(name: str) -> str:
    """The last path component of *name*, valid Unicode, NFC, visible, forbidden characters as ``_``."""
    plain = _drop_invisible(_plain_unicode(name))
    base = unicodedata.normalize("NFC", plain).replace("\\", "/").rsplit("/", 1)[-1]
    return _FORBIDDEN.sub("_", base).strip().rstrip(" .")


class NameBook:
    """Output names claimed so far in one export area, made distinct case-insensitively.

    ``claim`` returns the name itself the first time and ``stem-2.ext``, ``stem-3.ext``... after
    that, skipping any name already claimed, so names depend only on the order of the claims.

    >>> book = NameBook()
    >>> [book.claim(name) for name in ["a.jpg", "b.jpg", "A.jpg", "a.jpg"]]
    ['a.jpg', 'b.jpg', 'A-2.jpg', 'a-3.jpg']
    """

    def __init__(self) -> None:
        self._used: set[str] = set()

    def claim(self, name: str) -> str:
        """Claim *name*, or the first free numbered variant of it, and return what was claimed."""
        key = name.casefold()
        if key not in self._used:
            self._used.add(key)
            return name
        stem, ext = split_name(name)
        stem = _truncate(stem, MAX_NAME_BYTES - len(ext.encode()) - 8)
        n = 2
        while f"{stem}-{n}{ext}".casefold() in self._used:
            n += 1
        candidate = f"{stem}-{n}{ext}"
        self._used.add(candidate.casefold())
        return candidate
