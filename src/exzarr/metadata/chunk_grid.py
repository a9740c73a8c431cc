"""Chunk grids.  The core ``regular`` grid is the only one: every chunk has ``chunk_shape``.

Parsers live in a registry keyed by grid name; each returns the regular chunk shape the
rest of exzarr works with.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from exzarr.errors import UnsupportedExtensionError

from ._common import fail, parse_int_tuple
from .extensions import parse_extension

__all__ = ["parse_chunk_grid", "chunk_grid_to_json", "grid_shape", "ceil_div", "CHUNK_GRIDS"]


def _parse_regular(configuration: dict) -> tuple[int, ...]:
    if "chunk_shape" not in configuration:
        fail("regular chunk grid has no 'chunk_shape' in its configuration",
             "write {\"name\": \"regular\", \"configuration\": {\"chunk_shape\": [...]}}")
    unknown = set(configuration) - {"chunk_shape"}
    if unknown:
        fail(f"regular chunk grid has unknown configuration {sorted(unknown)}",
             "the only configuration member is 'chunk_shape'")
    return parse_int_tuple(configuration["chunk_shape"], "chunk_shape", minimum=1)


CHUNK_GRIDS: dict[str, Callable[[dict], tuple[int, ...]]] = {"regular": _parse_regular}


def parse_chunk_grid(value: Any) -> tuple[int, ...]:
    """The chunk shape of a v3 ``chunk_grid``; unknown grids raise UnsupportedExtensionError."""
    ext = parse_extension(value, "chunk_grid")
    parser = CHUNK_GRIDS.get(ext.name)
    if parser is None:
        raise UnsupportedExtensionError(
            f"chunk grid {ext.name!r} is an extension this exzarr cannot read; supported "
            f"chunk grids are {', '.join(map(repr, CHUNK_GRIDS))}"
        )
    return parser(ext.configuration)


def chunk_grid_to_json(chunks: Sequence[int]) -> dict:
    return {"name": "regular", "configuration": {"chunk_shape": list(chunks)}}


def ceil_div(n: int, d: int) -> int:
    """ceil(n / d) for integers; 0 when ``d`` is 0 (no unit, nothing to count)."""
    return -(-n // d) if d else 0


def grid_shape(shape: Sequence[int], chunks: Sequence[int]) -> tuple[int, ...]:
    """Number of chunks along each dimension: ceil(shape / chunks) (0 for an empty dim)."""
    return tuple(ceil_div(s, c) for s, c in zip(shape, chunks))
