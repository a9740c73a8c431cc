"""zarr-python 3 on S3 (cloud benchmark): on ``zarr.storage.FsspecStore`` (s3fs) and on
``zarr.storage.ObjectStore`` (obstore's S3Store)."""

from __future__ import annotations

from .base import Unavailable
from .cloud_s3 import KEY, REGION, SECRET, s3fs_options
from .zarr_python import ZarrPythonEngine


class ZarrFsspecS3(ZarrPythonEngine):
    name = "zarr-fsspec"

    def __init__(self, threads, endpoint, bucket):
        super().__init__(threads)
        self.endpoint, self.bucket = endpoint, bucket

    def versions(self):
        import s3fs
        return {**super().versions(), "s3fs": s3fs.__version__}

    def _store(self, layout, loc, read_only=False):
        import zarr
        return zarr.storage.FsspecStore.from_url(
            f"s3://{self.bucket}/{loc}", storage_options=s3fs_options(self.endpoint),
            read_only=read_only)

    def open(self, layout, loc):
        import zarr
        return zarr.open_array(self._store(layout, loc, read_only=True), mode="r")


class ZarrObstoreS3(ZarrPythonEngine):
    name = "zarr-obstore"

    def __init__(self, threads, endpoint, bucket):
        super().__init__(threads)
        import zarr.storage
        if not hasattr(zarr.storage, "ObjectStore"):
            raise Unavailable("this zarr-python has no zarr.storage.ObjectStore")
        self.endpoint, self.bucket = endpoint, bucket

    def versions(self):
        from importlib.metadata import version
        return {**super().versions(), "obstore": version("obstore")}

    def _store(self, layout, loc, read_only=False):
        import zarr
        from obstore.store import S3Store
        s3 = S3Store(self.bucket, prefix=loc, endpoint=self.endpoint, access_key_id=KEY,
                     secret_access_key=SECRET, region=REGION,
                     client_options={"allow_http": True})
        return zarr.storage.ObjectStore(s3, read_only=read_only)

    def open(self, layout, loc):
        import zarr
        return zarr.open_array(self._store(layout, loc, read_only=True), mode="r")
