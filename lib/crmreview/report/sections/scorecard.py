"""The rep scorecard's comparison: one rep's key numbers next to their team's.

Public names: ``build``, ``SCORECARD_ROWS``.

``build(con, review)`` shows ``review.notes["team_comparison"]``, computed by
``crmreview.report.review.rep_scorecard``: the rep's funnel and follow-up numbers (the
review's own, restricted to the rep) and the same numbers over the rep's team (all reps
when the rep has no team), read from the same warehouse state. The team's numbers include
the rep's.
"""

from __future__ import annotations

from typing import Any

from ...i18n import t
from ..html import HtmlBlock, esc, fmt_count, fmt_days, fmt_money, fmt_pct, table

__all__ = ["build", "SCORECARD_ROWS"]

#: (message key of the row, source: "funnel" or "followup", key in that result, kind of number)
SCORECARD_ROWS: tuple[tuple[str, str, str, str], ...] = (
    ("scorecard.row.deals_created", "funnel", "cohort_deals", "count"),
    ("scorecard.row.won", "funnel", "won", "count"),
    ("scorecard.row.win_rate", "funnel", "win_rate", "rate"),
    ("scorecard.row.avg_won_amount", "funnel", "avg_won_amount", "money"),
    ("scorecard.row.median_cycle_days", "funnel", "median_cycle_days", "days"),
    ("scorecard.row.open_deals", "funnel", "open_deals", "count"),
    ("scorecard.row.attainment", "followup", "attainment", "rate"),
    ("scorecard.row.compliance", "followup", "compliance", "rate"),
    ("scorecard.row.overdue", "followup", "overdue", "count"),
)
_FORMATS = {"count": fmt_count, "rate": fmt_pct, "money": fmt_money, "days": fmt_days}


def build(con: Any, review: Any) -> list[HtmlBlock]:
    """A heading, one sentence naming the rep and the team, and the rep-vs-team table."""
    lang = review.lang
    comparison = review.notes.get("team_comparison")
    if comparison is None:
        return []
    rep = comparison["rep_label"]
    team = comparison["team"]
    intro = (
        t("scorecard.intro", lang, rep=rep, team=team, reps=comparison["team_reps"], period=review.period.label)
        if team is not None
        else t("scorecard.intro_no_team", lang, rep=rep, reps=comparison["team_reps"], period=review.period.label)
    )
    rows = []
    for key, source, name, kind in SCORECARD_ROWS:
        mine = comparison[f"rep_{source}"].get(name)
        theirs = comparison[f"team_{source}"].get(name)
        rows.append((t(key, lang), _FORMATS[kind](mine), _FORMATS[kind](theirs)))
    team_column = t("scorecard.col.team", lang, team=team) if team is not None else t("scorecard.col.all", lang)
    headers = (t("scorecard.col.metric", lang), rep, team_column)
    html = f"<h2>{esc(t('scorecard.heading', lang))}</h2>\n<p>{esc(intro)}</p>\n" + table(
        headers, rows, numeric=(1, 2), css_class="crm-table crm-scorecard"
    )
    return [HtmlBlock(html)]
