"""``jpegSize`` (the byte budget), ``extendN`` (normalized margins) on real encodes."""

from __future__ import annotations

import functools
import io

import pytest
from PIL import Image

from exportjob.converters import PillowConverter
from exportjob.exceptions import ConversionError
from exportjob.options import Quality
from exportjob.testing import images

PHOTO = images.encode(images.photo((320, 240), seed=3), "PNG")


def convert(data: bytes, fmt: str = "jpeg", **options) -> bytes:
    return b"".join(PillowConverter().convert(io.BytesIO(data), images.plan(fmt, **options)))


@functools.cache
def sizes_by_quality(fmt: str) -> dict[int, int]:
    return {q: len(convert(PHOTO, fmt, qlt=Quality(q))) for q in range(1, 101)}


@pytest.mark.parametrize("fmt", ["jpeg", "pjpeg"])
@pytest.mark.parametrize("budget_kb", [6, 9, 14, 25])
def test_jpeg_size_fits_and_is_at_most_one_quality_step_below_the_best(fmt, budget_kb):
    sizes = sizes_by_quality(fmt)
    best = max(q for q, size in sizes.items() if size <= budget_kb * 1024 and q <= 80)
    out = convert(PHOTO, fmt, jpeg_size=budget_kb)
    assert len(out) <= budget_kb * 1024
    chosen = next(q for q, size in sizes.items() if size == len(out))
    assert best - 1 <= chosen <= best


def test_jpeg_size_keeps_qlt_when_it_already_fits():
    assert convert(PHOTO, jpeg_size=10_000) == convert(PHOTO)


def test_jpeg_size_that_even_quality_one_misses_is_an_error():
    with pytest.raises(ConversionError, match=r"jpegSize=1: .* even at quality 1"):
        convert(PHOTO, jpeg_size=1)


def test_jpeg_size_zero_is_no_limit():
    assert convert(PHOTO, jpeg_size=0) == convert(PHOTO)


@pytest.mark.parametrize(
    ("extend_n", "size"),
    [
        pytest.param((0.1, 0.0, 0.1, 0.0), (384, 240), id="sides"),
        pytest.param((0.0, 0.25, 0.0, 0.25), (320, 360), id="top-bottom"),
        pytest.param((-0.25, 0.0, 0.0, 0.0), (240, 240), id="negative-removes"),
    ],
)
def test_extend_n_margins_are_fractions_of_the_layer(extend_n, size):
    out = Image.open(io.BytesIO(convert(PHOTO, "png", extend_n=extend_n)))
    assert out.size == size


def test_extend_n_is_a_fraction_after_rotate():
    out = Image.open(io.BytesIO(convert(PHOTO, "png", rotate=90, extend_n=(0.5, 0, 0, 0))))
    assert out.size == (240 + 120, 320)
