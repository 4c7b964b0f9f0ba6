"""Output file names: derived from user data, so made safe, and made distinct within a job."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from .exceptions import UnsafeNameError

__all__ = [
    "MAX_NAME_BYTES",
    "MAX_PATH_BYTES",
    "NameBook",
    "check_name",
    "check_path",
    "safe_folders",
    "safe_name",
    "split_name",
]

MAX_NAME_BYTES = 200
"""The longest output name, in UTF-8 bytes, that ``check_name`` accepts and ``safe_name`` makes."""
MAX_PATH_BYTES = 1000
"""The longest relative output path (folders kept), in UTF-8 bytes, that ``check_path`` accepts."""
# The library's temporary files: a later run on the folder removes those of dead processes, so
# no export may be named like one.
TEMP_PREFIX = ".exportjob-"
TEMP_SUFFIX = ".part"
_FORBIDDEN = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]')
_RESERVED = frozenset(
    {"con", "prn", "aux", "nul"}
    | {f"com{i}" for i in range(10)}
    | {f"lpt{i}" for i in range(10)}
    | {"com¹", "com²", "com³", "lpt¹", "lpt²", "lpt³"}
)
# Most names are plain: ASCII words joined by single dots or spaces, no dot or space at either
# end. Such a name is its own clean, NFC, visible form, so ``check_name`` and ``safe_name`` decide
# it from its stem and length alone (the fast path; the full rules give the same answer).
_WORD = r"[A-Za-z0-9_\-()+,@'&=#!~%$\[\]{};]+"
_PLAIN = re.compile(rf"{_WORD}(?:[ .]{_WORD})*")
_PLAIN_EXTENSION = re.compile(r"(?:\.[A-Za-z0-9]+)?")


def split_name(name: str) -> tuple[str, str]:
    """Split *name* into stem and extension (``"a.tar.gz"`` -> ``("a.tar", ".gz")``; dotfiles keep it)."""
    dot = name.rfind(".")
    if dot <= name.rfind("/") + 1:  # no dot in the last component, or a dotfile
        return name, ""
    return name[:dot], name[dot:]


#: Invisible characters that change how a name reads: format characters (category ``Cf``: bidi
#: overrides such as U+202E, zero-width joiners and spaces, soft hyphens, BOM) and the line and
#: paragraph separators. ``invoice\u202egpj.exe`` shows as ``invoiceexe.jpg``.
_INVISIBLE_CATEGORIES = frozenset({"Cf", "Zl", "Zp"})


def _invisible(text: str) -> str | None:
    """The first invisible format character in *text*, if any."""
    if text.isascii():  # no ASCII character is in those categories
        return None
    return next((c for c in text if unicodedata.category(c) in _INVISIBLE_CATEGORIES), None)


def _drop_invisible(text: str) -> str:
    if _invisible(text) is None:
        return text
    return "".join(c for c in text if unicodedata.category(c) not in _INVISIBLE_CATEGORIES)


def _plain(name: str) -> tuple[str, str] | None:
    """*name*'s stem and extension if it is plain (``_PLAIN``), its stem no reserved device name."""
    if _PLAIN.fullmatch(name) is None:
        return None
    dot = name.rfind(".")  # a plain name holds no "/" and does not start with a dot
    stem, ext = (name[:dot], name[dot:]) if dot > 0 else (name, "")
    # A plain name is ASCII, and no reserved device name is longer than four characters.
    if len(stem) <= 4 and stem.casefold() in _RESERVED:
        return None
    return stem, ext


def is_temporary(name: str) -> bool:
    """Whether *name* is one of the library's temporary files (``.exportjob-*.part``)."""
    return name.startswith(TEMP_PREFIX) and name.endswith(TEMP_SUFFIX)


def _is_reserved(name: str) -> bool:
    return split_name(name)[0].rstrip(" .").casefold() in _RESERVED or name in {".", ".."}


