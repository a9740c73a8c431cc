"""exzarr on S3 (cloud benchmark): ``exzarr.open("s3://...", storage_options=...)``, exzarr's
FsspecStore over s3fs (the default back end) and its ObstoreStore over obstore
(``storage_options={"backend": "obstore", ...}``)."""

from __future__ import annotations

import exzarr as ez

from .cloud_s3 import obstore_options, s3fs_options
from .exzarr import ExzarrEngine


class ExzarrS3(ExzarrEngine):
    name = "exzarr"

    def __init__(self, threads, endpoint, bucket):
        super().__init__(threads)
        self.endpoint, self.bucket = endpoint, bucket
        self.opts = s3fs_options(endpoint)

    def versions(self):
        import s3fs
        return {"exzarr": getattr(ez, "__version__", "?"), "s3fs": s3fs.__version__}

    def _url(self, layout, loc):
        return f"s3://{self.bucket}/{loc}"

    def create(self, layout, loc):
        from exzarr.storage import open_store
        store = open_store(self._url(layout, loc), mode="w", storage_options=self.opts)
        orig, self._url = self._url, lambda _l, _p: store
        try:
            return super().create(layout, loc)
        finally:
            self._url = orig

    def open(self, layout, loc):
        return ez.open(self._url(layout, loc), mode="r", storage_options=self.opts)


class ExzarrObstoreS3(ExzarrS3):
    name = "exzarr-obstore"

    def __init__(self, threads, endpoint, bucket):
        super().__init__(threads, endpoint, bucket)
        import obstore  # noqa: F401  (Unavailable when missing)
        self.opts = obstore_options(endpoint)

    def versions(self):
        from importlib.metadata import version
        return {"exzarr": getattr(ez, "__version__", "?"), "obstore": version("obstore")}
