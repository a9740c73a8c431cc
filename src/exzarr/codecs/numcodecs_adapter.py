"""Everything that touches numcodecs: its registry, safe calls, and ``numcodecs.<id>`` codecs.

numcodecs is imported on first use (it costs ~60 ms), never at ``import exzarr.codecs``.

* :func:`numcodecs_registry` is numcodecs' id -> class registry, with exzarr's own ids
  (``snappy``) registered in it; :func:`nc_get_codec` builds a codec from a v2 config
  with exzarr errors (missing library, unknown id, bad configuration).
* :func:`nc_decode` wraps any library error into a :class:`~exzarr.errors.DecompressionError`
  naming the chunk, checks the decoded size, and decodes straight into a caller's buffer
  when the compressed header announces exactly the expected size (zstd, blosc, lz4).
* :func:`numcodecs_v3_codec` makes the v3 codec class for a name ``numcodecs.<id>``:
  zarr-python writes ``{"name": "numcodecs.<id>", "configuration": {...}}`` (the numcodecs
  config without ``id``).  The codec's place in the chain depends on what it does:
  compressors and checksums are bytes -> bytes, filters such as delta are array -> array,
  pcodec/zfpy are array -> bytes.  Third-party numcodecs codecs may declare
  ``exzarr_kind`` on their class; otherwise they are treated as bytes -> bytes.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar, cast

import numpy as np

from ..errors import (ChecksumMismatchError, CodecNotAvailableError, DecompressionError,
                      InvalidMetadataError, UnknownCodecError)
from . import snappy
from .bounded import BOUNDED_IDS, bounded_decode, zstd_content_size
from .native_encode import zstd_frame
from .pco import pco_decode
from .zfp import check_zfp, zfpy_decode
from ._base import (NO_CONTEXT, ArrayArrayCodec, ArrayBytesCodec, BytesBytesCodec, ChunkSpec,
                    Codec, DecodeContext, as_byte_view)

if TYPE_CHECKING:
    from ._base import BufferLike

__all__ = ["OPTIONAL_IDS", "PREFIX", "import_numcodecs", "numcodecs_registry", "register_numcodec", "id_available",
           "nc_get_codec", "nc_decode", "nc_encode", "decoded_size", "kind_of_id",
           "numcodecs_v3_codec"]

#: numcodecs ids whose library is optional -> what to pip install
OPTIONAL_IDS = {
    "snappy": '"exzarr[snappy]" (or: pip install python-snappy)',
    "zfpy": "zfpy",
    "pcodec": "pcodec",
    "msgpack2": "msgpack",
    "vlen-utf8": "numcodecs",
}

PREFIX = "numcodecs."

_ready = False


def import_numcodecs(module: str = "numcodecs") -> Any:
    """Import numcodecs (or one of its modules), as a typed error when that fails.

    numcodecs imports its optional codec libraries when it is imported, and a broken one
    breaks it with whatever that library raises (zfpy 1.0.1.post0, for one, makes numcodecs
    0.16 fail with ``ValueError: invalid literal for int()`` while it reads zfpy's version)."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise CodecNotAvailableError(
            f"numcodecs cannot be imported ({e}); install it: pip install numcodecs") from None
    except Exception as e:
        raise CodecNotAvailableError(
            f"numcodecs is installed but failed to import: {type(e).__name__}: {e}. A broken "
            "optional codec library installed next to it is the usual cause (zfpy "
            "1.0.1.post0 breaks numcodecs 0.16 this way: pip uninstall zfpy, or install a "
            "zfpy/numcodecs pair that work together), then try again."
        ) from e


def numcodecs_registry() -> dict:
    """numcodecs' codec registry (id -> class), with exzarr's own ids registered."""
    global _ready
    # the package first: while another thread is still running numcodecs/__init__ (which
    # fills the registry), importing it waits for that to finish, where importing the
    # already-loaded ``numcodecs.registry`` alone would hand out a half-filled registry
    # (seen: 'zstd' unknown on a worker thread of a fresh spawned process)
    import_numcodecs("numcodecs")
    reg = import_numcodecs("numcodecs.registry")

    if not _ready:
        snappy.register()
        _ready = True
    return reg.codec_registry


def register_numcodec(codec_cls: type, codec_id: str) -> None:
    """Add a numcodecs codec class to numcodecs' registry (and forget any v3 class made
    for the id before, so ``numcodecs.<codec_id>`` follows the new class)."""
    numcodecs_registry()[codec_id] = codec_cls
    _classes.pop(codec_id, None)


def id_available(codec_id: str) -> bool:
    """Whether the registered numcodecs id can be used now (its library is installed)."""
    if codec_id == snappy.Snappy.codec_id:
        try:
            snappy.snappy_backend()
        except CodecNotAvailableError:
            return False
    return True


