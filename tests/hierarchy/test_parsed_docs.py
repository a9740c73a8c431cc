"""Parsed v3 array documents kept by their bytes (exzarr.hierarchy.parsed): re-opening an
unchanged array reuses the parse and the codec pipeline, and nothing a caller does to its
copy, nor any change to the store, the codec registry or the config, is ever served from
the memo."""

from __future__ import annotations

import numpy as np
import pytest

import exzarr as ez
from exzarr import config
from exzarr.codecs import BytesBytesCodec, register
from exzarr.errors import MetadataNestingError
from exzarr.hierarchy import parsed
from exzarr.storage.memory import MemoryStore


@pytest.fixture(autouse=True)
def _fresh_memo():
    parsed.forget()
    yield
    parsed.forget()


def _array(store, **kw):
    a = ez.create(store, shape=(20, 30), chunks=(8, 8), dtype="f4", **kw)
    a[...] = np.arange(600, dtype="f4").reshape(20, 30)
    return a


def test_reopen_shares_the_pipeline_and_reads_the_same():
    store = MemoryStore()
    _array(store, shards=(16, 16), attributes={"units": "m"})
    a, b = ez.open(store, mode="r"), ez.open(store, mode="r")
    assert a._state.pipeline is b._state.pipeline
    assert a.metadata == b.metadata and a.metadata is not b.metadata
    np.testing.assert_array_equal(b[...].read(), np.arange(600, dtype="f4").reshape(20, 30))
    assert dict(b.attrs) == {"units": "m"}


def test_in_place_changes_to_a_copy_reach_no_other_open():
    store = MemoryStore()
    _array(store, attributes={"history": ["made"], "nested": {"k": [1]}})
    a = ez.open(store, mode="r")
    a.metadata.attributes["history"].append("changed in memory only")
    a.metadata.attributes["nested"]["k"].append(2)
    a.metadata.codecs[0]["name"] = "broken"
    b = ez.open(store, mode="r")
    assert b.attrs["history"] == ["made"] and b.attrs["nested"] == {"k": [1]}
    assert b.metadata.codecs[0]["name"] != "broken"
    np.testing.assert_array_equal(b[0, :3].read(), [0, 1, 2])


def test_a_changed_document_is_parsed_again():
    store = MemoryStore()
    _array(store)
    a = ez.open(store)
    a.attrs["v"] = 1
    a.resize((40, 30))
    b = ez.open(store, mode="r")
    assert b.shape == (40, 30) and b.attrs["v"] == 1


def test_skip_checksum_gets_its_own_pipeline():
    store = MemoryStore()
    _array(store, shards=(16, 16))
    plain = ez.open(store, mode="r")
    skipping = ez.open(store, mode="r", skip_checksum=True)
    assert plain._state.pipeline is not skipping._state.pipeline
    assert ez.open(store, mode="r", skip_checksum=True)._state.pipeline is skipping._state.pipeline


def test_registering_a_codec_drops_what_was_kept():
    store = MemoryStore()
    _array(store)
    first = ez.open(store, mode="r")

    class Noop(BytesBytesCodec):
        name = "test_parsed_docs_noop"

        def encode(self, data, spec):
            return data

        def decode(self, data, spec):
            return data

    register(Noop)
    again = ez.open(store, mode="r")
    assert again._state.pipeline is not first._state.pipeline
    assert ez.open(store, mode="r")._state.pipeline is again._state.pipeline


def test_a_lower_depth_limit_still_refuses_a_kept_document():
    store = MemoryStore()
    deep: object = "leaf"
    for _ in range(30):
        deep = [deep]
    _array(store, attributes={"deep": deep})
    ez.open(store, mode="r")  # kept
    with config.set(max_metadata_depth=10):
        with pytest.raises(MetadataNestingError):
            ez.open(store, mode="r")


def test_the_memo_is_bounded():
    store = MemoryStore()
    for i in range(parsed.MAX_KEPT + 10):
        ez.create(store, path=f"a{i}", shape=(4 + i,), chunks=(2,), dtype="i1")
        ez.open(store, path=f"a{i}", mode="r")
    assert len(parsed._kept) == parsed.MAX_KEPT


def test_group_members_share_it_too():
    store = MemoryStore()
    g = ez.group(store)
    g.create_array("x", shape=(10,), chunks=(5,), dtype="i4")
    assert ez.open_group(store)["x"]._state.pipeline is ez.open_group(store)["x"]._state.pipeline


def test_documents_not_given_as_bytes_are_not_kept():
    meta = ez.create(MemoryStore(), shape=(4,), chunks=(2,), dtype="i1").metadata
    raw = bytearray(meta.to_bytes())
    assert parsed.lookup(raw) is None
    mine, memo = parsed.keep(raw, meta)
    assert mine is meta and memo == {} and parsed.lookup(raw) is None
