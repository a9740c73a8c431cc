"""exzarr on S3 (cloud benchmark): ``exzarr.open("s3://...", storage_options=...)`` with the
default back end (``"auto"``: obstore for these options, which name the endpoint), and the
same on s3fs (``storage_options={"backend": "fsspec", ...}``)."""

from __future__ import annotations

import exzarr as ez

from .cloud_s3 import s3fs_options
from .exzarr import ExzarrEngine


class ExzarrS3(ExzarrEngine):
    name = "exzarr"

    def __init__(self, threads, endpoint, bucket):
        super().__init__(threads)
        self.endpoint, self.bucket = endpoint, bucket
        self.opts = s3fs_options(endpoint)  # the options a zarr-python user passes

    def versions(self):
        from importlib.metadata import version

        from exzarr.storage import open_store
        # which store the default picked for these options (no request is sent)
        store = type(open_store(f"s3://{self.bucket}/x", storage_options=self.opts)).__name__
        lib = "obstore" if store == "ObstoreStore" else "s3fs"
        return {"exzarr": getattr(ez, "__version__", "?"), "store": store, lib: version(lib)}

    def _url(self, layout, loc):
        return f"s3://{self.bucket}/{loc}"

    def create(self, layout, loc):
        from exzarr.storage import open_store
        store = open_store(self._url(layout, loc), mode="w", storage_options=self.opts)
        return self._create_at(store, layout)

    def open(self, layout, loc):
        return ez.open(self._url(layout, loc), mode="r", storage_options=self.opts)


class ExzarrS3fs(ExzarrS3):
    name = "exzarr-s3fs"

    def __init__(self, threads, endpoint, bucket):
        super().__init__(threads, endpoint, bucket)
        import s3fs  # noqa: F401  (Unavailable when missing)
        self.opts = {**s3fs_options(endpoint), "backend": "fsspec"}