def nc_get_codec(config: Mapping[str, Any]) -> Any:
    """A numcodecs codec instance from a ``{"id": ...}`` config, with exzarr errors."""
    config = dict(config)
    codec_id: Any = config.get("id")  # a str in valid metadata, anything in invalid
    registry = numcodecs_registry()
    cls = registry.get(codec_id)
    if cls is None:
        import numcodecs.registry as reg

        entries: dict[Any, Any] = getattr(reg, "entries", {})
        ep = entries.get(codec_id)
        if ep is not None:
            try:
                cls = ep.load()
                reg.register_codec(cls, codec_id=codec_id)
            except ImportError as e:
                raise CodecNotAvailableError(
                    f"codec {codec_id!r} cannot be imported ({e}); install the package providing it"
                ) from None
    if cls is None:
        if codec_id in OPTIONAL_IDS:
            raise CodecNotAvailableError(
                f"codec {codec_id!r} is not available: its library is not installed. "
                f"Install it: pip install {OPTIONAL_IDS[codec_id]}"
            )
        raise UnknownCodecError(
            f"unknown codec id {codec_id!r}; numcodecs knows the ids "
            f"{', '.join(sorted(n for n in registry if id_available(n)))}"
        )
    config.pop("id", None)
    try:
        return cls.from_config(config)
    except ImportError as e:
        raise CodecNotAvailableError(
            f"codec {codec_id!r} needs a library that is not installed ({e}). "
            f"Install it: pip install {OPTIONAL_IDS.get(codec_id, codec_id)}"
        ) from None
    except (TypeError, ValueError, SyntaxError) as e:
        # (SyntaxError: NumPy parses a dtype string such as "," as a Python literal)
        raise InvalidMetadataError(f"invalid configuration for codec {codec_id!r}: {config!r} ({e})") from None


# -- announced decoded sizes ---------------------------------------------------------

def _blosc_size(buf: memoryview) -> int | None:
    if buf.nbytes < 16:
        return None
    nbytes, _blocksize, cbytes = struct.unpack_from("<III", buf, 4)
    return nbytes if cbytes == buf.nbytes else None


def _lz4_size(buf: memoryview) -> int | None:
    return struct.unpack_from("<I", buf, 0)[0] if buf.nbytes >= 4 else None


_SIZE_PROBES = {"zstd": zstd_content_size, "blosc": _blosc_size, "lz4": _lz4_size}


def decoded_size(codec_id: str, buf: memoryview) -> int | None:
    """The decoded size a compressed chunk's header announces (zstd, blosc, lz4), or None."""
    probe = _SIZE_PROBES.get(codec_id)
    return probe(buf) if probe is not None else None


#: numcodecs ids of array codecs decoded within the bound by their own functions:
#: ``(codec, buf, ctx, out, dtype, shape) -> result``
ARRAY_DECODERS: dict[str, Any] = {
    "pcodec": lambda codec, buf, ctx, out, dtype, shape: pco_decode(codec, buf, ctx, out, dtype),
    "zfpy": zfpy_decode,
}


def nc_decode(codec, data, ctx: DecodeContext = NO_CONTEXT, out: memoryview | None = None,
              expected: int | None = None, limit: int | None = None,
              dtype: np.dtype | None = None, shape: tuple[int, ...] | None = None):
    """Decode ``data`` with numcodecs ``codec``, never producing more than the chunk can hold.

    The bound is ``out``'s size, else ``expected``, else ``ctx.expected`` (an exact size),
    else ``limit``/``ctx.limit``/``exzarr.config`` ``max_chunk_bytes`` (an upper bound);
    the known compressors (:data:`~exzarr.codecs.bounded.BOUNDED_IDS`) and array codecs
    (:data:`ARRAY_DECODERS`: pcodec, zfpy; ``dtype``/``shape`` are the chunk's when known)
    stop at the bound and raise :class:`~exzarr.errors.DecompressionError` naming the chunk;
    other codecs are size-checked after decoding.  With ``out`` (a writable uint8
    memoryview) the result lands in ``out``, which must be filled exactly; otherwise the
    decoded buffer is returned.
    """
    codec_id = getattr(codec, "codec_id", "?")
    buf = as_byte_view(data)
    if out is not None:
        ctx = ctx.bounded(expected=out.nbytes)
    elif expected is not None:
        ctx = ctx.bounded(expected=expected)
    elif limit is not None:
        ctx = ctx.bounded(limit=limit)
    want = ctx.expected
    try:
        array_decoder = ARRAY_DECODERS.get(codec_id)
        if array_decoder is not None:
            res = array_decoder(codec, buf, ctx, out, dtype, shape)
        elif codec_id in BOUNDED_IDS:
            res = bounded_decode(codec, codec_id, buf, ctx, out)
        else:
            res = codec.decode(buf)
    except DecompressionError:
        raise
    except MemoryError as e:
        raise ctx.fail(f"{codec_id} decompression ran out of memory (the chunk is larger than "
                       "the memory available, or hostile)", e) from e
    except Exception as e:  # every library has its own exception types
        raise ctx.fail(f"{codec_id} decompression failed", e) from e
    try:
        got = as_byte_view(res).nbytes
    except (TypeError, ValueError):
        return res  # object arrays from object codecs: checked by the caller
    if want is not None:
        if got != want:
            raise ctx.fail(f"{codec_id} produced {got} bytes, expected {want}")
        if out is not None:
            if res is not out:
                out[:] = as_byte_view(res)
            return out
    elif got > ctx.max_output():
        raise ctx.too_large(f"{codec_id} output", got)
    return res


