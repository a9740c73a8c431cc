"""The codec registry: v3 names and v2 (numcodecs) ids -> codec classes.

* v3 codec classes are registered by name with :func:`register`; exzarr's own are
  registered by :mod:`exzarr.codecs.builtin` (imported by ``exzarr.codecs``).  None of
  them imports numcodecs or a compression library before its first use.
* :func:`register` also takes third-party codecs: a subclass of
  :class:`exzarr.codecs.Codec` (by its ``name``) or a numcodecs codec class (by its
  ``codec_id``, registered in numcodecs' own registry so v2 JSON and ``numcodecs.<id>``
  v3 names find it).
* Codecs published under the ``exzarr.codecs`` entry-point group load on demand.
"""

from __future__ import annotations

from typing import Any, Protocol, TypeVar, runtime_checkable

from ..errors import CodecNotAvailableError, InvalidMetadataError, UnknownCodecError
from ._base import Codec
from .numcodecs_adapter import (OPTIONAL_IDS, PREFIX, id_available, nc_get_codec,
                                numcodecs_registry, numcodecs_v3_codec, register_numcodec)

__all__ = ["available", "register", "get", "codec_class", "to_v3", "to_v2", "generation"]

_v3: dict[str, type[Codec]] = {}  # v3 name -> exzarr codec class
_generation = 0  # how many times register() has been called
_KINDS = ("array_array", "array_bytes", "bytes_bytes")

_T = TypeVar("_T", bound=type)


@runtime_checkable
class _HasNumcodecsForm(Protocol):
    """A v3 codec with a Zarr v2 form (the ``numcodecs.<id>`` codecs)."""

    def to_numcodecs(self) -> Any: ...  # a numcodecs codec (numcodecs is untyped)


def _entry_point(name: str) -> type[Codec] | None:
    from importlib.metadata import entry_points  # ~15 ms: only when a name is not known

    for ep in entry_points(group="exzarr.codecs"):
        if ep.name == name:
            try:
                cls = ep.load()
            except ImportError as e:
                raise CodecNotAvailableError(
                    f"codec {name!r} is provided by entry point {ep.value!r}, which cannot be "
                    f"imported ({e}); install the package that provides it"
                ) from None
            _v3[name] = cls
            return cls
    return None


def codec_class(name: str) -> type[Codec]:
    """The v3 codec class for ``name`` (raises UnknownCodecError)."""
    cls = _v3.get(name)
    if cls is not None:
        return cls
    if name.startswith(PREFIX):
        codec_id = name[len(PREFIX):]
        if codec_id in numcodecs_registry():
            return numcodecs_v3_codec(codec_id)
        nc_get_codec({"id": codec_id})  # raises CodecNotAvailable / UnknownCodec
    cls = _entry_point(name)
    if cls is not None:
        return cls
    if not name.startswith(PREFIX) and (name in OPTIONAL_IDS or name in numcodecs_registry()):
        return codec_class(PREFIX + name)  # a bare numcodecs id, as zarr-python accepts
    raise UnknownCodecError(
        f"unknown codec {name!r}; exzarr knows the v3 codecs {', '.join(sorted(_v3))} and "
        f"'numcodecs.<id>' for every numcodecs codec id (see exzarr.codecs.available()); "
        f"register a custom codec with exzarr.codecs.register()"
    )


def available() -> dict[str, bool]:
    """Every known codec name (v3 names and v2 ids), sorted, -> whether it can be used now."""
    out: dict[str, bool] = {}
    for name in list(_v3):
        try:
            out[name] = codec_class(name).is_available()
        except Exception:
            out[name] = False
    try:
        reg = numcodecs_registry()
    except ImportError:
        reg = {}
    for codec_id in reg:
        ok = id_available(codec_id)
        out.setdefault(codec_id, ok)
        out.setdefault(PREFIX + codec_id, ok)
    for codec_id in OPTIONAL_IDS:
        out.setdefault(codec_id, False)
    return dict(sorted(out.items()))


def generation() -> int:
    """A number that changes whenever :func:`register` is called: what was built from
    codec names before (a kept codec pipeline) may name other classes since."""
    return _generation


