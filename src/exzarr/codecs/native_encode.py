"""Compressors that compiled code calls: zstd and blosc chunks encoded without Python.

A write that covers chunks whole hands them to
:func:`~exzarr.kernels.encode_gather.encode_gather` (:mod:`exzarr.array.batch_encode`),
which gathers each chunk, checks it against the fill value and compresses it, all without
the GIL, through a C function of the shape of libzstd's ``ZSTD_compress2(ctx, dst,
capacity, src, size) -> size``.  A :class:`NativeEncoder` is such a function for one codec
configuration: its address, the context pointer to pass, the most bytes one frame can take
and C's ``memmove`` (the kernel's copy).

- no compressor: the chunk's bytes are its frame (:func:`raw_encoder`); the kernel
  gathers them straight into its output and checks them against the fill there.
- zstd: libzstd's ``ZSTD_compress2`` (numcodecs', or for small chunks the newest at hand:
  :mod:`exzarr.codecs.direct`) with one compression context per thread and (level,
  checksum): numcodecs' ``Zstd`` frames (byte for byte where its libzstd is the one
  bound).  A chunk encoded alone takes the same function (:func:`zstd_frame`), so both
  routes write the same bytes; numcodecs' own ``encode`` makes and frees a context for
  every chunk.
- blosc: c-blosc's ``blosc_compress_ctx`` inside numcodecs' extension, through a compiled
  adapter (:mod:`exzarr.kernels.blosc_adapter`), with the arguments numcodecs' ``Blosc``
  passes (one internal thread, as numcodecs does off the main thread; blosc's internal
  threads do not change its output): numcodecs' frames byte for byte.  numcodecs' own
  ``encode`` of a 1 MiB chunk spends as much again in a fresh 1 MiB output object and the
  copy of the frame out of it (measured here: 2.4 GB/s against 3.9 GB/s direct, 2 threads).
  With byte shuffle, :meth:`NativeEncoder.for_chunks` gives, for chunks of a given size, a
  variant that takes the chunk already shuffled (the kernel shuffles while it gathers:
  :mod:`exzarr.codecs.blosc_preshuffle`), checked once to give the same frames.

Everything here is looked up on first use; the adapter's compilation (Numba) waits until a
kernel is about to run (:attr:`NativeEncoder.address`).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache, cached_property
from typing import Any

from ..kernels.blosc_frame import OVERHEAD as _BLOSC_OVERHEAD
from . import blosc_preshuffle
from .blosc_preshuffle import Preshuffle
from .direct import native_zstd

__all__ = ["NativeEncoder", "raw_encoder", "zstd_encoder", "blosc_encoder",
           "numcodecs_encoder", "zstd_frame"]


class NativeEncoder:
    """One codec configuration as a C compressor for compiled code.  ``address`` (made
    on first use), ``context()`` (the ``ctx`` argument for the calling thread, and
    ``release()`` to call once that call has returned),
    ``bound(nbytes)`` (the most bytes a frame of ``nbytes`` takes), ``memmove`` (C's, for
    the kernel's copies).  ``shuffle``: None, or how the kernel must shuffle a chunk
    before it calls this compressor (a variant from :meth:`for_chunks`)."""

    def __init__(self, make_address: Callable[[], int], context: Callable[[], int],
                 bound: Callable[[int], int], memmove: int, keep: Any = None,
                 variant: Callable[[int], NativeEncoder | None] | None = None,
                 shuffle: Preshuffle | None = None,
                 release: Callable[[], None] | None = None) -> None:
        self._make_address = make_address
        self.context = context
        #: call after a call with ``context()`` returns: frees a context grown too big
        #: to keep (:meth:`~exzarr.codecs.direct._Compressor.release`)
        self.release = release or _keep
        self.bound = bound
        self.memmove = memmove
        self.shuffle = shuffle
        self._keep = keep  # memory ``context()`` points into, alive as long as this
        self._variant = variant

    @cached_property
    def address(self) -> int:
        return self._make_address()

    def for_chunks(self, nbytes: int, row_bytes: int) -> NativeEncoder:
        """The encoder for chunks of ``nbytes`` gathered in rows of ``row_bytes``: the
        variant for that size where there is one (a pre-shuffled one only when the rows
        split into whole items), else this one."""
        found = None if self._variant is None else self._variant(nbytes)
        if found is None or (found.shuffle is not None
                             and row_bytes % found.shuffle.typesize):
            return self
        return found


def _keep() -> None:
    """``release`` of an encoder whose contexts are all kept."""


@cache
def _memmove() -> int | None:
    """C's ``memmove`` as an address, or None where pointers are not 64-bit (the calls of
    :mod:`exzarr.kernels.cfunc` are written for those only)."""
    import ctypes

    if ctypes.sizeof(ctypes.c_void_p) != 8 or ctypes.sizeof(ctypes.c_size_t) != 8:
        return None
    return ctypes.cast(ctypes.memmove, ctypes.c_void_p).value or None


@cache
def raw_encoder() -> NativeEncoder | None:
    """No compression (address 0: the kernel gathers each chunk's bytes straight into
    its output), or None where pointers are not 64-bit."""
    move = _memmove()
    return None if move is None else NativeEncoder(lambda: 0, lambda: 0, lambda n: n, move)


def zstd_encoder(level: int, checksum: bool) -> NativeEncoder | None:
    """numcodecs' ``Zstd(level, checksum)`` for compiled code (a variant for small chunks:
    :meth:`~exzarr.codecs.direct.NativeZstd.compressor_for`), or None when libzstd's
    ``ZSTD_compress2`` cannot be bound or called from compiled code."""
    native = native_zstd()
    if native is None or native.addresses is None:
        return None
    memmove = native.addresses[2]

    def encoder(comp, variant=None) -> NativeEncoder | None:
        address = comp.address
        if address is None:
            return None
        return NativeEncoder(lambda: address, lambda: comp.context(level, checksum),
                             comp.bound, memmove, variant=variant,
                             release=lambda: comp.release(level, checksum))

    small = encoder(native.small_compressor)
    return encoder(native.compressor, lambda nbytes: small if native.compressor_for(nbytes)
                   is not native.compressor else None)


def _zstd_settings(codec: Any) -> tuple[int, bool] | None:
    """(level, checksum) of numcodecs' own ``Zstd`` (other classes, even under that id,
    or settings of other types: None)."""
    cls = type(codec)
    if cls.__name__ != "Zstd" or cls.__module__ != "numcodecs.zstd":
        return None
    level, checksum = getattr(codec, "level", None), getattr(codec, "checksum", False)
    if not isinstance(level, int) or not isinstance(checksum, bool):
        return None
    return level, checksum


def zstd_frame(codec: Any, data: Any) -> bytes | None:
    """``codec.encode(data)`` through the bound libzstd with this thread's context, when
    ``codec`` is numcodecs' own ``Zstd`` and ``data`` a contiguous buffer of plain items
    (an array, bytes, a bytearray or a memoryview); None otherwise (the caller asks
    ``codec``)."""
    settings = _zstd_settings(codec)
    if settings is None:
        return None
    level, checksum = settings
    native = native_zstd()
    if native is None:
        return None
    import numpy as np

    if isinstance(data, np.ndarray):
        if data.dtype.hasobject or not data.flags.c_contiguous:
            return None
    elif isinstance(data, (bytes, bytearray)) or (isinstance(data, memoryview)
                                                  and data.c_contiguous):
        data = np.frombuffer(data, dtype=np.uint8)
    else:
        return None
    comp = native.compressor_for(data.nbytes)
    return comp.compress(data, level, checksum) if comp.callable else None


@cache
def _blosc_functions() -> tuple[int, int] | None:
    """(``blosc_compress_ctx``, ``memmove``) as addresses, or None when they cannot be
    bound or pointers are not 64-bit."""
    import ctypes

    move = _memmove()
    if move is None:
        return None
    try:
        from numcodecs import blosc as module
        compress = ctypes.CDLL(module.__file__).blosc_compress_ctx
    except (ImportError, OSError, AttributeError, TypeError):
        return None
    found = ctypes.cast(compress, ctypes.c_void_p).value
    return (found, move) if found else None


def _adapter() -> int:
    from ..kernels.blosc_adapter import compress_address  # imports Numba
    return compress_address()


def _preshuffled_adapter() -> int:
    from ..kernels.blosc_adapter import preshuffled_address  # imports Numba
    return preshuffled_address()


def _blosc_bound(nbytes: int) -> int:
    """The room the adapter needs for a frame of ``nbytes``."""
    return nbytes + _BLOSC_OVERHEAD


@cache
def blosc_encoder(cname: str, clevel: int, shuffle: int, typesize: int,
                  blocksize: int) -> NativeEncoder | None:
    """numcodecs' ``Blosc`` frames of items of ``typesize`` bytes (``shuffle``: 0 none,
    1 byte, 2 bit) for compiled code, or None when c-blosc cannot be bound."""
    found = _blosc_functions()
    if found is None or shuffle not in (0, 1, 2) or typesize < 1 or blocksize < 0:
        return None
    import ctypes

    import numpy as np

    function, memmove = found
    name = ctypes.create_string_buffer(cname.encode("ascii"))
    params = np.array([function, clevel, shuffle, typesize, blocksize,
                       ctypes.addressof(name)], dtype=np.int64)
    ctx = int(params.ctypes.data)

    @cache
    def preshuffled(nbytes: int) -> NativeEncoder | None:
        pre = None if shuffle != _SHUFFLE else blosc_preshuffle.plan(
            function, cname, clevel, typesize, blocksize, nbytes)
        if pre is None:
            return None
        # the adapter's block: no shuffle, the forced block size, then the real one
        block = np.array([function, clevel, 0, typesize, pre.forced, ctypes.addressof(name),
                          pre.block], dtype=np.int64)
        at = int(block.ctypes.data)
        return NativeEncoder(_preshuffled_adapter, lambda: at, _blosc_bound, memmove,
                             keep=(block, name), shuffle=pre)

    return NativeEncoder(_adapter, lambda: ctx, _blosc_bound, memmove, keep=(params, name),
                         variant=preshuffled)


#: numcodecs' AUTOSHUFFLE / BITSHUFFLE / SHUFFLE
_AUTOSHUFFLE, _SHUFFLE, _BITSHUFFLE = -1, 1, 2


def numcodecs_encoder(codec: Any, itemsize: int | None) -> NativeEncoder | None:
    """The native encoder giving ``codec.encode(chunk)``'s bytes for a chunk array of
    ``itemsize``-byte items, when ``codec`` is numcodecs' own ``Zstd`` or ``Blosc``
    (other classes, even under those ids: None).  ``itemsize`` None: the chunk's item
    size is not known, and a ``Blosc`` without its own ``typesize`` gets None."""
    cls = type(codec)
    kind = (cls.__module__, cls.__name__)
    if kind == ("numcodecs.zstd", "Zstd"):
        settings = _zstd_settings(codec)
        return None if settings is None else zstd_encoder(*settings)
    if kind == ("numcodecs.blosc", "Blosc"):
        # numcodecs: items of the given typesize, else of the buffer's; AUTOSHUFFLE is
        # bit shuffle for 1-byte items, byte shuffle otherwise
        typesize = getattr(codec, "_typesize", None)
        typesize = itemsize if typesize is None else typesize
        if typesize is None:
            return None
        shuffle = codec.shuffle
        if shuffle == _AUTOSHUFFLE:
            shuffle = _BITSHUFFLE if typesize == 1 else _SHUFFLE
        cname = codec.cname
        cname = cname.decode("ascii") if isinstance(cname, bytes) else cname
        if not isinstance(typesize, int) or not isinstance(cname, str):
            return None
        return blosc_encoder(cname, int(codec.clevel), int(shuffle), typesize,
                             int(codec.blocksize))
    return None
