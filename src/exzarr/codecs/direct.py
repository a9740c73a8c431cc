"""One-call decoders: a chunk's compressed bytes straight into its output buffer.

The checked route (:func:`~exzarr.codecs.numcodecs_adapter.nc_decode`) bounds every
decompression, names the chunk in every error and handles every codec; for the common
compressors on the hot path of a read, most of its cost per chunk is Python around the
one library call.  A direct decoder is that call alone, taken only when it gives exactly
the size the output has (zstd through the bound libzstd: the library writes at most that
and says how much came out; numcodecs' ``decompress`` and c-blosc: when the chunk's
header announces that size, and the library then checks the rest):
``into(buf, out) -> bool``.  False means nothing in ``out`` is to be trusted, and the
caller decodes the chunk the checked way, which says what is wrong with it.  A bomb, a
truncated frame or trailing bytes therefore cost one failed call and then fail exactly
as before.

zstd chunks are decoded through the library inside numcodecs' own extension (which exports
libzstd's functions) with one decompression context per thread, made once: numcodecs'
``decompress`` makes and frees a context for every chunk (12-20 µs per call measured here,
against ~55 µs to decode a 64 KiB inner chunk).  Where that library cannot be bound,
numcodecs' ``decompress`` is called instead.  The same binding carries libzstd's
``ZSTD_compress2`` with one compression context per thread (``NativeZstd.compressor``),
which compiled kernels call to encode chunks (:mod:`exzarr.array.batch_encode`) and
:func:`~exzarr.codecs.numcodecs_adapter.nc_encode` calls for one chunk.

Frames of up to :data:`SMALL_FRAME_BYTES` are compressed with the newest libzstd at hand
(``NativeZstd.compressor_for``): the one bundled with the ``zstandard`` package (a
dependency; 1.5.7 here) when it is newer than numcodecs' (1.5.6 here).  It encodes the
small chunks of sharded arrays faster: 10-20 % for 64 KiB at levels 1 and 3, 7-10 % for
256 KiB (``ZSTD_compress2`` with one context in a loop), but 1 MiB chunks at level 1
4-10 % slower (in a loop, and writing an array of them taking turns in one process), so
larger frames keep numcodecs' library.  Its new pre-splitter (which looks for where to
end each 128 KiB block early) is turned off: it cost time at every size, and without it
the level-1 frames are 1.5.6's byte for byte.  Decoding stays with numcodecs' library
(1.5.7 decodes no faster).
"""

from __future__ import annotations

import struct
import threading
from collections.abc import Callable
from functools import cache, cached_property

import numpy as np

from ..kernels.blosc_frame import CBYTES_AT, NBYTES_AT, OVERHEAD
from .bounded import zstd_content_size

__all__ = ["direct_decoder", "native_zstd", "NativeZstd", "ZstdInto", "native_blosc",
           "NativeBlosc", "BloscInto"]

Into = Callable[[memoryview, np.ndarray], bool]


def _source(buf: memoryview | bytes | np.ndarray) -> tuple[bytes | int, int]:
    """What a ctypes ``c_void_p`` argument takes for ``buf``'s first byte, and its size in
    bytes: a ``bytes`` object itself (also behind a memoryview of all of it, as a chunk
    read from a store comes), else the address of its buffer."""
    if isinstance(buf, bytes):
        return buf, len(buf)
    obj = getattr(buf, "obj", None)
    if type(obj) is bytes and buf.nbytes == len(obj):
        return obj, buf.nbytes
    return np.frombuffer(buf, dtype=np.uint8).__array_interface__["data"][0], buf.nbytes


def _attempt(decompress: Callable[[memoryview, np.ndarray], object], buf: memoryview,
             out: np.ndarray) -> bool:
    """One library call; any failure declines the chunk (the checked route then explains)."""
    try:
        decompress(buf, out)
    except Exception:
        return False
    return True


class _Ctx:
    """One zstd (de)compression context (freed with this object, i.e. with its thread)."""

    __slots__ = ("ptr", "_free")

    def __init__(self, create: Callable[[], int | None], free: Callable[[int], object]):
        ptr = create()
        if not ptr:
            raise MemoryError("creating a zstd context failed")
        self.ptr, self._free = ptr, free

    def __del__(self) -> None:
        try:
            self._free(self.ptr)
        except Exception:  # interpreter shutdown
            pass


