"""``_repr_html_`` / ``info_html`` of arrays, views and groups: parsed with html.parser."""

from __future__ import annotations

import numpy as np
import pytest

import exzarr as ez
from exzarr.array.display import array_page
from exzarr.hierarchy.display import MAX_CARDS, group_page

from _structure import check_html, no_external_resources


def _rows(c) -> dict[str, str]:
    """th -> td text of the first table."""
    text = [t for t in c.text if t.strip()]
    out = {}
    for i, t in enumerate(text[:-1]):
        out.setdefault(t, text[i + 1])
    return out


@pytest.mark.parametrize("fmt", [2, 3])
def test_array_card_rows_and_picture(fmt):
    z = ez.create("memory://", shape=(400, 300), chunks=(100, 50), dtype="i2", zarr_format=fmt,
                  fill_value=-1, compressor="zstd")
    text = z._repr_html_()
    c = check_html(text)
    no_external_resources(c)
    assert c.tags["table"] == 1 and c.tags["svg"] == 1 and c.tags["style"] == 1
    rows = _rows(c)
    assert rows["Shape"] == "(400, 300)" and rows["Data type"] == "int16"
    assert rows["Chunks"].startswith("(100, 50): grid 4 × 6 = 24 chunks")
    assert rows["Shards"] == "none" and rows["Fill value"] == "-1"
    assert "zstd" in rows["Codecs"] and rows["Zarr format"] == f"v{fmt}"
    assert rows["Bytes (logical)"] == "234.4 KiB"
    assert rows["Store"].startswith("memory://")
    assert "not listed" in rows["Bytes stored"]


def test_sharded_stored_rows_when_asked():
    z = ez.create("memory://", shape=(64, 64), chunks=(8, 8), shards=(32, 32), dtype="f8",
                  zarr_format=3, compressor="zstd")
    z[:32, :32] = 1.0
    rows = _rows(check_html(z.info_html(stored=True)))
    assert rows["Shards"].startswith("(32, 32): grid 2 × 2 = 4 shards of 16 chunks")
    assert rows["Stored"] == "1 of 4 shards (25%)"
    assert rows["Bytes stored"].endswith("B") and float(rows["Compression ratio"]) > 1
    assert "sharding_indexed[" in rows["Codecs"]


def test_view_rows():
    z = ez.create("memory://", shape=(1000, 1000), chunks=(100, 100), dtype="f4", zarr_format=3)
    v = z[10:20, ::2].astype("f8")
    rows = _rows(check_html(v._repr_html_()))
    assert rows["Type"] == "ZArray view"
    assert rows["Shape"] == "(10, 500) (view of (1000, 1000))"
    assert rows["Selection"] == v.selection.describe() == "[10:20, 0:999:2]"
    assert rows["Data type"] == "float64 (stored as float32)"
    assert rows["Chunks read"] == "10 of 100"


def test_display_does_no_io_beyond_metadata(monkeypatch):
    z = ez.create("memory://", shape=(100, 100), chunks=(10, 10), dtype="f4", zarr_format=3)
    z[:] = 1
    v = z[5:50]
    calls = []
    store = z.store
    for name in ("get", "get_many", "get_ranges", "getsize", "list", "list_prefix", "list_dir",
                 "exists"):
        def boom(*a, _n=name, **k):
            calls.append(_n)
            raise AssertionError(f"display called store.{_n}")
        monkeypatch.setattr(store, name, boom, raising=False)
    z._repr_html_()
    v._repr_html_()
    assert calls == []
    with pytest.raises(AssertionError):
        z.info_html(stored=True)  # this one lists the store, as asked


def test_plain_repr_and_info_unchanged():
    z = ez.create("memory://", shape=(10, 10), chunks=(5, 5), dtype="f4", zarr_format=3)
    assert repr(z).startswith("<ZArray shape=(10, 10)") and "\n" not in repr(z)
    assert "<" not in str(z.info) and "Chunk shape" in str(z.info)
    g = ez.group("memory://", zarr_format=3)
    assert repr(g).startswith("<Group ")


