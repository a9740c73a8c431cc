"""Zarr v3 array metadata (``zarr.json`` with ``node_type: array``)."""

from __future__ import annotations

import copy
import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from exzarr.errors import UnsupportedExtensionError

from ._common import (fail, is_list_like, located, parse_attributes, parse_int_tuple,
                      require_keys, require_object)
from ._document import ArrayMetadataBase
from .chunk_grid import chunk_grid_to_json, parse_chunk_grid
from .chunk_key_encoding import ChunkKeyEncoding
from .dtypes import dtype_to_v3, parse_dtype_v3
from .extensions import normalize_named_config, parse_extension, split_unknown_fields
from .fill_values import (
    default_fill_value,
    fill_from_json_v3,
    fill_to_json_v3,
    normalize_fill_value,
)

__all__ = ["ArrayMetadataV3", "normalize_codecs"]

_DOC = "Zarr v3 array metadata"
_REQUIRED = ("zarr_format", "node_type", "shape", "data_type", "chunk_grid",
             "chunk_key_encoding", "fill_value", "codecs")
_KNOWN = _REQUIRED + ("attributes", "storage_transformers", "dimension_names")
# Codec configuration members that hold nested codec lists (sharding_indexed).
_NESTED_CODEC_LISTS = ("codecs", "index_codecs")


def normalize_codecs(codecs: Any, field_name: str = "codecs") -> tuple[dict, ...]:
    """Codec list in the form zarr-python writes: objects, empty configuration omitted."""
    if not is_list_like(codecs):
        fail(f"{field_name} must be a list of codec objects, got {codecs!r}",
             'write e.g. [{"name": "bytes", "configuration": {"endian": "little"}}]')
    return tuple(normalize_named_config(c, "codec", _nested_codecs) for c in codecs)


def _nested_codecs(name: str, key: str, value: Any) -> list[dict] | None:
    """A codec configuration's nested codec list (sharding_indexed's), normalised; None
    for other members."""
    if key in _NESTED_CODEC_LISTS and type(value) is list:
        return list(normalize_codecs(value, f"{name}.{key}"))
    return None


