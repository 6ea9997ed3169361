"""The dashboard's views: each draws one part of the review for the current selection.

A view is a function ``(explorer, selection) -> list`` of things to display (HTML blocks and
plotly figures). It takes its numbers from the metric functions (through
:meth:`Explorer.scoped`, so the definitions are the report's) and its charts from
:mod:`crmreview.charts`; where the warehouse lacks an input, the report's one-line notice
(:func:`crmreview.report.html.missing_notice`) stands in for the view.

Public names: ``VIEWS``, ``View``, ``render``, ``kpi_strip``, ``funnel_table_html``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..charts import (
    cohort_heatmap,
    compliance_heatmap,
    conversion_heatmap,
    days_in_stage_chart,
    funnel_chart,
    leakage_chart,
    migration_chart,
    pareto_chart,
    risk_table_html,
    state_flow_sankey,
    tier_distribution_chart,
)
from ..i18n import t
from ..metrics.churn import RISK_COLUMNS, flows_frame, risk_frame
from ..metrics.common import attribute_of, tier_params
from ..metrics.followup import compliance_frame
from ..metrics.funnel import groups_frame, stages_frame
from ..metrics.retention import cohort_frame
from ..metrics.tiers import curve_frame, migration_frame, tiers_frame
from ..report.html import HtmlBlock, esc, fmt_count, fmt_days, fmt_money, fmt_pct, missing, table, warnings_html
from ..report.html import missing_notice as report_missing_notice
from ..report.sections import churn as churn_section
from ..report.sections import followup as followup_section
from ..report.sections import funnel as funnel_section
from ..report.sections import funnel_detail as funnel_detail_section
from ..report.sections import retention as retention_section
from ..report.sections import tiers as tiers_section
from ..report.sections.funnel_detail import HEATMAP_TITLES
from ..report.sections.kpis import kpi_frame
from ..scope import Scope
from .session import Explorer, Selection

__all__ = ["VIEWS", "View", "render", "kpi_strip", "funnel_table_html", "ROWS_SHOWN"]

#: rows a list view shows (and the most its query returns)
ROWS_SHOWN = 15


@dataclass(frozen=True)
class View:
    """One tab of the dashboard: its title key, the report section whose inputs it needs (for
    the missing-input notice), and the function drawing it."""

    key: str
    section: str
    needs: tuple[str, ...]
    draw: Callable[[Explorer, Selection], list[Any]]


def _scope_line(explorer: Explorer, selection: Selection) -> str:
    by, group = selection.scope
    lang = selection.lang
    if by is None:
        scope = t("explore.scope.all", lang)
    else:
        shown = explorer.values.rep_label(group) if by == "rep" else group
        field = attribute_of(by)  # a custom field is named as the export names it
        dimension = field if field is not None else t(f"explore.filter.{by}", lang)
        scope = t("explore.scope.one", lang, dimension=dimension, value=shown)
    return scope


def _note(text: str) -> HtmlBlock:
    return HtmlBlock(f'<p class="crm-note"><small>{esc(text)}</small></p>')


def _whole_note(selection: Selection, what: str) -> HtmlBlock | None:
    """Said under a chart that is drawn for every customer whatever the filter."""
    if selection.scope[0] is None:
        return None
    return _note(t("explore.note.whole", selection.lang, what=what))


def _empty(selection: Selection) -> list[Any]:
    return [HtmlBlock(f'<p class="crm-empty">{esc(t("explore.empty", selection.lang))}</p>')]


# -- KPI strip ---------------------------------------------------------------------------

_KPI_KEYS = {
    "cohort_deals": "kpi.deals_created",
    "win_rate": "kpi.win_rate",
    "avg_won_amount": "kpi.avg_won_amount",
    "median_cycle_days": "kpi.median_cycle_days",
    "pipeline_velocity": "kpi.pipeline_velocity",
    "net_revenue": "kpi.net_revenue",
    "customers_purchasing": "kpi.buyers",
    "repeat_rate": "kpi.repeat_rate",
    "churn_rate": "kpi.churn_rate",
    "nrr": "kpi.nrr",
}
_FORMATS = {"count": fmt_count, "rate": fmt_pct, "money": fmt_money, "days": fmt_days}


def _change(now: float | None, before: float | None, kind: str, lang: str) -> str:
    if missing(now) or missing(before):
        return ""
    if kind == "rate":
        return t("kpi.points", lang, value=f"{(now - before) * 100:+.1f}")
    return "" if before == 0 else f"{(now - before) / abs(before):+.0%}"


def _shop(explorer: Explorer, selection: Selection) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    if explorer.missing(("orders",)):
        return None, None
    repurchase, repurchase_before = explorer.scoped("repurchase", selection)
    churn, churn_before = explorer.scoped("churn_rates", selection)

    def merge(numbers: Mapping[str, Any] | None, lifecycle: Mapping[str, Any] | None) -> dict[str, Any]:
        numbers, lifecycle = numbers or {}, lifecycle or {}
        return {**numbers, "churn_rate": lifecycle.get("churn_rate"), "nrr": lifecycle.get("nrr")}

    return merge(repurchase, churn), merge(repurchase_before, churn_before)


def kpi_strip(explorer: Explorer, selection: Selection) -> list[Any]:
    """The key numbers of the selection (the report's, ``report.sections.kpis.kpi_frame``) as
    a strip of cards: value, comparison period's value and the change.

    Only what the strip shows is computed, for the period and its comparison: the funnel
    (which the funnel tab shows as well), repurchase, and the churn rate and NRR alone
    (``churn_rates``, not the whole churn metric). Missing inputs and warnings are the
    snapshot's (:meth:`Explorer.result`)."""
    lang = selection.lang
    funnel, funnel_before = explorer.scoped("funnel", selection, pipeline=selection.pipeline)
    shop_now, shop_before = _shop(explorer, selection)
    frame = kpi_frame(funnel, funnel_before or {}, shop_now, shop_before)
    ctx = explorer.context(selection)
    currency = explorer.settings.currency
    cards = []
    for row in frame.itertuples(index=False):
        label = t(_KPI_KEYS[row.metric], lang) + (f" ({currency})" if currency and row.kind == "money" else "")
        value = _FORMATS[row.kind](row.current)
        before = _FORMATS[row.kind](row.previous)
        change = _change(row.current, row.previous, row.kind, lang)
        cards.append(
            f'<div class="crm-kpi-card" data-kpi="{esc(row.metric)}">'
            f'<div class="crm-kpi-label">{esc(label)}</div>'
            f'<div class="crm-kpi-value">{esc(value)}</div>'
            f'<div class="crm-kpi-before">{esc(ctx.compare_label)}: {esc(before)} '
            f'<span class="crm-kpi-change">{esc(change)}</span></div></div>'
        )
    scope = _scope_line(explorer, selection)
    head = f'<p class="crm-scope">{esc(scope)} · {esc(ctx.subtitle)}</p>'
    warned = warnings_html(funnel, lang, skip=("period_outside_data", "history_inferred", "stage_unused"))
    return [HtmlBlock(f'{head}<div class="crm-kpi-strip">{"".join(cards)}</div>{warned}')]


# -- funnel and leakage --------------------------------------------------------------------


def funnel_table_html(current: Mapping[str, Any], explorer: Explorer, selection: Selection) -> str:
    """The funnel's numbers per stage (reached, conversion, lost at, open at) as a table whose
    rows carry ``data-stage`` and cells ``data-key``, and the table the selection
    (``data-scope``: ``all`` or ``team=…``), so a reader (or a test) finds them."""
    lang = selection.lang
    by, group = selection.scope
    scope = "all" if by is None else f"{by}={group}"
    headers = [t(f"explore.funnel.{k}", lang) for k in ("stage", "reached", "conversion", "lost_at", "open_at")]
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = []
    for row in current.get("stages") or []:
        cells = [
            ("reached", fmt_count(row["reached"])),
            ("conversion", fmt_pct(row["conversion"])),
            ("lost_at", fmt_count(row["lost_at"])),
            ("open_at", fmt_count(row["open_at"])),
        ]
        tds = "".join(f'<td data-key="{k}" data-value="{esc(row[k])}">{esc(v)}</td>' for k, v in cells)
        label = explorer.settings.stage_label(row["stage"], lang)
        body.append(f'<tr data-stage="{esc(row["stage"])}"><td>{esc(label)}</td>{tds}</tr>')
    return f'<table class="crm-table crm-funnel-table" data-scope="{esc(scope)}" data-lang="{lang}"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def _funnel(explorer: Explorer, selection: Selection) -> list[Any]:
    lang, ctx, settings = selection.lang, explorer.context(selection), explorer.settings
    current, previous = explorer.scoped("funnel", selection, pipeline=selection.pipeline)
    if not current or not current.get("stages"):
        return _empty(selection)
    said = funnel_section.funnel_sentences(current, previous, ctx, settings=settings)
    text = f"<ul>{''.join(f'<li>{esc(s)}</li>' for s in said)}</ul>{warnings_html(current, lang)}"
    frame = stages_frame(current)
    return [
        HtmlBlock(text + funnel_table_html(current, explorer, selection)),
        funnel_chart(frame, ctx, settings=settings),
        leakage_chart(frame, ctx, settings=settings),
    ]


# -- conversion by group, time in stage ----------------------------------------------------


def _conversion(explorer: Explorer, selection: Selection) -> list[Any]:
    """Conversion per step, one row per group: per team with no filter (or a tier filter, for
    every deal), per rep within the chosen team (or the chosen rep's team: the team's scoped
    connection by rep), per channel or region with those filters (every group, to compare the
    chosen one with the others)."""
    ctx, settings, lang = explorer.context(selection), explorer.settings, selection.lang
    by, group = selection.scope
    shown_by = {None: "team", "tier": "team", "team": "rep", "rep": "rep"}.get(by, by)
    result = None
    if by in ("team", "rep") and selection.team is not None:
        scope = Scope(team=selection.team)
        result = explorer.within("funnel", selection, scope, by="rep", compare=False, pipeline=selection.pipeline)
    if result is None:
        result = explorer.result("funnel", selection, by=shown_by, compare=False, pipeline=selection.pipeline)
    if not result.get("groups"):
        return _empty(selection)
    frame = groups_frame(result)
    if by in ("team", "rep"):
        team = group if by == "team" else selection.team
        reps = {rep for _, rep in explorer.values.reps_of(team)}
        frame = frame[frame["group"].isin(reps)]
    labels = explorer.values.rep_labels if shown_by == "rep" else None
    if frame.empty:
        return _empty(selection)
    named = shown_by if shown_by in HEATMAP_TITLES else "group"  # a custom field: the plain title
    out: list[Any] = [conversion_heatmap(frame, ctx, by=named, labels=labels, settings=settings)]
    if by == "tier":
        out.append(_note(t("explore.note.conversion_tier", lang)))
    return out


def _time_in_stage(explorer: Explorer, selection: Selection) -> list[Any]:
    ctx = explorer.context(selection)
    current, _ = explorer.scoped("funnel", selection, compare=False, pipeline=selection.pipeline)
    if not current or not current.get("stages"):
        return _empty(selection)
    return [days_in_stage_chart(stages_frame(current), ctx, settings=explorer.settings)]


# -- tiers, retention, lifecycle -----------------------------------------------------------


def _tiers(explorer: Explorer, selection: Selection) -> list[Any]:
    lang, ctx = selection.lang, explorer.context(selection)
    whole = explorer.result("tiers", selection, compare=False)
    current, _ = explorer.scoped("tier_distribution", selection, compare=False) if selection.scope[0] else (whole, None)
    if not current or not sum(tier["customers"] for tier in current.get("tiers") or []):
        return _empty(selection)
    # the sentences compare the top-20 % share and Gini only: the comparison period's
    # concentration, not its whole tiers metric (scorecard, curve, migration)
    said = tiers_section.tier_sentences(whole, explorer.previous("tier_concentration", selection), ctx)
    out: list[Any] = [
        HtmlBlock(f"<ul>{''.join(f'<li>{esc(s)}</li>' for s in said)}</ul>{warnings_html(whole, lang)}"),
        tier_distribution_chart(tiers_frame(current), ctx),
        pareto_chart(curve_frame(whole), tiers_frame(whole), ctx),
        migration_chart(migration_frame(whole), ctx),
    ]
    note = _whole_note(selection, t("explore.note.tiers", lang))
    return out + ([note] if note else [])


def _retention(explorer: Explorer, selection: Selection) -> list[Any]:
    ctx = explorer.context(selection)
    current, _ = explorer.scoped("retention", selection, compare=False)
    cells = cohort_frame(current) if current else pd.DataFrame()
    if cells.empty:
        return _empty(selection)
    return [cohort_heatmap(cells, ctx, measure="share"), cohort_heatmap(cells, ctx, measure="revenue_share")]


def _states_table(current: Mapping[str, Any], lang: str) -> str:
    headers = [t("explore.lifecycle.state", lang), t("explore.lifecycle.customers", lang), t("explore.share", lang)]
    rows = [
        [t(f"lifecycle.state.{s['state']}", lang), fmt_count(s["customers"]), fmt_pct(s.get("share"))]
        for s in current.get("states") or []
    ]
    return table(headers, rows, numeric=(1, 2))


def _lifecycle(explorer: Explorer, selection: Selection) -> list[Any]:
    lang, ctx = selection.lang, explorer.context(selection)
    current, _ = explorer.scoped("churn", selection, compare=False, risk_list_length=ROWS_SHOWN, model=False)
    if not current or not current.get("customers"):
        return _empty(selection)
    _, previous = explorer.scoped("churn_rates", selection)  # the sentences compare the churn rate only
    said = churn_section.churn_sentences(current, previous, ctx)
    return [
        HtmlBlock(f"<ul>{''.join(f'<li>{esc(s)}</li>' for s in said)}</ul>{_states_table(current, lang)}"),
        state_flow_sankey(flows_frame(current), ctx),
    ]


def _risk_rows(explorer: Explorer, selection: Selection) -> tuple[pd.DataFrame, int]:
    """The churn-risk list of the selection's group: the churn metric's own query
    (``metrics/churn/risk``) by the group's breakdown, its first rows per group."""
    by, group = selection.scope
    settings, period = explorer.settings, explorer.period(selection)
    frame = explorer.query(
        "metrics/churn/risk",
        {
            "as_of": period.as_of,
            "window_start": period.start,
            "new_days": settings.new_days,
            "active_days": settings.active_days,
            "churn_days": settings.churn_days,
            "risk_gap_factor": settings.risk_gap_factor,
            "by": by,
            "list_length": ROWS_SHOWN,
            **tier_params(settings),
        },
    )
    frame = frame[frame["group_key"] == (group or "")]
    out = pd.DataFrame(
        {
            "customer_id": frame["customer_id"],
            "name": frame["customer_name"],
            "owner_rep_id": frame["owner_rep_id"],
            "rep_name": frame["rep_name"],
            "team": frame["team"],
            "tier": frame["tier"],
            "value": frame["value"].astype("float64"),
            "state": frame["lifecycle_state"],
            "purchases": frame["count_purchases"],
            "purchase_days": frame["count_purchase_days"],
            "last_purchase_date": frame["last_purchase_date"].astype(str),
            "recency_days": frame["recency_days"],
            "median_gap_days": frame["median_gap_days"],
            "gap_ratio": frame["gap_ratio"],
            "p_alive": None,
            "expected_purchases": None,
        },
        columns=list(RISK_COLUMNS),
    )
    return out.reset_index(drop=True), int(frame["count_group_at_risk"].iloc[0]) if len(frame) else 0


def _risk(explorer: Explorer, selection: Selection) -> list[Any]:
    lang, ctx = selection.lang, explorer.context(selection)
    if selection.scope[0] is None:
        result = explorer.result("churn", selection, compare=False, risk_list_length=ROWS_SHOWN, model=False)
        rows, total = risk_frame(result), result.get("at_risk_customers") or 0
    else:
        rows, total = _risk_rows(explorer, selection)
    intro = t("explore.risk.intro", lang, shown=fmt_count(len(rows)), total=fmt_count(total))
    return [HtmlBlock(f"<p>{esc(intro)}</p>" + risk_table_html(rows, ctx))]


# -- follow-up backlog ---------------------------------------------------------------------


def backlog(explorer: Explorer, selection: Selection) -> pd.DataFrame:
    """The overdue customers of the selection's group, longest overdue first (``ROWS_SHOWN``)."""
    by, group = selection.scope
    settings = explorer.settings
    cadence = settings.followup_cadence_days
    return explorer.run(
        "followup_backlog",
        {
            "as_of": explorer.period(selection).as_of,
            **tier_params(settings),
            "cadence_a": cadence["A"],
            "cadence_b": cadence["B"],
            "cadence_c": cadence["C"],
            "pool_days": settings.pool_days,
            "by": by or "all",
            "group_key": group or "",
            "row_limit": ROWS_SHOWN,
        },
    )


def _followup(explorer: Explorer, selection: Selection) -> list[Any]:
    lang, ctx = selection.lang, explorer.context(selection)
    # with a filter, the breakdown that holds the group holds the whole's numbers too
    by = explorer.breakdown("followup", selection)
    whole = explorer.result("followup", selection, by=by, compare=False)
    current, _ = explorer.scoped("followup", selection, compare=False) if selection.scope[0] else (whole, None)
    if not current or not current.get("customers"):
        return _empty(selection)
    if selection.scope[0] is None:
        # the sentences compare tier A's compliance only: the comparison period's compliance
        # counts, not its whole follow-up metric (workload, lists)
        previous = explorer.previous("followup_compliance", selection)
        said = followup_section.followup_sentences(whole, previous, ctx)
    else:
        said = [
            t(
                "explore.followup.group",
                lang,
                customers=fmt_count(current["customers"]),
                overdue=fmt_count(current.get("overdue")),
                compliance=fmt_pct(current.get("compliance")),
                as_of=ctx.as_of,
            )
        ]
    frame = compliance_frame(whole)
    by, group = selection.scope
    if by == "team":
        frame = frame[frame["team"] == group]
    elif by == "rep":
        frame = frame[frame["rep_id"] == group]
    rows = backlog(explorer, selection)
    never = t("explore.backlog.never", lang)
    body = [
        [
            r.customer_id,
            r.customer_name or "",
            r.rep_name or r.owner_rep_id or "",
            r.tier,
            fmt_money(r.value),
            never if r.is_never_contacted else str(r.last_activity_date),
            "–" if missing(r.days_overdue) else fmt_count(r.days_overdue),
        ]
        for r in rows.itertuples(index=False)
    ]
    headers = [t(f"explore.backlog.{k}", lang) for k in ("customer", "name", "rep", "tier", "value", "last", "overdue")]
    total = int(rows["count_overdue"].iloc[0]) if len(rows) else 0
    intro = t("explore.backlog.intro", lang, shown=fmt_count(len(rows)), total=fmt_count(total))
    out: list[Any] = [HtmlBlock(f"<ul>{''.join(f'<li>{esc(s)}</li>' for s in said)}</ul>")]
    if not frame.empty:
        out.append(compliance_heatmap(frame, ctx))
    out.append(
        HtmlBlock(
            f"<h3>{esc(t('explore.backlog.heading', lang))}</h3><p>{esc(intro)}</p>"
            + table(headers, body, numeric=(4, 6))
        )
    )
    return out


#: the dashboard's views in tab order
VIEWS: tuple[View, ...] = (
    View("funnel", "funnel", funnel_section.NEEDS, _funnel),
    View("conversion", "funnel", funnel_section.NEEDS, _conversion),  # a cohort: deals by their created date
    View("time_in_stage", "funnel_detail", funnel_detail_section.NEEDS, _time_in_stage),
    View("tiers", "tiers", tiers_section.NEEDS, _tiers),
    View("retention", "retention", retention_section.NEEDS, _retention),
    View("lifecycle", "churn", churn_section.NEEDS, _lifecycle),
    View("risk", "churn", churn_section.NEEDS, _risk),
    View("followup", "followup", followup_section.NEEDS, _followup),
)


def render(view: View, explorer: Explorer, selection: Selection) -> list[Any]:
    """What ``view`` shows for ``selection``: the report's missing-input notice when the
    snapshot lacks what it needs, else its blocks and figures."""
    lacking = explorer.missing(view.needs)
    if lacking:
        return [report_missing_notice(view.section, lacking, selection.lang)]
    return view.draw(explorer, selection)
