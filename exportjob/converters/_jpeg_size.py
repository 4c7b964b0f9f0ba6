"""``jpegSize=kB``: the largest JPEG quality whose file fits a byte budget, by a bounded search.

The quality given by ``qlt`` is tried first; if that file is over the budget, a binary search over
the qualities below it finds one that fits (file size grows with quality, almost monotonically), in
at most eight encodes. Even quality 1 over the budget is an error. A kilobyte is 1024 bytes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..exceptions import ConversionError

__all__ = ["KILOBYTE", "fit_budget"]

KILOBYTE = 1024


def fit_budget(
    encode: Callable[[dict[str, Any]], bytes],
    options: dict[str, Any],
    budget_kb: int,
    *,
    handle: str | None,
) -> tuple[bytes, int]:
    """Encode with the highest quality at or below ``options["quality"]`` that fits *budget_kb*.

    Args:
        encode: writes the image with the given writer options.
        options: the JPEG writer options (``quality`` is the ceiling).
        budget_kb: the budget in kilobytes (1024 bytes), > 0.
        handle: the asset, for the error.

    Returns:
        The encoded file and the quality used.

    Raises:
        ConversionError: even quality 1 is larger than the budget.
    """
    budget = budget_kb * KILOBYTE
    ceiling = int(options["quality"])
    data = encode(options)
    if len(data) <= budget:
        return data, ceiling
    low, high = 1, ceiling - 1
    best: tuple[bytes, int] | None = None
    while low <= high:
        middle = (low + high) // 2
        attempt = encode(options | {"quality": middle})
        if len(attempt) <= budget:
            best, low = (attempt, middle), middle + 1
        else:
            high = middle - 1
    if best is None:
        smallest = len(attempt) if ceiling > 1 else len(data)
        raise ConversionError(
            f"jpegSize={budget_kb}: the JPEG does not fit in {budget_kb} kB even at quality 1 "
            f"({smallest} bytes)",
            handle=handle,
        )
    return best
