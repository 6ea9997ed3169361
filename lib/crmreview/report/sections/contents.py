"""The contents: a link to every section of the report, in the order the report shows them.

A section whose inputs the warehouse lacks is still listed (it stands in the report as the
one line naming the missing export), marked as not shown.

Public names: ``build``, ``contents_html``.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import Any

from ...i18n import t
from ..html import HtmlBlock, esc, section_anchor

__all__ = ["build", "contents_html"]

#: sections the contents do not list: the title block and the contents themselves
_UNLISTED = frozenset({"header", "contents"})


def contents_html(sections: Sequence[str], missing: Any, lang: str) -> str:
    """An ordered list of links to ``sections``; ``missing(needs)`` tells which lack inputs."""
    items = []
    for name in sections:
        needs = getattr(importlib.import_module(f"crmreview.report.sections.{name}"), "NEEDS", ())
        note = f" <small>{esc(t('contents.not_shown', lang))}</small>" if missing(needs) else ""
        title = esc(t(f"section.{name}.title", lang))
        items.append(f'<li><a href="#{section_anchor(name)}">{title}</a>{note}</li>')
    return f'<nav class="crm-toc"><h2>{esc(t("contents.heading", lang))}</h2><ol>{"".join(items)}</ol></nav>'


def build(con: Any, review: Any) -> list[HtmlBlock]:
    """The contents of ``review``'s report: its sections (``review.sections``) after the header."""
    listed = [name for name in review.sections if name not in _UNLISTED]
    return [HtmlBlock(contents_html(listed, review.missing, review.lang))]
