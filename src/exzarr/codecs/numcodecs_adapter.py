"""v3 codecs named ``numcodecs.<id>``: any numcodecs codec used inside a v3 chain.

zarr-python writes ``{"name": "numcodecs.<id>", "configuration": {...}}`` (the numcodecs
config without ``id``).  The codec's place in the chain depends on what it does:
compressors and checksums are bytes -> bytes, filters such as delta are array -> array,
pcodec/zfpy are array -> bytes.  Third-party numcodecs codecs may declare
``exzarr_kind`` on their class; otherwise they are treated as bytes -> bytes.
"""

from __future__ import annotations

import math
from functools import cached_property

import numpy as np

from ..errors import ChecksumMismatchError
from ._base import (NO_CONTEXT, ArrayArrayCodec, ArrayBytesCodec, BytesBytesCodec, ChunkSpec,
                    DecodeContext, as_byte_view)
from ._nc import nc_decode, nc_encode, nc_get_codec

__all__ = ["numcodecs_v3_codec", "PREFIX", "kind_of_id"]

PREFIX = "numcodecs."

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
    from ._nc import numcodecs_registry

    cls = numcodecs_registry().get(codec_id)
    return getattr(cls, "exzarr_kind", "bytes_bytes")


class _Adapter:
    """Mixin holding a numcodecs config and the lazily built numcodecs instance."""

    requires = (("numcodecs", "numcodecs"),)
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

    def encode(self, data, spec: ChunkSpec) -> bytes:
        return nc_encode(self._nc, np.frombuffer(as_byte_view(data), dtype=np.uint8))

    def decode(self, data, spec: ChunkSpec, ctx: DecodeContext = NO_CONTEXT):
        if self.codec_id in _CHECKSUMS:
            return self._decode_checksum(data, ctx)
        return nc_decode(self._nc, data, ctx)

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
    def encode(self, arr: np.ndarray, spec: ChunkSpec) -> bytes:
        return nc_encode(self._nc, np.ascontiguousarray(arr))

    def decode(self, data, spec: ChunkSpec, ctx: DecodeContext = NO_CONTEXT,
               out: np.ndarray | None = None) -> np.ndarray:
        res = nc_decode(self._nc, bytes(as_byte_view(data)), ctx, expected=spec.nbytes)
        arr = np.frombuffer(as_byte_view(res), dtype=spec.dtype).reshape(spec.shape) \
            if not isinstance(res, np.ndarray) or res.dtype != spec.dtype else res.reshape(spec.shape)
        if out is not None:
            out[...] = arr
            return out
        return arr


_BASES = {"bytes_bytes": _BytesBytes, "array_array": _ArrayArray, "array_bytes": _ArrayBytes}
_classes: dict[str, type] = {}


def numcodecs_v3_codec(codec_id: str) -> type:
    """The v3 codec class for ``numcodecs.<codec_id>`` (created once per id)."""
    cls = _classes.get(codec_id)
    if cls is None:
        kind = kind_of_id(codec_id)
        cls = type(f"Numcodecs_{codec_id}", (_BASES[kind],),
                   {"codec_id": codec_id, "name": PREFIX + codec_id, "kind": kind,
                    "__module__": __name__})
        _classes[codec_id] = cls
    return cls
