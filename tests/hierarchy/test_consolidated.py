"""Consolidated metadata: one read opens a hierarchy; exzarr's own writes keep it current."""

import json

import numpy as np
import pytest

import exzarr as ez
from exzarr.errors import InvalidMetadataError, NodeNotFoundError
from exzarr.storage import MemoryStore




def _build(store, fmt, n_groups=4, n_arrays=3):
    g = ez.group(store, zarr_format=fmt, attributes={"root": True})
    for i in range(n_groups):
        sub = g.create_group(f"g{i}", attributes={"i": i})
        for j in range(n_arrays):
            a = sub.create_array(f"a{j}", shape=(4, 4), chunks=(2, 2), dtype="i4")
            a[:] = i * 10 + j
    return g


def _touch_everything(g):
    """Read every node's metadata through the group API."""
    out = []
    for path, node in g.members(max_depth=None):
        out.append((path, dict(node.attrs), getattr(node, "shape", None)))
    for name in g:
        out.append((name, type(g[name]).__name__))
    out.append(str(g.tree()))
    return out


def test_consolidated_open_reads_one_key(fmt, counting):
    s = counting
    _build(s, fmt)
    n_nodes = 4 + 4 * 3
    ez.consolidate_metadata(s)

    s.reset()
    g = ez.open_group(s, mode="r", zarr_format=fmt)
    seen = _touch_everything(g)
    assert g.consolidated and s.listings == 0
    expected = ["zarr.json"] if fmt == 3 else [".zmetadata"]
    assert s.reads == expected
    assert len([p for p in seen if isinstance(p, tuple) and len(p) == 3 and p[2] == (4, 4)]) == 12

    # auto-detecting the format costs at most one more key (v2: zarr.json is absent)
    s.reset()
    g = ez.open_group(s, mode="r")
    assert _touch_everything(g) == seen
    assert len(s.reads) == (1 if fmt == 3 else 2) and s.listings == 0

    # without consolidated metadata: at least one read per node, plus listings
    s.reset()
    plain = ez.open_group(s, mode="r", use_consolidated=False)
    assert _touch_everything(plain) == seen
    assert len(s.reads) > n_nodes and s.listings > 0


def test_ez_open_of_consolidated_group_uses_it(fmt, counting):
    s = counting
    _build(s, fmt, 2, 2)
    ez.consolidate_metadata(s)
    s.reset()
    g = ez.open(s, mode="r")
    _touch_everything(g)
    assert g.consolidated and s.listings == 0 and len(s.reads) <= 5


def test_data_reads_still_work_through_consolidated(fmt):
    s = MemoryStore()
    _build(s, fmt, 2, 2)
    ez.consolidate_metadata(s)
    g = ez.open_group(s, mode="r", use_consolidated=True)
    assert g["g1/a1"][:].read().tolist() == [[11] * 4] * 4


def test_use_consolidated_flags(fmt):
    s = MemoryStore()
    _build(s, fmt, 1, 1)
    with pytest.raises(NodeNotFoundError, match="consolidate_metadata"):
        ez.open_group(s, mode="r", use_consolidated=True)
    assert not ez.open_group(s, mode="r").consolidated
    ez.consolidate_metadata(s)
    assert ez.open_group(s, mode="r").consolidated
    assert not ez.open_group(s, mode="r", use_consolidated=False).consolidated


def test_consolidate_returns_group_and_nested_path(fmt):
    s = MemoryStore()
    g = _build(s, fmt, 2, 1)
    sub = ez.consolidate_metadata(s, path="g1")
    assert sub.path == "g1" and sub.consolidated and list(sub) == ["a0"]
    assert not ez.open_group(s, mode="r").consolidated  # only g1 was consolidated
    assert ez.open_group(s, path="g1", mode="r").consolidated
    assert g["g1"].attrs["i"] == 1


