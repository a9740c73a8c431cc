"""Turn the user's ``compressor=`` / ``filters=`` / ``codecs=`` / ``shards=`` arguments
into the codec JSON written to metadata (zarr-python's spellings and defaults)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..codecs.registry import get as get_codec
from ..errors import InvalidMetadataError

__all__ = ["UNSET", "v3_codecs", "v2_compressor", "v2_filters", "DEFAULT_SHARD_INDEX_CODECS"]


class _Unset:
    def __repr__(self):
        return "<default>"


UNSET = _Unset()

DEFAULT_V3_COMPRESSOR: dict[str, Any] = {"name": "zstd", "configuration": {"level": 0, "checksum": False}}
DEFAULT_V2_COMPRESSOR: dict[str, Any] = {"id": "zstd", "level": 0}
DEFAULT_SHARD_INDEX_CODECS: list[dict[str, Any]] = [{"name": "bytes", "configuration": {"endian": "little"}},
                              {"name": "crc32c"}]


def _bytes_codec(dtype: np.dtype) -> dict:
    if dtype.kind == "O":  # variable-length strings
        return {"name": "vlen-utf8", "configuration": {}}
    if dtype.itemsize <= 1 or dtype.byteorder == "|":  # no byte order (bool, int8, S)
        return {"name": "bytes"}
    endian = "big" if dtype.byteorder == ">" else "little"
    return {"name": "bytes", "configuration": {"endian": endian}}


def _v3(c):
    return get_codec(c, zarr_format=3)


def _v3_json(c) -> dict:
    return _v3(c).to_json()


def _with_endian(codec: dict, dtype: np.dtype) -> dict:
    """A ``bytes`` codec given without ``endian`` gets the dtype's (as zarr-python writes
    it; tensorstore refuses multi-byte data without it)."""
    if codec.get("name") == "bytes" and not codec.get("configuration", {}).get("endian"):
        return _bytes_codec(dtype)
    return codec


def v3_codecs(dtype: np.dtype, *, codecs=None, compressor=UNSET, filters=None,
              chunks=None, shards=None) -> list[dict]:
    """The ``codecs`` list of a v3 array (wrapped in ``sharding_indexed`` if ``shards``)."""
    if codecs is not None:
        if compressor is not UNSET or filters is not None:
            raise InvalidMetadataError("pass either codecs= or compressor=/filters=, not both")
        chain = [_with_endian(_v3_json(c), dtype) for c in codecs]
        kinds = [_v3(c).kind for c in chain]
        if "array_bytes" not in kinds:  # add the serializer the user left out
            pos = sum(1 for k in kinds if k == "array_array")
            chain.insert(pos, _bytes_codec(dtype))
    else:
        chain = [_v3_json(f) for f in (filters or [])]
        chain.append(_bytes_codec(dtype))
        if compressor is UNSET:
            chain.append(dict(DEFAULT_V3_COMPRESSOR))
        elif compressor is not None:
            chain.append(_v3_json(compressor))
    if shards is None:
        return chain
    return [{"name": "sharding_indexed", "configuration": {
        "chunk_shape": list(chunks), "codecs": chain,
        "index_codecs": [dict(c) for c in DEFAULT_SHARD_INDEX_CODECS], "index_location": "end"}}]


#: numcodecs config entries zarr-python leaves out of v2 metadata when at their default
_V2_OMITTED_DEFAULTS = {"zstd": {"checksum": False}}


def _v2_config(codec) -> dict:
    cfg = get_codec(codec, zarr_format=2).get_config()
    for k, v in _V2_OMITTED_DEFAULTS.get(cfg["id"], {}).items():
        if k in cfg and cfg[k] == v:
            del cfg[k]
    return cfg


def v2_compressor(compressor=UNSET) -> dict | None:
    if compressor is UNSET:
        return dict(DEFAULT_V2_COMPRESSOR)
    if compressor is None:
        return None
    return _v2_config(compressor)


def v2_filters(filters, dtype: np.dtype | None = None) -> list[dict] | None:
    if not filters:
        if dtype is not None and dtype.kind == "O":  # strings need an object codec
            return [{"id": "vlen-utf8"}]
        return None
    return [_v2_config(f) for f in filters]
