"""The rich display of one array or view: its :class:`~.model.GridModel`, table rows,
SVG and HTML card.

Metadata only, unless ``stored=True``: then the store is listed once (``stored_chunks``)
and every stored unit's size asked (``getsize``) for the stored-bytes and compression
rows and the coverage shading.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any, Protocol

import numpy as np

from ...compute.plan import fmt_bytes
from ...errors import ShapeMismatchError
from ...indexing.selection import Selection
from ...metadata.chunk_grid import grid_shape
from ...storage.keys import join_key
from .model import Axis, Coverage, GridModel, Region, selection_regions
from .svg import render_svg
from .table import Row, card, html_page

__all__ = ["DisplayArray", "StoredSummary", "array_model", "array_rows", "array_svg",
           "array_html", "array_page", "summary_line", "codec_summary", "fmt_bytes"]


class DisplayArray(Protocol):
    """What the display reads from an array (``ZArray`` has all of it)."""

    @property
    def shape(self) -> tuple[int, ...]: ...
    @property
    def dtype(self) -> np.dtype: ...
    @property
    def chunks(self) -> tuple[int, ...]: ...
    @property
    def shards(self) -> tuple[int, ...] | None: ...
    @property
    def is_view(self) -> bool: ...
    @property
    def selection(self) -> Selection: ...
    @property
    def metadata(self) -> Any: ...
    @property
    def store(self) -> Any: ...
    @property
    def path(self) -> str: ...
    @property
    def fill_value(self) -> Any: ...
    @property
    def codecs(self) -> Any: ...
    def stored_chunks(self) -> Iterable[tuple[int, ...]]: ...


class StoredSummary:
    """The result of listing an array's stored units (chunks, or shards)."""

    def __init__(self, arr: DisplayArray) -> None:
        meta = arr.metadata
        ndim = len(meta.shape)
        coords = [tuple(int(i) for i in c) for c in arr.stored_chunks()]
        self.coords = np.asarray(coords, dtype=np.int64).reshape(len(coords), ndim)
        self.unit = tuple(int(c) for c in meta.chunks)  # a stored unit: chunk or shard
        self.total = math.prod(grid_shape(meta.shape, self.unit))
        self.nbytes = sum(arr.store.getsize(join_key(arr.path, meta.chunk_key(c))) or 0
                          for c in coords)
        #: uncompressed bytes of the stored units (whole units, as ``.info`` counts them)
        self.logical = len(coords) * math.prod(self.unit) * int(meta.dtype.itemsize)


def codec_summary(codecs: Any) -> str:
    """``bytes, zstd`` / ``sharding_indexed[bytes, zstd]`` / v2 ``shuffle, blosc``."""
    if isinstance(codecs, dict):
        names = [str(f.get("id")) for f in (codecs.get("filters") or [])]
        if codecs.get("compressor"):
            names.append(str(codecs["compressor"].get("id")))
        return ", ".join(names) or "none"

    def name(c: dict) -> str:
        if c.get("name") == "sharding_indexed":
            inner = (c.get("configuration") or {}).get("codecs", [])
            return f"sharding_indexed[{', '.join(name(x) for x in inner)}]"
        return str(c.get("name"))
    return ", ".join(name(c) for c in codecs) or "none"


def _grid(shape: tuple[int, ...], unit: tuple[int, ...]) -> tuple[int, ...]:
    return grid_shape(shape, unit)


def _dims(t: tuple[int, ...]) -> str:
    return " \u00d7 ".join(str(x) for x in t) if t else "()"


def _selection(arr: DisplayArray) -> tuple[Selection | None, str | None]:
    if not arr.is_view:
        return None, None
    try:
        return arr.selection, None
    except ShapeMismatchError as e:  # a view of an array resized since: say so, draw no region
        return None, " ".join(str(e).split())


def array_model(arr: DisplayArray, stored: StoredSummary | None = None) -> GridModel:
    """The grid picture of ``arr``: the base array's grid, with a view's region."""
    meta = arr.metadata
    base = tuple(int(s) for s in meta.shape)
    chunks, shards = arr.chunks, arr.shards
    names = tuple(meta.dimension_names or ()) or (None,) * len(base)
    axes = tuple(Axis(size=s, chunk=c, shard=sh, name=n) for s, c, sh, n in
                 zip(base, chunks, shards or (None,) * len(base), names))
    sel, _ = _selection(arr)
    selected: Region | None = None
    touched: Region | None = None
    notes: list[str] = []
    if sel is not None:
        selected, touched = selection_regions(sel, chunks)
        if not selected.exact:
            notes.append("selection drawn as per-axis outline (strided, coordinate or many runs)")
    cov = Coverage(stored.unit, stored.coords) if stored is not None else None
    return GridModel(axes, selected, touched, cov, notes=tuple(notes))