@pytest.mark.parametrize("how", ["same_group", "reopened", "new_open_group", "ez_group"])
def test_later_writes_are_never_hidden(fmt, how):
    s = MemoryStore()
    _build(s, fmt, 2, 1)
    g = ez.consolidate_metadata(s)
    if how == "same_group":
        w = g
    elif how == "reopened":
        w = ez.open_group(s, mode="a")  # consolidated view, writable
    elif how == "new_open_group":
        w = ez.open_group(s, mode="a", use_consolidated=False)
    if how == "ez_group":
        ez.group(s, path="g0/deep/newgroup", zarr_format=fmt, attributes={"fresh": 1})
        ez.open_group(s, path="g0", mode="a").create_array("late", shape=(3,), dtype="u1")
    else:
        w.create_group("g0/deep/newgroup", attributes={"fresh": 1})
        w["g0"].create_array("late", shape=(3,), dtype="u1")

    r = ez.open_group(s, mode="r", use_consolidated=True)
    assert "g0/deep/newgroup" in r and r["g0/deep/newgroup"].attrs["fresh"] == 1
    assert "late" in list(r["g0"]) and "deep" in list(r["g0"])
    assert r["g0/late"].shape == (3,)
    # and the document itself holds them (no fallback reads needed)
    assert {"g0/deep", "g0/deep/newgroup", "g0/late"} <= set(r._cons.entries)


def test_attribute_changes_and_resizes_update_consolidated(fmt):
    s = MemoryStore()
    _build(s, fmt, 1, 1)
    g = ez.consolidate_metadata(s)
    g.attrs["root"] = "changed"
    g["g0"].attrs["i"] = 99
    arr = g["g0/a0"]
    arr.attrs["new"] = [1, 2]
    arr.resize((8, 4))
    r = ez.open_group(s, mode="r", use_consolidated=True)
    assert r.attrs["root"] == "changed" and r["g0"].attrs["i"] == 99
    assert r["g0/a0"].attrs["new"] == [1, 2] and r["g0/a0"].shape == (8, 4)
    assert r["g0/a0"][:].read()[4:].tolist() == [[0] * 4] * 4


def test_deletes_update_consolidated(fmt):
    s = MemoryStore()
    _build(s, fmt, 2, 2)
    g = ez.consolidate_metadata(s)
    del g["g1"]
    del g["g0/a1"]
    r = ez.open_group(s, mode="r", use_consolidated=True)
    assert list(r) == ["g0"] and list(r["g0"]) == ["a0"]
    assert not any(k.startswith("g1") for k in r._cons.entries)


def test_overwrite_replaces_consolidated_entries(fmt):
    s = MemoryStore()
    _build(s, fmt, 1, 1)
    g = ez.consolidate_metadata(s)
    g.create_group("g0/a0", overwrite=True, attributes={"now": "group"})
    r = ez.open_group(s, mode="r", use_consolidated=True)
    assert isinstance(r["g0/a0"], ez.Group) and r["g0/a0"].attrs["now"] == "group"


def test_open_view_falls_back_for_nodes_written_elsewhere(fmt):
    s = MemoryStore()
    _build(s, fmt, 1, 1)
    ez.consolidate_metadata(s)
    held = ez.open_group(s, mode="r")  # opened before the write below
    ez.open_group(s, mode="a").create_array("g0/other", shape=(2,), dtype="i1")
    assert "g0/other" in held and held["g0/other"].shape == (2,)


def test_corrupt_consolidated_metadata_is_a_clear_error():
    s = MemoryStore()
    _build(s, 2, 1, 1)
    s.set(".zmetadata", b'{"not": "consolidated"}')
    with pytest.raises(InvalidMetadataError, match=r"\.zmetadata"):
        ez.open_group(s, mode="r")
    s3 = MemoryStore()
    _build(s3, 3, 1, 1)
    doc = json.loads(s3.get("zarr.json"))
    doc["consolidated_metadata"] = {"kind": "remote", "metadata": {}}
    s3.set("zarr.json", json.dumps(doc).encode())
    with pytest.raises(InvalidMetadataError, match="kind"):
        ez.open_group(s3, mode="r")
    assert ez.open_group(s3, mode="r", use_consolidated=False)["g0/a0"].shape == (4, 4)


def test_store_without_listing_works_with_consolidated(fmt):
    class NoListing(MemoryStore):
        supports_listing = False

    s = NoListing()
    _build(s, fmt, 1, 2)
    # consolidate through a listing view of the same data, then read without listing
    ez.consolidate_metadata(MemoryStore(s.name))
    g = ez.open_group(s, mode="r")
    assert [p for p, _ in g.members(max_depth=None)] == ["g0", "g0/a0", "g0/a1"]
    plain = ez.open_group(s, mode="r", use_consolidated=False)
    assert plain["g0/a1"].shape == (4, 4)  # by name still works
    with pytest.raises(OSError, match="consolidate_metadata"):
        list(plain)
