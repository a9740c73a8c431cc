"""Chunk key encodings: chunk grid coordinates <-> store keys (relative to the array path).

v3 ``default`` (separator ``/`` unless configured ``.``): ``c/1/23/45``; 0-d: ``c``.
v3 ``v2`` (separator ``.`` unless configured ``/``) and every v2 array: ``1.23.45``; 0-d: ``0``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from exzarr.errors import UnsupportedExtensionError

from ._common import fail
from .extensions import parse_extension

__all__ = ["ChunkKeyEncoding", "CHUNK_KEY_ENCODINGS"]

# encoding name -> default separator
CHUNK_KEY_ENCODINGS: dict[str, str] = {"default": "/", "v2": "."}
_SEPARATORS = ("/", ".")


@dataclass(frozen=True, init=False)
class ChunkKeyEncoding:
    """How chunk coordinates map to keys: ``kind`` ``"default"`` or ``"v2"``, ``separator``
    (``None`` when constructing: the kind's default separator)."""

    kind: str
    separator: str

    def __init__(self, kind: str = "default", separator: str | None = None) -> None:
        if kind not in CHUNK_KEY_ENCODINGS:
            raise UnsupportedExtensionError(
                f"chunk key encoding {kind!r} is an extension this exzarr cannot read; "
                f"supported encodings are {', '.join(map(repr, CHUNK_KEY_ENCODINGS))}"
            )
        if separator is None:
            separator = CHUNK_KEY_ENCODINGS[kind]
        elif separator not in _SEPARATORS:
            fail(f"chunk key separator {separator!r} is invalid",
                 "the separator must be '/' or '.'")
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "separator", separator)

    # ------------------------------------------------------------------ keys

    def encode(self, coords: Sequence[int]) -> str:
        """The key of the chunk at grid position ``coords``."""
        if self.kind == "default":
            if not coords:
                return "c"
            return "c" + self.separator + self.separator.join(map(str, coords))
        if not coords:
            return "0"
        return self.separator.join(map(str, coords))

    def decode(self, key: str, ndim: int | None = None) -> tuple[int, ...] | None:
        """Chunk coordinates of ``key``, or ``None`` if it is not a chunk key of this encoding.

        ``ndim`` resolves the v2 0-d key ``"0"`` (``()`` when ``ndim == 0``) and rejects
        keys with another number of coordinates.
        """
        coords: tuple[int, ...] | None
        if self.kind == "default":
            if key == "c":
                coords = ()
            elif key.startswith("c" + self.separator):
                coords = _parse_parts(key[2:].split(self.separator))
            else:
                return None
        else:
            if key == "0" and ndim == 0:
                return ()
            coords = _parse_parts(key.split(self.separator))
        if coords is None or (ndim is not None and len(coords) != ndim):
            return None
        return coords

    # ------------------------------------------------------------------ JSON

    def to_json(self) -> dict:
        """The v3 ``chunk_key_encoding`` object, as zarr-python writes it."""
        return {"name": self.kind, "configuration": {"separator": self.separator}}

    @classmethod
    def from_json(cls, value: Any) -> ChunkKeyEncoding:
        """Parse a v3 ``chunk_key_encoding`` (object or short-hand name)."""
        ext = parse_extension(value, "chunk_key_encoding")
        if ext.name not in CHUNK_KEY_ENCODINGS:
            raise UnsupportedExtensionError(
                f"chunk key encoding {ext.name!r} is an extension this exzarr cannot read; "
                f"supported encodings are {', '.join(map(repr, CHUNK_KEY_ENCODINGS))}"
            )
        unknown = set(ext.configuration) - {"separator"}
        if unknown:
            fail(f"chunk key encoding {ext.name!r} has unknown configuration "
                 f"{sorted(unknown)}", "the only configuration member is 'separator'")
        return cls(ext.name, ext.configuration.get("separator"))


def _parse_parts(parts: list[str]) -> tuple[int, ...] | None:
    out = []
    for p in parts:
        if not p or not p.isascii() or not p.isdigit() or (p[0] == "0" and len(p) > 1):
            return None
        out.append(int(p))
    return tuple(out)