def array_rows(arr: DisplayArray, stored: StoredSummary | None = None) -> list[Row]:
    """The table: shape, dtype, chunks, shards, codecs, fill value, store, bytes..."""
    meta = arr.metadata
    base = tuple(int(s) for s in meta.shape)
    chunks, shards = arr.chunks, arr.shards
    itemsize = int(np.dtype(meta.dtype).itemsize)
    sel, stale = _selection(arr)
    rows: list[Row] = [("Type", "ZArray view" if arr.is_view else "ZArray"),
                       ("Zarr format", f"v{meta.zarr_format}")]
    if arr.is_view:
        rows.append(("Shape", f"{tuple(arr.shape)} (view of {base})"))
        rows.append(("Selection", stale or (sel.describe() if sel is not None else "")))
    else:
        rows.append(("Shape", str(base)))
    dt = str(arr.dtype) if arr.dtype == meta.dtype else f"{arr.dtype} (stored as {meta.dtype})"
    rows.append(("Data type", dt))
    grid = _grid(base, chunks)
    rows.append(("Chunks", f"{chunks}: grid {_dims(grid)} = {math.prod(grid):,} chunks of "
                           f"{fmt_bytes(math.prod(chunks) * itemsize)}"))
    if shards:
        sgrid = _grid(base, shards)
        per = math.prod(s // c for s, c in zip(shards, chunks))
        rows.append(("Shards", f"{shards}: grid {_dims(sgrid)} = {math.prod(sgrid):,} shards of "
                               f"{per:,} chunks"))
    else:
        rows.append(("Shards", "none"))
    rows.append(("Codecs", codec_summary(arr.codecs)))
    fill = arr.fill_value
    rows.append(("Fill value", repr(fill.item() if hasattr(fill, "item") else fill)))
    if meta.dimension_names:
        rows.append(("Dimension names", str(tuple(meta.dimension_names))))
    rows.append(("Store", str(arr.store.url) + (f" path={arr.path}" if arr.path else "")))
    logical = math.prod(base) * itemsize
    if arr.is_view:
        vbytes = math.prod(arr.shape) * int(np.dtype(arr.dtype).itemsize)
        rows.append(("Bytes (logical)", f"{fmt_bytes(vbytes)} of {fmt_bytes(logical)}"))
        if sel is not None:
            _, touched = selection_regions(sel, chunks)
            n = math.prod(sum(-(-(b - a) // c) for a, b in iv)
                          for iv, c in zip(touched.intervals, chunks))
            rows.append(("Chunks read", f"{'' if touched.exact else 'at most '}{n:,} of "
                                        f"{math.prod(grid):,}"))
    else:
        rows.append(("Bytes (logical)", fmt_bytes(logical)))
    if stored is None:
        rows.append(("Bytes stored", "not listed (info_html(stored=True) lists the store)"))
    else:
        what = "shards" if shards else "chunks"
        pct = 100.0 * stored.coords.shape[0] / stored.total if stored.total else 0.0
        rows.append(("Stored", f"{stored.coords.shape[0]:,} of {stored.total:,} {what} ({pct:.0f}%)"))
        rows.append(("Bytes stored", fmt_bytes(stored.nbytes)))
        ratio = f"{stored.logical / stored.nbytes:.2f}" if stored.nbytes else "n/a (nothing stored)"
        rows.append(("Compression ratio", ratio))
    return rows


def _title(arr: DisplayArray) -> str:
    return f"chunk grid of {tuple(arr.metadata.shape)} {arr.metadata.dtype}, chunks {arr.chunks}"


def array_svg(arr: DisplayArray, *, stored: bool = False) -> str:
    """The chunk-grid SVG of ``arr`` (a standalone document; ``stored`` lists the store)."""
    summary = StoredSummary(arr) if stored else None
    return render_svg(array_model(arr, summary), title=_title(arr))


def array_html(arr: DisplayArray, *, stored: bool = False, style: bool = True) -> str:
    """The HTML card of ``arr``: table beside SVG (``_repr_html_``; ``stored`` lists the store)."""
    summary = StoredSummary(arr) if stored else None
    svg = render_svg(array_model(arr, summary), title=_title(arr))
    return card(array_rows(arr, summary), svg, style=style)


def array_page(arr: DisplayArray, *, stored: bool = False) -> str:
    """A self-contained HTML page showing ``arr``."""
    name = "/" + arr.path if arr.path else str(arr.store.url)
    return html_page(f"exzarr array {name}", array_html(arr, stored=stored, style=False))


def summary_line(arr: DisplayArray) -> str:
    """One line for trees: ``(1000, 1000) float32 chunks=(250, 250) shards=... zstd 3.8 MiB``."""
    meta = arr.metadata
    text = f"{tuple(meta.shape)} {meta.dtype} chunks={arr.chunks}"
    if arr.shards:
        text += f" shards={arr.shards}"
    nbytes = math.prod(int(s) for s in meta.shape) * int(np.dtype(meta.dtype).itemsize)
    return f"{text} [{codec_summary(arr.codecs)}] {fmt_bytes(nbytes)}"
