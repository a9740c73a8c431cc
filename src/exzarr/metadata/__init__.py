"""Zarr metadata documents as frozen dataclasses: v2 ``.zarray``/``.zgroup``/``.zattrs`` and
v3 ``zarr.json``, data types, fill values and chunk key encodings.  No I/O happens here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._common import fail, loads_json, located
from .array_v2 import ArrayMetadataV2, attributes_from_bytes
from .array_v3 import ArrayMetadataV3
from .chunk_key_encoding import ChunkKeyEncoding
from .dtypes import dtype_to_v2, dtype_to_v3, parse_dtype_v2, parse_dtype_v3
from .groups import GroupMetadataV2, GroupMetadataV3

__all__ = [
    "ArrayMetadataV2",
    "ArrayMetadataV3",
    "GroupMetadataV2",
    "GroupMetadataV3",
    "ChunkKeyEncoding",
    "parse_dtype_v2",
    "dtype_to_v2",
    "parse_dtype_v3",
    "dtype_to_v3",
    "parse_array_metadata",
    "attributes_from_bytes",
    "loads_json",
    "ARRAY_METADATA",
    "GROUP_METADATA",
]

ARRAY_METADATA: dict[int, type[ArrayMetadataV2] | type[ArrayMetadataV3]] = {
    2: ArrayMetadataV2, 3: ArrayMetadataV3}
GROUP_METADATA: dict[int, type[GroupMetadataV2] | type[GroupMetadataV3]] = {
    2: GroupMetadataV2, 3: GroupMetadataV3}


def parse_array_metadata(zarr_format: int, doc: Mapping[str, Any], *, store: Any = None,
                         key: str | None = None, attributes: Mapping[str, Any] | None = None
                         ) -> ArrayMetadataV2 | ArrayMetadataV3:
    """Parse an array metadata document of the given Zarr format.

    ``attributes`` (v2 only) is the content of the array's ``.zattrs``.
    """
    cls = ARRAY_METADATA.get(zarr_format)
    if cls is None:
        with located("array metadata", store, key):
            fail(f"zarr_format {zarr_format!r} is not supported",
                 "exzarr reads Zarr formats 2 and 3")
    if issubclass(cls, ArrayMetadataV2):  # v2: attributes live in .zattrs
        return cls.from_json(doc, attributes=attributes, store=store, key=key)
    return cls.from_json(doc, store=store, key=key)