class NativeZstd:
    """libzstd's functions inside numcodecs' zstd extension, bound with ctypes, and one
    decompression context per thread.  ``decompress``/``content_size`` are the raw ctypes
    functions (``ZSTD_decompressDCtx``, ``ZSTD_getFrameContentSize``; errors come back as
    negative numbers); ``addresses`` are theirs and C's ``memmove``'s, which compiled
    kernels call (:mod:`exzarr.kernels.cfunc`, with :meth:`context`), or None where
    pointers are not 64-bit."""

    def __init__(self, lib, small_lib=None) -> None:
        import ctypes

        vp, sz = ctypes.c_void_p, ctypes.c_size_t
        self._create, self._free = lib.ZSTD_createDCtx, lib.ZSTD_freeDCtx
        self._create.argtypes, self._create.restype = [], vp
        self._free.argtypes, self._free.restype = [vp], sz
        self.decompress = lib.ZSTD_decompressDCtx
        self.decompress.argtypes, self.decompress.restype = [vp, vp, sz, vp, sz], ctypes.c_ssize_t
        self.content_size = lib.ZSTD_getFrameContentSize
        self.content_size.argtypes, self.content_size.restype = [vp, sz], ctypes.c_longlong
        #: (content_size, decompress, memmove) as addresses, for compiled code
        self.addresses: tuple[int, int, int] | None = None
        if ctypes.sizeof(vp) == 8 and ctypes.sizeof(sz) == 8:
            cs, dec, mm = (ctypes.cast(f, vp).value
                           for f in (self.content_size, self.decompress, ctypes.memmove))
            if cs and dec and mm:
                self.addresses = (cs, dec, mm)
        self._local = threading.local()
        #: ``ZSTD_compress2`` of ``lib``, and of ``small_lib`` for frames of up to
        #: :data:`SMALL_FRAME_BYTES` (:meth:`compressor_for`)
        self.compressor = _Compressor(lib, self.addresses is not None)
        self.small_compressor = self.compressor if small_lib is None or small_lib is lib \
            else _Compressor(small_lib, self.addresses is not None)
        from .zstd_prefix import PrefixDecoder

        #: decodes the start of a frame (:mod:`exzarr.codecs.zstd_prefix`), or None
        self.prefix: PrefixDecoder | None
        try:
            self.prefix = PrefixDecoder(lib, lambda: _Ctx(self._create, self._free))
        except AttributeError:  # a library without the streaming API
            self.prefix = None

    def compressor_for(self, nbytes: int) -> _Compressor:
        """The compressor for frames of ``nbytes``."""
        return self.small_compressor if nbytes <= SMALL_FRAME_BYTES else self.compressor

    def context(self) -> int:
        """This thread's decompression context (made on first use, freed with the thread)."""
        ctx = getattr(self._local, "ctx", None)
        if ctx is None:
            ctx = self._local.ctx = _Ctx(self._create, self._free)
        return ctx.ptr

    def frame_functions(self) -> tuple[int, int, int, int] | None:
        """(content size, decompress, this thread's context, C's ``memmove``): what
        compiled kernels call to decode one frame whole
        (:func:`~exzarr.kernels.decode_scatter.decode_copy`), or None where pointers are
        not 64-bit."""
        if self.addresses is None:
            return None
        content_size, decompress, memmove = self.addresses
        return content_size, decompress, self.context(), memmove

    def scatter(self, src: np.ndarray, starts: np.ndarray, stops: np.ndarray, nbytes: int,
                scratch: np.ndarray, out: np.ndarray, bases: np.ndarray, skips: np.ndarray,
                extents: np.ndarray, out_strides: np.ndarray, chunk_strides: np.ndarray,
                item: int) -> int:
        """:func:`~exzarr.kernels.decode_scatter.decode_scatter` of zstd frames (same
        arguments and answer, without the functions); imports Numba."""
        from ..kernels.decode_scatter import decode_scatter

        assert self.addresses is not None
        content_size, decompress, memmove = self.addresses
        return decode_scatter(content_size, decompress, self.context(), memmove, src, starts,
                              stops, nbytes, scratch, out, bases, skips, extents, out_strides,
                              chunk_strides, item)

    def __call__(self, buf: memoryview, out: np.ndarray) -> None:
        """Decode ``buf`` into ``out`` (a writable flat uint8 array); raises unless exactly
        ``out.nbytes`` came out."""
        if not self.into(buf, out):
            raise ValueError("zstd decompression failed")

    def into(self, buf: memoryview | bytes | np.ndarray, out: np.ndarray) -> bool:
        """Decode the zstd frames in ``buf`` (bytes, or a C-contiguous byte buffer) into
        ``out``'s bytes (a writable C-contiguous array): whether exactly ``out.nbytes``
        came out (the library writes at most that many and fails a frame that would write
        more; what it wrote is not to be trusted otherwise).  As few Python steps as it
        takes: a chunk that has just come over the network is decoded with cold caches,
        where each step costs several times what it does in a loop (a 64 KiB chunk right
        after its GET from moto: ~240-270 µs of the thread's CPU through the whole checked
        route, ~190 from the reader through this, ~105-140 for the library call alone).
        A buffer the call cannot be handed (a strided view) answers False too: the caller
        then goes the checked route, which says what is wrong."""
        try:
            try:
                ctx = self._local.ctx.ptr
            except AttributeError:
                ctx = self.context()
            src, size = _source(buf)
            n = out.nbytes
            return self.decompress(ctx, out.__array_interface__["data"][0], n, src, size) == n
        except Exception:
            return False


