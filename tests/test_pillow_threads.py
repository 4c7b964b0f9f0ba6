"""What of a conversion runs with the GIL released, so conversions in threads run side by side.

Pillow releases the GIL while it decodes, resamples, and encodes to a file descriptor, and keeps it
while it encodes into a Python buffer. These tests watch Pillow's C calls with a profile hook
(``sys.setprofile`` sees every call into C, by name); no time is measured here (see
benchmarks/bench_engine.py and docs/performance.md for what it is worth).
"""

from __future__ import annotations

import collections
import io
import os
import sys
from collections.abc import Callable

import pytest

from exportjob.converters import PillowConverter
from exportjob.testing import images

CONVERTER = PillowConverter()
# A 640x480 photo at q90: about 90 KB, more than Pillow's 64 KiB read size.
ORIGINAL = images.encode(images.photo((640, 480), seed=3), "JPEG", quality=90)
memfd = pytest.mark.skipif(not hasattr(os, "memfd_create"), reason="no os.memfd_create here")


def c_calls(work: Callable[[], object]) -> collections.Counter[str]:
    """Run *work*; count the calls it made into Pillow's decoders and encoders, by method name."""
    seen: collections.Counter[str] = collections.Counter()

    def hook(_frame: object, event: str, arg: object) -> None:
        owner = type(getattr(arg, "__self__", None)).__name__
        if event == "c_call" and owner in {"ImagingDecoder", "ImagingEncoder"}:
            seen[f"{owner}.{getattr(arg, '__name__', '?')}"] += 1

    sys.setprofile(hook)
    try:
        work()
    finally:
        sys.setprofile(None)
    return seen


def convert(fmt: str = "jpeg", **options: object) -> bytes:
    return b"".join(CONVERTER.convert(io.BytesIO(ORIGINAL), images.plan(fmt, **options)))


@memfd
@pytest.mark.parametrize(
    "options",
    [
        pytest.param({"wid": 200}, id="thumbnail"),
        pytest.param({"wid": 200, "jpeg_size": 4}, id="jpegSize"),
    ],
)
def test_jpeg_outputs_are_encoded_with_the_gil_released(options):
    calls = c_calls(lambda: convert(**options))
    assert calls["ImagingEncoder.encode_to_file"] >= 1
    assert calls["ImagingEncoder.encode"] == 0  # the buffer encoder, which keeps the GIL


@memfd
@pytest.mark.parametrize(
    ("fmt", "options"),
    [
        pytest.param("jpeg", {"wid": 200}, id="thumbnail"),
        pytest.param("jpeg", {}, id="full-size"),
        pytest.param("pjpeg", {"wid": 120}, id="progressive"),
        pytest.param("jpeg,gray", {"wid": 90, "print_res": 300}, id="gray-dpi"),
        pytest.param("jpeg", {"wid": 200, "jpeg_size": 4}, id="jpegSize"),
    ],
)
@pytest.mark.parametrize("platform", ["no-memfd", "memfd-fails"])
def test_jpeg_bytes_do_not_depend_on_where_they_are_encoded(monkeypatch, fmt, options, platform):
    through_fd = convert(fmt, **options)
    if platform == "no-memfd":
        monkeypatch.delattr(os, "memfd_create")
    else:
        monkeypatch.setattr(os, "memfd_create", refuse)
    calls = c_calls(lambda: convert(fmt, **options))
    assert calls["ImagingEncoder.encode_to_file"] == 0
    assert convert(fmt, **options) == through_fd


def refuse(*_args: object) -> int:
    raise OSError(38, "memfd_create is not available here")


def test_a_jpeg_original_under_a_megabyte_is_decoded_in_one_call():
    calls = c_calls(lambda: convert(wid=200))
    assert calls["ImagingDecoder.decode"] == 1  # each call releases and retakes the GIL
