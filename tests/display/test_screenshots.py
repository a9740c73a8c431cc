"""The pages as a browser draws them: headless Chromium screenshots, checked non-blank.

Skipped only when no Chromium is installed (Debian: ``apt-get install chromium``; the
Makefile's test bootstrap installs it).  Set ``EXZARR_SCREENSHOTS=DIR`` to keep the PNGs.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pytest

import exzarr as ez
from exzarr.array.display import array_page, array_svg
from exzarr.hierarchy.display import group_page

from _browser import chromium, read_png, screenshot

pytestmark = pytest.mark.skipif(chromium() is None, reason="chromium is not installed")

W, H = 960, 640
FACE = (244, 213, 177)      # the chunk colour #ECB172 at 55% over white
SELECTED_BLUE = (8, 81, 156)


@pytest.fixture(scope="module")
def outdir(tmp_path_factory) -> Path:
    keep = os.environ.get("EXZARR_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        return Path(keep)
    return tmp_path_factory.mktemp("screenshots")


def _pages(root: Path) -> dict[str, str]:
    g = ez.group(str(root / "h.zarr"), zarr_format=3, attributes={"title": "screenshots"})
    a3 = g.create_array("a/b/c/cube", shape=(100, 200, 50), chunks=(10, 20, 10),
                        shards=(20, 40, 50), dtype="f4")
    a3[:40, :120] = 1.0
    a2 = g.create_array("a/b/plane", shape=(1000, 1500), chunks=(100, 100), shards=(500, 500),
                        dtype="f4")
    g.create_array("a/series", shape=(10_000,), chunks=(1000,), dtype="i8")
    a4 = g.create_array("t4", shape=(12, 100, 200, 300), chunks=(1, 50, 50, 100), dtype="u2",
                        dimension_names=["t", "z", "y", "x"])
    v2 = ez.create(str(root / "v2.zarr"), shape=(600, 900), chunks=(60, 90), dtype="f8",
                   zarr_format=2, compressor="zstd")
    v2[::2, :300] = 3.0
    return {
        "array-3d-stored.html": array_page(a3, stored=True),
        "view-2d.html": array_page(a2[150:420, 600:1300]),
        "view-4d.html": array_page(a4[3, 20:60, :, 100:250]),
        "v2-stored.html": array_page(v2, stored=True),
        "group.html": group_page(g),
        "grid.svg": array_svg(a2[::300, 200:1400:2]),
    }


def _near(px: tuple[int, ...], colour: tuple[int, int, int], tol: int) -> bool:
    return all(abs(a - b) <= tol for a, b in zip(px, colour))


def _pixels(png: Path) -> tuple[int, int, list[tuple[int, ...]]]:
    w, h, rows = read_png(png)
    bpp = len(rows[0]) // w
    px = [tuple(r[i:i + 3]) for r in rows[::2] for i in range(0, len(r), bpp * 2)]
    return w, h, px


def test_pages_render_non_blank(tmp_path, outdir):
    pages = _pages(tmp_path)
    for name, text in pages.items():
        (outdir / name).write_text(text, encoding="utf-8")
    for name in pages:
        png = outdir / (name + ".png")
        screenshot(outdir / name, png, width=W, height=H)
        w, h, px = _pixels(png)
        assert (w, h) == (W, H), name
        counts = Counter(px)
        background = counts.most_common(1)[0][0]
        ink = sum(n for p, n in counts.items() if p != background) / len(px)
        assert len(counts) >= 12, (name, len(counts))          # not a flat image
        assert 0.02 < ink < 0.8, (name, ink)                   # something drawn, not all of it
        if name != "group.html":
            assert any(_near(p, FACE, 14) for p in counts), name   # the chunk grid is visible
        if name.startswith("view") or name == "grid.svg":
            blues = sum(n for p, n in counts.items() if p[2] > p[0] + 60 and p[2] > 120)
            assert blues > 50, (name, blues)                   # the selected region is drawn
