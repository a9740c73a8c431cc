"""Engine adapters for the cloud benchmark (``benchmarks/cloud.py``): the same arrays on an
S3 server reached at ``endpoint`` (the counting proxy in front of moto).

Each adapter reuses the local harness's adapter for the array part (codecs, layouts,
reads, writes) and only replaces how it reaches storage:

- ``exzarr``: ``exzarr.open("s3://bucket/path", storage_options=...)`` with s3fs's option
  names and exzarr's default back end (``"auto"``: its ``ObstoreStore`` over obstore for
  these options, which name the endpoint);
- ``exzarr-s3fs``: the same with ``storage_options={"backend": "fsspec", ...}``, exzarr's
  ``FsspecStore`` over s3fs;
- ``zarr-fsspec``: zarr-python 3 on ``zarr.storage.FsspecStore`` (s3fs);
- ``zarr-obstore``: zarr-python 3 on ``zarr.storage.ObjectStore`` over
  ``obstore.store.S3Store``;
- ``tensorstore``: tensorstore's ``zarr3`` driver on its ``s3`` kvstore driver.

``loc`` is a path inside the benchmark bucket.  Credentials are moto's dummy ones
(``testing``), also in the environment for tensorstore's ``environment`` provider.
"""

from __future__ import annotations

import importlib

from .base import Unavailable

KEY = SECRET = "testing"
REGION = "us-east-1"

__all__ = ["CLOUD_ENGINES", "CLOUD_LABELS", "load_cloud", "s3fs_options"]


def s3fs_options(endpoint: str) -> dict:
    # no region_name: s3fs would send a LocationConstraint that moto rejects (us-east-1)
    return {"key": KEY, "secret": SECRET, "client_kwargs": {"endpoint_url": endpoint}}


#: name -> (module, class), imported only when that engine runs
CLOUD_ENGINES = {"exzarr": ("engines.cloud_exzarr", "ExzarrS3"),
                 "exzarr-s3fs": ("engines.cloud_exzarr", "ExzarrS3fs"),
                 "zarr-fsspec": ("engines.cloud_zarr", "ZarrFsspecS3"),
                 "zarr-obstore": ("engines.cloud_zarr", "ZarrObstoreS3"),
                 "tensorstore": ("engines.cloud_tensorstore", "TensorstoreS3")}
CLOUD_LABELS = {"exzarr": "exzarr", "exzarr-s3fs": "exzarr (s3fs)",
                "zarr-fsspec": "zarr-python (fsspec/s3fs)", "zarr-obstore": "zarr-python (obstore)",
                "tensorstore": "tensorstore (s3)"}


def load_cloud(name: str, threads: int, endpoint: str, bucket: str):
    """Instantiate the adapter; :class:`Unavailable` if its libraries do not import."""
    mod, cls = CLOUD_ENGINES[name]
    try:
        return getattr(importlib.import_module(mod), cls)(threads, endpoint, bucket)
    except ImportError as e:
        raise Unavailable(f"{CLOUD_LABELS[name]}: not installed ({e})") from e
