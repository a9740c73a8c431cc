"""Rich display of a group: its summary table, then a collapsible tree (``<details>``)
of its members, each array with its summary line and, folded inside, its own card
(table beside chunk-grid SVG).  Metadata only: the members come from
``Group.members(max_depth=...)`` (consolidated metadata when the group has it).

Large hierarchies are cut: at most :data:`MAX_MEMBERS` members are listed and the first
:data:`MAX_CARDS` arrays get a card; the rest get their summary line.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any, Protocol

from ..array.display import array_html, card, html_page, summary_line
from ..array.display.table import CSS

__all__ = ["DisplayGroup", "group_html", "group_page", "MAX_MEMBERS", "MAX_CARDS"]

MAX_MEMBERS = 2000
MAX_CARDS = 40


class DisplayGroup(Protocol):
    """What the display reads from a group (``Group`` has all of it)."""

    @property
    def name(self) -> str: ...
    @property
    def zarr_format(self) -> int: ...
    @property
    def store(self) -> Any: ...
    @property
    def info(self) -> Any: ...
    def members(self, max_depth: int | None = 0) -> Sequence[tuple[str, Any]]: ...


class _Node:
    __slots__ = ("name", "node", "kids")

    def __init__(self, name: str, node: Any) -> None:
        self.name = name
        self.node = node
        self.kids: dict[str, _Node] = {}


def _build(members: Sequence[tuple[str, Any]]) -> _Node:
    root = _Node("", None)
    for rel, node in members:
        cur = root
        parts = rel.split("/")
        for p in parts[:-1]:
            cur = cur.kids.setdefault(p, _Node(p, None))
        leaf = cur.kids.setdefault(parts[-1], _Node(parts[-1], node))
        leaf.node = node
    return root


def _is_group(node: Any) -> bool:
    return node is None or hasattr(node, "members")


class _Emitter:
    def __init__(self) -> None:
        self.parts: list[str] = []
        self.cards = 0

    def emit(self, t: _Node) -> None:
        for name in sorted(t.kids):
            kid = t.kids[name]
            if _is_group(kid.node):
                n_kids = len(kid.kids)
                self.parts.append(
                    f'<details open><summary>{escape(name)}/ <span class="ez-kind">group, '
                    f'{n_kids} member{"s" if n_kids != 1 else ""}</span></summary>')
                self.emit(kid)
                self.parts.append("</details>")
                continue
            line = (f'{escape(name)} <span class="ez-kind">{escape(summary_line(kid.node))}'
                    f"</span>")
            if self.cards < MAX_CARDS:
                self.cards += 1
                self.parts.append(f'<details class="ez-array-card"><summary>{line}</summary>'
                                  f"{array_html(kid.node, style=False)}</details>")
            else:
                self.parts.append(f'<div class="ez-member">{line}</div>')


def group_html(g: DisplayGroup, *, max_depth: int | None = None, style: bool = True) -> str:
    """The group's summary table and its member tree (``max_depth``: as for
    ``Group.members``; None shows every level)."""
    members = list(g.members(max_depth=max_depth))
    shown = members[:MAX_MEMBERS]
    head = card(list(g.info.rows), None, style=False)
    em = _Emitter()
    em.emit(_build(shown))
    title = (f'<summary>{escape(g.name)} <span class="ez-kind">group, zarr v{g.zarr_format}, '
             f'{len(members)} member{"s" if len(members) != 1 else ""} at '
             f'{escape(str(g.store.url))}</span></summary>')
    more = ""
    if len(members) > len(shown):
        more = f'<div class="ez-more">\u2026 and {len(members) - len(shown):,} more members</div>'
    tree = f'<div class="ez-tree"><details open>{title}{"".join(em.parts)}{more}</details></div>'
    return (f"<style>{CSS}</style>" if style else "") + head + tree


def group_page(g: DisplayGroup, *, max_depth: int | None = None) -> str:
    """A self-contained HTML page showing the group."""
    return html_page(f"exzarr group {g.name}", group_html(g, max_depth=max_depth, style=False))
