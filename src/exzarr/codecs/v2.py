"""The Zarr v2 pipeline: ``filters`` (numcodecs, in order) then ``compressor``.

Decoding: compressor.decode, filters decoded in reverse, then the bytes viewed as the
array dtype in the array's ``order`` (C or F).  The dtype may be big-endian, datetime,
fixed-width bytes/unicode; the stored bytes are the dtype's own memory layout.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any, Literal

import numpy as np

from ..errors import InvalidMetadataError
from ._base import ChunkSpec, as_byte_view, max_chunk_bytes
from ._pipeline_base import PipelineBase
from .compressors import BloscCodec, GzipCodec, NumcodecsBackedCodec, ZstdCodec
from .direct import ZstdInto, direct_decoder
from .native_encode import numcodecs_encoder, raw_encoder
from .numcodecs_adapter import nc_decode, nc_encode
from .objects import OBJECT_IDS, decode_objects
from .registry import to_v2
from .vlen import VLEN_IDS, check_vlen_header

__all__ = ["V2CodecPipeline"]


class V2CodecPipeline(PipelineBase):
    zarr_format = 2

    @classmethod
    def from_json(cls, compressor, filters, spec: ChunkSpec, *,
                  skip_checksum: bool = False) -> "V2CodecPipeline":
        """A pipeline for the ``compressor`` and ``filters`` of v2 metadata (JSON dicts,
        numcodecs or exzarr codecs, or None)."""
        return cls(compressor, filters, spec, skip_checksum=skip_checksum)

    def __init__(self, compressor, filters, spec: ChunkSpec, *, skip_checksum: bool = False):
        self.spec = spec
        self.skip_checksum = skip_checksum
        self._compressor_given = compressor
        if compressor is not None and not _checked_without_numcodecs(compressor):
            self.__dict__["compressor"] = to_v2(compressor)  # built (and checked) now
        if filters is not None and not isinstance(filters, (list, tuple)):
            raise InvalidMetadataError(f"v2 filters must be a list or null, got {filters!r}")
        self.filters = [to_v2(f) for f in filters or []]
        # JSON as given (numcodecs' get_config may add defaulted keys zarr-python omits)
        self._compressor_json = (None if compressor is None else dict(compressor)
                                 if isinstance(compressor, dict) and "id" in compressor
                                 else _json_of(compressor, self.compressor))
        self._filters_json = [_json_of(f, nf) for f, nf in zip(filters or [], self.filters)] or None
        self._object = spec.dtype == np.dtype(object)
        # bytes in C order and in the array's order coincide when at most one axis has length > 1
        self._c_layout = spec.order == "C" or sum(s > 1 for s in spec.shape) <= 1
        self._order: Literal["C", "F"] = "F" if spec.order == "F" else "C"  # spec checked it

    @cached_property
    def compressor(self) -> Any:
        """The numcodecs compressor (None for none), built at the first chunk when the
        metadata was checked without numcodecs (opening does not import it)."""
        c = self._compressor_given
        return None if c is None else to_v2(c)

    def to_json(self):
        """``(compressor config or None, list of filter configs or None)``."""
        return self._compressor_json, self._filters_json

    def encode(self, arr: np.ndarray) -> bytes:
        arr = np.asarray(arr)
        if arr.shape != self.spec.shape:
            raise ValueError(f"chunk has shape {arr.shape}, expected {self.spec.shape}")
        chunk = arr.astype(self.spec.dtype, order=self._order, copy=False)
        if not (chunk.flags.c_contiguous if self._order == "C" else chunk.flags.f_contiguous):
            chunk = chunk.copy(order=self._order)
        for f in self.filters:
            chunk = f.encode(chunk)
        if isinstance(chunk, np.ndarray) and chunk.dtype == object:
            raise InvalidMetadataError(
                "cannot store an object array without an object codec (e.g. vlen-utf8) in filters"
            )
        data = nc_encode(self.compressor, chunk) if self.compressor is not None else chunk
        return data if isinstance(data, bytes) else bytes(as_byte_view(data))

    @cached_property
    def zero_copy(self) -> bool:  # type: ignore[override]
        return (self._compressor_given is None and not self.filters and not self._object
                and self._c_layout)

    @cached_property
    def _direct(self):
        """The compressor's one-call decoder (:mod:`exzarr.codecs.direct`), or None."""
        return direct_decoder(self.compressor, self.spec.nbytes)

    @property
    def native_decoder(self):  # type: ignore[override]
        """The compressor's decoder for compiled code when a chunk is one plain zstd or
        blosc frame of its bytes in C order (no filters), else None."""
        if self.filters or self._object or not self._c_layout:
            return None
        return getattr(self._direct, "native", None)

    @cached_property
    def native_encoder(self):  # type: ignore[override]
        """The compressor for compiled code when a chunk is stored as its bytes in C
        order, or one zstd or blosc frame of them (no filters; see
        :func:`~exzarr.codecs.native_encode.numcodecs_encoder`: the chunk array handed to
        numcodecs has the dtype's item size), else None."""
        if self.filters or self._object or not self._c_layout:
            return None
        if self._compressor_given is None:
            return raw_encoder()
        if self._direct is None:
            return None
        return numcodecs_encoder(self.compressor, self.spec.dtype.itemsize)

    def decode_prefix(self, raw, out: np.ndarray, need: int) -> bool:
        direct = self._direct
        if (not isinstance(direct, ZstdInto) or self.filters or self._object
                or not self._c_layout or not self.spec.takes(out)):
            return False
        return direct.prefix(as_byte_view(raw), out.reshape(-1).view(np.uint8), need)

    def decode(self, raw, *, store=None, key=None, out: np.ndarray | None = None,
               readonly: bool = False) -> np.ndarray:
        ctx = self._ctx(store, key)
        spec = self.spec
        if out is not None and not spec.takes(out):
            raise ValueError(f"out must be a writable C-contiguous ndarray of shape {spec.shape} "
                             f"and dtype {spec.dtype}")
        if not self.filters and not self._object and self._c_layout:
            if self.compressor is not None:
                target = out if out is not None else np.empty(spec.shape, dtype=spec.dtype)
                direct = self._direct
                if direct is None or not direct(as_byte_view(raw), target.reshape(-1).view(np.uint8)):
                    nc_decode(self.compressor, raw, ctx, out=as_byte_view(target),
                              dtype=spec.dtype, shape=spec.shape)
                return target
            mv = as_byte_view(raw)
            if mv.nbytes != spec.nbytes:
                raise ctx.fail(f"chunk holds {mv.nbytes} bytes, expected {spec.nbytes}")
            if readonly and out is None:
                return np.frombuffer(mv, dtype=spec.dtype).reshape(spec.shape)
            target = out if out is not None else np.empty(spec.shape, dtype=spec.dtype)
            as_byte_view(target)[:] = mv
            return target
        if self.compressor is not None:
            # an object chunk's size is not fixed (max_chunk_bytes); numeric filters change
            # item sizes by at most 8x (u1 <-> f8)
            plain = not self.filters and not self._object  # the compressor sees the chunk itself
            data = nc_decode(self.compressor, raw, ctx, expected=spec.nbytes if plain else None,
                             limit=None if self._object else max(max_chunk_bytes(), 8 * spec.nbytes),
                             dtype=spec.dtype if plain else None)
        else:
            data = raw
        for f in reversed(self.filters):
            codec_id = getattr(f, "codec_id", None)
            if codec_id in OBJECT_IDS:  # bounded, count-checked, pickle with an allow-list
                data = decode_objects(f, codec_id, data, spec.size, ctx)
                continue
            if codec_id in VLEN_IDS:
                check_vlen_header(data, spec.size, ctx, f.codec_id)
            try:
                data = f.decode(data)
            except Exception as e:
                raise ctx.fail(f"filter {f.codec_id!r} failed", e) from e
        if self._object:
            arr = np.asarray(data)
            if arr.dtype != object or arr.size != spec.size:
                raise ctx.fail("object chunk did not decode to an object array of the chunk size")
            arr = arr.reshape(spec.shape, order=self._order)
        else:
            mv = as_byte_view(data)
            if mv.nbytes != spec.nbytes:
                raise ctx.fail(f"chunk decoded to {mv.nbytes} bytes, expected {spec.nbytes}")
            arr = np.frombuffer(mv, dtype=spec.dtype).reshape(spec.shape, order=self._order)
        if out is not None:
            out[...] = arr
            return out
        return arr if arr.flags.writeable else arr.copy()


#: v2 compressor ids whose configuration exzarr's own codec classes check (the same
#: bytes as numcodecs' codecs): opening such an array needs no numcodecs import
_CHECKED_HERE: dict[str, type[NumcodecsBackedCodec]] = {
    "gzip": GzipCodec, "zstd": ZstdCodec, "blosc": BloscCodec}


def _checked_without_numcodecs(config: Any) -> bool:
    """Check a v2 compressor dict of an id in :data:`_CHECKED_HERE` (its module looked up,
    not imported; its keys and values validated) and say whether that was done."""
    if not isinstance(config, dict):
        return False
    cls = _CHECKED_HERE.get(config.get("id"))  # type: ignore[arg-type]
    if cls is None:
        return False
    cls.check_available(load=False)
    cfg = {k: v for k, v in config.items() if k != "id"}
    try:
        cls(**cls.configuration_from_numcodecs(cfg))
    except (TypeError, ValueError, IndexError, KeyError) as e:
        raise InvalidMetadataError(f"v2 compressor {config!r} is not a valid "
                                   f"{config['id']} configuration: {e}") from None
    return True


def _json_of(given, codec):
    if codec is None:
        return None
    if isinstance(given, dict) and "id" in given:
        return dict(given)
    return codec.get_config()
