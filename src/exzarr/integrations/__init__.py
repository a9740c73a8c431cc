"""Adapters for the scientific Python stack.

* :mod:`exzarr.integrations.xarray_backend` - the ``engine="exzarr"`` xarray backend
  (registered as an ``xarray.backends`` entry point, so xarray finds it by itself);
* :mod:`exzarr.integrations.dask` - ``to_dask(z)`` and ``store(darr, z)`` / ``from_dask``.

Importing this package imports neither xarray nor dask; import the submodule you need.
"""

__all__ = ["dask", "xarray_backend"]
