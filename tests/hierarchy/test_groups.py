"""Groups: creation, the mapping interface, attributes, modes and ez.open dispatch."""

import json
import os

import numpy as np
import pytest

import exzarr as ez
from exzarr.errors import (GroupNotFoundError, InvalidMetadataError, NodeExistsError,
                           NodeNotFoundError, ReadOnlyError, ShapeMismatchError)
from exzarr.storage import MemoryStore


def _keys(store):
    return sorted(store.list())


def test_group_writes_the_format_documents(fmt):
    s = MemoryStore()
    g = ez.group(s, zarr_format=fmt, attributes={"title": "t"})
    g.create_group("sub", attributes={"n": 1})
    if fmt == 2:
        assert _keys(s) == [".zattrs", ".zgroup", "sub/.zattrs", "sub/.zgroup"]
        assert json.loads(s.get(".zgroup")) == {"zarr_format": 2}
        assert json.loads(s.get("sub/.zattrs")) == {"n": 1}
    else:
        assert _keys(s) == ["sub/zarr.json", "zarr.json"]
        assert json.loads(s.get("zarr.json")) == {"attributes": {"title": "t"}, "zarr_format": 3,
                                                  "node_type": "group"}
    assert g.zarr_format == fmt and g.attrs["title"] == "t"


def test_mapping_interface(fmt):
    g = ez.group(MemoryStore(), zarr_format=fmt)
    a = g.create_array("a", shape=(4,), dtype="i4", chunks=(2,))
    sub = g.create_group("sub")
    x = sub.create_array("x", shape=(3, 3), dtype="f8", chunks=(2, 2), fill_value=1.5)
    a[:] = [1, 2, 3, 4]
    assert list(g) == ["a", "sub"] and len(g) == 2
    assert "a" in g and "sub/x" in g and "nope" not in g and "sub/nope" not in g
    assert g["a"][:].read().tolist() == [1, 2, 3, 4]
    assert g["sub/x"].shape == (3, 3) and g["sub"]["x"].fill_value == 1.5
    assert isinstance(g["sub"], ez.Group) and isinstance(g["sub/x"], ez.ZArray)
    assert [n for n, _ in g.arrays()] == ["a"] and [n for n, _ in g.groups()] == ["sub"]
    assert g.array_keys() == ["a"] and g.group_keys() == ["sub"]
    assert dict(g.items()).keys() == {"a", "sub"}
    assert x.path == "sub/x" and g["sub"].path == "sub" and g["sub"].name == "/sub"
    with pytest.raises(KeyError) as e:
        g["missing"]
    assert isinstance(e.value, NodeNotFoundError)
    assert "missing" in str(e.value) and "'a'" in str(e.value)  # says what exists


def test_members_depth_and_order(fmt):
    g = ez.group(MemoryStore(), zarr_format=fmt)
    g.create_array("b/c/d", shape=(1,), dtype="u1")
    g.create_array("a", shape=(1,), dtype="u1")
    assert [p for p, _ in g.members()] == ["a", "b"]
    assert [p for p, _ in g.members(max_depth=1)] == ["a", "b", "b/c"]
    assert [p for p, _ in g.members(max_depth=None)] == ["a", "b", "b/c", "b/c/d"]
    with pytest.raises(ValueError):
        g.members(max_depth=-1)


def test_nested_create_makes_parents(fmt):
    s = MemoryStore()
    g = ez.group(s, zarr_format=fmt)
    g.create_array("p/q/arr", shape=(2,), dtype="i2")
    assert isinstance(g["p"], ez.Group) and isinstance(g["p/q"], ez.Group)
    assert g["p/q/arr"].dtype == np.dtype("i2")
    with pytest.raises(NodeExistsError, match="is an array"):
        g.create_group("p/q/arr/inner")


def test_tree_is_readable(fmt):
    g = ez.group(MemoryStore(), zarr_format=fmt)
    g.create_array("sub/x", shape=(100, 20), chunks=(10, 10), dtype="float32")
    g.create_array("y", shape=(5,), dtype="int16")
    text = str(g.tree())
    assert text.splitlines() == [
        f"/ (group, zarr v{fmt})",
        "├── sub",
        "│   └── x (100, 20) float32 chunks=(10, 10)",
        "└── y (5,) int16 chunks=(5,)",
    ]
    assert repr(g.tree()) == text
    assert str(g.tree(max_depth=0)).splitlines()[1:] == ["├── sub", "└── y (5,) int16 chunks=(5,)"]


