"""The shared state of one stored array: store, path, metadata and codec pipeline.

A ``ZArray`` and all its views share one ``ArrayState``; resizing or updating attributes
replaces the metadata here so every view sees it.

Layers above this one (the hierarchy keeps consolidated metadata current) learn of every
metadata write through :func:`on_metadata_written` hooks instead of being imported here.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from ..codecs import ChunkSpec, CodecPipeline
from ..codecs.pipeline import V3CodecPipeline
from ..codecs.v2 import V2CodecPipeline
from ..errors import ExzarrError, where
from ..metadata import ArrayMetadataV2, ArrayMetadataV3
from ..storage import Store
from ..storage.keys import join_key
from .index_cache import ShardIndexCache

__all__ = ["ArrayState", "ArrayMetadata", "Pipeline", "MetadataHook", "on_metadata_written"]

ArrayMetadata = ArrayMetadataV2 | ArrayMetadataV3
#: the codec pipeline of an array (what ``CodecPipeline.from_v3`` / ``from_v2`` build)
Pipeline = V3CodecPipeline | V2CodecPipeline

#: ``hook(store, path, meta)``, called after array metadata was written at ``path``
MetadataHook = Callable[[Store, str, ArrayMetadata], None]

_hooks: list[MetadataHook] = []


def on_metadata_written(hook: MetadataHook) -> MetadataHook:
    """Register ``hook`` to run after every array metadata write (usable as a decorator)."""
    if hook not in _hooks:
        _hooks.append(hook)
    return hook


class ArrayState:
    def __init__(self, store: Store, path: str, meta: ArrayMetadata, *, read_only: bool = False,
                 skip_checksum: bool = False, write_empty_chunks: bool | None = None,
                 memo: dict[Any, Any] | None = None) -> None:
        """``memo``: a dict shared by arrays opened from one stored document (the
        hierarchy's parsed documents), where the pipeline built from ``meta`` is kept."""
        self.store = store
        self.path = path.strip("/")
        self.read_only = read_only
        self.skip_checksum = skip_checksum
        self.write_empty_chunks = write_empty_chunks
        self.lock = threading.RLock()
        #: shard indexes read through a store with tagged reads (see index_cache)
        self.shard_indexes = ShardIndexCache()
        self._set(meta, memo)

    # -- pickling (process pools, dask workers): the lock and the pipeline are rebuilt --
    def __getstate__(self) -> dict[str, Any]:
        return {"store": self.store, "path": self.path, "meta": self.meta,
                "read_only": self.read_only, "skip_checksum": self.skip_checksum,
                "write_empty_chunks": self.write_empty_chunks}

    def __setstate__(self, state: dict[str, Any]) -> None:
        ArrayState.__init__(self, state["store"], state["path"], state["meta"],
                            read_only=state["read_only"], skip_checksum=state["skip_checksum"],
                            write_empty_chunks=state["write_empty_chunks"])

    # -- metadata -------------------------------------------------------------------
    def _set(self, meta: ArrayMetadata, memo: dict[Any, Any] | None = None) -> None:
        self.meta = meta
        fill = meta.fill_value_or_default
        self.fill: Any = np.asarray(fill, dtype=meta.dtype)[()]
        self.pipeline: Pipeline
        kept = None if memo is None else memo.get(("pipeline", self.skip_checksum))
        if kept is not None:
            self.pipeline = kept
            return
        self._build_pipeline(meta)
        if memo is not None:
            memo[("pipeline", self.skip_checksum)] = self.pipeline

    def _build_pipeline(self, meta: ArrayMetadata) -> None:
        spec = ChunkSpec(shape=tuple(meta.chunks), dtype=meta.dtype, fill_value=self.fill,
                         order=meta.order)
        try:
            if isinstance(meta, ArrayMetadataV3):
                self.pipeline = CodecPipeline.from_v3(list(meta.codecs), spec,
                                                      skip_checksum=self.skip_checksum)
            else:
                self.pipeline = CodecPipeline.from_v2(
                    meta.compressor, list(meta.filters) if meta.filters else None, spec)
        except ExzarrError as e:
            if e.store_url is not None:
                raise
            raise type(e)(f"{e} (array at {where(self.store, join_key(self.path, meta.metadata_key))})",
                          store=self.store, key=join_key(self.path, meta.metadata_key)) from e

    def replace_meta(self, meta: ArrayMetadata) -> None:
        """Persist new metadata and use it from now on; then run the
        :func:`on_metadata_written` hooks (which keep consolidated metadata current)."""
        self.store.set(join_key(self.path, meta.metadata_key), meta.to_bytes())
        if isinstance(meta, ArrayMetadataV2):
            self.store.set(join_key(self.path, ".zattrs"), meta.attrs_to_bytes())
        with self.lock:
            self._set(meta)
            self.shard_indexes.clear()
        for hook in tuple(_hooks):
            hook(self.store, self.path, meta)

    @property
    def metadata_key(self) -> str:
        return join_key(self.path, self.meta.metadata_key)

    # -- keys -----------------------------------------------------------------------
    def chunk_key(self, coords: tuple[int, ...]) -> str:
        return join_key(self.path, self.meta.chunk_key(tuple(coords)))

    def where(self, key: str | None = None) -> str:
        return where(self.store, key if key is not None else self.path or "/")

    def chunk_extent(self, coords: tuple[int, ...]) -> tuple[int, ...]:
        """The valid (in-bounds) shape of a chunk; smaller than chunks at the edges."""
        return tuple(min(c, s - i * c) for i, c, s in zip(coords, self.meta.chunks, self.meta.shape))
