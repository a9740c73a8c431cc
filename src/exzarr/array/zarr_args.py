"""zarr-python's spellings of the creation arguments, turned into exzarr's.

Shared by the module functions (:mod:`exzarr.api`) and ``Group.create_array``:
``attrs=``, ``chunk_shape=``, ``zarr_version=``, ``config=``, ``"auto"`` everywhere,
``chunk_key_encoding=("default", "/")``, and the caching hints exzarr ignores.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .codec_args import UNSET

__all__ = ["is_shape", "zarr_kwargs", "chunk_key_encoding"]

#: zarr-python keywords that exzarr accepts and ignores (caching and synchronisation
#: hints: exzarr caches metadata and locks chunks itself)
_IGNORED = ("cache_metadata", "cache_attrs", "meta_array", "object_codec")


def is_shape(x: Any) -> bool:
    """An int or a tuple/list of ints is a shape; a str/PathLike/Store/None is a store."""
    if isinstance(x, (bool, np.bool_)):
        return False
    if isinstance(x, (int, np.integer)):
        return True
    return (isinstance(x, (tuple, list)) and
            all(isinstance(i, (int, np.integer)) and not isinstance(i, bool) for i in x))


def chunk_key_encoding(cke: Any) -> Mapping[str, Any] | None:
    """zarr-python's chunk key encodings: ``("default", "/")``, ``{"name", "separator"}``
    or exzarr's ``{"name", "configuration"}``."""
    if cke is None or (isinstance(cke, Mapping) and "configuration" in cke):
        return cke
    if isinstance(cke, (tuple, list)):
        name, sep = (list(cke) + ["/" if cke and cke[0] == "default" else "."])[:2]
        return {"name": name, "configuration": {"separator": sep}}
    if isinstance(cke, Mapping):
        cfg = {k: v for k, v in cke.items() if k != "name"}
        return {"name": cke["name"], "configuration": cfg}
    to_dict = getattr(cke, "to_dict", None)  # a zarr-python ChunkKeyEncoding object
    if callable(to_dict):
        return chunk_key_encoding(to_dict())
    raise TypeError(f"chunk_key_encoding={cke!r}: expected a dict or ('default'|'v2', sep)")


def zarr_kwargs(kw: dict[str, Any], fn: str) -> dict[str, Any]:
    """zarr-python's spellings of :func:`create`'s arguments turned into exzarr's:
    ``attrs``, ``chunk_shape``, ``zarr_version``, ``config``, ``"auto"``, tuple chunk key
    encodings; caching hints dropped; what exzarr cannot honour refused."""
    if not kw:  # (an open without keywords: nothing to translate)
        return kw
    if "attrs" in kw:
        attrs = kw.pop("attrs")
        if kw.get("attributes") is not None and attrs is not None:
            raise TypeError(f"{fn}() takes attrs= or attributes= (the same thing), not both")
        kw["attributes"] = attrs if attrs is not None else kw.get("attributes")
    if "chunk_shape" in kw:
        cs = kw.pop("chunk_shape")
        if cs is not None:
            kw["chunks"] = cs
    if "zarr_version" in kw:
        v = kw.pop("zarr_version")
        if v is not None:
            kw["zarr_format"] = v
    config = kw.pop("config", None)
    if config:
        cfg = dict(config) if isinstance(config, Mapping) else dict(vars(config))
        if "write_empty_chunks" in cfg:
            kw.setdefault("write_empty_chunks", cfg["write_empty_chunks"])
        if cfg.get("order") is not None:
            kw.setdefault("order", cfg["order"])
    for name in _IGNORED:
        kw.pop(name, None)
    for name in ("synchronizer", "chunk_store"):
        if kw.pop(name, None) is not None:
            raise TypeError(f"{fn}() does not take {name}=: exzarr locks chunks itself and "
                            f"keeps chunks with their metadata (one store)")
    for name in ("compressor", "fill_value", "serializer", "compressors"):
        if isinstance(kw.get(name), str) and kw[name] == "auto":
            kw[name] = UNSET
    if kw.get("filters") == "auto":
        kw["filters"] = None
    if kw.get("chunks") == "keep":
        kw["chunks"] = None
    if "chunk_key_encoding" in kw:
        kw["chunk_key_encoding"] = chunk_key_encoding(kw["chunk_key_encoding"])
    if kw.get("dtype", "") is None:
        del kw["dtype"]
    if kw.get("order", "") is None:
        kw["order"] = "C"
    return kw


