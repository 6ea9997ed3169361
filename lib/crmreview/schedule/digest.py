"""Follow-up reminders (跟进提醒): one short page per rep, and one summary per team for its lead.

For each rep, at the period's as-of date: the customers they own that are **overdue** for
their tier's cadence (``queries/metrics/followup/customers.sql``), their **stale deals**
(open, no stage change for ``stale_days``: ``queries/metrics/funnel/stale_deals.sql``), the
**churn-risk** customers they own (``queries/metrics/churn/risk.sql``) and their **pool
candidates** (``queries/metrics/followup/pool_candidates.sql``). The rules are those of the
metrics (DESIGN "Follow-up and allocation", "Churn and lifecycle"); this module only binds
their parameters from the settings and splits the rows by rep. A list whose input is missing
(no activities, no deals, no orders) says so instead of showing an empty list.

Public names: ``Digest``, ``RepDigest``, ``compute_digest``, ``rep_page``, ``team_page``, ``summary_page``,
``LIST_LENGTH``.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import duckdb
import pandas as pd

from .. import queries
from ..config import Settings
from ..i18n import t
from ..metrics.common import tier_params
from ..metrics.inputs import inventory
from ..periods import Period

__all__ = ["Digest", "RepDigest", "compute_digest", "rep_page", "team_page", "summary_page", "LIST_LENGTH", "SECTIONS"]

#: rows a page shows per list (the count says how many there are in all)
LIST_LENGTH = 15
#: the lists of a digest, in page order, with the canonical inputs each needs
SECTIONS = {
    "overdue": ("customers", "activities"),
    "stale": ("deals",),
    "at_risk": ("customers", "orders"),
    "pool": ("customers", "activities"),
}
_NO_OWNER = ""


@dataclass
class RepDigest:
    """One rep's reminders; each list holds plain dicts, most urgent first."""

    rep_id: str
    name: str | None
    team: str | None
    email: str | None
    lists: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: {name: [] for name in SECTIONS})

    @property
    def label(self) -> str:
        return f"{self.name} ({self.rep_id})" if self.name and self.name != self.rep_id else self.rep_id

    def count(self, section: str) -> int:
        return len(self.lists[section])


@dataclass
class Digest:
    """The reminders of every rep at one as-of date; ``missing``: section -> missing inputs."""

    period: Period
    stale_days: int
    reps: list[RepDigest]
    missing: dict[str, list[str]]

    def teams(self) -> dict[str, list[RepDigest]]:
        by_team: dict[str, list[RepDigest]] = {}
        for rep in self.reps:
            by_team.setdefault(rep.team or "", []).append(rep)
        return by_team


def _value(value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, datetime):  # pandas' Timestamp too: the reminders show days
        return value.date()
    if hasattr(value, "item"):
        return value.item()
    return value


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{k: _value(v) for k, v in row.items()} for row in frame.to_dict("records")]