def nc_encode(codec: Any, data: Any) -> bytes | np.ndarray:
    """``codec.encode(data)`` as bytes (an object array when the codec makes one); zstd
    through libzstd with a context kept per thread (:func:`.native_encode.zstd_frame`:
    the frames the batched route writes)."""
    frame = zstd_frame(codec, data)
    if frame is not None:
        return frame
    res = codec.encode(data)
    if isinstance(res, bytes):
        return res
    return bytes(as_byte_view(res)) if not isinstance(res, np.ndarray) or res.dtype != object else res


# -- v3 codecs named numcodecs.<id> --------------------------------------------------

_ARRAY_ARRAY = {"delta", "bitround", "fixedscaleoffset", "quantize", "packbits", "astype",
                "categorize"}
_ARRAY_BYTES = {"pcodec", "zfpy"}
_CHECKSUMS = {"crc32": "start", "adler32": "start", "crc32c": "end", "fletcher32": "end",
              "jenkins_lookup3": "end"}


def kind_of_id(codec_id: str) -> str:
    if codec_id in _ARRAY_ARRAY:
        return "array_array"
    if codec_id in _ARRAY_BYTES:
        return "array_bytes"
    cls = numcodecs_registry().get(codec_id)
    return getattr(cls, "exzarr_kind", "bytes_bytes")


class _Adapter:
    """Mixin holding a numcodecs config and the lazily built numcodecs instance."""

    requires: ClassVar[tuple[tuple[str, str], ...]] = (("numcodecs", "numcodecs"),)
    codec_id: str = ""

    def __init__(self, **config):
        self.config = {k: v for k, v in config.items() if k != "id"}

    def configuration(self):
        return dict(self.config)

    def numcodecs_config(self) -> dict:
        return {"id": self.codec_id, **self.config}

    def to_numcodecs(self):
        return nc_get_codec(self.numcodecs_config())

    @cached_property
    def _nc(self):
        return self.to_numcodecs()

    def _with(self, **changes):
        new = type(self)(**{**self.config, **changes})
        return new


class _BytesBytes(_Adapter, BytesBytesCodec):
    def evolve(self, spec: ChunkSpec):
        if self.codec_id == "shuffle" and self.config.get("elementsize") is None:
            return self._with(elementsize=spec.dtype.itemsize)
        return self

    def encoded_size(self, nbytes: int) -> int | None:
        if self.codec_id in _CHECKSUMS:
            return nbytes + (8 if self.codec_id == "jenkins_lookup3" and self.config.get("prefix") else 4)
        return None

    def encode(self, data: BufferLike, spec: ChunkSpec) -> bytes | np.ndarray:
        return nc_encode(self._nc, np.frombuffer(as_byte_view(data), dtype=np.uint8))

    def decode(self, data, spec: ChunkSpec, ctx: DecodeContext = NO_CONTEXT):
        if self.codec_id in _CHECKSUMS:
            return self._decode_checksum(data, ctx)
        return nc_decode(self._nc, data, ctx)  # bounded by ctx.expected / ctx.limit

    def decode_into(self, data, out, spec: ChunkSpec, ctx: DecodeContext = NO_CONTEXT) -> None:
        if self.codec_id in _CHECKSUMS:
            return BytesBytesCodec.decode_into(self, data, out, spec, ctx)
        nc_decode(self._nc, data, ctx, out=out)

    def _decode_checksum(self, data, ctx: DecodeContext):
        mv = as_byte_view(data)
        if mv.nbytes < 4:
            raise ctx.fail(f"{mv.nbytes} bytes cannot hold a {self.codec_id} checksum")
        location = self.config.get("location") or _CHECKSUMS[self.codec_id]
        if ctx.skip_checksum and self.codec_id != "jenkins_lookup3":
            return mv[4:] if location == "start" else mv[:-4]
        try:
            return self._nc.decode(np.frombuffer(mv, dtype=np.uint8))
        except Exception as e:
            raise ChecksumMismatchError(
                f"{self.codec_id} checksum mismatch in chunk at {ctx.where} ({e}). The chunk "
                "is corrupt; rewrite it, or open the array with skip_checksum=True to read it anyway.",
                store=ctx.store, key=ctx.key,
            ) from e


