"""exzarr: chunked, compressed, N-dimensional arrays in the Zarr format (v2 and v3)."""

__version__ = "0.1.0"
