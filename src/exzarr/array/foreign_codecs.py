"""zarr-python codec objects as exzarr codec JSON, by duck typing (zarr is never imported).

zarr-python 3's codecs (``zarr.codecs.BloscCodec``, ``ZstdCodec``, ``GzipCodec``,
``BytesCodec``, ``TransposeCodec``, ``Crc32cCodec``, ``ShardingCodec``, ``VLenUTF8Codec``
and the ``zarr.codecs.numcodecs.*`` wrappers) are recognised by their class's module
(``zarr.``...) and turned into the JSON zarr-python would write, through their own
``to_dict()``.  Blosc's *tunable* settings (``typesize`` and ``shuffle`` left as None)
are resolved from the array's dtype exactly as zarr-python does.  numcodecs objects are
not converted here: the codec registry takes them as they are.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["is_foreign_codec", "foreign_codec_json", "convert_codec"]


def is_foreign_codec(obj: Any) -> bool:
    """Whether ``obj`` is a zarr-python codec object (a ``zarr.*`` class with ``to_dict``)."""
    mod = type(obj).__module__ or ""
    return (mod == "zarr" or mod.startswith("zarr.")) and callable(getattr(obj, "to_dict", None))


def _plain(x: Any) -> Any:
    """JSON-ready: tuples as lists, enums as their values, nested dicts converted."""
    if isinstance(x, dict):
        return {str(k): _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    if hasattr(x, "value") and type(x).__module__.startswith("zarr."):  # zarr's enums
        return x.value
    if isinstance(x, np.generic):
        return x.item()
    return x


def _blosc_tunables(obj: Any, cfg: dict[str, Any], dtype: np.dtype | None) -> None:
    tunable: set[str] = set(getattr(obj, "_tunable_attrs", ()))
    if not tunable:
        return
    if dtype is None:  # nothing to resolve them from: leave them to exzarr's defaults
        for name in tunable:
            cfg.pop(name, None)
        return
    itemsize = 1 if dtype.kind == "O" else max(1, dtype.itemsize)
    if "typesize" in tunable:
        cfg["typesize"] = itemsize
    if "shuffle" in tunable:
        cfg["shuffle"] = "bitshuffle" if itemsize == 1 else "shuffle"


def foreign_codec_json(obj: Any, dtype: np.dtype | None = None) -> dict[str, Any]:
    """The v3 codec JSON of the zarr-python codec ``obj`` (``{"name", "configuration"}``)."""
    doc = _plain(obj.to_dict())
    if not isinstance(doc, dict) or "name" not in doc:
        raise TypeError(f"{type(obj).__name__}.to_dict() gave {doc!r}, not a codec document")
    cfg = doc.get("configuration")
    if doc["name"] == "blosc" and isinstance(cfg, dict):
        _blosc_tunables(obj, cfg, dtype)
    if doc["name"] == "sharding_indexed" and isinstance(cfg, dict):  # inner codecs by value
        for key in ("codecs", "index_codecs"):
            inner = getattr(obj, key, None)
            if inner is not None:
                cfg[key] = [foreign_codec_json(c, dtype) if is_foreign_codec(c) else _plain(c)
                            for c in inner]
    return doc


#: v3 names with a numcodecs (v2) twin of the same configuration
_V2_IDS = {"gzip": "gzip", "zstd": "zstd", "crc32c": "crc32c"}
_BLOSC_SHUFFLE = {"noshuffle": 0, "shuffle": 1, "bitshuffle": 2}


def _v2_form(doc: dict[str, Any]) -> dict[str, Any]:
    """A v3 codec document as the numcodecs config of a v2 array."""
    name: str = doc["name"]
    cfg = dict(doc.get("configuration") or {})
    if name.startswith("numcodecs."):
        return {"id": name[len("numcodecs."):], **cfg}
    if name == "blosc":
        out = {"id": "blosc", "cname": cfg.get("cname", "lz4"), "clevel": cfg.get("clevel", 5),
               "shuffle": _BLOSC_SHUFFLE.get(cfg.get("shuffle", "shuffle"), 1),
               "blocksize": cfg.get("blocksize", 0)}
        return out
    if name in _V2_IDS:
        cfg.pop("checksum", None) if cfg.get("checksum") is False else None
        return {"id": _V2_IDS[name], **cfg}
    raise ValueError(f"the zarr-python codec {name!r} has no Zarr v2 (numcodecs) form; use it "
                     f"with zarr_format=3, or pass a numcodecs codec for a v2 array")


def convert_codec(obj: Any, zarr_format: int, dtype: np.dtype | None = None) -> Any:
    """``obj`` as a form exzarr's codec registry takes: zarr-python codecs become JSON
    (v3 documents, or numcodecs configs for ``zarr_format=2``); anything else is
    returned unchanged."""
    if not is_foreign_codec(obj):
        return obj
    doc = foreign_codec_json(obj, dtype)
    return doc if zarr_format == 3 else _v2_form(doc)
