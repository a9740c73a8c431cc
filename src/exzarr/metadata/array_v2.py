"""Zarr v2 array metadata (``.zarray``; user attributes live separately in ``.zattrs``)."""

from __future__ import annotations

import copy
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from ._common import (
    fail,
    jsonable,
    loads_document,
    located,
    parse_attributes,
    require_object,
    require_v2_format,
    parse_int_tuple,
    require_keys,
)
from ._document import ArrayMetadataBase, ZattrsMixin
from .chunk_key_encoding import ChunkKeyEncoding
from .dtypes import check_dtype_v2, dtype_to_v2, parse_dtype_v2
from .fill_values import fill_from_json_v2, fill_to_json_v2, normalize_fill_value

__all__ = ["ArrayMetadataV2", "attributes_from_bytes", "zattrs_key_for"]

_DOC = "Zarr v2 array metadata"
_ATTRS_DOC = "Zarr v2 attributes (.zattrs)"
_REQUIRED = ("zarr_format", "shape", "chunks", "dtype", "compressor", "fill_value", "order",
             "filters")
_KNOWN = _REQUIRED + ("dimension_separator",)
_ORDERS = ("C", "F")
_SEPARATORS = (".", "/")


def zattrs_key_for(key: str | None) -> str | None:
    """The ``.zattrs`` key next to a ``.zarray``/``.zgroup`` key."""
    if key is None:
        return None
    head, sep, _ = key.rpartition("/")
    return f"{head}{sep}.zattrs"


def attributes_from_bytes(data: bytes | None, *, store=None, key: str | None = None) -> dict:
    """Parse ``.zattrs`` content (``None``: the key is absent, attributes are empty)."""
    if data is None:
        return {}
    doc = loads_document(data, _ATTRS_DOC, store, key)
    with located(_ATTRS_DOC, store, key):
        return parse_attributes(doc)


def _parse_codec_config(value: Any, what: str) -> dict:
    if not isinstance(value, Mapping):
        fail(f"{what} {value!r} is not a JSON object",
             'a v2 codec configuration is an object with an "id", e.g. {"id": "zlib", "level": 1}')
    if not isinstance(value.get("id"), str) or not value["id"]:
        fail(f"{what} {dict(value)!r} has no string 'id'",
             'every v2 codec configuration needs an "id" naming the codec')
    return jsonable(value)


def _separator_or_default(sep: Any) -> Any:
    """A null (or absent) ``dimension_separator`` means ``"."``."""
    return "." if sep is None else sep


