"""Groups and consolidated metadata, both ways with zarr-python 3.1.6."""

import json
import warnings

import numpy as np
import pytest

import exzarr as ez

zarr = pytest.importorskip("zarr")
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _zp_hierarchy(path, fmt):
    g = zarr.open_group(path, mode="w", zarr_format=fmt, attributes={"title": "zp"})
    sub = g.create_group("sub", attributes={"level": 1})
    x = sub.create_array("x", shape=(10, 7), chunks=(4, 3), dtype="f4", attributes={"u": "m"})
    x[:] = np.arange(70, dtype="f4").reshape(10, 7)
    y = g.create_array("y", shape=(5,), chunks=(2,), dtype="i2", fill_value=-1)
    y[:3] = [1, 2, 3]
    sub.create_group("empty")
    return g


def _check_ours(g, fmt):
    assert g.zarr_format == fmt and g.attrs["title"] == "zp"
    assert list(g) == ["sub", "y"] and list(g["sub"]) == ["empty", "x"]
    assert g["sub"].attrs["level"] == 1 and g["sub/x"].attrs["u"] == "m"
    np.testing.assert_array_equal(g["sub/x"][:].read(), np.arange(70, dtype="f4").reshape(10, 7))
    assert g["y"][:].read().tolist() == [1, 2, 3, -1, -1]
    assert [p for p, _ in g.members(max_depth=None)] == ["sub", "sub/empty", "sub/x", "y"]


@pytest.mark.parametrize("fmt", [2, 3])
def test_we_read_zarr_python_groups(tmp_path, fmt):
    _zp_hierarchy(str(tmp_path / "g.zarr"), fmt)
    g = ez.open_group(str(tmp_path / "g.zarr"), mode="r")
    assert not g.consolidated
    _check_ours(g, fmt)


@pytest.mark.parametrize("fmt", [2, 3])
def test_we_read_zarr_python_consolidated(tmp_path, fmt):
    path = str(tmp_path / "g.zarr")
    _zp_hierarchy(path, fmt)
    zarr.consolidate_metadata(path, zarr_format=fmt)
    g = ez.open_group(path, mode="r", use_consolidated=True)
    assert g.consolidated
    _check_ours(g, fmt)
    # the member metadata really comes from the consolidated document
    assert g["sub"].consolidated and g["sub/x"].metadata == ez.open(path, path="sub/x").metadata


def _ours(path, fmt):
    g = ez.group(path, zarr_format=fmt, attributes={"title": "ez"})
    x = g.create_array("sub/x", shape=(9, 4), chunks=(4, 4), dtype="<i4", attributes={"k": [1]})
    x[:] = np.arange(36).reshape(9, 4)
    g["sub"].attrs["level"] = 2
    g.create_array("f", shape=(3,), dtype="f8", fill_value=np.nan)
    g.create_group("sub/empty")
    return g


def _check_zp(zg):
    assert zg.attrs["title"] == "ez" and zg["sub"].attrs["level"] == 2
    assert sorted(zg.group_keys()) == ["sub"] and sorted(zg.array_keys()) == ["f"]
    assert sorted(zg["sub"].keys()) == ["empty", "x"]
    np.testing.assert_array_equal(zg["sub/x"][:], np.arange(36).reshape(9, 4))
    assert zg["sub/x"].attrs["k"] == [1]
    assert np.isnan(zg["f"][:]).all()


@pytest.mark.parametrize("fmt", [2, 3])
def test_zarr_python_reads_our_groups(tmp_path, fmt):
    path = str(tmp_path / "g.zarr")
    _ours(path, fmt)
    zg = zarr.open_group(path, mode="r", use_consolidated=False)
    assert zg.metadata.zarr_format == fmt
    _check_zp(zg)


@pytest.mark.parametrize("fmt", [2, 3])
def test_zarr_python_reads_our_consolidated(tmp_path, fmt):
    path = str(tmp_path / "g.zarr")
    _ours(path, fmt)
    ez.consolidate_metadata(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        zg = zarr.open_consolidated(path, zarr_format=fmt)
    assert zg.metadata.consolidated_metadata is not None
    _check_zp(zg)
    zg2 = zarr.open_group(path, mode="r", use_consolidated=True)
    _check_zp(zg2)


def test_our_v3_consolidated_document_matches_zarr_python(tmp_path):
    """Same hierarchy, consolidated by both: identical root zarr.json documents."""
    docs = {}
    for who in ("ez", "zp"):
        path = str(tmp_path / f"{who}.zarr")
        if who == "zp":
            g = zarr.open_group(path, mode="w", zarr_format=3, attributes={"a": 1})
            g.create_group("sub", attributes={"b": 2})
            g.create_array("sub/x", shape=(4,), chunks=(2,), dtype="f4")
            zarr.consolidate_metadata(path)
        else:
            g = ez.group(path, attributes={"a": 1})
            g.create_group("sub", attributes={"b": 2})
            g.create_array("sub/x", shape=(4,), chunks=(2,), dtype="f4")
            ez.consolidate_metadata(path)
        with open(f"{path}/zarr.json") as f:
            docs[who] = json.load(f)
    assert docs["ez"] == docs["zp"]


def test_our_v2_zmetadata_matches_zarr_python_where_it_matters(tmp_path):
    paths = {}
    for who in ("ez", "zp"):
        path = str(tmp_path / f"{who}.zarr")
        if who == "zp":
            g = zarr.open_group(path, mode="w", zarr_format=2, attributes={"a": 1})
            g.create_array("x", shape=(4,), chunks=(2,), dtype="f4", compressor=None)
            zarr.consolidate_metadata(path)
        else:
            g = ez.group(path, zarr_format=2, attributes={"a": 1})
            g.create_array("x", shape=(4,), chunks=(2,), dtype="f4", compressor=None)
            ez.consolidate_metadata(path)
        with open(f"{path}/.zmetadata") as f:
            paths[who] = json.load(f)
    assert paths["ez"] == paths["zp"]
    assert paths["ez"]["zarr_consolidated_format"] == 1