#: ZSTD_cParameter values (zstd.h, stable API)
_C_COMPRESSION_LEVEL = 100
_C_CHECKSUM_FLAG = 201
#: ZSTD_c_blockSplitterLevel (zstd.h, experimental: ZSTD_c_experimentalParam20, from
#: libzstd 1.5.7 on) and its value that turns the pre-splitter off
_C_BLOCK_SPLITTER_LEVEL, _NO_PRESPLIT, _PRESPLIT_SINCE = 1017, 1, 10507


#: the largest frame (of uncompressed bytes) the newest libzstd compresses
SMALL_FRAME_BYTES = 256 << 10

#: the largest compression context a thread keeps between calls: a context's workspace
#: follows its level and the frames it made (here, for 4 MiB chunks: 0.6 MiB at level 1,
#: 1.2 at 3, 10.5 at 9, 49 at 19, 65 at 22), and one per thread and level would hold
#: that much memory for as long as the thread lives; contexts above this are made for
#: each call (at such levels compressing costs far more than making the context)
KEEP_CONTEXT_BYTES = 16 << 20

#: the largest output buffer a thread keeps for :meth:`_Compressor.compress` (bigger
#: chunks get one of their own per call)
KEEP_OUT_BYTES = 8 << 20


class _Compressor:
    """libzstd's ``ZSTD_compress2`` for compiled code: its address (``address``, None
    when it cannot be bound or pointers are not 64-bit), ``bound(n)`` and one compression
    context per thread and (level, checksum); :meth:`compress` calls it from Python.  Its
    frames are numcodecs' ``Zstd(level, checksum)`` frames (numcodecs sets the same two
    parameters on a fresh context and calls the same function), byte for byte where the
    two libraries are one version."""

    def __init__(self, lib, addressable: bool) -> None:
        import ctypes

        vp, sz, c_int = ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int
        self.address: int | None = None
        self._compress = None
        try:
            self._create, self._free = lib.ZSTD_createCCtx, lib.ZSTD_freeCCtx
            self._set = lib.ZSTD_CCtx_setParameter
            self._bound = lib.ZSTD_compressBound
            compress2 = lib.ZSTD_compress2
        except AttributeError:
            return
        #: ``ZSTD_sizeof_CCtx`` (None where missing: every context is kept)
        self._sizeof = getattr(lib, "ZSTD_sizeof_CCtx", None)
        self._create.argtypes, self._create.restype = [], vp
        self._free.argtypes, self._free.restype = [vp], sz
        self._set.argtypes, self._set.restype = [vp, c_int, c_int], sz
        self._bound.argtypes, self._bound.restype = [sz], sz
        if self._sizeof is not None:
            self._sizeof.argtypes, self._sizeof.restype = [vp], sz
        compress2.argtypes, compress2.restype = [vp, vp, sz, vp, sz], ctypes.c_ssize_t
        self._compress, self._lib = compress2, lib
        self._params = [(_C_BLOCK_SPLITTER_LEVEL, _NO_PRESPLIT)] \
            if _version(lib) >= _PRESPLIT_SINCE else []
        if addressable:
            self.address = ctypes.cast(compress2, vp).value or None
        self._local = threading.local()

    def bound(self, nbytes: int) -> int:
        """The most bytes one frame of ``nbytes`` can take."""
        return int(self._bound(nbytes))

    def context(self, level: int, checksum: bool) -> int:
        """This thread's compression context for ``level`` and ``checksum``."""
        contexts = getattr(self._local, "contexts", None)
        if contexts is None:
            contexts = self._local.contexts = {}
        ctx = contexts.get((level, checksum))
        if ctx is None:
            ctx = _Ctx(self._create, self._free)
            for param, value in ((_C_COMPRESSION_LEVEL, level),
                                 (_C_CHECKSUM_FLAG, int(checksum)), *self._params):
                if self._set(ctx.ptr, param, value) >= (1 << 64) - 120:  # ZSTD_isError
                    raise ValueError(f"zstd refused parameter {param}={value}")
            contexts[(level, checksum)] = ctx
        return ctx.ptr

    def release(self, level: int, checksum: bool) -> None:
        """Free this thread's context for ``level`` and ``checksum`` when it has grown
        beyond :data:`KEEP_CONTEXT_BYTES` (call it once the context's frames are made)."""
        contexts = getattr(self._local, "contexts", None)
        if contexts is None or self._sizeof is None:
            return
        ctx = contexts.get((level, checksum))
        if ctx is not None and self._sizeof(ctx.ptr) > KEEP_CONTEXT_BYTES:
            del contexts[(level, checksum)]  # (freed with the object)

    @property
    def callable(self) -> bool:
        """Whether :meth:`compress` can be called."""
        return self._compress is not None

    def compress(self, data: np.ndarray, level: int, checksum: bool) -> bytes:
        """One frame of ``data`` (a C-contiguous array) with this thread's context: the
        frame is made in a buffer of the bound's size, this thread's own up to
        :data:`KEEP_OUT_BYTES` (reused: its pages stay mapped), and copied out at its
        size."""
        assert self._compress is not None
        need = self.bound(data.nbytes)
        out = getattr(self._local, "out", None)
        if out is None or out.nbytes < need:
            out = np.empty(need, dtype=np.uint8)
            if need <= KEEP_OUT_BYTES:
                self._local.out = out
        n = self._compress(self.context(level, checksum), out.ctypes.data, need,
                           data.ctypes.data, data.nbytes)
        self.release(level, checksum)
        if n < 0:  # ZSTD_isError: cannot happen with a buffer of the bound's size
            raise ValueError(f"zstd compression failed (error code {n})")
        return out[:n].tobytes()


