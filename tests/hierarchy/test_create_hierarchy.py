"""exzarr.create_hierarchy / Group.create_hierarchy: zarr-python 3's semantics, three
forms of node metadata, and validation of everything before the first write."""

from __future__ import annotations

import os

import numpy as np
import pytest

import exzarr as ez
from exzarr.errors import (CodecError, InvalidArgumentError, InvalidMetadataError,
                           InvalidNameError, NodeExistsError, ReadOnlyError)
from exzarr.metadata import ArrayMetadataV2, GroupMetadataV2, GroupMetadataV3
from exzarr.storage import LocalStore

zarr = pytest.importorskip("zarr")
from zarr.core.group import GroupMetadata  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _v3_array(shape=(6,), chunks=(4,), dtype="int16", fill=0, attrs=None):
    return {"zarr_format": 3, "node_type": "array", "shape": list(shape), "data_type": dtype,
            "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": list(chunks)}},
            "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
            "fill_value": fill, "codecs": [{"name": "bytes", "configuration": {"endian": "little"}}],
            "attributes": attrs or {}}


def _v2_array(shape=(6,), chunks=(4,), dtype="<i2", fill=0, attrs=None):
    doc = {"zarr_format": 2, "shape": list(shape), "chunks": list(chunks), "dtype": dtype,
           "fill_value": fill, "order": "C", "filters": None, "compressor": None,
           "dimension_separator": "."}
    if attrs is not None:
        doc["attributes"] = attrs
    return doc


def _snapshot(root):
    """Every file below ``root`` with its bytes (a byte-identical store check)."""
    out = {}
    for d, _, files in os.walk(root):
        for f in files:
            p = os.path.join(d, f)
            with open(p, "rb") as fh:
                out[os.path.relpath(p, root)] = fh.read()
    return out


# -- creating ---------------------------------------------------------------------------
def test_v3_nested_paths_and_implicit_parents(tmp_path):
    root = str(tmp_path / "h.zarr")
    got = ez.create_hierarchy(store=root, nodes={
        "/a/b/x": _v3_array(attrs={"u": 1}),
        "a/g": {"zarr_format": 3, "node_type": "group", "attributes": {"k": "v"}},
        "c": GroupMetadataV3(attributes={"c": 1})})
    pairs = list(got)
    assert [p for p, _ in pairs] == ["", "a", "c", "a/b", "a/g", "a/b/x"]  # parents first
    nodes = dict(pairs)
    assert isinstance(nodes["a/b/x"], ez.ZArray) and isinstance(nodes["a/b"], ez.Group)
    nodes["a/b/x"][:] = np.arange(6)
    g = ez.open_group(root, mode="r")
    assert g.zarr_format == 3 and sorted(g) == ["a", "c"] and sorted(g["a"]) == ["b", "g"]
    assert g["a/g"].attrs["k"] == "v" and g["c"].attrs["c"] == 1 and g["a/b/x"].attrs["u"] == 1
    assert g["a/b/x"][:].read().tolist() == list(range(6))
    assert g["a/b/x"].dtype == np.int16


def test_v2_with_exzarr_metadata_objects(tmp_path):
    root = str(tmp_path / "h2.zarr")
    arr = ArrayMetadataV2.from_json(_v2_array(dtype="<f4", fill=1.5), attributes={"a": 2})
    nodes = dict(ez.create_hierarchy(store=root, nodes={
        "g/arr": arr, "g": GroupMetadataV2(attributes={"t": "x"}), "h/i": _v2_array()}))
    assert sorted(nodes) == ["", "g", "g/arr", "h", "h/i"]
    g = ez.open_group(root, mode="r", zarr_format=2)
    assert g["g"].attrs["t"] == "x" and g["g/arr"].attrs["a"] == 2
    assert g["g/arr"][:].read().tolist() == [1.5] * 6
    assert sorted(os.listdir(tmp_path / "h2.zarr" / "g" / "arr")) == [".zarray", ".zattrs"]
    assert (tmp_path / "h2.zarr" / "h" / ".zgroup").is_file()