def _plain_unicode(text: str) -> str:
    # Lone surrogates (undecodable bytes in a file name) cannot be written: show them as U+FFFD.
    return text.encode("utf-8", "replace").decode("utf-8") if _has_surrogates(text) else text


def _has_surrogates(text: str) -> bool:
    if text.isascii():
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def check_name(name: str) -> str:
    """Return *name* if it is a plain, portable file name; raise ``UnsafeNameError`` otherwise.

    Stores call this on every name they are asked to write, so nothing lands outside their folder.
    """
    if type(name) is str and len(name) <= MAX_NAME_BYTES and _plain(name) is not None:
        return name
    return _check_name_in_full(name)


def _check_name_in_full(name: str) -> str:
    """``check_name`` by its every rule (the fast path must agree with it, see tests/test_names.py)."""
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
    if name in {".", ".."}:
        raise UnsafeNameError(
            f"an output name must not be {name!r}, which names a folder", name=name
        )
    if name != name.rstrip(" ."):
        raise UnsafeNameError("an output name must not end in a dot or a space", name=name)
    if _is_reserved(name):
        raise UnsafeNameError(
            "an output name must not be a reserved device name (CON, PRN, AUX, NUL, COM0-9, "
            "LPT0-9), with or without an extension",
            name=name,
        )
    if is_temporary(name):
        raise UnsafeNameError(
            f"an output name must not look like the library's temporary files "
            f"({TEMP_PREFIX}*{TEMP_SUFFIX}): a later run would remove it",
            name=name,
        )
    if len(name.encode()) > MAX_NAME_BYTES:
        raise UnsafeNameError(f"an output name must be at most {MAX_NAME_BYTES} bytes", name=name)
    return name


def check_path(name: str) -> str:
    """Return *name* if it is a relative path of plain file names (``a/b/x.jpg``); else raise.

    Each ``/``-separated component must pass ``check_name`` (so no empty part, ``.``, ``..``, drive
    or absolute path), and the whole is at most ``MAX_PATH_BYTES`` bytes. Stores that keep folders
    call this instead of ``check_name``.
    """
    if not isinstance(name, str) or not name:
        raise UnsafeNameError("an output name must be a non-empty string", name=str(name))
    try:
        for part in name.split("/"):
            check_name(part)
    except UnsafeNameError as exc:
        message = _path_problem(name) or f"{exc.message} (in {name!r})"
        raise UnsafeNameError(message, name=name) from None
    if len(name.encode("utf-8", "replace")) > MAX_PATH_BYTES:
        raise UnsafeNameError(f"an output path must be at most {MAX_PATH_BYTES} bytes", name=name)
    return name


def _path_problem(path: str) -> str | None:
    """What makes *path* no relative path of names, beyond its parts' own rules (None: nothing)."""
    if path.startswith("/"):
        return f"an output path must be relative, not absolute, got {path!r}"
    for part in path.split("/"):
        if not part:
            return (
                f"an output path must not have an empty part (a '/' doubled or last), got {path!r}"
            )
        if part in {".", ".."}:
            return f"an output path must not have a {part!r} part, got {path!r}"
    return None


def safe_folders(handle: str) -> str:
    """The folders of *handle* (all but its last part), each made safe, as ``a/b/`` (or ``""``).

    Empty parts, ``.`` and ``..`` are dropped, so the folders never leave the export area; each
    other part is made safe as a file name (``safe_name``). Folders that would make the path longer
    than ``MAX_PATH_BYTES`` (with room for a file name) are dropped from the end.

    >>> safe_folders("shoots/../2024//CON/x.jpg"), safe_folders("x.jpg")
    ('shoots/2024/_CON/', '')
    """
    parts = _drop_invisible(_plain_unicode(handle)).replace("\\", "/").split("/")[:-1]
    kept: list[str] = []
    size = 0
    for part in parts:
        if part.strip(" .") == "":
            continue
        safe = safe_name(part, fallback="_")
        size += len(safe.encode()) + 1
        if size > MAX_PATH_BYTES - MAX_NAME_BYTES:
            break
        kept.append(safe)
    return "".join(f"{part}/" for part in kept)


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
    plain = _plain(name)
    if plain is not None:
        stem, ext = plain
        if extension is None:
            if len(name) <= MAX_NAME_BYTES and len(ext) <= MAX_NAME_BYTES // 4:
                return name
        elif (
            _PLAIN_EXTENSION.fullmatch(extension)
            and len(stem) + len(extension) <= MAX_NAME_BYTES
            and len(extension) <= MAX_NAME_BYTES // 4
            and split_name(named := f"{stem}{extension}")[0].casefold() not in _RESERVED
        ):
            return named
    return _safe_name_in_full(name, extension, fallback)


