"""Turn the user's ``compressor=`` / ``filters=`` / ``codecs=`` / ``shards=`` arguments
into the codec JSON written to metadata (zarr-python's spellings and defaults)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..codecs import ChunkSpec
from ..codecs.registry import get as get_codec
from ..errors import InvalidMetadataError
from .foreign_codecs import convert_codec

__all__ = ["UNSET", "v3_codecs", "v2_compressor", "v2_filters", "DEFAULT_SHARD_INDEX_CODECS",
           "codec_list", "is_auto"]


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


def is_auto(x: Any) -> bool:
    """zarr-python's ``"auto"`` (or exzarr's default marker): use the default."""
    return x is UNSET or (isinstance(x, str) and x == "auto")


def codec_list(x: Any) -> list[Any] | None:
    """``compressors=`` / ``filters=`` as zarr-python 3 takes them: None or ``()`` (none),
    one codec, or a list/tuple of codecs."""
    if x is None:
        return []
    if isinstance(x, (list, tuple)):
        return list(x)
    return [x]


def _v3(c, dtype: np.dtype | None = None):
    return get_codec(convert_codec(c, 3, dtype), zarr_format=3)


def _v3_json(c, dtype: np.dtype | None = None) -> dict:
    """The JSON of codec ``c``; bytes -> bytes codecs with the defaults that depend on the
    dtype filled in (blosc ``typesize``/``shuffle``, as zarr-python writes them: tensorstore
    refuses blosc without ``typesize``)."""
    codec = _v3(c, dtype)
    if dtype is not None and codec.kind == "bytes_bytes":
        codec = codec.evolve(ChunkSpec((1,), dtype))
    return codec.to_json()


def _with_endian(codec: dict, dtype: np.dtype) -> dict:
    """A ``bytes`` codec given without ``endian`` gets the dtype's (as zarr-python writes
    it; tensorstore refuses multi-byte data without it)."""
    if codec.get("name") == "bytes" and not codec.get("configuration", {}).get("endian"):
        return _bytes_codec(dtype)
    return codec


def _user_chain(codecs, dtype: np.dtype) -> list[dict]:
    """A ``codecs=`` list as JSON with what zarr-python fills in: the serializer when left
    out, ``endian`` of ``bytes``, dtype-dependent defaults (blosc), also inside shards."""
    chain = [_with_endian(_v3_json(c, dtype), dtype) for c in codecs]
    kinds = [_v3(c).kind for c in chain]
    if "array_bytes" not in kinds:  # add the serializer the user left out
        pos = sum(1 for k in kinds if k == "array_array")
        chain.insert(pos, _bytes_codec(dtype))
    for c in chain:
        cfg = c.get("configuration")
        if c.get("name") == "sharding_indexed" and isinstance(cfg, dict) \
                and isinstance(cfg.get("codecs"), list):
            c["configuration"] = {**cfg, "codecs": _user_chain(cfg["codecs"], dtype)}
    return chain


def v3_codecs(dtype: np.dtype, *, codecs=None, compressor=UNSET, filters=None,
              chunks=None, shards=None, compressors=UNSET, serializer=UNSET) -> list[dict]:
    """The ``codecs`` list of a v3 array (wrapped in ``sharding_indexed`` if ``shards``).

    ``compressors`` (zarr-python 3: bytes-bytes codecs) and ``serializer`` (the
    array-bytes codec) may replace ``compressor``; ``"auto"`` means the default."""
    if codecs is not None:
        if (compressor is not UNSET or filters is not None or not is_auto(compressors)
                or not is_auto(serializer)):
            raise InvalidMetadataError("pass either codecs= or compressor(s)=/filters=/"
                                       "serializer=, not both")
        chain = _user_chain(codecs, dtype)
    else:
        chain = [_v3_json(f, dtype) for f in (filters or [])]
        chain.append(_bytes_codec(dtype) if is_auto(serializer)
                     else _with_endian(_v3_json(serializer, dtype), dtype))
        if not is_auto(compressors):
            if compressor is not UNSET:
                raise InvalidMetadataError("pass either compressor= or compressors=, not both")
            chain.extend(_v3_json(c, dtype) for c in codec_list(compressors) or [])
        elif compressor is UNSET:
            chain.append(dict(DEFAULT_V3_COMPRESSOR))
        elif compressor is not None:
            chain.append(_v3_json(compressor, dtype))
    if shards is None:
        return chain
    return [{"name": "sharding_indexed", "configuration": {
        "chunk_shape": list(chunks), "codecs": chain,
        "index_codecs": [dict(c) for c in DEFAULT_SHARD_INDEX_CODECS], "index_location": "end"}}]


#: numcodecs config entries zarr-python leaves out of v2 metadata when at their default
_V2_OMITTED_DEFAULTS = {"zstd": {"checksum": False}}


def _v2_config(codec, dtype: np.dtype | None = None) -> dict:
    cfg = get_codec(convert_codec(codec, 2, dtype), zarr_format=2).get_config()
    for k, v in _V2_OMITTED_DEFAULTS.get(cfg["id"], {}).items():
        if k in cfg and cfg[k] == v:
            del cfg[k]
    return cfg


def v2_compressor(compressor=UNSET, dtype: np.dtype | None = None) -> dict | None:
    if is_auto(compressor):
        return dict(DEFAULT_V2_COMPRESSOR)
    if compressor is None:
        return None
    return _v2_config(compressor, dtype)


def v2_filters(filters, dtype: np.dtype | None = None) -> list[dict] | None:
    if not filters:
        if dtype is not None and dtype.kind == "O":  # strings need an object codec
            return [{"id": "vlen-utf8"}]
        return None
    return [_v2_config(f, dtype) for f in filters]
