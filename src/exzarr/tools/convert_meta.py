"""How a source array's layout and codecs map onto the arguments of :func:`exzarr.create`
for a converted (or copied, rechunked) destination array.

* v2 -> v3: ``order='F'`` becomes a ``transpose`` codec; each v2 filter goes where its
  kind belongs (dtype-bearing filters such as ``delta`` switch to the in-memory byte order) (array->array before the serializer, bytes->bytes after it); the
  compressor follows; ``_ARRAY_DIMENSIONS`` (xarray's v2 convention) becomes
  ``dimension_names``.
* v3 -> v2: a ``sharding_indexed`` chain is unwrapped (its inner chunks become the
  chunks); ``transpose`` (full reversal) becomes ``order='F'``; ``bytes`` sets the
  dtype's byte order; the last bytes->bytes codec becomes the compressor and any others
  (and array->array codecs) the filters; ``dimension_names`` become ``_ARRAY_DIMENSIONS``.

Codec translations live in the ``V3_TO_V2`` / ``V2_TO_V3`` registries; codecs not in it use the codec's
numcodecs form (``gzip``, ``zstd``, ``blosc``, ``numcodecs.*``).  A codec with neither
raises :class:`~exzarr.errors.CodecError` naming it.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from ..codecs.registry import get as get_codec
from ..errors import CodecError, ExzarrError
from ..array.codec_args import UNSET

__all__ = ["target_kwargs", "inner_chain", "v3_chain_to_v2", "V3_TO_V2", "V2_TO_V3",
           "DIMS_ATTR", "with_byteorder"]

DIMS_ATTR = "_ARRAY_DIMENSIONS"


def inner_chain(meta) -> tuple[list[dict], tuple[int, ...] | None]:
    """``(codecs, inner chunk shape or None)`` of a v3 array, looking through sharding."""
    codecs = [dict(c) for c in meta.codecs]
    if len(codecs) == 1 and codecs[0]["name"] == "sharding_indexed":
        cfg = codecs[0]["configuration"]
        return [dict(c) for c in cfg["codecs"]], tuple(cfg["chunk_shape"])
    return codecs, None


# -- v3 -> v2 ---------------------------------------------------------------------------
class _V2Layout:
    def __init__(self, dtype: np.dtype):
        self.dtype = dtype
        self.order = "C"
        self.filters: list[dict] = []
        self.bytes_stage: list[dict] = []  # array->bytes (non-`bytes`) and bytes->bytes codecs


def _bytes(codec: dict, out: _V2Layout, ndim: int) -> None:
    endian = (codec.get("configuration") or {}).get("endian")
    if endian and out.dtype.itemsize > 1:
        out.dtype = out.dtype.newbyteorder(">" if endian == "big" else "<")


def _transpose(codec: dict, out: _V2Layout, ndim: int) -> None:
    order = list((codec.get("configuration") or {}).get("order", []))
    if order == list(range(ndim)):
        return
    if order == list(range(ndim))[::-1]:
        out.order = "F"
        return
    raise CodecError(f"transpose order {order} has no Zarr v2 equivalent (v2 has only C and F "
                     f"order); pass filters=/compressor= or convert to Zarr v3")


def _crc32c(codec: dict, out: _V2Layout, ndim: int) -> None:
    out.bytes_stage.append({"id": "crc32c"})


def _vlen_utf8(codec: dict, out: _V2Layout, ndim: int) -> None:
    out.filters.append({"id": "vlen-utf8"})  # v2 stores strings with an object filter


#: v3 codec name -> translator(codec dict, layout, ndim) for codecs without a numcodecs form
V3_TO_V2 = {"bytes": _bytes, "transpose": _transpose, "crc32c": _crc32c, "vlen-utf8": _vlen_utf8}


def _numcodecs_form(codec: dict) -> dict:
    try:
        return dict(get_codec(codec, zarr_format=2).get_config())
    except ExzarrError as e:
        detail = str(e)
        detail = "" if "Zarr v2" in detail else f" ({detail})"
        raise CodecError(f"codec {codec['name']!r} has no Zarr v2 (numcodecs) equivalent{detail}; "
                         f"pass compressor=/filters= to choose v2 codecs, or keep Zarr v3") from None


#: numcodecs config keys holding a dtype whose byte order must follow the array's
_DTYPE_KEYS = ("dtype", "astype")


def with_byteorder(config: dict, order: Literal["<", ">"]) -> dict:
    """``config`` with its dtype entries in byte order ``order`` ('<' or '>').

    v2 filters see the array in its stored byte order; v3 array->array codecs see it in
    memory (the ``bytes`` codec decides the stored order), so dtype-bearing filters such
    as ``delta`` are adjusted when moving between formats."""
    out = dict(config)
    for k in _DTYPE_KEYS:
        v = out.get(k)
        if isinstance(v, str):
            try:
                dt = np.dtype(v)
            except TypeError:
                continue
            if dt.itemsize > 1 and dt.byteorder != "|":
                out[k] = dt.newbyteorder(order).str
    return out


def v3_chain_to_v2(chain: list[dict], dtype: np.dtype, ndim: int, *,
                   bytes_stage: bool = True) -> _V2Layout:
    """The v2 form of a (non-sharded) v3 codec chain; ``bytes_stage=False`` skips the
    codecs after the serializer (the caller replaces them with its own compressor)."""
    out = _V2Layout(np.dtype(dtype))
    for codec in chain:
        name = codec["name"]
        kind = "array_bytes" if name == "bytes" else get_codec(codec, zarr_format=3).kind
        if kind == "bytes_bytes" and not bytes_stage:
            continue
        fn = V3_TO_V2.get(name)
        if fn is not None:
            fn(codec, out, ndim)
        elif name == "sharding_indexed":
            raise CodecError("nested sharding_indexed has no Zarr v2 equivalent")
        elif kind == "array_array":
            out.filters.append(_numcodecs_form(codec))
        else:
            out.bytes_stage.append(_numcodecs_form(codec))
    order: Literal["<", ">"] = ">" if out.dtype.byteorder == ">" else "<"  # known once `bytes` was seen
    out.filters = [with_byteorder(f, order) for f in out.filters]
    return out


# -- v2 -> v3 ---------------------------------------------------------------------------
#: numcodecs id -> v3 codec JSON, where v3 has a codec of its own for it
V2_TO_V3 = {"crc32c": lambda cfg: {"name": "crc32c"} if cfg.get("location", "end") == "end" else None,
            "vlen-utf8": lambda cfg: {"name": "vlen-utf8", "configuration": {}}}


def _v3_json(config) -> dict:
    if isinstance(config, dict) and "id" in config:
        native = V2_TO_V3.get(config["id"])
        found = native(config) if native is not None else None
        if found is not None:
            return found
    return get_codec(dict(config) if isinstance(config, dict) else config, zarr_format=3).to_json()


def _v2_to_v3_codecs(meta, compressor) -> list:
    chain_aa: list[dict[str, Any]] = []
    chain_ab: list[dict[str, Any]] = []
    chain_bb: list[dict[str, Any]] = []
    if meta.order == "F" and len(meta.shape) > 1:
        chain_aa.append({"name": "transpose",
                         "configuration": {"order": list(range(len(meta.shape)))[::-1]}})
    for f in meta.filters or []:
        v3 = _v3_json(f)
        kind = get_codec(v3, zarr_format=3).kind
        if kind == "array_array":
            chain_aa.append(_v3_json(with_byteorder(f, "<")))
        else:
            (chain_ab if kind == "array_bytes" else chain_bb).append(v3)
    comp = meta.compressor if compressor is UNSET else compressor
    if comp is not None:
        chain_bb.append(_v3_json(comp))
    return chain_aa + chain_ab + chain_bb


# -- the create() arguments -------------------------------------------------------------
def _norm_user_chunks(chunks, ndim: int, what: str, where: str):
    if chunks is None or chunks is False:
        return None
    if isinstance(chunks, int):
        return (chunks,) * ndim
    chunks = tuple(int(c) for c in chunks)
    if len(chunks) != ndim:
        raise ValueError(f"{what}={chunks} has {len(chunks)} entries but the array at {where} has "
                         f"{ndim} dimension(s); convert arrays of other ranks separately")
    return chunks


def target_kwargs(arr, zarr_format: int, *, codecs=None, compressor=UNSET, filters=UNSET,
                  chunks=None, shards=None) -> dict:
    """Keyword arguments for ``create`` that reproduce ``arr`` (a ZArray) in
    ``zarr_format`` with the requested changes."""
    meta = arr.metadata
    ndim = len(meta.shape)
    where = arr._state.where()
    src_fmt = meta.zarr_format
    attrs = dict(meta.attributes or {})
    kw: dict = {"shape": tuple(meta.shape), "dtype": meta.dtype}
    user_chunks = _norm_user_chunks(chunks, ndim, "chunks", where)
    user_shards = _norm_user_chunks(shards, ndim, "shards", where)
    if src_fmt == 3:
        chain, inner = inner_chain(meta)
        src_chunks, src_shards = (inner, tuple(meta.chunks)) if inner else (tuple(meta.chunks), None)
    else:
        chain, src_chunks, src_shards = [], tuple(meta.chunks), None  # (chain: v3 sources only)
    kw["chunks"] = user_chunks or src_chunks
    if zarr_format == 2:
        if user_shards:
            raise ValueError("shards= needs zarr_format=3 (Zarr v2 has no sharding)")
    elif user_shards:
        kw["shards"] = user_shards
    elif shards is None and src_shards is not None:
        if any(s % c for s, c in zip(src_shards, kw["chunks"])):
            raise ValueError(f"the source array at {where} has shards {src_shards}, which chunks "
                             f"{kw['chunks']} do not divide; pass shards= as well, or shards=False "
                             f"for no sharding")
        kw["shards"] = src_shards
    if meta.fill_value is not None:
        kw["fill_value"] = meta.fill_value
    elif zarr_format == 2:
        kw["fill_value"] = None

    if zarr_format == 3:
        dims = meta.dimension_names
        if src_fmt == 2 and _valid_dims(attrs.get(DIMS_ATTR), ndim):
            dims = tuple(attrs.pop(DIMS_ATTR))
        if dims is not None:
            kw["dimension_names"] = dims
        if codecs is not None:
            kw["codecs"] = list(codecs)
        elif src_fmt == 3:
            if filters is not UNSET or compressor is not UNSET:
                aa = [c for c in chain if get_codec(c, zarr_format=3).kind == "array_array"]
                kw["codecs"] = [*aa, *(filters if filters is not UNSET else [])]
                if compressor is not None and compressor is not UNSET:
                    kw["codecs"].append(compressor)
                elif compressor is UNSET:
                    kw["codecs"] += [c for c in chain if get_codec(c, zarr_format=3).kind == "bytes_bytes"]
            else:
                kw["codecs"] = chain
            kw["chunk_key_encoding"] = meta.chunk_key_encoding.to_json()
        else:
            if filters is not UNSET:
                kw["filters"], kw["compressor"] = filters, (meta.compressor if compressor is UNSET
                                                            else compressor)
                kw["order"] = meta.order
            else:
                kw["codecs"] = _v2_to_v3_codecs(meta, compressor)
    else:
        if codecs is not None:
            raise ValueError("codecs= is for zarr_format=3; use compressor= and filters= for v2")
        if src_fmt == 2:
            kw["order"] = meta.order
            kw["filters"] = list(meta.filters or []) if filters is UNSET else filters
            kw["compressor"] = meta.compressor if compressor is UNSET else compressor
            kw["dimension_separator"] = meta.dimension_separator
        else:
            lay = v3_chain_to_v2(chain, meta.dtype, ndim, bytes_stage=compressor is UNSET)
            kw["dtype"], kw["order"] = lay.dtype, lay.order
            stage = lay.bytes_stage
            kw["filters"] = (lay.filters + stage[:-1]) if filters is UNSET else filters
            kw["compressor"] = (stage[-1] if stage else None) if compressor is UNSET else compressor
            if meta.dimension_names and DIMS_ATTR not in attrs and _valid_dims(meta.dimension_names, ndim):
                attrs[DIMS_ATTR] = list(meta.dimension_names)
        if not kw["filters"]:
            kw["filters"] = None
    kw["attributes"] = attrs
    return kw


def _valid_dims(dims, ndim: int) -> bool:
    return (isinstance(dims, (list, tuple)) and len(dims) == ndim
            and all(isinstance(d, str) for d in dims))