def _safe_name_in_full(name: str, extension: str | None, fallback: str) -> str:
    """``safe_name`` by its every rule (the fast path must agree with it, see tests/test_names.py)."""
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
    safe = f"{stem}{ext}".rstrip(" .") or "asset"
    if _is_reserved(safe) or is_temporary(safe):  # "com1.tar" + "x"; ".exportjob-1.part"
        stem = _truncate(f"_{stem}", MAX_NAME_BYTES - len(ext.encode()))
        safe = f"{stem}{ext}".rstrip(" .") or "asset"
    safe = check_name(safe)
    return name if safe == name else safe  # a name safe already: one string kept, not two


def _clean(name: str) -> str:
    """The last path component of *name*, valid Unicode, NFC, visible, forbidden characters as ``_``."""
    plain = _drop_invisible(_plain_unicode(name))
    base = unicodedata.normalize("NFC", plain).replace("\\", "/").rsplit("/", 1)[-1]
    return _FORBIDDEN.sub("_", base).strip().rstrip(" .")


def _key(name: str) -> str:
    """The case-insensitive key of *name*: the name itself when it is its own casefold."""
    key = name.casefold()
    return name if key == name else key


def _fit(path: str) -> str:
    """*path* with its leaf's stem cut so the whole is at most ``MAX_PATH_BYTES`` (numbering grew it)."""
    over = len(path.encode()) - MAX_PATH_BYTES
    if over <= 0:
        return path
    folder, _, leaf = path.rpartition("/")
    stem, ext = split_name(leaf)
    cut = _truncate(stem, max(0, len(stem.encode()) - over))
    return f"{folder}/{cut}{ext}" if cut else path  # no stem left: check_path refuses it