@dataclass(frozen=True, eq=False)
class ArrayMetadataV2(ZattrsMixin, ArrayMetadataBase):
    """Metadata of a Zarr v2 array; construct with :meth:`create` or :meth:`from_json`."""

    shape: tuple[int, ...]
    chunks: tuple[int, ...]
    dtype: np.dtype
    fill_value: Any
    compressor: dict | None
    filters: tuple[dict, ...] | None
    order: str = "C"
    dimension_separator: str = "."
    attributes: dict = field(default_factory=dict)
    extra_fields: dict = field(default_factory=dict)

    zarr_format: ClassVar[int] = 2
    metadata_key: ClassVar[str] = ".zarray"
    doc_kind: ClassVar[str] = _DOC
    dimension_names: ClassVar[None] = None
    _dtype_hint: ClassVar[str] = "pass a NumPy dtype or a typestr such as '<f8'"

    def _validate(self) -> None:
        set_ = functools.partial(object.__setattr__, self)  # frozen: normalise once, here
        dt = self._validate_grid_and_dtype()
        set_("dtype", check_dtype_v2(dt))
        if self.fill_value is not None:
            set_("fill_value", normalize_fill_value(self.fill_value, dt))
        if self.compressor is not None:
            set_("compressor", _parse_codec_config(self.compressor, "compressor"))
        filters = self.filters
        if filters is not None:
            if isinstance(filters, (str, Mapping)) or not isinstance(filters, Sequence):
                fail(f"filters must be a list of codec objects or null, got {filters!r}",
                     'write e.g. [{"id": "delta", "dtype": "<i4"}] or null')
            # An empty list means no filters; zarr-python reads and writes it as null.
            filters = tuple(_parse_codec_config(f, "filter") for f in filters) or None
        set_("filters", filters)
        if self.order not in _ORDERS:
            fail(f"order {self.order!r} is invalid", "order must be 'C' or 'F'")
        sep = _separator_or_default(self.dimension_separator)
        if sep not in _SEPARATORS:
            fail(f"dimension_separator {sep!r} is invalid",
                 "dimension_separator must be '.' or '/'")
        set_("dimension_separator", sep)
        set_("attributes", parse_attributes(self.attributes))
        extra = parse_attributes(self.extra_fields, "extra_fields")
        for k in extra:
            if k in _KNOWN:
                fail(f"extra field {k!r} clashes with a standard field",
                     "pass standard fields as arguments, not in extra_fields")
        set_("extra_fields", extra)

    # ------------------------------------------------------------------ interface

    @functools.cached_property
    def chunk_key_encoding(self) -> ChunkKeyEncoding:
        """v2 keys: ``0.1`` or ``0/1`` (0-d: ``0``)."""
        return ChunkKeyEncoding("v2", self.dimension_separator)

    # ------------------------------------------------------------------ creation

    @classmethod
    def create(cls, shape, chunks, dtype, fill_value, compressor, filters, order="C",
               dimension_separator=".", attributes=None) -> ArrayMetadataV2:
        """New metadata from normalised Python values (``fill_value=None`` stays null)."""
        return cls(shape=shape, chunks=chunks, dtype=dtype, fill_value=fill_value,
                   compressor=compressor, filters=filters, order=order,
                   dimension_separator=dimension_separator, attributes=attributes or {})

    # ------------------------------------------------------------------ JSON

    def to_json(self) -> dict:
        """The ``.zarray`` document (keys in zarr-python's order; attributes excluded)."""
        doc = {
            "shape": list(self.shape),
            "chunks": list(self.chunks),
            "dtype": dtype_to_v2(self.dtype),
            "fill_value": fill_to_json_v2(self.fill_value, self.dtype),
            "order": self.order,
            "filters": None if self.filters is None else [dict(f) for f in self.filters],
            "dimension_separator": self.dimension_separator,
            "compressor": None if self.compressor is None else dict(self.compressor),
            "zarr_format": 2,
        }
        doc.update(self.extra_fields)
        return copy.deepcopy(doc)  # callers may mutate it; we are frozen

    @classmethod
    def from_json(cls, doc: Mapping, *, attributes: Mapping | None = None, store=None,
                  key: str | None = None) -> ArrayMetadataV2:
        """Parse a ``.zarray`` document; ``attributes`` is the ``.zattrs`` content, if any.

        Keys the spec does not define are kept in ``extra_fields`` and written back.
        """
        with located(_DOC, store, key):
            require_object(doc)
            require_v2_format(doc, ".zarray", "open it with the matching zarr_format or fix "
                                              "the zarr_format field")
            require_keys(doc, _REQUIRED, _DOC)
            dtype = parse_dtype_v2(doc["dtype"])
            return cls(
                shape=parse_int_tuple(doc["shape"], "shape", minimum=0),
                chunks=parse_int_tuple(doc["chunks"], "chunks", minimum=1),
                dtype=dtype,
                fill_value=fill_from_json_v2(doc["fill_value"], dtype),
                compressor=doc["compressor"],
                filters=doc["filters"],
                order=doc["order"],
                dimension_separator=_separator_or_default(doc.get("dimension_separator")),
                attributes=parse_attributes(attributes),
                extra_fields={k: v for k, v in doc.items() if k not in _KNOWN},
            )

    @classmethod
    def from_bytes(cls, data: bytes, *, zattrs: bytes | None = None, store=None,
                   key: str | None = None) -> ArrayMetadataV2:
        """Parse ``.zarray`` bytes (and ``.zattrs`` bytes when given)."""
        attributes = attributes_from_bytes(zattrs, store=store, key=zattrs_key_for(key))
        doc = loads_document(data, _DOC, store, key)
        return cls.from_json(doc, attributes=attributes, store=store, key=key)
