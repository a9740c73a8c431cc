"""The pictures of docs/display.md are exzarr's own output, and up to date.

``docs/img/make_display_images.py`` draws them; this test draws them again and compares
with the committed files.  After changing the drawing code, rerun the script (or this
test with ``EXZARR_UPDATE_DOCS=1``, which rewrites the files) and commit the result.
"""

from __future__ import annotations

import importlib.util
import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
IMG = ROOT / "docs" / "img"
PAGE = ROOT / "docs" / "display.md"


def _script():
    spec = importlib.util.spec_from_file_location("make_display_images", IMG / "make_display_images.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_committed_pictures_match_the_code():
    fresh = _script().render()
    assert fresh, "the script draws no pictures"
    stale = []
    for name, text in fresh.items():
        ET.fromstring(text)  # well-formed SVG
        path = IMG / name
        if os.environ.get("EXZARR_UPDATE_DOCS"):
            path.write_text(text, encoding="utf-8")
        elif not path.exists() or path.read_text(encoding="utf-8") != text:
            stale.append(name)
    assert not stale, (f"docs/img is out of date for {stale}: run "
                       f"`python docs/img/make_display_images.py` and commit the files")


def test_page_shows_every_picture_and_only_generated_ones():
    shown = set(re.findall(r"!\[[^\]]*\]\(img/([^)]+)\)", PAGE.read_text(encoding="utf-8")))
    drawn = set(_script().render())
    assert shown == drawn, (shown ^ drawn)
    index = (ROOT / "docs" / "index.md").read_text(encoding="utf-8")
    assert "(display.md)" in index
