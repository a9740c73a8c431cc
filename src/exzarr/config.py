"""Runtime configuration: concurrency and write behaviour.

``exzarr.config.get().threads`` is the number of worker threads for reads and writes of
many chunks (default: the number of cores).  Change it for a block with
``with exzarr.config.set(threads=1): ...`` (the block's settings also apply to the worker
threads doing its work) or for the whole process with
``exzarr.config.set_global(threads=4)``.

``jit`` (default True) runs the selection and fill-check kernels compiled with Numba.
With ``jit=False``, or when Numba cannot be imported, the same kernels run as vectorised
NumPy code: bit-identical results, slower.  The environment variable ``EXZARR_JIT=0``
(also ``false``/``no``/``off``) sets the default to False at import.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, fields, replace
from typing import Any

__all__ = ["Config", "config", "get", "set", "set_global", "use"]


def _env_flag(name: str, default: bool) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return default
    return value not in ("0", "false", "no", "off")


@dataclass(frozen=True)
class Config:
    #: worker threads for multi-chunk reads/writes (1 = everything on the caller's thread)
    threads: int = os.cpu_count() or 1
    #: store chunks that end up entirely fill_value (zarr-python's write_empty_chunks)
    write_empty_chunks: bool = False
    #: keys fetched per batch from stores that support batched reads
    batch_size: int = 64
    #: run kernels compiled with Numba (False, or Numba not importable: NumPy fallbacks)
    jit: bool = _env_flag("EXZARR_JIT", True)
    #: working-set budget of a lazy computation in bytes (blocks in flight, temporaries
    #: and intermediates computed once); a plan that cannot fit is refused before any I/O
    memory_limit: int = 1 << 30
    #: target size in bytes of one evaluation block of a lazy computation
    block_bytes: int = 8 << 20
    #: fuse elementwise chains into one compiled kernel when the result has at least this
    #: many elements (smaller ones are not worth compiling)
    fuse_min_size: int = 1 << 23
    #: deepest nesting of lists/objects accepted in a metadata document or in attributes
    #: (read or written); deeper documents raise MetadataNestingError before they can
    #: exhaust the interpreter's stack (hostile or corrupt metadata)
    max_metadata_depth: int = 64
    #: the most bytes one chunk may decode to when the metadata does not fix its size
    #: (variable-length strings, a compressor over a shard); chunks of fixed size must decode
    #: to exactly their size.  Larger output raises DecompressionError before it is allocated
    max_chunk_bytes: int = 256 << 20


_state = threading.local()
_global = [Config()]


def get() -> Config:
    """The configuration in effect on this thread."""
    return getattr(_state, "cfg", None) or _global[0]


@contextlib.contextmanager
def set(**changes: Any) -> Iterator[Config]:
    """Temporarily change settings on this thread: ``with config.set(threads=1): ...``."""
    names = {f.name for f in fields(Config)}
    bad = sorted(k for k in changes if k not in names)
    if bad:
        raise TypeError(f"unknown config setting(s) {bad}; known: {sorted(names)}")
    prev = getattr(_state, "cfg", None)
    _state.cfg = replace(get(), **changes)
    try:
        yield _state.cfg
    finally:
        _state.cfg = prev


@contextlib.contextmanager
def use(cfg: Config) -> Iterator[Config]:
    """Run a block on this thread under exactly ``cfg`` (how workers inherit settings)."""
    prev = getattr(_state, "cfg", None)
    _state.cfg = cfg
    try:
        yield cfg
    finally:
        _state.cfg = prev


def set_global(**changes: Any) -> Config:
    """Change settings for every thread from now on."""
    _global[0] = replace(_global[0], **changes)
    return _global[0]


config = get  # ``exzarr.config.config()`` reads the current settings
