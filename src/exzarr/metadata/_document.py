"""Behaviour shared by all metadata documents (arrays and groups, v2 and v3).

Subclasses are frozen dataclasses declared with ``eq=False``; equality and hashing here
compare fill values by bits (all NaNs equal) and JSON-ish fields by canonical text.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import math
from collections.abc import Sequence
from collections.abc import Callable
from typing import Any, ClassVar, Self

import numpy as np

from exzarr.errors import BoundsError

from ._common import (canonical_text, dumps_document, fail, loads_document, located,
                      parse_int_tuple)
from .chunk_grid import grid_shape
from .fill_values import default_fill_value, fill_key

__all__ = ["MetadataDocument", "ArrayMetadataBase", "MAX_NDIM", "MAX_ELEMENTS"]

#: the longest dimension NumPy can index: its indices are int64
MAX_ELEMENTS = 2**63 - 1


def _numpy_max_ndim() -> int:
    try:
        np.empty((1,) * 64, dtype=np.uint8)
    except ValueError:
        return 32  # NumPy 1.x
    return 64


#: the most dimensions a NumPy array (hence a chunk) can have
MAX_NDIM = _numpy_max_ndim()


class MetadataDocument:
    """from_bytes/to_bytes, replace, equality and hashing for a metadata dataclass."""

    zarr_format: ClassVar[int]
    metadata_key: ClassVar[str]
    doc_kind: ClassVar[str]
    #: subclasses are dataclasses (declared for the type checker: replace/fields need it)
    __dataclass_fields__: ClassVar[dict[str, dataclasses.Field[Any]]]

    # subclasses implement these two
    def to_json(self) -> dict:  # pragma: no cover - abstract
        raise NotImplementedError

    @classmethod
    def from_json(cls, doc: dict, *, store=None, key: str | None = None):  # pragma: no cover
        raise NotImplementedError

    def to_bytes(self) -> bytes:
        """The metadata document as JSON text, formatted as zarr-python writes it."""
        return dumps_document(self.to_json())

    @classmethod
    def from_bytes(cls, data: bytes, *, store=None, key: str | None = None):
        """Parse a stored metadata document; corrupt JSON raises a located error."""
        doc = loads_document(data, cls.doc_kind, store, key)
        return cls.from_json(doc, store=store, key=key)

    def replace(self, **changes: Any) -> Self:
        """A validated copy with ``changes`` applied (e.g. ``replace(shape=(20, 10))``)."""
        return dataclasses.replace(self, **changes)

    def _identity(self) -> tuple:
        out = []
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if f.name == "fill_value":
                v = fill_key(v)
            elif isinstance(v, np.dtype):
                v = (v.str, str(v.descr))
            elif isinstance(v, (dict, list)) or (isinstance(v, tuple) and v and isinstance(v[0], dict)):
                v = canonical_text(v)
            out.append(v)
        return tuple(out)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._identity() == other._identity()

    def __hash__(self) -> int:
        return hash((type(self).__name__, self._identity()))


class ArrayMetadataBase(MetadataDocument):
    """The read-only array interface shared by ArrayMetadataV2 and ArrayMetadataV3."""

    shape: tuple[int, ...]
    chunks: tuple[int, ...]
    dtype: np.dtype
    fill_value: Any

    #: name of the chunk-shape field in messages; dtype spelling hint for messages
    _chunks_label: ClassVar[str] = "chunks"
    _dtype_hint: ClassVar[str] = "pass a NumPy dtype"
    #: the subclass's own checks, run (located) after construction
    _validate: Callable[[], None]

    def __post_init__(self) -> None:
        with located(self.doc_kind):
            self._validate()

    def _validate_grid_and_dtype(self) -> np.dtype:
        """Normalise ``shape``/``chunks`` (frozen: set once, here) and parse ``dtype``."""
        set_ = functools.partial(object.__setattr__, self)
        shape = parse_int_tuple(self.shape, "shape", minimum=0)
        chunks = parse_int_tuple(self.chunks, self._chunks_label, minimum=1)
        if len(chunks) != len(shape):
            fail(f"{self._chunks_label} {list(chunks)} has {len(chunks)} dimensions but shape "
                 f"{list(shape)} has {len(shape)}", "give one chunk length per dimension")
        if len(shape) > MAX_NDIM:
            fail(f"shape {list(shape)} has {len(shape)} dimensions",
                 f"NumPy arrays have at most {MAX_NDIM} dimensions; the metadata is corrupt "
                 "or was written for another tool")
        set_("shape", shape)
        set_("chunks", chunks)
        try:
            dt = np.dtype(self.dtype)
        except TypeError as exc:
            fail(f"data type {self.dtype!r} is not understood ({exc})", self._dtype_hint)
        if shape and max(shape) > MAX_ELEMENTS:
            fail(f"shape {list(shape)} has a dimension longer than 2**63-1",
                 "NumPy indexes dimensions with int64; the metadata is corrupt or hostile: "
                 "fix the shape")
        if max(chunks, default=1) > MAX_ELEMENTS:
            fail(f"{self._chunks_label} {list(chunks)} has a dimension longer than 2**63-1",
                 f"no chunk can be that long; the metadata is corrupt or hostile: fix the "
                 f"{self._chunks_label}")
        return dt

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def grid_shape(self) -> tuple[int, ...]:
        """Chunks per dimension: ceil(shape / chunks), 0 where the shape is 0."""
        return grid_shape(self.shape, self.chunks)

    @property
    def nchunks_per_dim(self) -> tuple[int, ...]:
        return self.grid_shape

    @property
    def nchunks(self) -> int:
        """Total number of chunks in the grid."""
        return math.prod(self.grid_shape)

    @property
    def fill_value_or_default(self) -> np.generic:
        """The fill value, or the zero of the dtype when it is ``None`` (v2 ``null``)."""
        if self.fill_value is None:
            return default_fill_value(self.dtype)
        return self.fill_value

    def chunk_key(self, coords: Sequence[int]) -> str:
        """The store key of chunk ``coords``, relative to the array's path."""
        if len(coords) != len(self.shape):
            raise BoundsError(
                f"chunk coordinates {tuple(coords)} have {len(coords)} entries but the array "
                f"has {len(self.shape)} dimensions; pass one grid index per dimension"
            )
        return self.chunk_key_encoding.encode(coords)  # type: ignore[attr-defined]


class ZattrsMixin:
    """The separate ``.zattrs`` document of a v2 array or group."""

    attributes: dict

    def attrs_to_json(self) -> dict:
        """The ``.zattrs`` document (a copy: callers may mutate it)."""
        return copy.deepcopy(self.attributes)

    def attrs_to_bytes(self) -> bytes:
        """The ``.zattrs`` document as JSON text, formatted as zarr-python writes it."""
        return dumps_document(self.attributes)