def test_tree_shows_shards():
    g = ez.group(MemoryStore())
    g.create_array("s", shape=(64,), chunks=(8,), shards=(32,), dtype="u2")
    assert "s (64,) uint16 chunks=(8,) shards=(32,)" in str(g.tree())


def test_create_array_passes_create_kwargs(fmt):
    g = ez.group(MemoryStore(), zarr_format=fmt)
    z = g.create_array("z", shape=(10, 10), chunks=(5, 5), dtype="f4", compressor="gzip",
                       fill_value=-1, attributes={"units": "m"})
    assert z.fill_value == -1 and z.attrs["units"] == "m"
    if fmt == 3:
        assert z.codecs[-1]["name"] == "gzip"
    else:
        assert z.codecs["compressor"]["id"] == "gzip"
    with pytest.raises(ValueError, match="Zarr v"):
        g.create_array("w", shape=(1,), zarr_format=5 - fmt)
    with pytest.raises(NodeExistsError, match="overwrite=True"):
        g.create_array("z", shape=(1,))
    z2 = g.create_array("z", shape=(3,), dtype="i1", overwrite=True)
    assert g["z"].shape == (3,) and z2.dtype == np.dtype("i1")


def test_require_group_and_array(fmt):
    g = ez.group(MemoryStore(), zarr_format=fmt)
    s1 = g.require_group("s")
    s1.attrs["k"] = 1
    assert g.require_group("s").attrs["k"] == 1
    a = g.require_array("a", shape=(4,), dtype="i4")
    a[:] = 3
    assert g.require_array("a", shape=(4,), dtype="i4")[:].read().tolist() == [3, 3, 3, 3]
    with pytest.raises(ShapeMismatchError, match=r"\(4,\)"):
        g.require_array("a", shape=(5,), dtype="i4")
    with pytest.raises(NodeExistsError, match="holds an array"):
        g.require_group("a")


def test_delete_member(fmt):
    s = MemoryStore()
    g = ez.group(s, zarr_format=fmt)
    a = g.create_array("sub/a", shape=(4,), chunks=(2,), dtype="i4")
    a[:] = 1
    g.create_array("keep", shape=(1,), dtype="i4")
    del g["sub"]
    assert list(g) == ["keep"]
    assert not any(k.startswith("sub/") for k in s.list())
    with pytest.raises(KeyError):
        del g["sub"]


def test_attrs_write_through_and_json_only(fmt):
    s = MemoryStore()
    g = ez.group(s, zarr_format=fmt)
    g.attrs["a"] = {"nested": [1, 2.5, "x", None, True]}
    g.attrs.update(b=2)
    again = ez.open_group(s, mode="r")
    assert dict(again.attrs) == {"a": {"nested": [1, 2.5, "x", None, True]}, "b": 2}
    with pytest.raises(InvalidMetadataError, match="JSON"):
        g.attrs["bad"] = np.arange(3)
    with pytest.raises(InvalidMetadataError, match="JSON"):
        g.attrs["nan"] = float("nan")
    assert "bad" not in ez.open_group(s, mode="r").attrs
    del g.attrs["a"]
    assert dict(ez.open_group(s, mode="r").attrs) == {"b": 2}
    # arrays in groups too
    z = g.create_array("z", shape=(2,), dtype="u1")
    z.attrs["u"] = "v"
    assert ez.open_group(s, mode="r")["z"].attrs["u"] == "v"
    with pytest.raises(InvalidMetadataError):
        z.attrs["o"] = object()


def test_open_dispatches_on_what_is_stored(tmp_path, fmt):
    root = tmp_path / "h.zarr"
    g = ez.group(str(root), zarr_format=fmt)
    x = g.create_array("sub/x", shape=(6,), chunks=(3,), dtype="i8")
    x[:] = np.arange(6)
    assert isinstance(ez.open(str(root)), ez.Group)
    assert isinstance(ez.open(str(root), path="sub"), ez.Group)
    node = ez.open(str(root), path="sub/x", mode="r")
    assert isinstance(node, ez.ZArray) and node[:].read().tolist() == list(range(6))
    # a filesystem path inside the hierarchy opens the node itself
    inner = ez.open(str(root / "sub" / "x"), mode="r")
    assert isinstance(inner, ez.ZArray) and inner[2:4].read().tolist() == [2, 3]
    assert isinstance(ez.open("file://" + str(root / "sub"), mode="r"), ez.Group)