class NameBook:
    """Output names claimed so far in one export area, made distinct case-insensitively.

    ``claim`` returns the name itself the first time and ``stem-2.ext``, ``stem-3.ext``... after
    that, skipping any name already claimed, so names depend only on the order of the claims.
    Names *held* are claimed from the start: the host's own files beside the exports.
    A path's folders count too (one export area cannot hold ``x`` both as a file and as a folder):
    a file named like a claimed folder is numbered, and a folder named like a claimed file is
    numbered as a whole (``x-2/y.pdf``: its first variant that is no file's name).

    >>> book = NameBook()
    >>> [book.claim(name) for name in ["a.jpg", "b.jpg", "A.jpg", "a.jpg"]]
    ['a.jpg', 'b.jpg', 'A-2.jpg', 'a-3.jpg']
    >>> [book.claim(name) for name in ["x", "x/y.pdf", "d/e.pdf", "d"]]
    ['x', 'x-2/y.pdf', 'd/e.pdf', 'd-2']
    """

    def __init__(self, held: Iterable[str] = ()) -> None:
        self._used: set[str] = set()
        self._reserved: dict[str, int] = {}
        self._folders: set[str] = set()  # the keys of the claimed names' folders ("a", "a/b")
        held = tuple(held)
        self._held = frozenset(_key(name) for name in held)  # claimed for files beside the exports
        for name in held:
            self._take(name, _key(name))

    def reserve(self, name: str) -> None:
        """Keep *name* for a later ``claim(name, reserved=True)``: other claims skip it meanwhile.

        A name may be kept for several owners (each ``reserve`` is one); it stays kept until every
        one of them has claimed or released it.

        >>> book = NameBook()
        >>> book.reserve("a.jpg")
        >>> book.claim("a.jpg"), book.claim("a.jpg", reserved=True)
        ('a-2.jpg', 'a.jpg')
        """
        key = _key(name)
        self._reserved[key] = self._reserved.get(key, 0) + 1

    def release(self, name: str) -> None:
        """Give up one reservation of *name* (its owner will not claim it)."""
        self._release(_key(name))

    def _release(self, key: str) -> None:
        count = self._reserved.pop(key, 0) - 1
        if count > 0:
            self._reserved[key] = count
        elif not self._reserved:
            self._reserved = {}  # a dict keeps its table when emptied: a job's worth of slots

    def claim(self, name: str, *, reserved: bool = False) -> str:
        """Claim *name*, or the first free numbered variant of it, and return what was claimed.

        Names kept by ``reserve`` count as taken, except *name* itself for one of its owners
        (*reserved*), who takes it if no one has yet.
        """
        key = _key(name)
        if reserved:
            self._release(key)
        if "/" in name:
            moved = self._free_folders(name)
            reserved = reserved and moved == name
            name = moved if moved == name else _fit(moved)
            key = _key(name)
        elif (
            key not in self._used
            and key not in self._folders
            and (reserved or key not in self._reserved)
        ):
            self._used.add(key)  # ``_take``, for a name without folders
            return name
        if self._free(key) and (reserved or key not in self._reserved):
            return self._take(name, key)
        folder, _, leaf = name.rpartition("/")
        folder = f"{folder}/" if folder else ""
        stem, ext = split_name(leaf)
        room = min(MAX_NAME_BYTES, MAX_PATH_BYTES - len(folder.encode()))
        stem = _truncate(stem, max(0, room - len(ext.encode()) - 8))
        n = 2
        while not self._free(key := f"{folder}{stem}-{n}{ext}".casefold()) or key in self._reserved:
            n += 1
        return self._take(f"{folder}{stem}-{n}{ext}", key)

    def hold(self, name: str) -> None:
        """Claim *name* as a file found in the export area: later claims skip it.

        A folder named like it is then numbered as a whole, as for a file of the job.
        """
        self._take(name, _key(name))  # even as a folder of a name claimed: that one is moved

    def taken_by(self, name: str, claimed: str) -> str:
        """Who took *name*, which was claimed as *claimed*: words for the renamed plan's warning."""
        if _key(name) in self._held:
            return "a file written beside the exports (reserved_names)"
        if _key(name.rpartition("/")[0]) != _key(claimed.rpartition("/")[0]):
            return "another asset of this job (a folder of it is that asset's file)"
        if _key(name) in self._folders:
            return "another asset of this job (as a folder of its output)"
        return "another asset of this job"

    def _free(self, key: str) -> bool:
        return key not in self._used and key not in self._folders

    def _take(self, name: str, key: str) -> str:
        self._used.add(key)
        if "/" in key:
            parts = key.split("/")[:-1]
            self._folders.update("/".join(parts[: i + 1]) for i in range(len(parts)))
        return name

    def _free_folders(self, name: str) -> str:
        """*name* with each of its folders that is a claimed file's name numbered (``x-2/y.pdf``)."""
        *folders, leaf = name.split("/")
        for i, folder in enumerate(folders):
            prefix = "/".join(folders[:i])
            prefix = f"{prefix}/" if prefix else ""
            if _key(prefix + folder) not in self._used:
                continue
            base = _truncate(folder, MAX_NAME_BYTES - 8)
            n = 2
            while _key(f"{prefix}{base}-{n}") in self._used:
                n += 1
            folders[i] = f"{base}-{n}"
        return "/".join((*folders, leaf))
