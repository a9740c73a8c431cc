"""The chunk-grid SVG: parsed with xml.etree; shapes, shards, views, bounded size."""

from __future__ import annotations

import numpy as np
import pytest

import exzarr as ez
from exzarr.array.display import array_svg, render_svg
from exzarr.array.display.model import Axis, GridModel, runs, selection_regions
from exzarr.array.display.svg import block_axes
from exzarr.indexing.parse import parse_key, parse_vectorized

from _structure import SVG_NS, classes, parse_svg


def _arr(shape, chunks, fmt=3, **kw):
    return ez.create("memory://", shape=shape, chunks=chunks, dtype="f4", zarr_format=fmt, **kw)


@pytest.mark.parametrize("fmt", [2, 3])
@pytest.mark.parametrize("shape,chunks", [
    ((100,), (10,)), ((100, 60), (10, 20)), ((30, 40, 50), (10, 10, 10)),
    ((4, 30, 40, 50), (1, 10, 10, 10)), ((2, 3, 4, 5, 6), (1, 2, 2, 2, 3)),
    ((2, 2, 2, 2, 2, 2, 2), (1,) * 7)])
def test_every_rank_draws_a_well_formed_grid(fmt, shape, chunks):
    root = parse_svg(array_svg(_arr(shape, chunks, fmt)))
    c = classes(root)
    groups = block_axes(len(shape))
    assert c["ez-face"] >= len(groups)
    # every interior chunk boundary is drawn (small grids are not summarised)
    faces_per_axis = {1: 1, 2: 1, 3: 2}
    want = sum((-(-s // k) - 1) * faces_per_axis[len(g)] for g in groups
               for s, k in ((shape[a], chunks[a]) for a in g))
    assert c["ez-chunk-line"] == want
    assert c["ez-shard-line"] == 0
    labels = [t.text for t in root.iter(SVG_NS + "text") if t.get("class") == "ez-label"]
    assert sorted(str(s) for s in shape) == sorted(x for x in labels if x.isdigit())
    if len(groups) > 1:
        assert any(x.startswith("axes ") for x in labels)


def test_zero_dimensional_array():
    z = ez.create("memory://", shape=(), chunks=(), dtype="i4", zarr_format=3)
    root = parse_svg(array_svg(z))
    assert any(t.text == "scalar (0-d)" for t in root.iter(SVG_NS + "text"))


@pytest.mark.parametrize("shape,chunks,shards", [
    ((1000,), (10,), (100,)), ((1000, 800), (50, 50), (200, 400)),
    ((40, 60, 80), (10, 10, 10), (20, 30, 40)), ((4, 40, 60, 80), (1, 10, 10, 10), (2, 20, 30, 40))])
def test_shard_lines_drawn_over_chunk_lines(shape, chunks, shards):
    z = _arr(shape, chunks, shards=shards)
    root = parse_svg(array_svg(z))
    c = classes(root)
    assert c["ez-shard-line"] > 0 and c["ez-chunk-line"] > 0
    children = list(root)
    last_chunk = max(i for i, el in enumerate(children) if el.get("class") == "ez-chunk-line")
    first_shard = min(i for i, el in enumerate(children) if el.get("class") == "ez-shard-line")
    shard_lines = [el for el in children if el.get("class") == "ez-shard-line"]
    assert float(shard_lines[0].get("stroke-width")) > float(children[last_chunk].get("stroke-width"))
    # a boundary shared by a chunk and a shard is drawn once, as a shard line
    if len(shape) == 2:
        assert c["ez-chunk-line"] + c["ez-shard-line"] == (1000 // 50 - 1) + (800 // 50 - 1)
        assert c["ez-shard-line"] == (1000 // 200 - 1) + (800 // 400 - 1)
    assert first_shard > 0


def _box(el):
    pts = [tuple(map(float, p.split(","))) for p in el.get("points").split()]
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    return min(xs), min(ys), max(xs), max(ys)


def test_view_highlights_its_region_on_the_base_grid():
    z = _arr((1000, 1000), (100, 100))
    v = z[200:300, 500:1000]
    root = parse_svg(array_svg(v))
    sel = [el for el in root if el.get("class") == "ez-selected"]
    touched = [el for el in root if el.get("class") == "ez-touched"]
    face = next(el for el in root if el.get("class") == "ez-face")
    assert len(sel) == 1 and len(touched) == 1
    fx0, fy0, fx1, fy1 = _box(face)
    x0, y0, x1, y1 = _box(sel[0])
    w, h = fx1 - fx0, fy1 - fy0
    assert (x0 - fx0) / w == pytest.approx(0.5, abs=0.01) and (x1 - fx0) / w == pytest.approx(1.0, abs=0.01)
    assert (y0 - fy0) / h == pytest.approx(0.2, abs=0.01) and (y1 - fy0) / h == pytest.approx(0.3, abs=0.01)


def test_view_with_steps_and_ints():
    z = _arr((1000, 1000), (100, 100), fmt=2)
    v = z[::250, 7]           # 4 rows of one column: exact runs
    sel = [el for el in parse_svg(array_svg(v)) if el.get("class") == "ez-selected"]
    assert len(sel) == 4
    w = z[1:999:3, 100:900:7]  # too many runs: bounding box, said in the legend
    root = parse_svg(array_svg(w))
    assert classes(root)["ez-selected"] == 1
    assert any("outline" in (t.text or "") for t in root.iter(SVG_NS + "text"))
    sel3 = _arr((30, 40, 50), (10, 10, 10))[5:25:10, ::-1, 3]
    c = classes(parse_svg(array_svg(sel3)))
    assert c["ez-selected"] == 2 * 3  # two boxes, three visible faces each


def test_view_of_view_and_transpose_and_vindex():
    z = _arr((100, 200), (10, 10))
    vv = z[10:90][5:15, ::2].T
    assert classes(parse_svg(array_svg(vv)))["ez-selected"] >= 1
    pts = z.vindex[[1, 50, 99], [3, 100, 150]]
    root = parse_svg(array_svg(pts))
    assert classes(root)["ez-selected"] >= 1


def test_empty_and_stale_views_do_not_raise():
    z = _arr((100, 100), (10, 10))
    assert classes(parse_svg(array_svg(z[5:5])))["ez-selected"] == 0
    v = z[10:20]
    z.resize((50, 100))
    parse_svg(array_svg(v))
    assert "resized" in v._repr_html_()


@pytest.mark.parametrize("shape,chunks", [((10**6,), (1,)), ((1000, 1000), (1, 1)),
                                          ((100, 100, 100), (1, 1, 1)),
                                          ((10, 10, 100, 100, 1), (1, 1, 1, 1, 1))])
def test_million_chunk_grids_stay_small(shape, chunks):
    z = _arr(shape, chunks)
    assert z.nchunks == 10**6
    text = array_svg(z[1:7, ...] if len(shape) > 1 else z[::3])
    root = parse_svg(text)
    n = sum(1 for _ in root.iter())
    assert n < 800, n
    assert len(text) < 80_000
    assert any("a line every" in (t.text or "") for t in root.iter(SVG_NS + "text"))


def test_million_chunks_with_stored_coverage_stays_small():
    z = _arr((1000, 1000), (1, 1), fill_value=0)
    z[0:30, 0:40] = 1
    z[500, :] = 2
    root = parse_svg(array_svg(z, stored=True))
    c = classes(root)
    assert 0 < c["ez-stored"] <= 24 * 24
    assert sum(1 for _ in root.iter()) < 1200


def test_coverage_shading_follows_stored_chunks():
    z = _arr((100, 100), (10, 10), fill_value=0)
    z[:20, :] = 1          # two full rows of chunks
    z[50:60, 30:40] = 1    # one more chunk
    root = parse_svg(array_svg(z, stored=True))
    cells = [el for el in root if el.get("class") == "ez-stored"]
    assert len(cells) == 21
    assert any("stored (21)" == t.text for t in root.iter(SVG_NS + "text"))
    assert classes(parse_svg(array_svg(z)))["ez-stored"] == 0  # only when asked


def test_runs_and_selection_regions():
    assert runs(np.array([1, 2, 3, 7, 9, 10])) == [(1, 4), (7, 8), (9, 11)]
    assert runs(np.array([], dtype=int)) == []
    sel = parse_key((slice(5, 25), 7, slice(None, None, -1)), (100, 50, 30))
    selected, touched = selection_regions(sel, (10, 10, 10))
    assert selected.intervals == (((5, 25),), ((7, 8),), ((0, 30),)) and selected.exact
    assert touched.intervals == (((0, 30),), ((0, 10),), ((0, 30),))
    vsel = parse_vectorized(([1, 5], [2, 40]), (100, 50))
    selected, touched = selection_regions(vsel, (10, 10))
    assert not selected.exact and selected.intervals == (((1, 2), (5, 6)), ((2, 3), (40, 41)))


def test_render_svg_is_reusable_without_an_array():
    """A future plan/expression object builds a GridModel directly."""
    model = GridModel((Axis(500, 100, None, "rows"), Axis(300, 50, 150)))
    root = parse_svg(render_svg(model, title="a plan's output <chunks>"))
    assert root.find(SVG_NS + "title").text == "a plan's output <chunks>"
    assert any(t.text == "rows: 500" for t in root.iter(SVG_NS + "text"))
