"""Rich display of arrays: an HTML table beside an SVG picture of the chunk grid.

* :mod:`.model`  - what a picture shows, as data (:class:`GridModel`: axes with chunk and
  shard lengths, a selected region, the chunks it reads, stored units);
* :mod:`.svg`    - draws a ``GridModel`` (1-d bar, 2-d rectangle, 3-d box, more
  dimensions as a row of 3-d blocks), with a bounded number of elements;
* :mod:`.table`  - the key/value table, the card (table + picture), the stylesheet and a
  self-contained page; knows nothing about arrays;
* :mod:`.arrays` - builds all of it for a ``ZArray`` or view.

``ZArray._repr_html_`` / ``ZArray.info_html(stored=...)`` use :func:`array_html`; groups
(:mod:`exzarr.hierarchy.display`) and the command line reuse the pieces.  A future lazy
expression or computation plan builds its own :class:`GridModel` (its output shape and
chunking, the region of its inputs it reads) and rows, and calls :func:`render_svg` and
:func:`card`.
"""

from __future__ import annotations

from .arrays import (DisplayArray, array_html, array_model, array_page, array_rows, array_svg,
                     codec_summary, fmt_bytes, summary_line)
from .model import Axis, Coverage, GridModel, Region, selection_regions
from .svg import render_svg
from .table import CSS, Row, card, html_page, rows_table

__all__ = ["DisplayArray", "array_html", "array_model", "array_page", "array_rows", "array_svg",
           "codec_summary", "fmt_bytes", "summary_line", "Axis", "Coverage", "GridModel",
           "Region", "selection_regions", "render_svg", "CSS", "Row", "card", "html_page",
           "rows_table"]