@cache
def native_zstd() -> NativeZstd | None:
    """numcodecs' libzstd bound with ctypes (small frames compressed with the newest
    libzstd at hand, :func:`_newest`), or None when its functions cannot be bound."""
    import ctypes  # here: opening an array does not pay for it

    try:
        from numcodecs import zstd as module
        lib = ctypes.CDLL(module.__file__)
    except (ImportError, OSError, AttributeError, TypeError):
        return None
    try:
        return NativeZstd(lib, _newest(lib, _zstandard_library()))
    except (OSError, AttributeError, TypeError):
        return None


def _zstandard_library():
    """The libzstd inside the ``zstandard`` package (its cffi extension exports libzstd's
    functions), loaded without importing the package, or None."""
    import ctypes
    import importlib.machinery
    import importlib.util
    from pathlib import Path

    try:
        spec = importlib.util.find_spec("zstandard")
    except (ImportError, ValueError):
        return None
    for folder in (spec.submodule_search_locations or []) if spec is not None else []:
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            path = Path(folder) / f"_cffi{suffix}"
            if path.is_file():
                try:
                    return ctypes.CDLL(str(path))
                except OSError:
                    return None
    return None


def _version(lib) -> int:
    """A libzstd's ``ZSTD_versionNumber()`` (10507 for 1.5.7), or -1 when it cannot say."""
    import ctypes

    try:
        f = lib.ZSTD_versionNumber
    except AttributeError:
        return -1
    f.argtypes, f.restype = [], ctypes.c_uint
    return int(f())


def _newest(lib, other):
    """Whichever of two libzstds reports the higher version (``lib`` on a tie, or when
    ``other`` is None or cannot say)."""
    return other if other is not None and _version(other) > _version(lib) else lib


