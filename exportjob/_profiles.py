"""The ICC profile library a host supplies for ``icc=``: profile names to profile bytes.

``icc=`` never reads a path from the request (spec section 11): it names a profile in this library,
which the host builds in code or loads from a folder, and hands to the planner in
``ConversionSettings.profiles``. Only the profile header is read here (colour space, class), so this
module needs no Pillow; LittleCMS reads the whole profile when the converter uses it.
"""

from __future__ import annotations

import enum
import hashlib
import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Literal

from .exceptions import InvalidValueError

__all__ = ["ProfileLibrary", "RenderIntent", "profile_space"]

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]*")
_SPACES: dict[bytes, Literal["rgb", "gray", "cmyk"]] = {
    b"RGB ": "rgb",
    b"GRAY": "gray",
    b"CMYK": "cmyk",
}
# Device classes that can describe pixels: input, display, output, colour space.
_CLASSES = frozenset({b"scnr", b"mntr", b"prtr", b"spac"})
_SUFFIXES = (".icc", ".icm")


class RenderIntent(enum.Enum):
    """``icc=``'s rendering intent; the value is the ICC (and LittleCMS) intent number."""

    PERCEPTUAL = 0
    RELATIVE = 1
    SATURATION = 2
    ABSOLUTE = 3

    @classmethod
    def parse(cls, text: str) -> RenderIntent:
        """Return the intent named *text* (``perceptual``, ``relative``, ... or ``0``-``3``)."""
        folded = text.strip().lower()
        for intent in cls:
            if folded in {intent.name.lower(), str(intent.value)}:
                return intent
        msg = f"unknown rendering intent {text!r}"
        raise ValueError(msg)


def profile_space(data: bytes) -> Literal["rgb", "gray", "cmyk"] | None:
    """Return the colour space (``rgb``, ``gray``, ``cmyk``) an ICC profile's header declares.

    None when *data* is not an ICC profile that can describe RGB, gray or CMYK pixels (a device
    link, an abstract or a named-colour profile, another colour space, or not a profile at all).

    >>> from exportjob.testing.images import srgb_profile
    >>> profile_space(srgb_profile()), profile_space(b"not a profile")
    ('rgb', None)
    """
    if len(data) < 132 or data[36:40] != b"acsp" or data[12:16] not in _CLASSES:
        return None
    return _SPACES.get(data[16:20])


class ProfileLibrary(Mapping[str, bytes]):
    """ICC profiles by name, the only profiles ``icc=`` and the default-profile settings may name.

    Names are matched case-insensitively, as command names are. Each profile is checked when it is
    added: it must be an ICC profile of RGB, gray or CMYK pixels.

    Args:
        profiles: name -> ICC profile bytes. Names are letters, digits, ``_``, ``-``, ``.``.

    Raises:
        InvalidValueError: a name is not a valid profile name, a profile is not an ICC profile of
            RGB, gray or CMYK pixels, or two names differ only in case.

    >>> from exportjob.testing.images import srgb_profile
    >>> library = ProfileLibrary({"sRGB": srgb_profile()})
    >>> "SRGB" in library, library.space("srgb"), len(library)
    (True, 'rgb', 1)
    """

    def __init__(self, profiles: Mapping[str, bytes] | None = None) -> None:
        self._profiles: dict[str, tuple[str, bytes]] = {}
        for name, data in (profiles or {}).items():
            self._add(name, data)

    def _add(self, name: str, data: bytes) -> None:
        if not isinstance(name, str) or _NAME.fullmatch(name) is None:
            raise InvalidValueError(
                "profiles", name, "a profile name is letters, digits, '_', '-' and '.'"
            )
        if not isinstance(data, bytes) or profile_space(data) is None:
            raise InvalidValueError(
                "profiles", name, "is not an ICC profile of RGB, gray or CMYK pixels"
            )
        key = name.lower()
        if key in self._profiles:
            raise InvalidValueError("profiles", name, "is defined twice (names ignore case)")
        self._profiles[key] = (name, data)

    @classmethod
    def from_folder(cls, folder: str | os.PathLike[str]) -> ProfileLibrary:
        """Load every ``NAME.icc`` and ``NAME.icm`` in *folder* (not its subfolders) as ``NAME``.

        Raises:
            InvalidValueError: a file is not a usable profile, or two files share a name.
            OSError: the folder or a file cannot be read.
        """
        library = cls()
        for path in sorted(Path(folder).iterdir()):
            if path.suffix.lower() in _SUFFIXES and path.is_file():
                library._add(path.stem, path.read_bytes())
        return library

    def space(self, name: str) -> Literal["rgb", "gray", "cmyk"]:
        """Return the colour space of the profile *name*; ``KeyError`` if there is none."""
        space = profile_space(self[name])
        assert space is not None  # noqa: S101 - checked when added
        return space

    def canonical(self, name: str) -> str:
        """Return the name as the library spells it; ``KeyError`` if there is none."""
        return self._profiles[name.lower()][0]

    def __getitem__(self, name: str) -> bytes:
        return self._profiles[name.lower()][1]

    def __iter__(self) -> Iterator[str]:
        return (name for name, _ in self._profiles.values())

    def __len__(self) -> int:
        return len(self._profiles)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ProfileLibrary):
            return NotImplemented
        return self._profiles == other._profiles

    def __hash__(self) -> int:
        return hash(tuple(sorted(self._profiles.items())))

    def __repr__(self) -> str:
        # The digests make the repr (and so a job's resume key) change when a profile does.
        entries = ", ".join(
            f"{name}:{hashlib.sha256(data).hexdigest()[:12]}"
            for name, data in sorted(self._profiles.values())
        )
        return f"<ProfileLibrary {len(self)} profile(s){': ' + entries if entries else ''}>"
