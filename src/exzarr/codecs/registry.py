"""The codec registry: v3 names and v2 (numcodecs) ids -> codec classes.

* v3 built-ins are listed as ``"module:Class"`` strings and imported on first use, so
  ``import exzarr.codecs`` imports neither numcodecs nor any compressor.
* :func:`register` adds third-party codecs: a subclass of :class:`exzarr.codecs.Codec`
  (by its ``name``) or a numcodecs codec class (by its ``codec_id``, registered in
  numcodecs' own registry so v2 JSON and ``numcodecs.<id>`` v3 names find it).
* Codecs published under the ``exzarr.codecs`` entry-point group load on demand.
"""

from __future__ import annotations

import importlib

from ..errors import CodecNotAvailableError, InvalidMetadataError, UnknownCodecError
from ._base import Codec

__all__ = ["available", "register", "get", "codec_class", "to_v3", "to_v2"]

_BUILTIN: dict[str, str] = {
    "bytes": "exzarr.codecs.array_codecs:BytesCodec",
    "transpose": "exzarr.codecs.array_codecs:TransposeCodec",
    "gzip": "exzarr.codecs.compressors:GzipCodec",
    "zstd": "exzarr.codecs.compressors:ZstdCodec",
    "blosc": "exzarr.codecs.compressors:BloscCodec",
    "crc32c": "exzarr.codecs.checksum:Crc32cCodec",
    "sharding_indexed": "exzarr.codecs.sharding:ShardingCodec",
    "vlen-utf8": "exzarr.codecs.vlen:VLenUTF8Codec",
}
_registered: dict[str, type] = {}
_PREFIX = "numcodecs."
_KINDS = ("array_array", "array_bytes", "bytes_bytes")


def _entry_point(name: str):
    from importlib.metadata import entry_points

    for ep in entry_points(group="exzarr.codecs"):
        if ep.name == name:
            try:
                cls = ep.load()
            except ImportError as e:
                raise CodecNotAvailableError(
                    f"codec {name!r} is provided by entry point {ep.value!r}, which cannot be "
                    f"imported ({e}); install the package that provides it"
                ) from None
            _registered[name] = cls
            return cls
    return None


def codec_class(name: str) -> type:
    """The v3 codec class for ``name`` (raises UnknownCodecError)."""
    cls = _registered.get(name)
    if cls is not None:
        return cls
    path = _BUILTIN.get(name)
    if path is not None:
        mod, attr = path.split(":")
        return getattr(importlib.import_module(mod), attr)
    if name.startswith(_PREFIX):
        from ._nc import numcodecs_registry
        from .numcodecs_adapter import numcodecs_v3_codec

        codec_id = name[len(_PREFIX):]
        if codec_id in numcodecs_registry():
            return numcodecs_v3_codec(codec_id)
        from ._nc import nc_get_codec

        nc_get_codec({"id": codec_id})  # raises CodecNotAvailable / UnknownCodec
    cls = _entry_point(name)
    if cls is not None:
        return cls
    from ._nc import OPTIONAL_IDS, numcodecs_registry

    if not name.startswith(_PREFIX) and (name in OPTIONAL_IDS or name in numcodecs_registry()):
        return codec_class(_PREFIX + name)  # a bare numcodecs id, as zarr-python accepts
    v3_names = sorted(set(_BUILTIN) | set(_registered))
    raise UnknownCodecError(
        f"unknown codec {name!r}; exzarr knows the v3 codecs {', '.join(v3_names)} and "
        f"'numcodecs.<id>' for every numcodecs codec id (see exzarr.codecs.available()); "
        f"register a custom codec with exzarr.codecs.register()"
    )


def available() -> dict[str, bool]:
    """Every known codec name (v3 names and v2 ids), sorted, -> whether it can be used now."""
    from ._nc import OPTIONAL_IDS, numcodecs_registry

    out: dict[str, bool] = {}
    for name in list(_BUILTIN) + list(_registered):
        try:
            out[name] = codec_class(name).is_available()
        except Exception:
            out[name] = False
    try:
        reg = numcodecs_registry()
    except ImportError:
        reg = {}
    for codec_id, cls in reg.items():
        ok = True
        if codec_id == "snappy":
            from .snappy import snappy_backend

            try:
                snappy_backend()
            except CodecNotAvailableError:
                ok = False
        out.setdefault(codec_id, ok)
        out.setdefault(_PREFIX + codec_id, ok)
    for codec_id in OPTIONAL_IDS:
        out.setdefault(codec_id, False)
    return dict(sorted(out.items()))


