"""tensorstore on S3 (cloud benchmark): the ``zarr3`` driver on the ``s3`` kvstore driver,
credentials from the environment (``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``)."""

from __future__ import annotations

from .cloud_s3 import REGION
from .tensorstore import TensorstoreEngine


class TensorstoreS3(TensorstoreEngine):
    name = "tensorstore"

    def __init__(self, threads, endpoint, bucket):
        super().__init__(threads)
        self.endpoint, self.bucket = endpoint, bucket

    def _kvstore(self, layout, loc):
        return {"driver": "s3", "bucket": self.bucket, "path": loc.rstrip("/") + "/",
                "endpoint": self.endpoint, "aws_region": REGION,
                "aws_credentials": {"type": "environment"}}