def test_zarr_python_metadata_objects_both_formats(tmp_path):
    src3 = zarr.create_array(zarr.storage.MemoryStore(), shape=(5, 4), chunks=(2, 3),
                             dtype="f8", fill_value=np.nan, attributes={"x": [1, 2]},
                             dimension_names=["r", "c"])
    nodes = dict(ez.create_hierarchy(store=str(tmp_path / "z3.zarr"), nodes={
        "d/arr": src3.metadata, "d": GroupMetadata(attributes={"k": True})}))
    z = nodes["d/arr"]
    assert z.shape == (5, 4) and z.chunks == (2, 3) and z.attrs["x"] == [1, 2]
    assert z.dimension_names == ("r", "c") and np.isnan(z.fill_value)
    assert z.compressors == src3.metadata.to_dict()["codecs"][1:]  # the same zstd codec
    src2 = zarr.create_array(zarr.storage.MemoryStore(), shape=(3,), chunks=(2,), dtype="<u2",
                             zarr_format=2, fill_value=7, attributes={"y": "z"})
    nodes = dict(ez.create_hierarchy(store=str(tmp_path / "z2.zarr"), nodes={
        "q": src2.metadata, "p": GroupMetadata(zarr_format=2, attributes={"p": 1})}))
    assert nodes["q"].zarr_format == 2 and nodes["q"].attrs["y"] == "z"
    assert nodes["q"][:].read().tolist() == [7, 7, 7] and nodes["p"].attrs["p"] == 1


def test_zarr_python_opens_what_exzarr_created_and_the_reverse(tmp_path):
    for fmt, arr in ((3, _v3_array(attrs={"n": 3})), (2, _v2_array(attrs={"n": 2}))):
        root = str(tmp_path / f"ours{fmt}.zarr")
        nodes = dict(ez.create_hierarchy(store=root, nodes={"a/b/x": arr}))
        nodes["a/b/x"][:] = np.arange(6)
        zg = zarr.open_group(root, mode="r")
        assert zg.metadata.zarr_format == fmt
        assert zg["a/b/x"][:].tolist() == list(range(6)) and zg["a/b/x"].attrs["n"] == fmt
        assert sorted(zg.group_keys()) == ["a"]
        # the reverse: zarr-python's create_hierarchy, read by exzarr
        theirs = str(tmp_path / f"theirs{fmt}.zarr")
        dict(zarr.create_hierarchy(store=zarr.storage.LocalStore(theirs), nodes={
            "a/b/x": zg["a/b/x"].metadata, "a/g": GroupMetadata(zarr_format=fmt)}))
        eg = ez.open_group(theirs, mode="r")
        assert eg.zarr_format == fmt and sorted(eg["a"]) == ["b", "g"]
        assert eg["a/b/x"].shape == (6,) and eg["a/b/x"].attrs["n"] == fmt


def test_group_create_hierarchy_relative_paths(tmp_path):
    g = ez.open_group(str(tmp_path / "g.zarr"), mode="w")
    sub = g.create_group("sub")
    pairs = list(sub.create_hierarchy({"x/y": _v3_array(), "z": GroupMetadataV3()}))
    assert [p for p, _ in pairs] == ["x", "z", "x/y"]  # relative to the group
    assert dict(pairs)["x/y"].path == "sub/x/y"
    assert sorted(g["sub"]) == ["x", "z"]
    with pytest.raises(InvalidArgumentError, match="the group itself"):
        sub.create_hierarchy({"": GroupMetadataV3()})
    with pytest.raises(InvalidArgumentError, match="both Zarr formats"):
        sub.create_hierarchy({"w": _v2_array()})
    assert zarr.open_group(str(tmp_path / "g.zarr"))["sub/x/y"].shape == (6,)