def register(codec_cls: type, *, name: str | None = None) -> type:
    """Register a codec class (usable as a decorator); returns it.

    An :class:`exzarr.codecs.Codec` subclass is registered under its v3 ``name``; a
    numcodecs codec class under its ``codec_id`` in numcodecs' registry (it then works
    in v2 metadata and as ``numcodecs.<codec_id>`` in v3).
    """
    if isinstance(codec_cls, type) and issubclass(codec_cls, Codec):
        key = name or codec_cls.name
        if not key or codec_cls.kind not in _KINDS:
            raise InvalidMetadataError(
                f"cannot register {codec_cls!r}: it needs a non-empty `name` and a `kind` "
                f"(subclass ArrayArrayCodec, ArrayBytesCodec or BytesBytesCodec)"
            )
        _registered[key] = codec_cls
        return codec_cls
    codec_id = name or getattr(codec_cls, "codec_id", None)
    if codec_id and hasattr(codec_cls, "encode") and hasattr(codec_cls, "decode"):
        from ._nc import numcodecs_registry
        from .numcodecs_adapter import _classes

        numcodecs_registry()[codec_id] = codec_cls
        _classes.pop(codec_id, None)
        return codec_cls
    raise InvalidMetadataError(
        f"cannot register {codec_cls!r}: pass an exzarr.codecs.Codec subclass with a `name`, "
        "or a numcodecs codec class with a `codec_id`"
    )


def _is_numcodec(obj) -> bool:
    return not isinstance(obj, Codec) and hasattr(obj, "codec_id") and hasattr(obj, "get_config")


def _v3_from_name(name: str, configuration: dict | None) -> Codec:
    cls = codec_class(name)
    cls.check_available()
    if configuration is not None and not isinstance(configuration, dict):
        raise InvalidMetadataError(f"codec {name!r}: configuration must be an object, got {configuration!r}")
    codec = cls.from_config(configuration)
    if name.startswith(_PREFIX):
        codec.to_numcodecs()  # fail now (bad config, missing library), not at first chunk
    return codec


_V2_TO_V3 = {"gzip", "zstd", "blosc"}


def to_v3(config) -> Codec:
    """A v3 codec equivalent to a numcodecs codec or ``{"id": ...}`` dict."""
    if _is_numcodec(config):
        config = config.get_config()
    config = dict(config)
    codec_id = config.pop("id")
    if codec_id in _V2_TO_V3:
        if codec_id == "blosc":
            shuffle = config.get("shuffle", 1)
            from .compressors import SHUFFLE_NAMES

            config["shuffle"] = None if shuffle == -1 else SHUFFLE_NAMES[shuffle]
        if codec_id == "gzip":
            config.setdefault("level", 1)
        if codec_id == "zstd":
            config.setdefault("level", 1)
            config.setdefault("checksum", False)
        return _v3_from_name(codec_id, config)
    return _v3_from_name(_PREFIX + codec_id, config)


def to_v2(config):
    """A numcodecs codec instance from a numcodecs codec, v2 dict, v3 codec or v3 dict."""
    from ._nc import nc_get_codec

    if _is_numcodec(config):
        return config
    if isinstance(config, dict) and "id" in config:
        return nc_get_codec(config)
    codec = get(config) if not isinstance(config, Codec) else config
    if not hasattr(codec, "to_numcodecs"):
        raise InvalidMetadataError(f"codec {codec.name!r} has no Zarr v2 (numcodecs) form")
    return codec.to_numcodecs()


def get(config, *, zarr_format: int | None = None):
    """A codec object from any accepted form.

    ``config`` may be a v3 dict ``{"name", "configuration"}``, a v2/numcodecs dict
    ``{"id", ...}``, a bare name (``"zstd"``), a numcodecs codec instance or an exzarr
    codec.  With ``zarr_format=None`` v3 forms give exzarr codecs and v2 forms give
    numcodecs instances; ``zarr_format=3`` / ``2`` converts to that format's kind.
    """
    if zarr_format == 2:
        if isinstance(config, str):
            from ._nc import numcodecs_registry

            if config in numcodecs_registry() or not (config in _BUILTIN or config in _registered):
                config = {"id": config}
        return to_v2(config)
    if isinstance(config, Codec):
        return config
    if _is_numcodec(config):
        return to_v3(config) if zarr_format == 3 else config
    if isinstance(config, str):
        if config in _BUILTIN or config in _registered or config.startswith(_PREFIX):
            return _v3_from_name(config, None)
        from ._nc import numcodecs_registry

        if config in numcodecs_registry():
            return to_v3({"id": config})
        return _v3_from_name(config, None)
    if isinstance(config, dict):
        if "name" in config:
            unknown = set(config) - {"name", "configuration", "must_understand"}
            if unknown:
                raise InvalidMetadataError(f"codec {config['name']!r}: unexpected keys {sorted(unknown)}")
            return _v3_from_name(config["name"], config.get("configuration"))
        if "id" in config:
            if zarr_format == 3:
                return to_v3(config)
            from ._nc import nc_get_codec

            return nc_get_codec(config)
    raise InvalidMetadataError(
        f"cannot interpret {config!r} as a codec: expected a name, a v3 codec dict with "
        "'name', a numcodecs dict with 'id', or a codec instance"
    )
