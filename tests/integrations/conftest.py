"""Shared helpers: a local store that records which keys are read."""

import threading

import pytest

from exzarr.storage import LocalStore


class RecordingLocalStore(LocalStore):
    """A real LocalStore that also records every key read (thread-safe)."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.read_keys = []
        self._rec_lock = threading.Lock()

    def _record(self, key):
        with self._rec_lock:
            self.read_keys.append(key)

    def get(self, key, byte_range=None):
        self._record(key)
        return super().get(key, byte_range)

    def get_buffer(self, key):
        self._record(key)
        return super().get_buffer(key)

    def read_into(self, key, start, out):
        self._record(key)
        return super().read_into(key, start, out)

    def direct_reads(self, keys):
        # (files that compiled code reads itself: each named once per read)
        for key in keys:
            self._record(key)
        return super().direct_reads(keys)

    def get_ranges(self, requests):
        requests = list(requests)
        for k, _ in requests:
            self._record(k)
        return [super(RecordingLocalStore, self).get(k, r) for k, r in requests]

    def chunk_reads(self, array_name):
        """Keys read below ``array_name/`` other than its metadata documents."""
        meta = {"zarr.json", ".zarray", ".zattrs", ".zgroup"}
        return [k for k in self.read_keys
                if k.startswith(array_name + "/") and k.rsplit("/", 1)[-1] not in meta]


@pytest.fixture
def recording_store():
    return RecordingLocalStore
