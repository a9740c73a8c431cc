"""HTML building blocks shared by every rich display: a key/value table beside a
picture (a "card"), the stylesheet, and a whole self-contained page.

Nothing here knows about arrays: the rows are ``(label, text)`` pairs and the picture is
SVG text, so groups, views and a future computation plan all use the same card.  Every
label and value is escaped here; only the SVG (built by :mod:`.svg`, which escapes its
own text) is inserted as markup.
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape

__all__ = ["Row", "CSS", "card", "rows_table", "html_page"]

#: a table row: ``(label, value)``; both are plain text (escaped on output)
Row = tuple[str, str]

#: class names all start with ``ez-`` so the styles cannot touch a notebook's own markup
CSS = """
.ez-card{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start;margin:4px 0;
 font-family:var(--jp-content-font-family,system-ui,sans-serif);font-size:13px}
.ez-card>table.ez-table{border-collapse:collapse;min-width:260px}
.ez-table caption{text-align:left;font-weight:600;padding:2px 6px 6px 0}
.ez-table th{text-align:left;font-weight:600;padding:2px 10px 2px 0;vertical-align:top;
 white-space:nowrap;opacity:.85}
.ez-table td{text-align:left;padding:2px 6px 2px 0;font-family:ui-monospace,monospace;
 overflow-wrap:anywhere;max-width:520px}
.ez-table tr:nth-child(even){background:rgba(127,127,127,.08)}
.ez-picture svg{max-width:100%;height:auto}
.ez-tree{font-family:ui-monospace,monospace;font-size:13px;margin:6px 0}
.ez-tree details{margin-left:14px}
.ez-tree>details{margin-left:0}
.ez-tree summary{cursor:pointer;padding:1px 0}
.ez-tree .ez-member{margin-left:28px;padding:1px 0}
.ez-tree .ez-kind{opacity:.65}
.ez-more{opacity:.7;font-style:italic;margin-left:28px}
""".strip()


def rows_table(rows: Iterable[Row], caption: str | None = None) -> str:
    """An escaped ``<table class="ez-table">`` of ``(label, value)`` rows."""
    parts = ['<table class="ez-table">']
    if caption:
        parts.append(f"<caption>{escape(caption)}</caption>")
    parts.append("<tbody>")
    for label, value in rows:
        parts.append(f"<tr><th>{escape(label)}</th><td>{escape(value)}</td></tr>")
    parts.append("</tbody></table>")
    return "".join(parts)


def card(rows: Iterable[Row], svg: str | None = None, *, caption: str | None = None,
         style: bool = True) -> str:
    """The table of ``rows`` beside the picture ``svg``: a fragment for ``_repr_html_``
    (with its ``<style>`` when ``style``), or for embedding in a page."""
    head = f"<style>{CSS}</style>" if style else ""
    pic = f'<div class="ez-picture">{svg}</div>' if svg else ""
    return f'{head}<div class="ez-card">{rows_table(rows, caption)}{pic}</div>'


def html_page(title: str, body: str) -> str:
    """A complete, self-contained HTML5 document: inline styles, no scripts, no links to
    anything outside the file."""
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"<title>{escape(title)}</title>\n<style>\nbody{{margin:16px;color:#1a1a1a;"
            f"background:#fff}}\nh1{{font:600 16px system-ui,sans-serif;margin:0 0 8px}}\n"
            f"{CSS}\n</style>\n</head>\n<body>\n<h1>{escape(title)}</h1>\n{body}\n</body>\n</html>\n")
