"""Shared helpers for the codec tests: zarr-python arrays with chosen codec chains."""

from __future__ import annotations

import json
import os
import warnings

import numpy as np

BYTES_LE = {"name": "bytes", "configuration": {"endian": "little"}}
BYTES_BE = {"name": "bytes", "configuration": {"endian": "big"}}


def fill_json(fill_value, dtype):
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        return bool(fill_value)
    if dtype.kind in "iu":
        return int(fill_value)
    if dtype.kind == "f":
        v = float(fill_value)
        return "NaN" if v != v else v
    if dtype.kind == "c":
        return [float(np.real(fill_value)), float(np.imag(fill_value))]
    raise NotImplementedError(dtype)


V3_DTYPE_NAMES = {"b": "bool"}


def v3_dtype_name(dtype) -> str:
    dtype = np.dtype(dtype)
    return "bool" if dtype.kind == "b" else dtype.newbyteorder("=").name


def write_v3_metadata(path, shape, chunks, dtype, codecs, fill_value=0):
    """Create a v3 array directory whose zarr.json declares exactly ``codecs``."""
    os.makedirs(path, exist_ok=True)
    meta = {
        "zarr_format": 3, "node_type": "array", "shape": list(shape),
        "data_type": v3_dtype_name(dtype),
        "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": list(chunks)}},
        "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
        "fill_value": fill_json(fill_value, dtype), "codecs": codecs, "attributes": {},
    }
    with open(os.path.join(path, "zarr.json"), "w") as f:
        json.dump(meta, f)


def chunk_path_v3(path, coords):
    return os.path.join(path, "c", *map(str, coords))


def chunk_path_v2(path, coords):
    return os.path.join(path, ".".join(map(str, coords)) if coords else "0")


def open_zarr(path):
    import zarr

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return zarr.open_array(path, mode="r+")


def read_bytes(p):
    with open(p, "rb") as f:
        return f.read()


def write_bytes(p, data):
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "wb") as f:
        f.write(data)


def comparable(raw: bytes, crc32c_suffix: bool = False) -> bytes:
    """Encoded bytes with the gzip header's mtime zeroed (numcodecs stamps the time),
    minus a trailing crc32c (which covers the mtime) when ``crc32c_suffix``."""
    body = raw[:-4] if crc32c_suffix else raw
    if body[:2] == b"\x1f\x8b":
        body = body[:4] + b"\x00\x00\x00\x00" + body[8:]
    return body
