"""``repr`` and ``info`` of arrays and views."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["array_repr", "array_info", "ArrayInfo"]


def _codec_names(arr) -> str:
    c = arr.codecs
    if isinstance(c, dict):
        parts = [f["id"] for f in (c["filters"] or [])]
        if c["compressor"]:
            parts.append(c["compressor"]["id"])
        return ", ".join(parts) or "none"
    return ", ".join(_v3_name(x) for x in c)


def _v3_name(codec: dict) -> str:
    name = codec["name"]
    if name == "sharding_indexed":
        inner = ", ".join(_v3_name(x) for x in codec.get("configuration", {}).get("codecs", []))
        return f"sharding_indexed[{inner}]"
    return name


def array_repr(arr) -> str:
    loc = f"{arr.store.url}" + (f" path={arr.path!r}" if arr.path else "")
    if arr.is_view:
        extra = f" view={arr.selection.describe()}" if arr._sel is not None else ""
        if arr._dtype is not None:
            extra += f" astype={arr.dtype}"
        return (f"<ZArray view shape={arr.shape} dtype={arr.dtype}{extra} of "
                f"{tuple(arr.metadata.shape)} at {loc}>")
    return f"<ZArray shape={arr.shape} dtype={arr.dtype} chunks={arr.chunks} at {loc}>"


@dataclass(frozen=True)
class ArrayInfo:
    rows: tuple[tuple[str, str], ...]

    def __str__(self) -> str:
        width = max(len(k) for k, _ in self.rows)
        return "\n".join(f"{k:<{width}} : {v}" for k, v in self.rows)

    def __repr__(self) -> str:
        return str(self)

    def as_dict(self) -> dict:
        return dict(self.rows)


def array_info(arr) -> ArrayInfo:
    meta = arr.metadata
    store = arr.store
    stored = list(arr.stored_chunks())
    keys = [arr._state.chunk_key(c) for c in stored]
    nbytes_stored = sum((store.getsize(k) or 0) for k in keys)
    total = arr.nchunks
    rows = [
        ("Type", "ZArray view" if arr.is_view else "ZArray"),
        ("Zarr format", str(meta.zarr_format)),
        ("Store", store.url),
        ("Path", arr.path or "/"),
        ("Shape", str(tuple(meta.shape))),
        ("Data type", str(meta.dtype)),
        ("Chunk shape", str(arr.chunks)),
        ("Shard shape", str(arr.shards) if arr.shards else "none"),
        ("Order", meta.order),
        ("Fill value", repr(arr.fill_value.item() if hasattr(arr.fill_value, "item") else arr.fill_value)),
        ("Codecs", _codec_names(arr)),
        ("Stored chunks", f"{len(stored)}/{total}" + (" (shards)" if arr.shards else "")),
        ("Bytes (logical)", _fmt_bytes(int(meta.dtype.itemsize) * _prod(meta.shape))),
        ("Bytes stored", _fmt_bytes(nbytes_stored)),
    ]
    if nbytes_stored:
        # uncompressed size of the chunks that are stored, over their stored size
        logical_written = len(stored) * _prod(meta.chunks) * meta.dtype.itemsize
        rows.append(("Compression ratio", f"{logical_written / nbytes_stored:.2f} (stored chunks)"))
    if meta.dimension_names:
        rows.append(("Dimension names", str(tuple(meta.dimension_names))))
    if arr.is_view:
        rows.insert(1, ("View", arr.selection.describe() if arr._sel is not None else "(whole array)"))
        rows.insert(2, ("View shape", str(arr.shape)))
    return ArrayInfo(tuple(rows))


def _prod(t) -> int:
    p = 1
    for x in t:
        p *= int(x)
    return p


def _fmt_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n} B" if unit == "B" else f"{n:.1f} {unit} ({n_bytes(n, unit)})"
        n /= 1024
    return str(n)


def n_bytes(v: float, unit: str) -> str:
    mult = {"KiB": 1, "MiB": 2, "GiB": 3, "TiB": 4}[unit]
    return f"{int(round(v * 1024 ** mult))} bytes"
