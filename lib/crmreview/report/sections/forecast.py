"""The report's forecast section, "Will we make it?": won so far, the forecast with its range,
the gap to target overall and per rep, the deals that matter most, and the back-test in one line.

Public names: ``build``, ``forecast_sentences``, ``NEEDS``.

``build(con, review)`` computes :func:`crmreview.metrics.forecast.forecast` for the review's
period per rep (seen from the period's last day, or from the last date of the data while the
period runs) and returns the heading with computed sentences and warnings, the per-rep chart,
the per-rep table, the deals that matter most and a footnote on the method. The sentences and
the tables format every number with the same functions, so a number said is a number shown.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import queries
from ...charts import ChartContext, forecast_chart
from ...metrics import forecast as fc
from ...metrics.inputs import annotate
from ..html import HtmlBlock, esc, fmt_count, fmt_days, fmt_money, fmt_pct, missing, sentences, table, warnings_html

__all__ = ["build", "forecast_sentences", "NEEDS"]

#: the inputs this section cannot be shown without (a notice names the missing export instead)
NEEDS = ("deals",)


def _coverage(value: float | None) -> str:
    return "–" if missing(value) else f"{value:.1f}"


def _target_sentences(obj: Mapping[str, Any], ctx: ChartContext) -> list[str]:
    if missing(obj.get("target")):
        return [ctx.t("forecast.say.no_target", period=ctx.period_label)]
    out = []
    if not missing(obj.get("gap")):
        key = "forecast.say.short" if obj["gap"] > 0 else "forecast.say.beat"
        out.append(
            ctx.t(
                key,
                target=fmt_money(obj["target"]),
                gap=fmt_money(obj["gap"]),
                surplus=fmt_money(-obj["gap"]),
                attainment=fmt_pct(obj.get("expected_attainment")),
            )
        )
    if not missing(obj.get("remaining")) and obj["remaining"] <= 0:
        out.append(ctx.t("forecast.say.made", target=fmt_money(obj["target"])))
    elif not missing(obj.get("coverage")):
        out.append(
            ctx.t("forecast.say.coverage", coverage=_coverage(obj["coverage"]), remaining=fmt_money(obj["remaining"]))
        )
    return out


def _reps_sentence(result: Mapping[str, Any], ctx: ChartContext, names: Mapping[str, str]) -> str | None:
    reps = [g for g in result.get("groups", []) if not missing(g.get("target")) and not missing(g.get("gap"))]
    if not reps:
        return None
    short = [g for g in reps if g["gap"] > 0]
    if not short:
        return ctx.t("forecast.say.reps_all_make", reps=fmt_count(len(reps)))
    worst = max(short, key=lambda g: (g["gap"], str(g["group"])))
    return ctx.t(
        "forecast.say.reps_short",
        short=fmt_count(len(short)),
        reps=fmt_count(len(reps)),
        rep=names.get(worst["group"], worst["group"] or "–"),
        gap=fmt_money(worst["gap"]),
    )


def forecast_sentences(
    result: Mapping[str, Any], ctx: ChartContext, names: Mapping[str, str] | None = None
) -> list[str]:
    """The section's sentences, every number from ``result`` (a forecast computed with
    ``by="rep"``; ``names``: rep id -> display name). In order: won so far (or the period is
    over), the forecast and its range, the target (gap, coverage), the reps expected to miss,
    the run rate, the back-test."""
    if not isinstance(ctx, ChartContext):
        raise TypeError(f"forecast_sentences: ctx must be a ChartContext, got {type(ctx).__name__}")
    names = names or {}
    period = ctx.period_label
    won = {"won": fmt_money(result["won_to_date"]), "deals": fmt_count(result["won_deals_to_date"])}
    if result["period_over"]:
        out = [ctx.t("forecast.say.over", period=period, **won)]
    else:
        out = [ctx.t("forecast.say.won", period=period, as_of=result["as_of"], days=result["days_left"], **won)]
        if missing(result["expected_won"]):
            history = result["history"]
            out.append(ctx.t("forecast.say.no_forecast", period=period, start=history["start"], end=history["end"]))
        else:
            out.append(
                ctx.t(
                    "forecast.say.expected",
                    period=period,
                    expected=fmt_money(result["expected_won"]),
                    low=fmt_money(result["low"]),
                    high=fmt_money(result["high"]),
                    pipeline=fmt_money(result["expected_from_pipeline"]),
                    open=fmt_count(result["open_deals"]),
                    pipeline_amount=fmt_money(result["open_pipeline"]),
                    new=fmt_money(result["expected_from_new_deals"]),
                )
            )
    out += _target_sentences(result, ctx)
    reps = _reps_sentence(result, ctx, names)
    if reps:
        out.append(reps)
    run_rate = result["run_rate"]
    if not result["period_over"] and not missing(run_rate.get("won_projected")):
        out.append(
            ctx.t(
                "forecast.say.run_rate",
                period=period,
                elapsed=run_rate["days_elapsed"],
                days=run_rate["days"],
                run_rate=fmt_money(run_rate["won_projected"]),
            )
        )
    backtest = result["backtest"]
    if backtest["rows"] and not missing(backtest["mape"]):
        out.append(
            ctx.t(
                "forecast.say.backtest",
                periods=backtest["periods"],
                mape=fmt_pct(backtest["mape"]),
                rows=len(backtest["rows"]),
                mape_run_rate=fmt_pct(backtest["mape_run_rate"]),
                within=fmt_pct(backtest["within_range"]),
            )
        )
    else:
        out.append(ctx.t("forecast.say.no_backtest"))
    return out


def _rep_table(result: Mapping[str, Any], ctx: ChartContext, names: Mapping[str, str]) -> str:
    groups = result.get("groups") or []
    if not groups:
        return ""
    headers = [
        ctx.t("forecast.table.rep"),
        ctx.t("forecast.table.won"),
        ctx.t("forecast.table.open"),
        ctx.t("forecast.table.expected"),
        ctx.t("forecast.table.range"),
        ctx.t("forecast.table.target"),
        ctx.t("forecast.table.gap"),
        ctx.t("forecast.table.coverage"),
    ]
    rows = [
        [
            names.get(g["group"], g["group"] or "–"),
            fmt_money(g["won_to_date"]),
            fmt_count(g["open_deals"]),
            fmt_money(g["expected_won"]),
            "–" if missing(g["low"]) else f"{fmt_money(g['low'])} – {fmt_money(g['high'])}",
            fmt_money(g["target"]),
            fmt_money(g["gap"]),
            _coverage(g["coverage"]),
        ]
        for g in groups
    ]
    heading = f"<h3>{esc(ctx.t('forecast.table.reps_heading'))}</h3>\n"
    return heading + table(headers, rows, numeric=(1, 2, 3, 4, 5, 6, 7))


def _deal_table(result: Mapping[str, Any], ctx: ChartContext, names: Mapping[str, str], settings) -> str:
    deals = result.get("deals") or []
    if not deals:
        return ""
    headers = [
        ctx.t("forecast.table.deal"),
        ctx.t("forecast.table.customer"),
        ctx.t("forecast.table.owner"),
        ctx.t("forecast.table.stage"),
        ctx.t("forecast.table.days"),
        ctx.t("forecast.table.amount"),
        ctx.t("forecast.table.probability"),
        ctx.t("forecast.table.expected"),
    ]
    rows = [
        [
            d["deal_id"],
            d["customer_name"] or d["customer_id"] or "–",
            names.get(d["owner_rep_id"], d["owner_rep_id"] or "–"),
            settings.stage_label(d["stage"], ctx.lang),
            fmt_days(d["days_in_stage"]),
            ctx.t("forecast.table.imputed", amount=fmt_money(d["amount_used"]))
            if d["amount_imputed"]
            else fmt_money(d["amount_used"]),
            fmt_pct(d["probability"]),
            fmt_money(d["expected_amount"]),
        ]
        for d in deals
    ]
    heading = f"<h3>{esc(ctx.t('forecast.table.deals_heading', shown=len(deals)))}</h3>\n"
    return heading + table(headers, rows, numeric=(4, 5, 6, 7))


def _footnote(result: Mapping[str, Any], ctx: ChartContext) -> str:
    history = result["history"]
    note = ctx.t(
        "forecast.footnote",
        start=history["start"],
        end=history["end"],
        closed=fmt_count(history["closed_deals"]),
        method=ctx.t("forecast.method", simulations=f"{fc.SIMULATIONS:,}"),
    )
    return f'<p class="crm-note"><small>{esc(note)}</small></p>'


def build(con, review) -> list[Any]:
    """The forecast section of ``review`` (a ``QuarterlyReview``) from the warehouse ``con``."""
    settings = review.settings
    result = fc.forecast(con, review.period, settings=settings, by="rep")
    annotate(con, fc.INPUTS, result, review.period, settings=settings, inv=review.inventory)
    ctx = ChartContext(review.ctx.period_label, review.ctx.compare_label, result["as_of"], review.lang)
    names = dict(queries.run(con, "report/rep_names", {}).itertuples(index=False, name=None))
    heading = f"<h2>{esc(ctx.t('forecast.heading'))}</h2>"
    said = sentences(forecast_sentences(result, ctx, names))
    blocks: list[Any] = [HtmlBlock("\n".join(p for p in (heading, said, warnings_html(result, ctx.lang)) if p))]
    groups = fc.groups_frame(result)
    if len(groups):
        blocks.append(forecast_chart(groups, ctx, labels=names))
    tables = [_rep_table(result, ctx, names), _deal_table(result, ctx, names, settings), _footnote(result, ctx)]
    blocks.append(HtmlBlock("\n".join(part for part in tables if part)))
    return blocks
