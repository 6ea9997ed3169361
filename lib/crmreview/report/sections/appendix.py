"""The appendix: technical detail kept out of the body of the report.

Today it holds the purchase model's fitted parameters and back-test, in plain words, when the
churn section ran a model (fitted or degenerate; the body says only what the model means).
Sections hand it what they computed through ``review.notes``; with nothing handed over, the
appendix is left out.

Public names: ``build``.
"""

from __future__ import annotations

from typing import Any

from ...i18n import t
from ..html import HtmlBlock, esc
from .churn import model_table_html

__all__ = ["build"]


def build(con: Any, review: Any) -> list[HtmlBlock]:
    """The appendix of ``review``: what earlier sections left in ``review.notes``."""
    model = review.notes.get("purchase_model")
    table = model_table_html(model, review.ctx) if model else ""
    if not table:
        return []
    lang = review.lang
    status = t(f"appendix.model.{model['status']}", lang, reason=model.get("reason", ""))
    return [
        HtmlBlock(
            f"<h2>{esc(t('appendix.heading', lang))}</h2>\n"
            f"<h3>{esc(t('appendix.model.heading', lang))}</h3>\n"
            f"<p>{esc(t('appendix.model.plain', lang))} {esc(status)}</p>\n{table}"
        )
    ]
