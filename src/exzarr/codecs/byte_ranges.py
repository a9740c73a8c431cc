"""Coalescing byte ranges for partial reads (inner chunks of a shard).

Fetching each needed inner chunk separately costs one round trip each; neighbours
separated by a small gap are cheaper to fetch as one range and split afterwards.
:func:`coalesce` merges ``(tag, start, stop)`` requests and says how to cut the fetched
bytes back into the pieces; :func:`split` does the cutting.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Hashable, Iterable

__all__ = ["CoalescedRange", "coalesce", "fetched_bytes", "split", "DEFAULT_MAX_GAP"]

#: merge ranges separated by at most this many unused bytes
DEFAULT_MAX_GAP = 512 * 1024


@dataclass(frozen=True)
class CoalescedRange:
    """One fetch: ``byte_range`` (a Store ByteRange) and the pieces inside it.

    ``parts`` holds ``(tag, start, stop)`` with ``start``/``stop`` relative to the first
    byte of the fetched value.
    """

    byte_range: tuple[int, int]
    parts: tuple[tuple[Any, int, int], ...]

    @property
    def nbytes(self) -> int:
        return self.byte_range[1] - self.byte_range[0]


def coalesce(requests: Iterable[tuple[Hashable, int, int]], *, max_gap: int = DEFAULT_MAX_GAP,
             max_size: int | None = None) -> list[CoalescedRange]:
    """Merge ``(tag, start, stop)`` requests into as few ranges as the limits allow.

    Two ranges merge when the gap between them is ``<= max_gap`` bytes (overlapping
    ranges always merge) and the merged range stays ``<= max_size`` bytes (when given).
    Result ranges are sorted by start.
    """
    reqs = list(requests)
    tags = [r[0] for r in reqs]
    # sorted by (start, stop), ties in the order given (the index breaks them: tags need
    # not be comparable)
    order = sorted((int(start), int(stop), i) for i, (_, start, stop) in enumerate(reqs))
    out: list[CoalescedRange] = []
    g_start = g_stop = 0
    parts: list[tuple[Any, int, int]] = []
    for start, stop, i in order:
        if stop < start:
            raise ValueError(f"invalid byte range ({start}, {stop}) for {tags[i]!r}")
        if parts:
            new_stop = stop if stop > g_stop else g_stop
            if start - g_stop <= max_gap and (max_size is None or new_stop - g_start <= max_size
                                              or start < g_stop):
                g_stop = new_stop
                parts.append((tags[i], start - g_start, stop - g_start))
                continue
            out.append(CoalescedRange((g_start, g_stop), tuple(parts)))
        g_start, g_stop, parts = start, stop, [(tags[i], 0, stop - start)]
    if parts:
        out.append(CoalescedRange((g_start, g_stop), tuple(parts)))
    return out


def fetched_bytes(fetched: CoalescedRange, data) -> memoryview:
    """The bytes fetched for ``fetched.byte_range`` as a byte memoryview (the parts'
    ``start``/``stop`` index it).

    Raises ValueError when ``data`` is shorter than the range (the value was truncated).
    """
    mv = memoryview(data).cast("B") if not isinstance(data, memoryview) or data.format != "B" else data
    if mv.nbytes < fetched.nbytes:
        raise ValueError(
            f"fetched {mv.nbytes} bytes for range {fetched.byte_range}, expected {fetched.nbytes}"
        )
    return mv


def split(fetched: CoalescedRange, data) -> dict:
    """Cut the bytes fetched for ``fetched.byte_range`` into ``{tag: memoryview}``.

    Raises ValueError when ``data`` is shorter than the range (the value was truncated).
    """
    mv = fetched_bytes(fetched, data)
    return {tag: mv[s:e] for tag, s, e in fetched.parts}