def compute_digest(con: duckdb.DuckDBPyConnection, period: Period, settings: Settings) -> Digest:
    """Every rep's reminders at ``period``'s as-of date (see the module docstring)."""
    cadence = settings.followup_cadence_days
    followup_params = {
        "as_of": period.as_of,
        **tier_params(settings),
        "cadence_a": cadence["A"],
        "cadence_b": cadence["B"],
        "cadence_c": cadence["C"],
        "pool_days": settings.pool_days,
    }
    inv = inventory(con)
    missing = {name: [table for table in needs if inv.missing(table)] for name, needs in SECTIONS.items()}
    customers = queries.run(con, "metrics/followup/customers", followup_params)
    overdue = customers[customers["is_overdue"]].copy()
    overdue["never"] = overdue["is_never_contacted"]
    overdue = overdue.sort_values(
        ["tier", "never", "days_since_activity", "customer_id"], ascending=[True, False, False, True]
    )
    stale = queries.run(
        con, "metrics/funnel/stale_deals", {"as_of": period.as_of, "stale_days": settings.stale_days, "pipeline": None}
    )
    risk = queries.run(
        con,
        "metrics/churn/risk",
        {
            "as_of": period.as_of,
            "window_start": period.start,
            "new_days": settings.new_days,
            "active_days": settings.active_days,
            "churn_days": settings.churn_days,
            "risk_gap_factor": settings.risk_gap_factor,
            **tier_params(settings),
            "by": "all",
            "list_length": 1_000_000,
        },
    )
    pool = queries.run(con, "metrics/followup/pool_candidates", {**followup_params, "list_limit": None})
    ids = sorted(set(overdue["customer_id"]) | set(stale["customer_id"].dropna()))
    names = dict(queries.run(con, "schedule/customer_names", {"customer_ids": ids}).itertuples(index=False, name=None))
    contacts = queries.run(con, "schedule/rep_contacts", {})
    reps = {
        row["rep_id"]: RepDigest(row["rep_id"], row["name"], row["team"], row["email"]) for row in _records(contacts)
    }

    def rep(owner: Any) -> RepDigest | None:
        if owner is None or (isinstance(owner, float) and math.isnan(owner)) or owner == _NO_OWNER:
            return None
        if owner not in reps:  # an owner the reps export does not list
            reps[owner] = RepDigest(str(owner), None, None, None)
        return reps[owner]

    if not missing["overdue"]:
        for row in _records(overdue):
            if target := rep(row["owner_rep_id"]):
                target.lists["overdue"].append({**row, "name": names.get(row["customer_id"])})
    if not missing["stale"]:
        for row in _records(stale):
            if target := rep(row["owner_rep_id"]):
                target.lists["stale"].append({**row, "customer_name": names.get(row["customer_id"])})
    if not missing["at_risk"]:
        for row in _records(risk):
            if target := rep(row["owner_rep_id"]):
                target.lists["at_risk"].append(row)
    if not missing["pool"]:
        for row in _records(pool):
            if target := rep(row["owner_rep_id"]):
                target.lists["pool"].append(row)
    ordered = sorted(reps.values(), key=lambda r: (r.team is None, r.team or "", r.rep_id))
    return Digest(period, settings.stale_days, ordered, missing)


# ----------------------------------------------------------------------------- pages

_STYLE = """
body { font-family: "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", system-ui, sans-serif;
       max-width: 760px; margin: 1.5em auto; padding: 0 1em; color: #1f2937; }
h1 { font-size: 1.35em; } h2 { font-size: 1.05em; margin-top: 1.4em; }
table { border-collapse: collapse; width: 100%; font-size: .92em; }
th, td { text-align: left; padding: .35em .5em; border-bottom: 1px solid #e5e7eb; }
th { background: #f3f4f6; } .muted { color: #6b7280; } .lang { border-top: 3px solid #e5e7eb; margin-top: 2em; }
"""


def _e(value: Any) -> str:
    return html.escape("–" if value is None else str(value))


def _money(value: Any) -> str:
    return "–" if value is None else f"{float(value):,.0f}"


def _table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _section_rows(section: str, items: list[dict[str, Any]], lang: str) -> tuple[list[str], list[list[str]]]:
    h = lambda key: t(f"schedule.digest.col.{key}", lang)  # noqa: E731 - a local shorthand
    if section == "overdue":
        return [h("customer"), h("tier"), h("days_since_activity"), h("cadence")], [
            [
                _e(i["name"] or i["customer_id"]),
                _e(i["tier"]),
                html.escape(t("schedule.digest.never", lang)) if i["never"] else _e(i["days_since_activity"]),
                _e(i["cadence_days"]),
            ]
            for i in items
        ]
    if section == "stale":
        return [h("deal"), h("customer"), h("stage"), h("amount"), h("days_since_change")], [
            [
                _e(i["deal_id"]),
                _e(i["customer_name"] or i["customer_id"]),
                _e(i["stage"]),
                _money(i["amount"]),
                _e(i["days_since_change"]),
            ]
            for i in items
        ]
    if section == "at_risk":
        return [h("customer"), h("tier"), h("last_purchase"), h("recency"), h("usual_gap")], [
            [
                _e(i["customer_name"] or i["customer_id"]),
                _e(i["tier"]),
                _e(i["last_purchase_date"]),
                _e(i["recency_days"]),
                _e(None if i["median_gap_days"] is None else round(float(i["median_gap_days"]))),
            ]
            for i in items
        ]
    return [h("customer"), h("tier"), h("last_activity"), h("days_since_activity")], [
        [
            _e(i["name"] or i["customer_id"]),
            _e(i["tier"]),
            _e(i["last_activity_date"]),
            _e(i["days_since_activity"])
            if i["days_since_activity"] is not None
            else html.escape(t("schedule.digest.never", lang)),
        ]
        for i in items
    ]


