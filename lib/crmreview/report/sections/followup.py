"""The report's follow-up and allocation section: are customers followed up at their tier's
cadence, who can go back to the pool, who is chased by several reps, and target attainment.

Public names: ``build``, ``followup_sentences``, ``LIST_SHOWN``.

``build(con, review)`` computes :func:`crmreview.followup.followup` for the review's period
and its comparison, and returns the heading with computed sentences, the compliance heatmap
(rep × tier) and the attainment bars per rep, then tables: compliance per tier, workload per
team, the largest pool candidates and the ownership conflicts. With no customer known at the
as-of date: the heading and a message (and the attainment bars, when there are targets).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...charts import ChartContext, attainment_chart, compliance_heatmap
from ...metrics.followup import compliance_frame, reps_frame
from ..html import (
    HtmlBlock,
    esc,
    fmt_count,
    fmt_days,
    fmt_money,
    fmt_pct,
    missing,
    owner_label,
    section_heading,
    sentences,
    table,
    warnings_html,
)
from ..results import define, rep_labels, result
from .summary import numbers_html

__all__ = ["build", "followup_sentences", "LIST_SHOWN"]

#: the inputs this section cannot be shown without (a notice names the missing export instead)
NEEDS = ("activities",)

#: rows shown in the pool-candidate and ownership-conflict tables
LIST_SHOWN = 10


def _tier(result: Mapping[str, Any], tier: str) -> Mapping[str, Any]:
    return next((e for e in result.get("tiers", []) if e["tier"] == tier), {})


def _rep_name(rep: Mapping[str, Any]) -> str:
    return f"{rep['name']} ({rep['rep_id']})" if rep.get("name") else str(rep["rep_id"])


def _compliance_sentence(current, previous, ctx: ChartContext) -> str:
    parts = ctx.t("followup.say.sep").join(
        ctx.t("followup.say.tier_part", tier=e["tier"], days=e["cadence_days"], share=fmt_pct(e["compliance"]))
        for e in current.get("tiers", [])
        if e["customers"]
    )
    text = ctx.t(
        "followup.say.compliance",
        as_of=ctx.as_of,
        share=fmt_pct(current.get("compliance")),
        customers=fmt_count(current.get("customers")),
        parts=parts,
    )
    before = _tier(previous or {}, "A").get("compliance")
    now = _tier(current, "A").get("compliance")
    if not missing(before) and not missing(now):
        return text + ctx.t("followup.say.a_compare", compare=ctx.compare_label, share=fmt_pct(before))
    return text + ctx.t("followup.say.end")


def _weakest_rep_sentence(current, ctx: ChartContext) -> str | None:
    candidates = []
    for rep in current.get("reps", []):
        a = next((e for e in rep.get("tiers", []) if e["tier"] == "A"), None)
        if a and a["customers"] and not missing(a["compliance"]):
            candidates.append((a["compliance"], -a["customers"], rep["rep_id"], rep, a))
    if not candidates:
        return None
    _, _, _, rep, a = min(candidates, key=lambda c: c[:3])
    return ctx.t(
        "followup.say.weakest_rep",
        rep=_rep_name(rep),
        overdue=fmt_count(a["overdue"]),
        customers=fmt_count(a["customers"]),
        share=fmt_pct(a["compliance"]),
    )


def _attainment_sentence(current, ctx: ChartContext) -> str:
    if missing(current.get("attainment")):
        return ctx.t("followup.say.no_targets", period=ctx.period_label)
    reps = [r for r in current.get("reps", []) if not missing(r.get("attainment"))]
    reached = sum(1 for r in reps if r["attainment"] >= 1)
    text = ctx.t(
        "followup.say.attainment",
        period=ctx.period_label,
        share=fmt_pct(current["attainment"]),
        won=fmt_money(current.get("target_won_amount")),
        target=fmt_money(current.get("target_amount")),
        reached=fmt_count(reached),
        reps=fmt_count(len(reps)),
    )
    teams = [team for team in current.get("teams", []) if not missing(team.get("attainment"))]
    if len(teams) >= 2:
        best = max(teams, key=lambda team: (team["attainment"], str(team["team"])))
        worst = min(teams, key=lambda team: (team["attainment"], str(team["team"])))
        if fmt_pct(best["attainment"]) == fmt_pct(worst["attainment"]):  # no best when they read the same
            return text + ctx.t(
                "followup.say.teams_equal", teams=fmt_count(len(teams)), share=fmt_pct(best["attainment"])
            )
        return text + ctx.t(
            "followup.say.teams",
            best=best["team"] or "–",
            best_share=fmt_pct(best["attainment"]),
            worst=worst["team"] or "–",
            worst_share=fmt_pct(worst["attainment"]),
        )
    return text + ctx.t("followup.say.end")


def followup_sentences(current: Mapping[str, Any], previous: Mapping[str, Any] | None, ctx: ChartContext) -> list[str]:
    """The section's sentences, every number from the results.

    ``current`` / ``previous``: :func:`crmreview.followup.followup` results for the period
    and its comparison (``previous`` may be None). In order: compliance overall and per
    tier (A against the comparison); the rep with the lowest A-tier compliance; customers
    never contacted; pool candidates; ownership conflicts; target attainment. With no
    customer: a sentence saying so, then attainment.
    """
    if not isinstance(ctx, ChartContext):
        raise TypeError(f"followup_sentences: ctx must be a ChartContext, got {type(ctx).__name__}")
    if not current.get("customers"):
        return [ctx.t("followup.empty", as_of=ctx.as_of), _attainment_sentence(current, ctx)]
    out = [_compliance_sentence(current, previous, ctx)]
    weakest = _weakest_rep_sentence(current, ctx)
    if weakest:
        out.append(weakest)
    if current.get("never_contacted"):
        out.append(ctx.t("followup.say.never", count=fmt_count(current["never_contacted"])))
    pool_a = _tier(current, "A").get("pool_candidates", 0)
    pool_key = "followup.say.pool_a" if pool_a else "followup.say.pool"
    if not current.get("pool_candidates"):
        pool_key = "followup.say.no_pool"
    out.append(
        ctx.t(
            pool_key,
            count=fmt_count(current.get("pool_candidates")),
            days=current.get("pool_days"),
            a=fmt_count(pool_a),
        )
    )
    conflicts = current.get("ownership_conflicts", 0)
    out.append(
        ctx.t("followup.say.conflicts", count=fmt_count(conflicts), period=ctx.period_label)
        if conflicts
        else ctx.t("followup.say.no_conflicts", period=ctx.period_label)
    )
    out.append(_attainment_sentence(current, ctx))
    return out


def _tier_table(current: Mapping[str, Any], ctx: ChartContext) -> str:
    headers = [
        ctx.t("followup.table.tier"),
        ctx.t("followup.table.cadence"),
        ctx.t("followup.table.customers"),
        ctx.t("followup.table.overdue"),
        ctx.t("followup.table.compliance"),
        ctx.t("followup.table.median_days"),
        ctx.t("followup.table.pool"),
    ]
    rows = [
        [
            e["tier"],
            fmt_count(e["cadence_days"]),
            fmt_count(e["customers"]),
            fmt_count(e["overdue"]),
            fmt_pct(e["compliance"]),
            fmt_days(e["median_days_since_activity"]),
            fmt_count(e["pool_candidates"]),
        ]
        for e in current["tiers"]
    ]
    rows.append(
        [
            ctx.t("followup.table.all"),
            "",
            fmt_count(current["customers"]),
            fmt_count(current["overdue"]),
            fmt_pct(current["compliance"]),
            fmt_days(current["median_days_since_activity"]),
            fmt_count(current["pool_candidates"]),
        ]
    )
    return f"<h3>{esc(ctx.t('followup.table.tiers_heading'))}</h3>\n" + table(headers, rows, numeric=(1, 2, 3, 4, 5, 6))


def _team_table(current: Mapping[str, Any], ctx: ChartContext) -> str:
    if not current.get("teams"):
        return ""
    headers = [
        ctx.t("followup.table.team"),
        ctx.t("followup.table.reps"),
        ctx.t("followup.table.customers"),
        ctx.t("followup.table.a_customers"),
        ctx.t("followup.table.compliance"),
        ctx.t("followup.table.target"),
        ctx.t("followup.table.won"),
        ctx.t("followup.table.attainment"),
    ]
    rows = [
        [
            team["team"] or "–",
            fmt_count(team["reps"]),
            fmt_count(team["customers"]),
            fmt_count(team["a_customers"]),
            fmt_pct(team["compliance"]),
            fmt_money(team["target_amount"]),
            fmt_money(team["target_won_amount"]),
            fmt_pct(team["attainment"]),
        ]
        for team in current["teams"]
    ]
    return f"<h3>{esc(ctx.t('followup.table.workload'))}</h3>\n" + table(headers, rows, numeric=(1, 2, 3, 4, 5, 6, 7))


def _pool_table(current: Mapping[str, Any], ctx: ChartContext, owners: Mapping[str, str]) -> str:
    listed = current.get("pool_candidate_list", [])[:LIST_SHOWN]
    if not listed:
        return ""
    headers = [
        ctx.t("followup.table.customer"),
        ctx.t("followup.table.owner"),
        ctx.t("followup.table.tier"),
        ctx.t("followup.table.value"),
        ctx.t("followup.table.last_activity"),
    ]
    rows = [
        [
            f"{c['name']} ({c['customer_id']})" if c.get("name") else c["customer_id"],
            owner_label(c.get("owner_rep_id"), owners),
            c["tier"],
            fmt_money(c["value"]),
            c["last_activity_date"] or ctx.t("followup.table.never"),
        ]
        for c in listed
    ]
    caption = ctx.t(
        "followup.table.pool_heading",
        shown=len(listed),
        total=fmt_count(current["pool_candidates"]),
        days=current["pool_days"],
    )
    return f"<h3>{esc(caption)}</h3>\n" + table(headers, rows, numeric=(3,))


def _conflict_table(current: Mapping[str, Any], ctx: ChartContext, owners: Mapping[str, str]) -> str:
    listed = current.get("ownership_conflict_list", [])[:LIST_SHOWN]
    if not listed:
        return ""
    headers = [
        ctx.t("followup.table.customer"),
        ctx.t("followup.table.owner"),
        ctx.t("followup.table.tier"),
        ctx.t("followup.table.rep_ids"),
        ctx.t("followup.table.other_activities"),
    ]
    rows = [
        [
            f"{c['name']} ({c['customer_id']})" if c.get("name") else c["customer_id"],
            owner_label(c.get("owner_rep_id"), owners),
            c["tier"],
            ", ".join(owner_label(rep, owners) for rep in c["rep_ids"]),
            f"{c['other_rep_activities']:,} / {c['activities']:,}",
        ]
        for c in listed
    ]
    caption = ctx.t(
        "followup.table.conflict_heading",
        shown=len(listed),
        total=fmt_count(current["ownership_conflicts"]),
        period=ctx.period_label,
    )
    return f"<h3>{esc(caption)}</h3>\n" + table(headers, rows, numeric=(4,))


def _definition(current: Mapping[str, Any], ctx: ChartContext) -> str:
    cadence = ", ".join(f"{tier} {days}" for tier, days in current["cadence_days"].items())
    return ctx.t("followup.footnote", cadence=cadence, days=current["pool_days"])


def build(con, review) -> list[Any]:
    """The follow-up section of ``review`` (a ``QuarterlyReview``) from the warehouse ``con``."""
    ctx = review.ctx
    current = result(con, review, "followup")
    previous = result(con, review, "followup", "previous")
    owners = rep_labels(con, review)
    define(review, "followup", _definition(current, ctx))
    heading = section_heading("followup", ctx.lang) + numbers_html(con, review, "followup")
    said = sentences(followup_sentences(current, previous, ctx)) + warnings_html(current, ctx.lang)
    reps = reps_frame(current)
    has_targets = bool(reps["attainment"].notna().any())
    if not current["customers"]:
        blocks: list[Any] = [HtmlBlock(f"{heading}\n{said}")]
        if has_targets:
            blocks.append(attainment_chart(reps, ctx))
        return blocks
    blocks = [
        HtmlBlock(f"{heading}\n{said}"),
        compliance_heatmap(compliance_frame(current), ctx),
    ]
    if has_targets:
        blocks.append(attainment_chart(reps, ctx))
    tables = [
        _tier_table(current, ctx),
        _team_table(current, ctx),
        _pool_table(current, ctx, owners),
        _conflict_table(current, ctx, owners),
    ]
    blocks.append(HtmlBlock("\n".join(part for part in tables if part)))
    return blocks