def register(codec_cls: _T, *, name: str | None = None) -> _T:
    """Register a codec class (usable as a decorator); returns it.

    An :class:`exzarr.codecs.Codec` subclass is registered under its v3 ``name``; a
    numcodecs codec class under its ``codec_id`` in numcodecs' registry (it then works
    in v2 metadata and as ``numcodecs.<codec_id>`` in v3).
    """
    global _generation
    _generation += 1
    if isinstance(codec_cls, type) and issubclass(codec_cls, Codec):
        key = name or codec_cls.name
        if not key or codec_cls.kind not in _KINDS:
            raise InvalidMetadataError(
                f"cannot register {codec_cls!r}: it needs a non-empty `name` and a `kind` "
                f"(subclass ArrayArrayCodec, ArrayBytesCodec or BytesBytesCodec)"
            )
        _v3[key] = codec_cls
        return codec_cls
    codec_id = name or getattr(codec_cls, "codec_id", None)
    if codec_id and hasattr(codec_cls, "encode") and hasattr(codec_cls, "decode"):
        register_numcodec(codec_cls, codec_id)
        return codec_cls
    raise InvalidMetadataError(
        f"cannot register {codec_cls!r}: pass an exzarr.codecs.Codec subclass with a `name`, "
        "or a numcodecs codec class with a `codec_id`"
    )


def _is_numcodec(obj: object) -> bool:
    return not isinstance(obj, Codec) and hasattr(obj, "codec_id") and hasattr(obj, "get_config")


def _v3_from_name(name: str, configuration: dict[str, Any] | None) -> Codec:
    cls = codec_class(name)
    cls.check_available(load=False)  # imported at the first chunk
    if configuration is not None and not isinstance(configuration, dict):
        raise InvalidMetadataError(f"codec {name!r}: configuration must be an object, got {configuration!r}")
    codec = cls.from_config(configuration)
    if name.startswith(PREFIX) and isinstance(codec, _HasNumcodecsForm):
        codec.to_numcodecs()  # fail now (bad config, missing library), not at first chunk
    return codec


def to_v3(config: Any) -> Codec:
    """A v3 codec equivalent to a numcodecs codec or ``{"id": ...}`` dict."""
    if _is_numcodec(config):
        config = config.get_config()
    config = dict(config)
    codec_id = config.pop("id")
    own = _v3.get(codec_id)
    if own is not None and own.numcodecs_id == codec_id:  # gzip, zstd, blosc
        return _v3_from_name(codec_id, own.configuration_from_numcodecs(config))
    return _v3_from_name(PREFIX + codec_id, config)


def to_v2(config: Any) -> Any:
    """A numcodecs codec instance from a numcodecs codec, v2 dict, v3 codec or v3 dict."""
    if _is_numcodec(config):
        return config
    if isinstance(config, dict) and "id" in config:
        return nc_get_codec(config)
    codec = get(config) if not isinstance(config, Codec) else config
    if not isinstance(codec, _HasNumcodecsForm):
        raise InvalidMetadataError(f"codec {codec.name!r} has no Zarr v2 (numcodecs) form")
    return codec.to_numcodecs()


def get(config: Any, *, zarr_format: int | None = None) -> Any:
    """A codec object from any accepted form.

    ``config`` may be a v3 dict ``{"name", "configuration"}``, a v2/numcodecs dict
    ``{"id", ...}``, a bare name (``"zstd"``), a numcodecs codec instance or an exzarr
    codec.  With ``zarr_format=None`` v3 forms give exzarr codecs and v2 forms give
    numcodecs instances; ``zarr_format=3`` / ``2`` converts to that format's kind.
    """
    if zarr_format == 2:
        if isinstance(config, str):
            if config in numcodecs_registry() or config not in _v3:
                config = {"id": config}
        return to_v2(config)
    if isinstance(config, Codec):
        return config
    if _is_numcodec(config):
        return to_v3(config) if zarr_format == 3 else config
    if isinstance(config, str):
        if config in _v3 or config.startswith(PREFIX):
            return _v3_from_name(config, None)
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
            return nc_get_codec(config)
    raise InvalidMetadataError(
        f"cannot interpret {config!r} as a codec: expected a name, a v3 codec dict with "
        "'name', a numcodecs dict with 'id', or a codec instance"
    )