class _ArrayArray(_Adapter, ArrayArrayCodec):
    def evolve(self, spec: ChunkSpec):
        if self.codec_id in ("fixedscaleoffset", "quantize", "delta") and self.config.get("dtype") is None:
            return self._with(dtype=str(spec.dtype))
        if self.codec_id == "astype" and self.config.get("decode_dtype") is None:
            return self._with(decode_dtype=str(spec.dtype))
        return self

    def resolve_spec(self, spec: ChunkSpec) -> ChunkSpec:
        cid, cfg = self.codec_id, self.config
        if cid in ("delta", "fixedscaleoffset", "quantize", "categorize") and cfg.get("astype"):
            return spec.evolve(dtype=np.dtype(cfg["astype"]), fill_value=None)
        if cid == "categorize":
            return spec.evolve(dtype=np.dtype("u1"), fill_value=None)
        if cid == "astype":
            return spec.evolve(dtype=np.dtype(cfg["encode_dtype"]), fill_value=None)
        if cid == "packbits":
            return spec.evolve(shape=(1 + math.ceil(spec.size / 8),), dtype=np.dtype("u1"),
                               fill_value=None)
        if cid in _ARRAY_ARRAY:
            return spec
        # unknown filter: learn the encoded shape/dtype from a probe encode
        probe = np.asarray(self._nc.encode(np.zeros(spec.shape, dtype=spec.dtype)))
        shape = spec.shape if probe.size == spec.size else probe.shape
        return spec.evolve(shape=shape, dtype=probe.dtype, fill_value=None)

    def encode(self, arr: np.ndarray, spec: ChunkSpec) -> np.ndarray:
        return np.asarray(self._nc.encode(np.ascontiguousarray(arr)))

    def decode(self, arr: np.ndarray, spec: ChunkSpec, ctx: DecodeContext = NO_CONTEXT) -> np.ndarray:
        try:
            res = np.asarray(self._nc.decode(np.ascontiguousarray(arr)))
            if res.size != spec.size:
                raise ValueError(f"decoded {res.size} items, expected {spec.size}")
            res = res.reshape(spec.shape)
        except Exception as e:
            raise ctx.fail(f"{self.codec_id} filter failed", e) from e
        return res if res.dtype == spec.dtype else res.astype(spec.dtype)


class _ArrayBytes(_Adapter, ArrayBytesCodec):
    def encode(self, arr: np.ndarray, spec: ChunkSpec) -> bytes | np.ndarray:
        return nc_encode(self._nc, np.ascontiguousarray(arr))

    def decode(self, data, spec: ChunkSpec, ctx: DecodeContext = NO_CONTEXT,
               out: np.ndarray | None = None) -> np.ndarray:
        ctx = ctx.bounded(expected=spec.nbytes)
        if self.codec_id == "zfpy":  # the header is checked before zfpy is needed at all
            check_zfp(as_byte_view(data), ctx, spec.dtype, spec.shape)
        if (out is not None and self.codec_id == "pcodec" and out.dtype == spec.dtype
                and out.flags.c_contiguous and out.flags.writeable):
            nc_decode(self._nc, data, ctx, out=as_byte_view(out), dtype=spec.dtype, shape=spec.shape)
            return out
        res = nc_decode(self._nc, bytes(as_byte_view(data)), ctx, dtype=spec.dtype, shape=spec.shape)
        arr = np.frombuffer(as_byte_view(res), dtype=spec.dtype).reshape(spec.shape) \
            if not isinstance(res, np.ndarray) or res.dtype != spec.dtype else res.reshape(spec.shape)
        if out is not None:
            out[...] = arr
            return out
        return arr


_BASES: dict[str, type[Codec]] = {"bytes_bytes": _BytesBytes, "array_array": _ArrayArray,
                                   "array_bytes": _ArrayBytes}
_classes: dict[str, type[Codec]] = {}


def numcodecs_v3_codec(codec_id: str) -> type[Codec]:
    """The v3 codec class for ``numcodecs.<codec_id>`` (created once per id)."""
    cls = _classes.get(codec_id)
    if cls is None:
        kind = kind_of_id(codec_id)
        cls = cast("type[Codec]", type(f"Numcodecs_{codec_id}", (_BASES[kind],),
                                       {"codec_id": codec_id, "name": PREFIX + codec_id,
                                        "kind": kind, "__module__": __name__}))
        _classes[codec_id] = cls
    return cls
