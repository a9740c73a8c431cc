"""A MemoryStore that records every call (for tests that count store round trips)."""

from exzarr.storage import LocalStore, MemoryStore


class CountingStore(MemoryStore):
    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.calls = []

    def get(self, key, byte_range=None):
        self.calls.append(("get", key, byte_range))
        return super().get(key, byte_range)

    def get_ranges(self, requests):
        requests = list(requests)
        self.calls.append(("get_ranges", requests))
        return [super(CountingStore, self).get(k, r) for k, r in requests]

    def get_many(self, keys):
        keys = list(keys)
        self.calls.append(("get_many", keys))
        return {k: super(CountingStore, self).get(k) for k in keys}

    def set(self, key, value):
        self.calls.append(("set", key))
        return super().set(key, value)

    def delete(self, key):
        self.calls.append(("delete", key))
        return super().delete(key)

    def reads(self):
        """Number of byte fetches (a get, or one range of get_ranges, counts as one)."""
        n = 0
        for c in self.calls:
            if c[0] == "get":
                n += 1
            elif c[0] == "get_ranges":
                n += len(c[1])
            elif c[0] == "get_many":
                n += len(c[1])
        return n

    def writes(self):
        return sum(1 for c in self.calls if c[0] == "set")


class CountingLocal(LocalStore):
    """A local store that counts whole reads (``get``) and reads into a buffer
    (``read_into``); ``direct=False``: no files for compiled code to read itself (the
    Python routes, not those of ``array/file_scatter`` and ``array/row_read``)."""

    def __init__(self, root, direct=True):
        super().__init__(root)
        self.gets: list[str] = []
        self.into: list[str] = []
        self.direct = direct

    def get(self, key, byte_range=None):
        self.gets.append(key)
        return super().get(key, byte_range)

    def read_into(self, key, start, out):
        self.into.append(key)
        return super().read_into(key, start, out)

    def direct_reads(self, keys):
        return super().direct_reads(keys) if self.direct else None


def stored_local(path, data, chunks, direct=True, **kw):
    """(store, array): ``data`` written to a new zstd :class:`CountingLocal` array of
    ``chunks`` (fill_value 0; ``kw`` as for ``exzarr.create``), its reads not counted."""
    import exzarr as ez

    store = CountingLocal(str(path), direct=direct)
    z = ez.create(store, shape=data.shape, chunks=chunks, dtype=data.dtype, fill_value=0,
                  **{"compressor": {"name": "zstd", "configuration": {"level": 1}}, **kw})
    z[...] = data
    store.gets.clear()
    store.into.clear()
    return store, z
