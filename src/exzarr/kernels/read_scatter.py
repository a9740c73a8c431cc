"""Read chunks' files, decode them and place their boxes in the output, all in compiled
code: the whole of a read of many chunks from local files in one call per thread.

Read in groups from Python (:mod:`exzarr.array.group_read`), each group of chunks costs
the interpreter its files' opens and reads and a call into
:func:`~exzarr.kernels.decode_scatter.decode_scatter`: ~5 % of a one-thread read of 25
zstd chunks of 1 MiB, held under the GIL, which two threads then queue for.
:func:`read_scatter` takes a list of jobs, each a range of a file (a whole chunk file,
or a range of a shard holding several inner chunks) and the frames in it, and every
thread of the read runs it at once: each takes the next job from a shared counter
(:mod:`exzarr.kernels.atomic`), reads its bytes into the thread's buffer
(:mod:`exzarr.kernels.file_read`), and decodes each frame and copies its box into the
output as ``decode_scatter`` does (the same checks; a frame whose decoder is not given
by addresses goes the caller's way).

Nothing is raised here: each frame's ``status`` says what happened
(:mod:`exzarr.kernels.job_status`: done, its file missing, or refused, from a read that
failed to a frame that does not decode to exactly the chunk), and the caller takes every frame not
done its own checked way, which fills a missing chunk or says what is wrong.  A frame's
box in the output is written only by a frame that decoded whole.

This module imports Numba: import it only where the kernel is about to run.
"""

from __future__ import annotations

import numpy as np

from .atomic import fetch_add
from .decode_scatter import box_ok, box_row_bytes, decode_copy
from .file_read import FAILED as _FAILED
from .file_read import MISSING as _GONE
from .file_read import read_range
from .jit import lazy_njit
from .job_status import DONE, MISSING, REFUSED

__all__ = ["read_scatter"]


@lazy_njit
def read_scatter(fs, names, paths, starts, lengths, first, frame_starts, frame_stops, boxes,
                 counter, status, content_size, decompress, ctx, copy, buf, nbytes, scratch,
                 out, bases, skips, extents, out_strides, chunk_strides, item):
    """Do the jobs ``k`` taken from ``counter`` (an int64 array of one, starting at 0,
    shared by every thread of the read) until none is left: read ``lengths[k]`` bytes
    (-1: the whole file, which must be shorter than ``buf``) from byte ``starts[k]`` of
    the file at ``names[paths[k]:]`` (NUL-terminated) into ``buf`` (this thread's, a
    flat uint8 array) with ``fs`` (:func:`~exzarr.kernels.file_read.functions`), then
    decode its frames ``j`` in ``first[k]:first[k + 1]``, ``buf[frame_starts[j]:
    frame_stops[j]]`` (-1: to the end of what was read), each into ``scratch`` and box
    ``boxes[j]`` of it into ``out``, as
    :func:`~exzarr.kernels.decode_scatter.decode_scatter` does with the same decoder
    and box arguments.  Sets ``status[j]`` of each frame of the jobs it took; returns the
    number of frames done."""
    n = paths.shape[0]
    m = out_strides.shape[0]
    n_boxes = bases.shape[0]
    n_frames = boxes.shape[0]
    if (starts.shape[0] < n or lengths.shape[0] < n or first.shape[0] < n + 1
            or first[n] > n_frames or frame_starts.shape[0] < n_frames
            or frame_stops.shape[0] < n_frames or status.shape[0] < n_frames
            or counter.shape[0] < 1 or names.shape[0] == 0 or names[names.shape[0] - 1] != 0
            or not box_ok(bases, skips, extents, n_boxes, m, nbytes, out_strides,
                          chunk_strides, item, scratch.shape[0])):
        return 0
    room = buf.shape[0]
    src = buf.ctypes.data
    dst = scratch.ctypes.data
    base_out = out.ctypes.data
    end_out = out.shape[0]
    at = np.zeros(m, dtype=np.int64)
    done = 0
    while True:
        k = fetch_add(counter.ctypes.data, 1)
        if k >= n:
            return done
        a, b = first[k], first[k + 1]
        if a < 0 or a >= b or b > n_frames:
            continue  # (its frames stay WAITING)
        got = _FAILED
        if 0 <= paths[k] < names.shape[0]:
            got = read_range(fs, names.ctypes.data + paths[k], starts[k], lengths[k], src,
                             room)
        whole = lengths[k] < 0
        if got == _GONE:
            for j in range(a, b):
                status[j] = MISSING
            continue
        if got < 0 or (whole and got >= room) or (not whole and got != lengths[k]):
            for j in range(a, b):
                status[j] = REFUSED  # (a whole file that may go on past the buffer too)
            continue
        for j in range(a, b):
            i = boxes[j]
            start = frame_starts[j]
            stop = got if frame_stops[j] < 0 else frame_stops[j]
            row_bytes = -1
            if 0 <= i < n_boxes:
                row_bytes = box_row_bytes(i, start, stop, bases, skips, extents, m, nbytes,
                                          out_strides, chunk_strides, item, got, end_out)
            if row_bytes < 0 or not decode_copy(content_size, decompress, ctx, copy,
                                                src + start, stop - start, nbytes, dst,
                                                base_out, i, bases, skips, extents, m,
                                                out_strides, chunk_strides, row_bytes, at,
                                                item):
                status[j] = REFUSED
                continue
            status[j] = DONE
            done += 1
