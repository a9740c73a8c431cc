"""Parsing helpers for the display tests: SVG through xml.etree, HTML through html.parser."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter
from html.parser import HTMLParser

SVG_NS = "{http://www.w3.org/2000/svg}"
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}


def parse_svg(text: str) -> ET.Element:
    root = ET.fromstring(text)
    assert root.tag == SVG_NS + "svg", root.tag
    return root


def classes(root: ET.Element) -> Counter[str]:
    """How many elements carry each ``class``."""
    return Counter(el.get("class") for el in root.iter() if el.get("class"))


class Checker(HTMLParser):
    """Well-formedness: every non-void element closed in order; counts tags; collects text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.tags: Counter[str] = Counter()
        self.errors: list[str] = []
        self.text: list[str] = []
        self.max_details_depth = 0
        self.attrs: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] += 1
        self.attrs.append((tag, dict(attrs)))
        if tag not in VOID:
            self.stack.append(tag)
        self.max_details_depth = max(self.max_details_depth, self.stack.count("details"))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] += 1
        self.attrs.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def check_html(text: str) -> Checker:
    c = Checker()
    c.feed(text)
    c.close()
    assert not c.errors, c.errors[:5]
    assert not c.stack, f"unclosed: {c.stack}"
    return c


def no_external_resources(c: Checker) -> None:
    """No scripts, no links, no src/href pointing outside the document."""
    assert c.tags["script"] == 0 and c.tags["link"] == 0 and c.tags["iframe"] == 0
    for tag, attrs in c.attrs:
        for k in ("src", "href", "xlink:href"):
            v = attrs.get(k)
            assert v is None or v.startswith("#") or v.startswith("data:"), (tag, k, v)