def test_modes(tmp_path, fmt):
    url = str(tmp_path / "m.zarr")
    with pytest.raises(GroupNotFoundError):
        ez.open_group(url, mode="r")
    assert not os.path.exists(url)  # mode r never writes, not even a directory
    with pytest.raises(GroupNotFoundError):
        ez.open_group(url, mode="r+")
    g = ez.open_group(url, mode="a", zarr_format=fmt)
    g.create_array("x", shape=(2,), dtype="i1")
    assert ez.open_group(url, mode="a").zarr_format == fmt  # opened, not re-created
    assert list(ez.open_group(url, mode="r+")) == ["x"]
    with pytest.raises(NodeExistsError, match="w-"):
        ez.open_group(url, mode="w-")
    fresh = ez.open_group(url, mode="w", zarr_format=fmt)
    assert list(fresh) == []
    ez.create(url, shape=(3,), overwrite=True, zarr_format=fmt)
    with pytest.raises(GroupNotFoundError, match="holds an array"):
        ez.open_group(url, mode="r")
    with pytest.raises(GroupNotFoundError, match="holds an array"):
        ez.open_group(url, mode="a")


def test_read_only_group_never_writes(tmp_path, fmt):
    url = str(tmp_path / "ro.zarr")
    g = ez.group(url, zarr_format=fmt, attributes={"a": 1})
    g.create_array("x", shape=(4,), chunks=(2,), dtype="i4")[:] = [1, 2, 3, 4]
    before = {p: (os.path.getmtime(p), open(p, "rb").read())
              for p in (str(q) for q in (tmp_path / "ro.zarr").rglob("*") if q.is_file())}
    r = ez.open_group(url, mode="r")
    assert r.read_only and r["x"][:].read().tolist() == [1, 2, 3, 4] and r.attrs["a"] == 1
    str(r.tree()), list(r.members(max_depth=None)), str(r.info)
    for action in (lambda: r.attrs.update(b=2), lambda: r.create_group("n"),
                   lambda: r.create_array("n", shape=(1,)), lambda: r.__delitem__("x"),
                   lambda: r["x"].__setitem__(0, 9)):
        with pytest.raises(ReadOnlyError):
            action()
    after = {p: (os.path.getmtime(p), open(p, "rb").read())
             for p in (str(q) for q in (tmp_path / "ro.zarr").rglob("*") if q.is_file())}
    assert after == before


def test_group_function_semantics():
    s = MemoryStore()
    g = ez.group(s, attributes={"x": 1})
    assert ez.group(s).attrs["x"] == 1  # an existing group is opened
    with pytest.raises(NodeExistsError):
        ez.group(s, mode="w-")
    with pytest.raises(NodeExistsError, match="Zarr v3 group"):
        ez.group(s, zarr_format=2)
    assert dict(ez.group(s, overwrite=True).attrs) == {}
    ez.create(s, path="arr", shape=(2,))
    with pytest.raises(NodeExistsError, match="array"):
        ez.group(s, path="arr")
    deep = ez.group(s, path="a/b/c")
    assert deep.path == "a/b/c" and isinstance(ez.open_group(s, path="a/b"), ez.Group)
    assert g == ez.open_group(s) and g != deep
    mem = ez.group()  # no store: a fresh in-memory one
    assert mem.store.url.startswith("memory://") and list(mem) == []


def test_invalid_member_names():
    g = ez.group(MemoryStore())
    for bad in ("", "/", "a/../b", "zarr.json", ".zattrs"):
        with pytest.raises(ValueError, match="name"):
            g.create_group(bad)
    assert "" not in g and ".." not in g


def test_group_info_and_repr(fmt):
    g = ez.group(MemoryStore("ginfo%d" % fmt), zarr_format=fmt, attributes={"a": 1})
    g.create_array("x", shape=(1,))
    g.create_group("s")
    info = g.info.as_dict()
    assert info["Type"] == "Group" and info["Arrays"] == "1" and info["Groups"] == "1"
    assert info["Zarr format"] == str(fmt) and info["Attributes"] == "1"
    assert repr(g) == f"<Group '/' zarr v{fmt} at memory://ginfo{fmt}>"
    MemoryStore.discard("ginfo%d" % fmt)


def test_mixed_formats_are_refused():
    s = MemoryStore()
    ez.group(s, zarr_format=2)
    with pytest.raises(NodeExistsError, match="v2 group"):
        ez.group(s, path="inner", zarr_format=3)
    assert not s.exists("inner/zarr.json")