@dataclass(frozen=True, eq=False)
class ArrayMetadataV3(ArrayMetadataBase):
    """Metadata of a Zarr v3 array; construct with :meth:`create` or :meth:`from_json`."""

    shape: tuple[int, ...]
    chunks: tuple[int, ...]
    dtype: np.dtype
    fill_value: Any
    codecs: tuple[dict, ...]
    chunk_key_encoding: ChunkKeyEncoding = field(default_factory=ChunkKeyEncoding)
    dimension_names: tuple[str | None, ...] | None = None
    attributes: dict = field(default_factory=dict)
    storage_transformers: tuple[dict, ...] = ()
    extra_fields: dict = field(default_factory=dict)

    zarr_format: ClassVar[int] = 3
    metadata_key: ClassVar[str] = "zarr.json"
    doc_kind: ClassVar[str] = _DOC
    node_type: ClassVar[str] = "array"
    order: ClassVar[str] = "C"
    _chunks_label: ClassVar[str] = "chunk shape"
    _dtype_hint: ClassVar[str] = "pass a NumPy dtype or a v3 name such as 'float32'"

    def _validate(self) -> None:
        set_ = functools.partial(object.__setattr__, self)  # frozen: normalise once, here
        dt = self._validate_grid_and_dtype()
        dtype_to_v3(dt)  # validates it is a core data type
        dt = dt.newbyteorder("=") if dt.byteorder not in ("=", "|") else dt
        set_("dtype", dt)
        set_("fill_value", default_fill_value(dt) if self.fill_value is None
             else normalize_fill_value(self.fill_value, dt))
        codecs = normalize_codecs(self.codecs)
        if not codecs:
            fail("codecs is empty", "a v3 array needs at least an array->bytes codec such as "
                 '{"name": "bytes", "configuration": {"endian": "little"}}')
        set_("codecs", codecs)
        cke = self.chunk_key_encoding
        if not isinstance(cke, ChunkKeyEncoding):
            cke = ChunkKeyEncoding() if cke is None else ChunkKeyEncoding.from_json(cke)
        set_("chunk_key_encoding", cke)
        set_("dimension_names", _parse_dimension_names(self.dimension_names, len(self.shape)))
        set_("attributes", parse_attributes(self.attributes))
        set_("storage_transformers", _parse_storage_transformers(self.storage_transformers))
        extra = parse_attributes(self.extra_fields, "extra_fields")
        for k in extra:
            if k in _KNOWN:
                fail(f"extra field {k!r} clashes with a standard field",
                     "pass standard fields as arguments, not in extra_fields")
        split_unknown_fields(extra, (), "array")  # each must be must_understand: false
        set_("extra_fields", extra)

    # ------------------------------------------------------------------ creation

    @classmethod
    def create(cls, shape, chunks, dtype, fill_value, codecs, chunk_key_encoding=None,
               dimension_names=None, attributes=None) -> ArrayMetadataV3:
        """New metadata from normalised Python values (``fill_value=None``: dtype default)."""
        return cls(shape=shape, chunks=chunks, dtype=dtype, fill_value=fill_value,
                   codecs=codecs, chunk_key_encoding=chunk_key_encoding,
                   dimension_names=dimension_names, attributes=attributes or {})

    # ------------------------------------------------------------------ JSON

    def to_json(self) -> dict:
        """The ``zarr.json`` document (keys in zarr-python's order)."""
        doc: dict[str, Any] = {
            "shape": list(self.shape),
            "data_type": dtype_to_v3(self.dtype),
            "chunk_grid": chunk_grid_to_json(self.chunks),
            "chunk_key_encoding": self.chunk_key_encoding.to_json(),
            "fill_value": fill_to_json_v3(self.fill_value, self.dtype),
            "codecs": [dict(c) for c in self.codecs],
            "attributes": dict(self.attributes),
        }
        if self.dimension_names is not None:
            doc["dimension_names"] = list(self.dimension_names)
        doc["zarr_format"] = 3
        doc["node_type"] = "array"
        doc["storage_transformers"] = [dict(t) for t in self.storage_transformers]
        doc.update(self.extra_fields)
        return copy.deepcopy(doc)  # callers may mutate it; we are frozen

    @classmethod
    def from_json(cls, doc: Mapping, *, store=None, key: str | None = None) -> ArrayMetadataV3:
        """Parse a ``zarr.json`` array document; errors name ``store`` and ``key``."""
        with located(_DOC, store, key):
            require_object(doc)
            _check_format_and_type(doc, "array")
            require_keys(doc, _REQUIRED, _DOC)
            extra = split_unknown_fields(doc, _KNOWN, "array")
            dtype = parse_dtype_v3(doc["data_type"])
            attributes = doc.get("attributes", {})
            if attributes is None:
                attributes = {}
            return cls(
                shape=parse_int_tuple(doc["shape"], "shape", minimum=0),
                chunks=parse_chunk_grid(doc["chunk_grid"]),
                dtype=dtype,
                fill_value=fill_from_json_v3(doc["fill_value"], dtype),
                codecs=doc["codecs"],
                chunk_key_encoding=ChunkKeyEncoding.from_json(doc["chunk_key_encoding"]),
                dimension_names=doc.get("dimension_names"),
                attributes=attributes,
                storage_transformers=doc.get("storage_transformers") or (),
                extra_fields=extra,
            )


def _check_format_and_type(doc: Mapping, node_type: str) -> None:
    fmt = doc.get("zarr_format")
    if fmt != 3 or isinstance(fmt, bool):
        fail(f"zarr_format is {fmt!r}, expected 3",
             "this document is not Zarr v3 metadata; open it with zarr_format=2 if it is a "
             ".zarray/.zgroup, or fix the zarr_format field")
    if doc.get("node_type") != node_type:
        fail(f"node_type is {doc.get('node_type')!r}, expected {node_type!r}",
             f"this document describes a {doc.get('node_type')!r}, not a {node_type}; open "
             "it as that kind of node")


def _parse_dimension_names(value: Any, ndim: int) -> tuple[str | None, ...] | None:
    if value is None:
        return None
    if not is_list_like(value):
        fail(f"dimension_names must be a list of strings or nulls, got {value!r}",
             'write e.g. ["x", "y"] (one entry per dimension)')
    names = tuple(value)
    if len(names) != ndim:
        fail(f"dimension_names {list(names)!r} has {len(names)} entries but the array has "
             f"{ndim} dimensions", "give exactly one name (or null) per dimension")
    for n in names:
        if n is not None and not isinstance(n, str):
            fail(f"dimension name {n!r} is not a string or null",
                 "dimension names are strings, or null for an unnamed dimension")
    return names


def _parse_storage_transformers(value: Any) -> tuple[dict, ...]:
    if value is None:
        return ()
    if not is_list_like(value):
        fail(f"storage_transformers must be a list, got {value!r}",
             "write a JSON array of storage transformer objects (or [])")
    out = []
    for t in value:
        ext = parse_extension(t, "storage transformer")
        # exzarr implements no storage transformer: only ignorable ones can be kept.
        if ext.must_understand:
            raise UnsupportedExtensionError(
                f"storage transformer {ext.name!r} is an extension this exzarr cannot read; "
                "open the array with a Zarr implementation that supports it"
            )
        out.append(normalize_named_config(t, "storage transformer"))
    return tuple(out)