def test_existing_nodes_mixed_and_overwrite(tmp_path):
    root = str(tmp_path / "m.zarr")
    g = ez.open_group(root, mode="w")
    keep = g.create_array("a/keep", data=np.arange(3))
    g["a"].attrs["mine"] = 1
    old = g.create_array("old", data=np.arange(4))
    # an existing group where an implicit parent goes is kept as it is, with its members
    nodes = dict(ez.create_hierarchy(store=root, nodes={"a/new": _v3_array()}))
    assert sorted(nodes) == ["a/new"]  # nothing else written
    assert ez.open_group(root)["a"].attrs["mine"] == 1 and keep[:].read().tolist() == [0, 1, 2]
    # a node at a named path: refused without overwrite...
    before = _snapshot(root)
    with pytest.raises(NodeExistsError, match="overwrite=True") as e:
        ez.create_hierarchy(store=root, nodes={"old": _v3_array(), "fresh": GroupMetadataV3()})
    assert "old" in str(e.value) and _snapshot(root) == before
    with pytest.raises(NodeExistsError):  # an explicit group where one exists
        ez.create_hierarchy(store=root, nodes={"a": GroupMetadataV3()})
    assert _snapshot(root) == before
    # ...replaced with it, with everything below it (zarr-python's rule)
    nodes = dict(ez.create_hierarchy(store=root, nodes={"old": GroupMetadataV3(attributes={"n": 1}),
                                                        "a": GroupMetadataV3()}, overwrite=True))
    g = ez.open_group(root)
    assert isinstance(g["old"], ez.Group) and g["old"].attrs["n"] == 1
    assert list(g["a"]) == [] and not os.path.exists(tmp_path / "m.zarr" / "old" / "c")
    assert old.nchunks_initialized == 0  # its chunks went with it


def test_consolidated_metadata_stays_current(tmp_path):
    root = str(tmp_path / "c.zarr")
    g = ez.open_group(root, mode="w")
    g.create_group("pre")
    ez.consolidate_metadata(root)
    ez.create_hierarchy(store=root, nodes={"pre/x": _v3_array(), "n/m": GroupMetadataV3()})
    cg = ez.open_consolidated(root)
    assert cg.consolidated and sorted(n for n, _ in cg.members(max_depth=None)) == [
        "n", "n/m", "pre", "pre/x"]
    assert sorted(zarr.open_consolidated(root).members(max_depth=None)[i][0] for i in range(4)) \
        == ["n", "n/m", "pre", "pre/x"]
    # an open consolidated group sees the nodes it created at once
    cg = ez.open_group(root, mode="a")
    cg.create_hierarchy({"late": _v3_array()})
    assert "late" in cg.keys()
    # a v3 group given with consolidated_metadata gets it rebuilt from what is written
    stale = {"kind": "inline", "must_understand": False, "metadata": {"ghost": _v3_array()}}
    ez.create_hierarchy(store=str(tmp_path / "s.zarr"), nodes={
        "": GroupMetadataV3(consolidated_metadata=stale), "real": _v3_array()})
    assert list(ez.open_consolidated(str(tmp_path / "s.zarr"))) == ["real"]


def test_empty_nodes_write_nothing():
    s: dict = {}
    assert list(ez.create_hierarchy(store=s, nodes={})) == []
    assert s == {}


