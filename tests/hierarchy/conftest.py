import pytest

from exzarr.storage import MemoryStore


class CountingStore(MemoryStore):
    """A MemoryStore that counts every read and listing call (for "one key" proofs)."""

    def __init__(self, name=None, **kw):
        self.reads, self._listings = [], [0]
        super().__init__(name, **kw)

    def with_read_only(self, read_only=True):
        view = super().with_read_only(read_only)
        view.reads, view._listings = self.reads, self._listings  # views share the counts
        return view

    def reset(self):
        self.reads.clear()     # keys read via get/get_many/exists/getsize
        self._listings[0] = 0

    @property
    def listings(self):
        return self._listings[0]

    def get(self, key, byte_range=None):
        self.reads.append(key)
        return super().get(key, byte_range)

    def get_many(self, keys):
        keys = list(keys)
        self.reads.extend(keys)
        return super().get_many(keys)

    def exists(self, key):
        self.reads.append(key)
        return super().exists(key)

    def getsize(self, key):
        self.reads.append(key)
        return super().getsize(key)

    def list(self):
        self._listings[0] += 1
        return super().list()

    def list_prefix(self, prefix):
        self._listings[0] += 1
        return super().list_prefix(prefix)

    def list_dir(self, prefix):
        self._listings[0] += 1
        return super().list_dir(prefix)


@pytest.fixture
def counting():
    return CountingStore()


@pytest.fixture(params=[2, 3], ids=["v2", "v3"])
def fmt(request):
    return request.param