def test_text_is_escaped():
    z = ez.create("memory://", shape=(10, 10), chunks=(5, 5), dtype="f4", zarr_format=3,
                  dimension_names=["<b>x</b>", 'y"&'])
    text = z._repr_html_()
    c = check_html(text)
    assert c.tags["b"] == 0
    assert "&lt;b&gt;x&lt;/b&gt;" in text
    g = ez.group("memory://", zarr_format=3)
    g.create_array("<i>odd</i>", shape=(3,), chunks=(3,), dtype="i1")
    gc = check_html(g._repr_html_())
    assert gc.tags["i"] == 0


@pytest.mark.parametrize("fmt", [2, 3])
def test_group_tree_of_depth_three(fmt):
    g = ez.group("memory://", zarr_format=fmt, attributes={"title": "t"})
    g.create_array("a/b/c/deep", shape=(20, 30, 40), chunks=(10, 10, 10), dtype="f4")
    g.create_array("a/b/mid", shape=(100,), chunks=(10,), dtype="i8")
    g.create_array("a/top", shape=(5, 5), chunks=(5, 5), dtype="u1")
    g.create_array("z", shape=(4, 4, 4, 4), chunks=(2, 2, 2, 2), dtype="f8")
    text = g._repr_html_()
    c = check_html(text)
    no_external_resources(c)
    # the root, a, a/b, a/b/c, plus one folded card per array
    assert c.tags["details"] == 4 + 4
    assert c.max_details_depth == 5  # root > a > b > c > deep's card
    assert c.tags["svg"] == 4
    joined = " ".join(c.text)
    assert "(20, 30, 40) float32 chunks=(10, 10, 10)" in joined
    assert "group, 2 members" in joined  # a/b holds c and mid


def test_large_groups_are_cut():
    g = ez.group("memory://", zarr_format=3)
    for i in range(MAX_CARDS + 5):
        g.create_array(f"a{i:03d}", shape=(4,), chunks=(2,), dtype="i1")
    c = check_html(g._repr_html_())
    assert c.tags["svg"] == MAX_CARDS
    assert " ".join(c.text).count("(4,) int8 chunks=(2,)") == MAX_CARDS + 5


def test_pages_are_self_contained():
    z = ez.create("memory://", shape=(10,), chunks=(5,), dtype="f4", zarr_format=2)
    page = array_page(z)
    assert page.startswith("<!DOCTYPE html>")
    c = check_html(page.split("\n", 1)[1])
    no_external_resources(c)
    assert c.tags["html"] == 1 and c.tags["meta"] == 2
    g = ez.group("memory://", zarr_format=2)
    g.create_array("x/y", shape=(3,), chunks=(3,), dtype="i1")
    no_external_resources(check_html(group_page(g).split("\n", 1)[1]))
    assert np.asarray(z).shape == (10,)


def test_lazy_expression_shows_its_plan_and_block_grid_without_reading():
    from exzarr.storage import MemoryStore

    class NoReads(MemoryStore):
        def get(self, key, byte_range=None):
            if not key.endswith("zarr.json"):
                raise AssertionError(f"the display read {key}")
            return super().get(key, byte_range)

    s = NoReads()
    z = ez.create(s, shape=(4000, 3000), chunks=(500, 500), dtype="f8")
    with ez.config.set(block_bytes=2 << 20):
        e = (z - z.mean(axis=0)) * 2
        html = e._repr_html_()
    c = check_html(html)
    no_external_resources(c)
    text = " ".join(c.text)
    assert "lazy expression" in text and "Peak memory" in text and "Blocks" in text
    assert c.tags["svg"] == 1 and "evaluation blocks" in html
    with ez.config.set(memory_limit=1000):
        assert "does not fit the memory budget" in " ".join(check_html(e._repr_html_()).text)
