"""A MemoryStore that records every call (for tests that count store round trips)."""

from exzarr.storage import MemoryStore


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
