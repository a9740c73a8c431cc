"""The parts of a c-blosc (1.x) frame's 16-byte header that compiled and calibrating code
read: where the flags byte and the block size are, and the flag bits used."""

from __future__ import annotations

__all__ = ["OVERHEAD", "FLAGS_AT", "NBYTES_AT", "BLOCKSIZE_AT", "CBYTES_AT", "DOSHUFFLE",
           "MEMCPYED"]

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