def _rep_body(digest: Digest, rep: RepDigest, lang: str) -> str:
    period = digest.period
    parts = [
        f"<h1>{html.escape(t('schedule.digest.title', lang, rep=rep.label))}</h1>",
        f'<p class="muted">{html.escape(t("schedule.digest.as_of", lang, as_of=period.as_of.isoformat(), period=period.label))}</p>',
    ]
    for section in SECTIONS:
        items = rep.lists[section]
        heading = t(f"schedule.digest.{section}", lang, days=digest.stale_days, count=len(items))
        parts.append(f"<h2>{html.escape(heading)}</h2>")
        if digest.missing[section]:
            parts.append(
                f'<p class="muted">{html.escape(t("schedule.digest.missing", lang, inputs=", ".join(digest.missing[section])))}</p>'
            )
            continue
        if not items:
            parts.append(f'<p class="muted">{html.escape(t("schedule.digest.none", lang))}</p>')
            continue
        header, rows = _section_rows(section, items[:LIST_LENGTH], lang)
        parts.append(_table(header, rows))
        if len(items) > LIST_LENGTH:
            parts.append(
                f'<p class="muted">{html.escape(t("schedule.digest.more", lang, count=len(items) - LIST_LENGTH))}</p>'
            )
    return "".join(parts)


def _page(title: str, bodies: list[str], langs: tuple[str, ...]) -> str:
    blocks = "".join(
        f'<div class="lang" lang="{lang}">{body}</div>' if i else f'<div lang="{lang}">{body}</div>'
        for i, (lang, body) in enumerate(zip(langs, bodies, strict=True))
    )
    return (
        f'<!DOCTYPE html>\n<html lang="{langs[0]}"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>{blocks}</body></html>\n"
    )


def rep_page(digest: Digest, rep: RepDigest, langs: tuple[str, ...]) -> tuple[str, str]:
    """(subject, HTML page) of one rep's reminders, one block per language."""
    subject = " / ".join(
        t("schedule.digest.subject", lang, rep=rep.label, as_of=digest.period.as_of.isoformat()) for lang in langs
    )
    return subject, _page(subject, [_rep_body(digest, rep, lang) for lang in langs], langs)


def _team_body(digest: Digest, team: str, reps: list[RepDigest], lang: str) -> str:
    h = lambda key: t(f"schedule.digest.col.{key}", lang)  # noqa: E731 - a local shorthand
    label = team or t("schedule.digest.no_team", lang)
    header = [h("rep"), *(t(f"schedule.digest.short.{s}", lang) for s in SECTIONS), h("email")]
    rows = [
        [
            _e(rep.label),
            *("–" if digest.missing[s] else str(rep.count(s)) for s in SECTIONS),
            _e(rep.email) if rep.email else html.escape(t("schedule.digest.no_email", lang)),
        ]
        for rep in reps
    ]
    rows.append(
        [
            html.escape(t("schedule.digest.total", lang)),
            *("–" if digest.missing[s] else str(sum(r.count(s) for r in reps)) for s in SECTIONS),
            "",
        ]
    )
    notes = "".join(
        f'<p class="muted">{html.escape(t("schedule.digest.short." + s, lang))}: '
        f"{html.escape(t('schedule.digest.missing', lang, inputs=', '.join(digest.missing[s])))}</p>"
        for s in SECTIONS
        if digest.missing[s]
    )
    return (
        f"<h1>{html.escape(t('schedule.digest.team_title', lang, team=label))}</h1>"
        f'<p class="muted">{html.escape(t("schedule.digest.as_of", lang, as_of=digest.period.as_of.isoformat(), period=digest.period.label))}</p>'
        + _table(header, rows)
        + notes
    )


def team_page(digest: Digest, team: str, reps: list[RepDigest], langs: tuple[str, ...]) -> tuple[str, str]:
    """(subject, HTML page) of a team's summary: per rep the count of each list."""
    subject = " / ".join(
        t(
            "schedule.digest.team_subject",
            lang,
            team=team or t("schedule.digest.no_team", lang),
            as_of=digest.period.as_of.isoformat(),
        )
        for lang in langs
    )
    return subject, _page(subject, [_team_body(digest, team, reps, lang) for lang in langs], langs)


def summary_page(digest: Digest, langs: tuple[str, ...]) -> tuple[str, str]:
    """(subject, HTML page) of every team's summary, one after the other."""
    subject = " / ".join(
        t("schedule.digest.all_subject", lang, as_of=digest.period.as_of.isoformat()) for lang in langs
    )
    bodies = ["".join(_team_body(digest, team, reps, lang) for team, reps in digest.teams().items()) for lang in langs]
    return subject, _page(subject, bodies, langs)