def _numcodecs_zstd() -> Callable[[memoryview, np.ndarray], object]:
    from numcodecs.zstd import decompress
    return decompress


#: Content_Checksum_flag in a zstd frame header's descriptor byte (the byte after the magic)
_CHECKSUM_FLAG = 0x04


class ZstdInto:
    """The one-call decoder of zstd chunks of ``nbytes``; ``native`` (None when the
    library could not be bound) lets a caller decode many chunks in one compiled call."""

    __slots__ = ("nbytes", "native", "_decompress")

    def __init__(self, nbytes: int) -> None:
        self.nbytes = nbytes
        self.native = native_zstd()
        self._decompress = self.native or _numcodecs_zstd()

    def __call__(self, buf: memoryview, out: np.ndarray) -> bool:
        native = self.native
        if native is not None:  # the library's answer is exact: no need to read the header
            return native.into(buf, out)
        # numcodecs' ``decompress`` fills ``out`` only up to the size the frame announces
        return zstd_content_size(buf) == self.nbytes and _attempt(self._decompress, buf, out)

    def prefix(self, buf: memoryview, out: np.ndarray, need: int) -> bool:
        """Decode only the first ``need`` bytes of the chunk into ``out`` (its flat uint8
        buffer), when the frame allows it (:mod:`exzarr.codecs.zstd_prefix`); False:
        nothing in ``out`` is to be trusted, decode the chunk whole."""
        native = self.native
        decoder = native.prefix if native is not None else None
        if (decoder is None or not 0 < need < self.nbytes or buf.nbytes < 6
                or buf[4] & _CHECKSUM_FLAG or zstd_content_size(buf) != self.nbytes):
            return False
        return decoder(np.frombuffer(buf, dtype=np.uint8), out, need)


class NativeBlosc:
    """c-blosc's ``blosc_decompress_ctx`` inside numcodecs' extension for compiled code:
    ``addresses`` (frame size, decompress, C's ``memmove``: the shapes
    :mod:`exzarr.kernels.decode_scatter` calls, through the adapters of
    :mod:`exzarr.kernels.blosc_adapter`, compiled on first use), ``context()`` (the
    address of ``blosc_decompress_ctx``) and :meth:`scatter`, which reads the frames
    block by block (:mod:`exzarr.kernels.blosc_place`) with the streams' decompressors
    from the same extension (``streams``: the addresses of ``blosclz_decompress``,
    ``LZ4_decompress_safe`` and ``ZSTD_decompressDCtx``, or None when one is missing;
    with one zstd context per thread)."""

    def __init__(self, function: int, memmove: int, streams: tuple[int, int, int] | None = None,
                 zstd_context: tuple[Callable[[], int | None], Callable[[int], object]] | None
                 = None) -> None:
        self._function, self._memmove = function, memmove
        self.streams = streams
        self._zstd_context = zstd_context
        self._local = threading.local()

    def context(self) -> int:
        return self._function

    @cached_property
    def addresses(self) -> tuple[int, int, int]:
        from ..kernels.blosc_adapter import decode_addresses  # imports Numba
        size, decompress = decode_addresses()
        return size, decompress, self._memmove

    def _funcs(self) -> np.ndarray:
        """This thread's ``funcs`` for :func:`~exzarr.kernels.blosc_place.blosc_place`
        (zeros where a function is missing: those frames go c-blosc's way)."""
        funcs = getattr(self._local, "funcs", None)
        if funcs is None:
            funcs = np.zeros(4, dtype=np.int64)
            if self.streams is not None:
                funcs[:3] = self.streams
                if self._zstd_context is not None:
                    try:
                        self._local.ctx = _Ctx(*self._zstd_context)
                        funcs[3] = self._local.ctx.ptr
                    except MemoryError:
                        pass  # zstd frames go c-blosc's way
            self._local.funcs = funcs
        return funcs

    def frame_functions(self) -> tuple[int, int, int, int] | None:
        """:meth:`NativeZstd.frame_functions` for c-blosc's whole-frame route, or None
        when the frames go block by block (:meth:`scatter`, faster where the streams'
        decompressors are there); imports Numba."""
        if self.streams is not None:
            return None
        content_size, decompress, memmove = self.addresses
        return content_size, decompress, self._function, memmove

    def scatter(self, src: np.ndarray, starts: np.ndarray, stops: np.ndarray, nbytes: int,
                scratch: np.ndarray, out: np.ndarray, bases: np.ndarray, skips: np.ndarray,
                extents: np.ndarray, out_strides: np.ndarray, chunk_strides: np.ndarray,
                item: int) -> int:
        """:meth:`NativeZstd.scatter` for blosc frames; imports Numba."""
        content_size, decompress, memmove = self.addresses
        if self.streams is None:
            from ..kernels.decode_scatter import decode_scatter

            return decode_scatter(content_size, decompress, self._function, memmove, src,
                                  starts, stops, nbytes, scratch, out, bases, skips, extents,
                                  out_strides, chunk_strides, item)
        from ..kernels.blosc_place import blosc_place

        return blosc_place(self._funcs(), content_size, decompress, self._function, memmove,
                           src, starts, stops, nbytes, scratch, out, bases, skips, extents,
                           out_strides, chunk_strides, item)


