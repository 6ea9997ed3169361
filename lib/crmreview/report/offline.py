"""Whether a rendered report would load anything from the network.

The page is parsed as HTML and only what a browser fetches is looked at: the address
attributes of tags (``src``, ``href``, ``srcset``, ``poster``, ``action``, ``data``), CSS in
``<style>`` and ``style=""`` (``url()``, ``@import``), and script code (``import()``, a
mention of a CDN). Text shown on the page is never looked at: a lost reason reading "CDN
outage" or a note quoting ``href="http://…"`` (escaped in the page) is data, not a
reference.

The embedded plotly.js library is not scanned: it holds the addresses of map tiles and
topojson files that it fetches only for map traces, which reports don't use.

Public names: :func:`network_references`.
"""

from __future__ import annotations

import re
from functools import lru_cache
from html.parser import HTMLParser

__all__ = ["network_references"]

_ADDRESS_ATTRIBUTES = frozenset({"src", "href", "srcset", "poster", "action", "data", "background"})
_REMOTE = re.compile(r"(?:^|[\s,])(?:https?:)?//", re.I)
_CSS = re.compile(r"url\(\s*[\"']?\s*(?:https?:)?//[^)\s]*|@import\s+(?:url\()?\s*[\"']?\s*(?:https?:)?//[^\s;]*", re.I)
_SCRIPT = re.compile(r"\bimport\s*\(\s*[\"'](?:https?:)?//[^\"']*|(?:https?:)?//[\w.-]*cdn[\w.-]*|cdn", re.I)


@lru_cache(maxsize=1)
def _plotlyjs() -> str:
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


class _Finder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._in: str | None = None  # script | style

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value is None:
                continue
            if name in _ADDRESS_ATTRIBUTES and _REMOTE.search(value.strip()):
                self.found.append(f"<{tag} {name}={value!r}>")
            elif name == "style":
                self.found += _CSS.findall(value)
        if tag in {"script", "style"}:
            self._in = tag

    handle_startendtag = handle_starttag

    def handle_endtag(self, tag: str) -> None:
        if tag == self._in:
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "style":
            self.found += _CSS.findall(data)
        elif self._in == "script":
            self.found += [data[max(0, m.start() - 40) : m.end() + 40] for m in _SCRIPT.finditer(data)]


def network_references(html: str) -> list[str]:
    """Everything in ``html`` a browser would fetch from the network; empty when nothing."""
    finder = _Finder()
    finder.feed(html.replace(_plotlyjs(), ""))
    finder.close()
    return finder.found
