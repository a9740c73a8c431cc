"""The parts of a c-blosc (1.x) frame that compiled and calibrating code read: the fields
of its 16-byte header, the flag bits, the compressor formats, and when a block is split
into streams (the layout c-blosc's format document and its decompressor define)."""

from __future__ import annotations

__all__ = ["OVERHEAD", "FLAGS_AT", "NBYTES_AT", "BLOCKSIZE_AT", "CBYTES_AT", "DOSHUFFLE",
           "MEMCPYED", "VERSION_FORMAT", "DOBITSHUFFLE", "FUTURE_FLAG", "DONT_SPLIT",
           "FORMAT_SHIFT", "BLOSCLZ_FORMAT", "LZ4_FORMAT", "ZSTD_FORMAT", "FORMAT_VERSION",
           "MAX_SPLITS", "MIN_BUFFERSIZE", "MAX_BUFFERSIZE", "MAX_BLOCKSIZE"]

#: c-blosc's BLOSC_MAX_OVERHEAD: a frame takes at most this many bytes beyond its data
#: (its header)
OVERHEAD = 16
#: offset of the flags byte
FLAGS_AT = 2
#: offsets of the uncompressed size, the block size and the frame's own length (each a
#: little-endian uint32)
NBYTES_AT, BLOCKSIZE_AT, CBYTES_AT = 4, 8, 12
#: flag bits: the data was byte-shuffled; the data is stored verbatim (not compressed)
DOSHUFFLE, MEMCPYED = 0x1, 0x2

#: the header's format version c-blosc 1.x writes and reads (byte 0)
VERSION_FORMAT = 2
#: more flag bits: bit shuffle; a bit c-blosc 1.x refuses (from a later format); blocks
#: not split into one stream per byte of the items
DOBITSHUFFLE, FUTURE_FLAG, DONT_SPLIT = 0x4, 0x8, 0x10
#: the compressor format is the flags' top three bits; the formats' codes and the version
#: byte (byte 1) each has
FORMAT_SHIFT = 5
BLOSCLZ_FORMAT, LZ4_FORMAT, ZSTD_FORMAT = 0, 1, 4
FORMAT_VERSION = 1
#: a block is split into one stream per byte of the items when the items are at most
#: MAX_SPLITS bytes and the block holds at least MIN_BUFFERSIZE of them (and it is not the
#: last, shorter block, and DONT_SPLIT is not set)
MAX_SPLITS, MIN_BUFFERSIZE = 16, 128
#: the largest uncompressed size and block size c-blosc 1.x accepts
MAX_BUFFERSIZE = 2 ** 31 - 1 - OVERHEAD
MAX_BLOCKSIZE = (2 ** 31 - 1 - 255 * 4) // 3