def _blosc_streams(lib) -> tuple[tuple[int, int, int] | None, tuple | None]:
    """The addresses of the stream decompressors inside c-blosc's extension ``lib`` and
    its zstd context's (create, free), or Nones where one is not exported or the machine
    is big-endian (the kernel joins little-endian words)."""
    import ctypes
    import sys

    if sys.byteorder != "little":
        return None, None
    vp, sz = ctypes.c_void_p, ctypes.c_size_t
    try:
        streams = tuple(ctypes.cast(getattr(lib, name), vp).value for name in
                        ("blosclz_decompress", "LZ4_decompress_safe", "ZSTD_decompressDCtx"))
        create, free = lib.ZSTD_createDCtx, lib.ZSTD_freeDCtx
    except AttributeError:
        return None, None
    if not all(streams):
        return None, None
    create.argtypes, create.restype = [], vp
    free.argtypes, free.restype = [vp], sz
    return streams, (create, free)  # type: ignore[return-value]


@cache
def native_blosc() -> NativeBlosc | None:
    """numcodecs' c-blosc decompressor for compiled code, or None (not bound, pointers not
    64-bit)."""
    import ctypes

    if ctypes.sizeof(ctypes.c_void_p) != 8 or ctypes.sizeof(ctypes.c_size_t) != 8:
        return None
    try:
        from numcodecs import blosc as module
        lib = ctypes.CDLL(module.__file__)
        function = ctypes.cast(lib.blosc_decompress_ctx, ctypes.c_void_p).value
        memmove = ctypes.cast(ctypes.memmove, ctypes.c_void_p).value
    except (ImportError, OSError, AttributeError, TypeError):
        return None
    if not function or not memmove:
        return None
    return NativeBlosc(function, memmove, *_blosc_streams(lib))


class BloscInto:
    """The one-call decoder of blosc chunks of ``nbytes``; ``native`` (None when c-blosc
    could not be bound) lets a caller decode and place chunks in compiled calls."""

    __slots__ = ("nbytes", "native", "_decompress")

    def __init__(self, nbytes: int) -> None:
        from numcodecs.blosc import decompress

        self.nbytes = nbytes
        self.native = native_blosc()
        self._decompress = decompress

    def __call__(self, buf: memoryview, out: np.ndarray) -> bool:
        # header: nbytes, blocksize, cbytes (the frame's own length) from offset 4
        return (buf.nbytes >= OVERHEAD
                and struct.unpack_from("<I", buf, NBYTES_AT)[0] == self.nbytes
                and struct.unpack_from("<I", buf, CBYTES_AT)[0] == buf.nbytes
                and _attempt(self._decompress, buf, out))


#: numcodecs' own codec classes (module, class name) -> the decoder factory
_FACTORIES: dict[tuple[str, str], Callable[[int], Into]] = {
    ("numcodecs.zstd", "Zstd"): ZstdInto, ("numcodecs.blosc", "Blosc"): BloscInto}


def direct_decoder(codec: object, nbytes: int) -> Into | None:
    """The one-call decoder for numcodecs codec instance ``codec`` and chunks of exactly
    ``nbytes`` (``out``: a flat uint8 array of that size), or None when there is none
    (other codecs, and other classes registered under numcodecs' ids)."""
    cls = type(codec)
    make = _FACTORIES.get((cls.__module__, cls.__name__))
    if make is None or nbytes <= 0:
        return None
    return make(nbytes)
