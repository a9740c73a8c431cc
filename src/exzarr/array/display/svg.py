"""Draw a :class:`~.model.GridModel` as a self-contained SVG chunk-grid picture.

The picture follows the convention dask made familiar: a 1-d array is a bar, a 2-d array
a rectangle (rows down, columns across), a 3-d array an oblique box whose first axis
recedes up-left; more dimensions are a labelled row of such blocks, three axes each
(the last three, the three before them, ...).  Lengths follow the array's shape, with
long/short ratios beyond 5:1 compressed logarithmically so thin axes stay visible.

Chunk boundaries are thin lines, shard boundaries thick lines drawn over them; a
selection is a dark box inside a lighter box of the chunks it reads; stored units are
green cells on the front face, darker where more of the units behind them are stored.
Element counts are bounded: at most ``max_lines`` boundary lines per axis and face (more
chunks than that: a line every k-th chunk, said in a note), at most 64 boxes per region
and 24x24 coverage cells per face, whatever the array's size.

Every element carries a ``class`` (``ez-chunk-line``, ``ez-shard-line``, ``ez-selected``,
``ez-touched``, ``ez-stored``, ``ez-face``, ``ez-label``, ``ez-legend``, ``ez-note``) so
tests and stylesheets can find them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

import numpy as np

from ...metadata.chunk_grid import ceil_div
from .model import Axis, Coverage, GridModel, Interval, Region

__all__ = ["render_svg", "block_axes", "COLORS"]

#: fill/stroke colours of the picture's parts
COLORS = {
    "face": "#ECB172", "chunk": "#5a4a3a", "shard": "#1a1a1a", "selected": "#08519c",
    "touched": "#6baed6", "stored": "#238b45", "text": "currentColor",
}
_K = 0.5          # depth axis: screen offset per unit of depth length, both x and y
_BAR = 24.0       # height of a 1-d bar
_MAX_BOXES = 64   # boxes per region and block
_MAX_BINS = 24    # coverage cells per axis of a face (64 for a 1-d bar)
_PAD = 12.0


def _f(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".") if v != int(v) else str(int(v))


def block_axes(ndim: int) -> list[list[int]]:
    """The axes each drawn block shows: all of them up to 3-d, else groups of three
    counted from the last axis (4-d: ``[[0], [1, 2, 3]]``)."""
    if ndim <= 3:
        return [list(range(ndim))]
    groups: list[list[int]] = []
    stop = ndim
    while stop > 0:
        start = max(0, stop - 3)
        groups.insert(0, list(range(start, stop)))
        stop = start
    return groups


def _lengths(sizes: Sequence[int], size: float) -> list[float]:
    top = max(max(sizes), 1)
    out = []
    for n in sizes:
        r = max(n, 1) / top
        frac = r if r >= 0.2 else max(0.06, 0.2 * (1 + math.log10(r / 0.2) / 4))
        out.append(max(size * frac, 8.0))
    return out


def _boundaries(size: int, step: int | None, cap: int) -> tuple[list[int], int]:
    """Interior multiples of ``step`` below ``size``, thinned to at most ``cap`` lines
    (every ``stride``-th); returns ``(positions, stride)``."""
    if not step or size <= step:
        return [], 1
    n = (size - 1) // step
    stride = max(1, math.ceil(n / max(cap, 1)))
    return [k * step for k in range(stride, n + 1, stride)], stride


class _Block:
    """One drawn block: up to three axes in the roles z (depth), y (down), x (across)."""

    def __init__(self, axes: list[int], model: GridModel, size: float, origin: tuple[float, float]):
        self.axes = axes
        self.model = model
        roles = ["z", "y", "x"][3 - len(axes):]
        self.role = dict(zip(roles, axes))
        lens = _lengths([model.axes[a].size for a in axes], size)
        self.len = dict(zip(roles, lens))
        self.len.setdefault("z", 0.0)
        self.len.setdefault("y", _BAR)
        depth = self.len["z"] * _K
        self.left = 22.0 if "z" in self.role else 0.0
        self.ox, self.oy = origin[0] + self.left, origin[1]
        self.width = self.left + self.len["x"] + depth + 30.0
        self.height = self.len["y"] + depth + 30.0

    def p(self, z: float = 1.0, y: float = 0.0, x: float = 0.0) -> tuple[float, float]:
        d = z * self.len["z"] * _K
        return self.ox + x * self.len["x"] + d, self.oy + y * self.len["y"] + d

    def frac(self, role: str, e: float) -> float:
        if role not in self.role:
            return 0.0
        n = self.model.axes[self.role[role]].size
        return min(1.0, max(0.0, e / n)) if n else 0.0

    def faces(self) -> list[tuple[str, float, str, str]]:
        """``(fixed role, value, free role a, free role b)`` of the visible faces."""
        out = [("z", 1.0, "y", "x")]
        if "z" in self.role:
            out += [("y", 0.0, "z", "x"), ("x", 0.0, "z", "y")]
        return out

    def pt(self, fixed: str, v: float, a: str, fa: float, b: str, fb: float) -> tuple[float, float]:
        c = {"z": 1.0, "y": 0.0, "x": 0.0, fixed: v, a: fa, b: fb}
        return self.p(c["z"], c["y"], c["x"])


def _poly(points: list[tuple[float, float]], cls: str, style: str) -> str:
    pts = " ".join(f"{_f(x)},{_f(y)}" for x, y in points)
    return f'<polygon class="{cls}" points="{pts}" {style}/>'


def _line(a: tuple[float, float], b: tuple[float, float], cls: str, style: str) -> str:
    return (f'<line class="{cls}" x1="{_f(a[0])}" y1="{_f(a[1])}" x2="{_f(b[0])}" '
            f'y2="{_f(b[1])}" {style}/>')


def _text(x: float, y: float, s: str, cls: str = "ez-label", rotate: float = 0.0,
          anchor: str = "middle") -> str:
    tr = f' transform="rotate({_f(rotate)} {_f(x)} {_f(y)})"' if rotate else ""
    return (f'<text class="{cls}" x="{_f(x)}" y="{_f(y)}" text-anchor="{anchor}" '
            f'fill="{COLORS["text"]}"{tr}>{escape(s)}</text>')


def _draw_lines(blk: _Block, max_lines: int, out: list[str], notes: list[str]) -> None:
    for role, ax in blk.role.items():
        axis: Axis = blk.model.axes[ax]
        cap = max(1, min(max_lines, int(blk.len[role] / 3)))
        shard_pos, sstride = _boundaries(axis.size, axis.shard, cap)
        chunk_pos, cstride = _boundaries(axis.size, axis.chunk, cap)
        if axis.shard:
            chunk_pos = [e for e in chunk_pos if e % axis.shard]
        if cstride > 1:
            notes.append(f"axis {ax}: {axis.nchunks} chunks, a line every {cstride}")
        if sstride > 1:
            notes.append(f"axis {ax}: {axis.nshards} shards, a line every {sstride}")
        for fixed, v, a, b in blk.faces():
            if role not in (a, b):
                continue
            other = b if role == a else a
            for positions, cls, style in (
                    (chunk_pos, "ez-chunk-line", f'stroke="{COLORS["chunk"]}" stroke-width="0.7"'),
                    (shard_pos, "ez-shard-line", f'stroke="{COLORS["shard"]}" stroke-width="2.2"')):
                for e in positions:
                    f = blk.frac(role, e)
                    out.append(_line(blk.pt(fixed, v, role, f, other, 0.0),
                                     blk.pt(fixed, v, role, f, other, 1.0), cls, style))


def _box_fracs(blk: _Block, role: str, iv: Interval) -> tuple[float, float]:
    if role not in blk.role:
        return 0.0, 1.0
    f0, f1 = blk.frac(role, iv[0]), blk.frac(role, iv[1])
    min_w = 1.5 / max(blk.len[role], 1.0)  # keep one-element slivers visible
    if f1 - f0 < min_w:
        f1 = min(1.0, f0 + min_w)
        f0 = min(f0, f1 - min_w)
    return f0, f1


def _draw_region(blk: _Block, region: Region, cls: str, out: list[str]) -> None:
    sub = Region(tuple(region.intervals[a] for a in blk.axes), region.exact).limited(_MAX_BOXES)
    if any(len(iv) == 0 for iv in sub.intervals):
        return
    colour = COLORS["selected" if cls == "ez-selected" else "touched"]
    style = (f'fill="{colour}" fill-opacity="{0.6 if cls == "ez-selected" else 0.35}" '
             f'stroke="{colour}" stroke-width="{1.2 if cls == "ez-selected" else 0.8}"')
    roles = list(blk.role)
    for combo in np.ndindex(*(len(iv) for iv in sub.intervals)):
        fr = {r: _box_fracs(blk, r, sub.intervals[k][combo[k]]) for k, r in enumerate(roles)}
        for r in ("z", "y", "x"):
            fr.setdefault(r, (0.0, 1.0))
        for fixed, _, a, b in blk.faces():
            v = fr[fixed][1] if fixed == "z" else fr[fixed][0]
            (a0, a1), (b0, b1) = fr[a], fr[b]
            pts = [blk.pt(fixed, v, a, a0, b, b0), blk.pt(fixed, v, a, a0, b, b1),
                   blk.pt(fixed, v, a, a1, b, b1), blk.pt(fixed, v, a, a1, b, b0)]
            out.append(_poly(pts, cls, style))


def _bins(ng: int, nb: int) -> list[tuple[int, int]]:
    """Unit ranges ``[lo, hi)`` of ``nb`` bins over ``ng`` units (unit u is in bin u*nb//ng)."""
    return [(-(-i * ng // nb), -(-(i + 1) * ng // nb)) for i in range(nb)]


def _draw_coverage(blk: _Block, cov: Coverage, out: list[str]) -> None:
    """Shade each visible face by the share of stored units behind each of its cells."""
    axes = blk.model.axes
    ngs = [ceil_div(a.size, u) for a, u in zip(axes, cov.unit)]
    if cov.count == 0:
        return
    style = f'fill="{COLORS["stored"]}" stroke="none"'
    for fixed, v, ra, rb in blk.faces():
        face_roles = [r for r in (ra, rb) if r in blk.role]
        face_axes = [blk.role[r] for r in face_roles]
        if any(ngs[a] == 0 for a in face_axes):
            continue
        max_bins = (_MAX_BINS if fixed == "z" else _MAX_BINS // 2) if len(face_axes) == 2 else 64
        nbs = [min(ngs[a], max_bins) for a in face_axes]
        hist = np.zeros(nbs, dtype=np.int64)
        idx = tuple(cov.coords[:, a].astype(np.int64) * nb // ngs[a]
                    for a, nb in zip(face_axes, nbs))
        np.add.at(hist, idx, 1)
        behind = math.prod(ng for a, ng in enumerate(ngs) if a not in face_axes)
        bins = [_bins(ngs[a], nb) for a, nb in zip(face_axes, nbs)]
        for cell in zip(*np.nonzero(hist)):
            rng = [bins[k][int(c)] for k, c in enumerate(cell)]
            capacity = behind * math.prod(hi - lo for lo, hi in rng)
            share = min(1.0, hist[cell] / capacity) if capacity else 1.0
            fr: dict[str, tuple[float, float]] = {ra: (0.0, 1.0), rb: (0.0, 1.0)}
            for r, a, (lo, hi) in zip(face_roles, face_axes, rng):
                u = cov.unit[a]
                fr[r] = (blk.frac(r, lo * u), blk.frac(r, min(hi * u, axes[a].size)))
            (a0, a1), (b0, b1) = fr[ra], fr[rb]
            pts = [blk.pt(fixed, v, ra, a0, rb, b0), blk.pt(fixed, v, ra, a0, rb, b1),
                   blk.pt(fixed, v, ra, a1, rb, b1), blk.pt(fixed, v, ra, a1, rb, b0)]
            out.append(_poly(pts, "ez-stored", f'{style} fill-opacity="{0.2 + 0.6 * share:.2f}"'))


def _label(axis: Axis) -> str:
    return f"{axis.name}: {axis.size}" if axis.name else str(axis.size)


def _draw_block(blk: _Block, max_lines: int, out: list[str], notes: list[str],
                caption: str | None) -> None:
    face_style = f'fill="{COLORS["face"]}" fill-opacity="0.55" stroke="{COLORS["shard"]}" stroke-width="1.2"'
    for fixed, v, a, b in blk.faces():
        pts = [blk.pt(fixed, v, a, 0, b, 0), blk.pt(fixed, v, a, 0, b, 1),
               blk.pt(fixed, v, a, 1, b, 1), blk.pt(fixed, v, a, 1, b, 0)]
        out.append(_poly(pts, "ez-face", face_style))
    m = blk.model
    if m.stored is not None:
        _draw_coverage(blk, m.stored, out)
    _draw_lines(blk, max_lines, out, notes)
    if m.touched is not None:
        _draw_region(blk, m.touched, "ez-touched", out)
    if m.selection is not None:
        _draw_region(blk, m.selection, "ez-selected", out)
    # outline of the front face again, over the fills
    pts = [blk.p(1, 0, 0), blk.p(1, 0, 1), blk.p(1, 1, 1), blk.p(1, 1, 0)]
    out.append(_poly(pts, "ez-face", f'fill="none" stroke="{COLORS["shard"]}" stroke-width="1.2"'))
    x0, y1 = blk.p(1, 1, 0.5)
    out.append(_text(x0, y1 + 16, _label(m.axes[blk.role["x"]])))
    if "y" in blk.role:
        xr, ym = blk.p(1, 0.5, 1)
        out.append(_text(xr + 16, ym, _label(m.axes[blk.role["y"]]), rotate=-90))
    if "z" in blk.role:
        xm, ym = blk.p(0.5, 1, 0)
        out.append(_text(xm - 10, ym + 10, _label(m.axes[blk.role["z"]]), rotate=45))
    if caption:
        out.append(_text(blk.ox - blk.left, blk.oy - 8, caption, anchor="start"))


def render_svg(model: GridModel, *, size: float = 200, max_lines: int = 100,
               title: str | None = None, legend: bool = True) -> str:
    """The SVG text of ``model``'s chunk grid (an ``<svg>`` element with ``xmlns``)."""
    out: list[str] = []
    notes: list[str] = []
    groups = block_axes(model.ndim)
    multi = len(groups) > 1
    top = _PAD + (18.0 if multi else 0.0)
    x = _PAD
    height = 0.0
    if model.ndim == 0:
        out.append(_poly([(x, top), (x + 30, top), (x + 30, top + 30), (x, top + 30)], "ez-face",
                         f'fill="{COLORS["face"]}" fill-opacity="0.55" stroke="{COLORS["shard"]}"'))
        out.append(_text(x + 40, top + 20, "scalar (0-d)", anchor="start"))
        x, height = x + 130, 40.0
    lines = max(10, max_lines // len(groups)) if multi else max_lines
    blk_size = size if not multi else max(90.0, size * 0.6)
    for axes in groups if model.ndim else []:
        blk = _Block(axes, model, blk_size, (x, top))
        cap = None
        if multi:
            cap = f"axis {axes[0]}" if len(axes) == 1 else f"axes {axes[0]}\u2013{axes[-1]}"
        _draw_block(blk, lines, out, notes, cap)
        x += blk.width + (10.0 if multi else 0.0)
        height = max(height, blk.height)
    y = top + height + 4
    items = [("chunk", COLORS["face"])]
    if any(a.shard for a in model.axes):
        items.append(("shard", COLORS["shard"]))
    if model.touched is not None:
        items.append(("chunks read", COLORS["touched"]))
    if model.selection is not None:
        items.append(("selected" + ("" if model.selection.exact else " (outline)"),
                      COLORS["selected"]))
    if model.stored is not None:
        items.append((f"stored ({model.stored.count})", COLORS["stored"]))
    lx = _PAD
    if legend:
        for name, colour in items:
            out.append(f'<rect class="ez-legend" x="{_f(lx)}" y="{_f(y)}" width="10" height="10" '
                       f'fill="{colour}"/>')
            out.append(_text(lx + 14, y + 9, name, cls="ez-legend", anchor="start"))
            lx += 24 + 6.5 * len(name)
        y += 16
    for note in (list(model.notes) + notes)[:4]:
        y += 14
        out.append(_text(_PAD, y, note, cls="ez-note", anchor="start"))
        lx = max(lx, _PAD + 6.2 * len(note))
    width = max(x + _PAD, lx + _PAD)
    height_total = y + _PAD
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" class="ez-grid" width="{_f(width)}" '
            f'height="{_f(height_total)}" viewBox="0 0 {_f(width)} {_f(height_total)}" '
            f'font-family="sans-serif" font-size="11" role="img">')
    parts = [head]
    if title:
        parts.append(f"<title>{escape(title)}</title>")
    parts.extend(out)
    parts.append("</svg>")
    return "\n".join(parts)
