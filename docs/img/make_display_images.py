"""Regenerate the pictures of docs/display.md: ``python docs/img/make_display_images.py``.

Every picture is drawn by exzarr itself from arrays built here in memory (so the files
are the library's real output, never hand-drawn); ``tests/docs/test_display_images.py``
checks the committed files match what this script writes today.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

import exzarr as ez
from exzarr.array.display import array_svg

HERE = Path(__file__).resolve().parent


def arrays() -> dict[str, tuple[object, bool]]:
    """``file name -> (array or view, stored)``: the examples the docs page shows."""
    out: dict[str, tuple[object, bool]] = {}
    a1 = ez.create("memory://docs-1d", shape=(1_000_000,), chunks=(100_000,), dtype="f8",
                   zarr_format=2, overwrite=True)
    out["display-1d.svg"] = (a1, False)
    a2 = ez.create("memory://docs-2d", shape=(1000, 1500), chunks=(100, 100), shards=(500, 500),
                   dtype="f4", zarr_format=3, overwrite=True)
    out["display-2d-sharded.svg"] = (a2, False)
    out["display-2d-view.svg"] = (a2[150:420, 600:1300], False)
    out["display-2d-view-steps.svg"] = (a2[::300, 200:1400:2], False)
    a3 = ez.create("memory://docs-3d", shape=(100, 200, 50), chunks=(10, 20, 10),
                   shards=(20, 40, 50), dtype="f4", zarr_format=3, overwrite=True)
    a3[:40, :120] = 1.0
    out["display-3d-stored.svg"] = (a3, True)
    a4 = ez.create("memory://docs-4d", shape=(12, 100, 200, 300), chunks=(1, 50, 50, 100),
                   dtype="u2", zarr_format=3, dimension_names=["t", "z", "y", "x"],
                   overwrite=True)
    out["display-4d-view.svg"] = (a4[3, 20:60, :, 100:250], False)
    big = ez.create("memory://docs-big", shape=(1_000_000, 1_000_000), chunks=(1000, 1000),
                    dtype="f4", zarr_format=3, overwrite=True)
    out["display-1e6-chunks.svg"] = (big, False)
    part = ez.create("memory://docs-stored", shape=(600, 900), chunks=(60, 60), dtype="i4",
                     zarr_format=3, overwrite=True)
    rng = np.random.default_rng(0)
    for i, j in zip(rng.integers(0, 10, 40), rng.integers(0, 15, 40)):
        part[i * 60:(i + 1) * 60, j * 60:(j + 1) * 60] = 7
    part[:120] = 1
    out["display-2d-stored.svg"] = (part, True)
    return out


def render() -> dict[str, str]:
    """``file name -> SVG text`` for every picture."""
    return {name: array_svg(arr, stored=stored) + "\n"  # type: ignore[arg-type]
            for name, (arr, stored) in arrays().items()}


def main() -> int:
    for name, text in render().items():
        (HERE / name).write_text(text, encoding="utf-8")
        print(f"wrote docs/img/{name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
