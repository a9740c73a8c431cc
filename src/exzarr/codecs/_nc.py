"""Shared helpers for calling numcodecs codecs safely.

numcodecs is imported on first use (it costs ~60 ms).  :func:`nc_decode` wraps any
library error into a :class:`~exzarr.errors.DecompressionError` naming the chunk, checks
the decoded size, and decodes straight into a caller's buffer when the compressed
header announces exactly the expected size (zstd, blosc, lz4).
"""

from __future__ import annotations

import struct

import numpy as np

from ..errors import CodecNotAvailableError, UnknownCodecError
from ._base import NO_CONTEXT, DecodeContext, as_byte_view

__all__ = ["numcodecs_registry", "nc_get_codec", "nc_decode", "nc_encode", "decoded_size"]

#: numcodecs ids whose library is optional -> what to pip install
OPTIONAL_IDS = {
    "snappy": '"exzarr[snappy]" (or: pip install python-snappy)',
    "zfpy": "zfpy",
    "pcodec": "pcodec",
    "msgpack2": "msgpack",
    "vlen-utf8": "numcodecs",
}

_ready = False


def numcodecs_registry() -> dict:
    """numcodecs' codec registry (id -> class), with exzarr's own ids registered."""
    global _ready
    import numcodecs.registry as reg

    if not _ready:
        _ready = True
        from . import snappy  # noqa: F401  (registers the "snappy" id)
    return reg.codec_registry


def nc_get_codec(config: dict):
    """A numcodecs codec instance from a ``{"id": ...}`` config, with exzarr errors."""
    config = dict(config)
    codec_id = config.get("id")
    registry = numcodecs_registry()
    cls = registry.get(codec_id)
    if cls is None:
        import numcodecs.registry as reg

        ep = getattr(reg, "entries", {}).get(codec_id)
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
        from .registry import available

        raise UnknownCodecError(
            f"unknown codec id {codec_id!r}; available codecs: "
            f"{', '.join(n for n, ok in available().items() if ok)}"
        )
    config.pop("id", None)
    try:
        return cls.from_config(config)
    except ImportError as e:
        raise CodecNotAvailableError(
            f"codec {codec_id!r} needs a library that is not installed ({e}). "
            f"Install it: pip install {OPTIONAL_IDS.get(codec_id, codec_id)}"
        ) from None
    except (TypeError, ValueError) as e:
        from ..errors import InvalidMetadataError

        raise InvalidMetadataError(f"invalid configuration for codec {codec_id!r}: {config!r} ({e})") from None


# -- announced decoded sizes ---------------------------------------------------------

def _zstd_size(buf: memoryview) -> int | None:
    """Frame content size of a single zstd frame, None when not recorded."""
    if buf.nbytes < 6 or bytes(buf[:4]) != b"\x28\xb5\x2f\xfd":
        return None
    fhd = buf[4]
    fcs_flag, single_segment, dict_flag = fhd >> 6, (fhd >> 5) & 1, fhd & 3
    pos = 5 + (0 if single_segment else 1) + (0, 1, 2, 4)[dict_flag]
    size = (1 if single_segment else 0, 2, 4, 8)[fcs_flag]
    if size == 0 or buf.nbytes < pos + size:
        return None
    value = int.from_bytes(buf[pos:pos + size], "little")
    return value + 256 if size == 2 else value


def _blosc_size(buf: memoryview) -> int | None:
    if buf.nbytes < 16:
        return None
    nbytes, _blocksize, cbytes = struct.unpack_from("<III", buf, 4)
    return nbytes if cbytes == buf.nbytes else None


def _lz4_size(buf: memoryview) -> int | None:
    return struct.unpack_from("<I", buf, 0)[0] if buf.nbytes >= 4 else None


_SIZE_PROBES = {"zstd": _zstd_size, "blosc": _blosc_size, "lz4": _lz4_size}


def decoded_size(codec_id: str, buf: memoryview) -> int | None:
    probe = _SIZE_PROBES.get(codec_id)
    return probe(buf) if probe is not None else None


def _precheck(codec_id: str, buf: memoryview, ctx: DecodeContext) -> None:
    """Refuse input the C libraries might misread (truncated blosc frames)."""
    if codec_id == "blosc":
        if buf.nbytes < 16:
            raise ctx.fail(f"blosc frame of {buf.nbytes} bytes is shorter than its 16-byte header")
        cbytes = struct.unpack_from("<I", buf, 12)[0]
        if cbytes != buf.nbytes:
            raise ctx.fail(f"blosc header says {cbytes} compressed bytes but the chunk has {buf.nbytes}")


def nc_decode(codec, data, ctx: DecodeContext = NO_CONTEXT, out: memoryview | None = None,
              expected: int | None = None):
    """Decode ``data`` with numcodecs ``codec``.

    With ``out`` (a writable uint8 memoryview) the result lands in ``out``, which must be
    filled exactly; otherwise the decoded buffer is returned (size-checked against
    ``expected`` when given).
    """
    codec_id = getattr(codec, "codec_id", "?")
    buf = as_byte_view(data)
    _precheck(codec_id, buf, ctx)
    want = out.nbytes if out is not None else expected
    try:
        announced = decoded_size(codec_id, buf)
        if announced == 0 and not want:
            return out if out is not None else b""  # blosc reports 0 bytes as an error
        if out is not None and announced == want:
            codec.decode(buf, out=np.frombuffer(out, dtype=np.uint8))
            return out
        res = codec.decode(buf)
    except MemoryError:
        raise
    except Exception as e:  # every library has its own exception types
        raise ctx.fail(f"{codec_id} decompression failed", e) from e
    if want is not None:
        try:
            got = as_byte_view(res).nbytes
        except (TypeError, ValueError):
            return res  # object arrays from object codecs: checked by the caller
        if got != want:
            raise ctx.fail(f"{codec_id} produced {got} bytes, expected {want}")
        if out is not None:
            out[:] = as_byte_view(res)
            return out
    return res


def nc_encode(codec, data) -> bytes:
    res = codec.encode(data)
    if isinstance(res, bytes):
        return res
    return bytes(as_byte_view(res)) if not isinstance(res, np.ndarray) or res.dtype != object else res