# -- bad nodes leave the store byte-identical ---------------------------------------------
BAD = {
    "unknown codec": ({"ok": _v3_array(), "bad": dict(_v3_array(), codecs=[
        {"name": "bytes", "configuration": {"endian": "little"}}, {"name": "nope-codec"}])},
        CodecError),
    "invalid v3 metadata": ({"ok": GroupMetadataV3(), "bad": dict(_v3_array(), shape="x")},
                            InvalidMetadataError),
    "invalid v2 dtype": ({"bad": _v2_array(dtype="<q9")}, InvalidMetadataError),
    "no zarr_format": ({"ok": GroupMetadataV3(), "bad": {"node_type": "group"}},
                       InvalidMetadataError),
    "bad node_type": ({"bad": {"zarr_format": 3, "node_type": "folder"}}, InvalidMetadataError),
    "not metadata": ({"ok": GroupMetadataV3(), "bad": 42}, InvalidArgumentError),
    "mixed formats": ({"v3": GroupMetadataV3(), "v2": GroupMetadataV2()}, InvalidArgumentError),
    "reserved name": ({"ok": GroupMetadataV3(), "a/zarr.json": GroupMetadataV3()},
                      InvalidNameError),
    "dot-dot path": ({"ok": GroupMetadataV3(), "a/../b": GroupMetadataV3()}, InvalidNameError),
    "non-str path": ({"ok": GroupMetadataV3(), 3: GroupMetadataV3()}, InvalidNameError),
    "duplicate path": ({"a": GroupMetadataV3(), "/a/": GroupMetadataV3()},
                       InvalidArgumentError),
    "array with a child": ({"a": _v3_array(), "a/b": GroupMetadataV3()}, InvalidArgumentError),
    "existing array as parent": ({"arr/child": GroupMetadataV3()}, NodeExistsError),
    "existing node named": ({"ok": GroupMetadataV3(), "arr": _v3_array()}, NodeExistsError),
    "v2 node where a v3 parent goes": ({"v2g/x": GroupMetadataV3()}, NodeExistsError),
}


@pytest.mark.parametrize("case,overwrite", [
    (c, o) for c in sorted(BAD) for o in (False, True)
    if not (o and c == "existing node named")])  # valid with overwrite (tested above)
def test_bad_nodes_leave_the_store_untouched(tmp_path, case, overwrite):
    nodes, err = BAD[case]
    root = str(tmp_path / "b.zarr")
    g = ez.open_group(root, mode="w")
    g.create_array("arr", data=np.arange(5), chunks=(2,))
    g.create_group("keep", attributes={"k": 1})
    (tmp_path / "b.zarr" / "v2g").mkdir()  # a v2 group (as another tool may leave one)
    (tmp_path / "b.zarr" / "v2g" / ".zgroup").write_text('{"zarr_format": 2}')
    before = _snapshot(root)
    with pytest.raises(err):
        ez.create_hierarchy(store=root, nodes=nodes, overwrite=overwrite)
    assert _snapshot(root) == before


def test_array_over_existing_keys_below(tmp_path):
    """A new array where keys already exist below (members without a node at the path,
    as other tools leave them) would hide them: refused, replaced with overwrite."""
    root = tmp_path / "k.zarr"
    ez.create_hierarchy(store=str(root), nodes={"x/inner": GroupMetadataV3()})
    os.remove(root / "x" / "zarr.json")
    before = _snapshot(str(root))
    with pytest.raises(NodeExistsError, match="keys already exist below"):
        ez.create_hierarchy(store=str(root), nodes={"x": _v3_array()})
    assert _snapshot(str(root)) == before
    ez.create_hierarchy(store=str(root), nodes={"x": _v3_array()}, overwrite=True)
    assert not (root / "x" / "inner").exists() and isinstance(ez.open(str(root), path="x"), ez.ZArray)


def test_read_only_store_refused(tmp_path):
    root = str(tmp_path / "r.zarr")
    ez.group(root)
    with pytest.raises(ReadOnlyError, match="mode='a'"):
        ez.create_hierarchy(store=LocalStore(root, read_only=True), nodes={"a": GroupMetadataV3()})
    with pytest.raises(ReadOnlyError):
        ez.open_group(root, mode="r").create_hierarchy({"a": GroupMetadataV3()})
    assert os.listdir(root) == ["zarr.json"]


def test_no_zarr_import_for_exzarr_and_dict_nodes():
    import subprocess
    import sys
    code = ("import sys, exzarr as ez\n"
            "from exzarr.metadata import GroupMetadataV3\n"
            "n = dict(ez.create_hierarchy(store={}, nodes={'a': GroupMetadataV3(), 'b/c': "
            "{'zarr_format': 3, 'node_type': 'group'}}))\n"
            "assert sorted(n) == ['', 'a', 'b', 'b/c'], n\n"
            "assert 'zarr' not in sys.modules, 'zarr imported'\n")
    subprocess.run([sys.executable, "-c", code], check=True)
