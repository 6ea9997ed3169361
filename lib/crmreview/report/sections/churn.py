"""The report's lifecycle and churn section: customers by state, how they moved, the churn
rate, who is slipping away, and what the BG/NBD model expects (with its back-test).

Public names: ``build``, ``churn_sentences``, ``model_sentences``, ``model_table_html``,
``RISK_SHOWN``, ``HISTORY_PERIODS``.

``build(con, review)`` computes :func:`crmreview.churn.churn` for the review's period (states
against the comparison period, the risk list, the model) and the churn rate of the
comparison period, then returns: the heading with computed sentences; the lifecycle
composition over the last ``HISTORY_PERIODS`` periods; the state-flow Sankey; the recency
distribution; the risk list (first ``RISK_SHOWN`` by value) as a sortable table; the model's
sentences, its parameter and back-test table and the back-test chart. With no purchase up
to the as-of date: the heading and a message only.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

import pandas as pd

from ...charts import (
    ChartContext,
    backtest_chart,
    lifecycle_composition_chart,
    recency_chart,
    risk_table_html,
    state_flow_sankey,
)
from ...charts.churn import state_label
from ...metrics.churn import flows_frame, lifecycle_history, recency_frame, risk_frame
from ..html import (
    HtmlBlock,
    esc,
    fmt_count,
    fmt_days,
    fmt_money,
    fmt_number,
    fmt_pct,
    missing,
    owner_label,
    rep_label,
    section_heading,
    sentences,
    table,
    warnings_html,
)
from ..results import OPTIONS, define, rep_labels, result
from .summary import numbers_html

__all__ = ["build", "churn_sentences", "model_sentences", "model_table_html", "RISK_SHOWN", "HISTORY_PERIODS"]

#: the inputs this section cannot be shown without (a notice names the missing export instead)
NEEDS = ("orders",)

#: customers shown in the report's risk table (all are counted)
RISK_SHOWN = OPTIONS["churn"]["risk_list_length"]
#: periods shown in the lifecycle composition chart
HISTORY_PERIODS = 8


def _signed_pct(value: float | None) -> str:
    return "–" if missing(value) else f"{value:+.0%}"


def _states_sentence(current: Mapping[str, Any], ctx: ChartContext) -> str:
    parts = [
        ctx.t("churn.say.state_count", count=fmt_count(s["customers"]), state=state_label(s["state"], ctx).lower())
        for s in current["states"]
    ]
    before = [
        ctx.t(
            "churn.say.state_count",
            count=fmt_count(s["comparison_customers"]),
            state=state_label(s["state"], ctx).lower(),
        )
        for s in current["states"]
    ]
    return ctx.t(
        "churn.say.states",
        as_of=ctx.as_of,
        customers=fmt_count(current["customers"]),
        states=ctx.t("churn.say.list_separator").join(parts),
        compare=ctx.compare_label,
        compare_states=ctx.t("churn.say.list_separator").join(before),
    )


def _churn_rate_sentence(current: Mapping[str, Any], previous: Mapping[str, Any] | None, ctx: ChartContext) -> str:
    start_day = (date.fromisoformat(current["period"]["start"]) - timedelta(days=1)).isoformat()
    if not current.get("start_customers"):
        return ctx.t("churn.say.no_start", day=start_day)
    compare_part = ""
    if previous is not None and not missing(previous.get("churn_rate")):
        compare_part = ctx.t("churn.say.rate_compare", compare=ctx.compare_label, rate=fmt_pct(previous["churn_rate"]))
    return ctx.t(
        "churn.say.rate",
        start=fmt_count(current["start_customers"]),
        day=start_day,
        churned=fmt_count(current["churned_customers"]),
        as_of=ctx.as_of,
        rate=fmt_pct(current["churn_rate"]),
        compare_part=compare_part,
    )


def _flows_sentence(current: Mapping[str, Any], ctx: ChartContext, churn_days: int) -> str | None:
    flows = {(f["from"], f["to"]): f["customers"] for f in current.get("flows", [])}
    slipped = flows.get(("active", "dormant"), 0) + flows.get(("new", "dormant"), 0)
    lost = sum(n for (a, b), n in flows.items() if b == "churned" and a not in ("churned", "none"))
    back = sum(n for (a, b), n in flows.items() if b == "reactivated")
    if not (slipped or lost or back):
        return None
    return ctx.t(
        "churn.say.flows",
        compare=ctx.compare_label,
        slipped=fmt_count(slipped),
        lost=fmt_count(lost),
        back=fmt_count(back),
        days=churn_days,
    )


def _risk_sentence(current: Mapping[str, Any], ctx: ChartContext, owners: Mapping[str, str]) -> str:
    factor = current["thresholds"]["risk_gap_factor"]
    if not current.get("at_risk_customers"):
        return ctx.t("risk.none", as_of=ctx.as_of)
    text = ctx.t(
        "churn.say.risk",
        count=fmt_count(current["at_risk_customers"]),
        factor=fmt_number(factor, 1),
        value=fmt_money(current["at_risk_value"]),
    )
    top = current["risk_list"][0] if current.get("risk_list") else None
    if top is not None:
        text += ctx.t(
            "churn.say.risk_top",
            name=top.get("name") or top["customer_id"],
            customer_id=top["customer_id"],
            tier=top["tier"],
            owner=owner_label(
                top.get("owner_rep_id"),
                {top["owner_rep_id"]: rep_label(top["owner_rep_id"], top.get("rep_name"))} | dict(owners)
                if top.get("owner_rep_id")
                else owners,
            ),
            recency=fmt_count(top["recency_days"]),
            gap=fmt_days(top["median_gap_days"]),
        )
    return text


def churn_sentences(
    current: Mapping[str, Any],
    previous: Mapping[str, Any] | None,
    ctx: ChartContext,
    owners: Mapping[str, str] | None = None,
) -> list[str]:
    """The section's sentences, every number from :func:`crmreview.churn.churn` results
    (``previous``: the comparison period's, for its churn rate; may be None): customers per
    state now and at the comparison date; the churn rate; the main flows; the risk list and
    its largest customer (its owner named by ``owners``, rep id -> label). With nobody having
    bought: one sentence saying so."""
    if not isinstance(ctx, ChartContext):
        raise TypeError(f"churn_sentences: ctx must be a ChartContext, got {type(ctx).__name__}")
    if not current.get("customers"):
        return [ctx.t("churn.empty", as_of=ctx.as_of)]
    out = [_states_sentence(current, ctx), _churn_rate_sentence(current, previous, ctx)]
    flows = _flows_sentence(current, ctx, current["thresholds"]["churn_days"])
    if flows:
        out.append(flows)
    out.append(_risk_sentence(current, ctx, owners or {}))
    return out


def model_sentences(model: Mapping[str, Any] | None, ctx: ChartContext) -> list[str]:
    """What the BG/NBD model says and how well it did on the back-test, from the
    ``purchase_model`` of a churn result; a sentence saying why when it was not fitted."""
    if not model:
        return []
    if model["status"] == "degenerate":
        return [ctx.t("model.say.degenerate", reason=model["reason"])]
    if model["status"] != "fitted":
        return [ctx.t("model.say.not_fitted", customers=fmt_count(model.get("customers")))]
    out = [
        ctx.t(
            "model.say.fit",
            customers=fmt_count(model["customers"]),
            rate=fmt_number(model["rate_mean"] * 4.345, 1),
            dropout=fmt_pct(model["dropout_mean"]),
            expected=fmt_count(round(model["expected_purchases"])),
            days=model["horizon_days"],
            alive=fmt_count(round(model["expected_alive"])),
        )
    ]
    test = model["backtest"]
    if test["status"] != "fitted":
        out.append(ctx.t("model.say.no_backtest", end=test["calibration_end"]))
    else:
        out.append(
            ctx.t(
                "model.say.backtest",
                end=test["calibration_end"],
                start=test["holdout_start"],
                holdout_end=test["holdout_end"],
                predicted=fmt_count(round(test["predicted_purchases"])),
                actual=fmt_count(round(test["actual_purchases"])),
                error=_signed_pct(test["relative_error"]),
                customers=fmt_count(test["customers"]),
            )
        )
    return out


def model_table_html(model: Mapping[str, Any], ctx: ChartContext) -> str:
    """The fitted parameters next to the back-test, as a two-column HTML table (also for a
    degenerate fit, whose parameters the appendix shows)."""
    if not model or model["status"] not in ("fitted", "degenerate"):
        return ""
    rows = [
        [ctx.t("model.table.customers"), fmt_count(model["customers"])],
        ["r", fmt_number(model["r"], 3)],
        [ctx.t("model.table.alpha"), fmt_number(model["alpha"], 3)],
        ["a", fmt_number(model["a"], 3) if model["a"] < 1e6 else f"{model['a']:.2e}"],
        ["b", fmt_number(model["b"], 3) if model["b"] < 1e6 else f"{model['b']:.2e}"],
        [ctx.t("model.table.log_likelihood"), f"{model['log_likelihood']:,.1f}"],
    ]
    test = model["backtest"]
    if test["status"] == "fitted":
        rows += [
            [ctx.t("model.table.calibration"), ctx.t("model.table.until", date=test["calibration_end"])],
            [ctx.t("model.table.holdout"), f"{test['holdout_start']} – {test['holdout_end']}"],
            [ctx.t("model.table.backtest_customers"), fmt_count(test["customers"])],
            [ctx.t("model.table.actual"), f"{test['actual_purchases']:,.0f}"],
            [ctx.t("model.table.predicted"), f"{test['predicted_purchases']:,.1f}"],
            [ctx.t("model.table.relative_error"), _signed_pct(test["relative_error"])],
            [ctx.t("model.table.mae"), fmt_number(test["mean_absolute_error"], 2)],
            [ctx.t("model.table.correlation"), fmt_number(test["correlation"], 2)],
        ]
    return table([ctx.t("model.table.item"), ctx.t("model.table.value")], rows, numeric=(1,))


def _history_note(history: pd.DataFrame, current: Mapping[str, Any], ctx: ChartContext) -> str:
    first = current["data_span"]["first_order_date"]
    if history.empty or first is None:
        return ""
    oldest = history["as_of"].iloc[0]
    threshold = current["thresholds"]["churn_days"]
    if (date.fromisoformat(oldest) - date.fromisoformat(first)).days > threshold:
        return ""
    note = ctx.t("churn.history_note", date=first, days=current["thresholds"]["new_days"], churn_days=threshold)
    return f'<p class="crm-note"><small>{esc(note)}</small></p>'


def build(con, review) -> list[Any]:
    """The lifecycle and churn section of ``review`` (a ``QuarterlyReview``) from ``con``."""
    ctx, settings = review.ctx, review.settings
    current = result(con, review, "churn")
    heading = section_heading("churn", ctx.lang) + numbers_html(con, review, "churn")
    # the degenerate model is said with the model's sentences below
    warned = warnings_html(current, ctx.lang, skip=("period_outside_data", "model_degenerate"))
    if not current["customers"]:
        return [HtmlBlock(f"{heading}\n{sentences(churn_sentences(current, None, ctx))}\n{warned}")]
    previous = result(con, review, "churn", "previous")
    history = lifecycle_history(con, review.period, settings=settings, periods=HISTORY_PERIODS)
    recency = recency_frame(con, review.period, settings=settings)
    th = current["thresholds"]
    definitions = ctx.t(
        "churn.definitions",
        new_days=th["new_days"],
        active_days=th["active_days"],
        churn_days=th["churn_days"],
    )
    risk_intro = ctx.t(
        "churn.risk_intro",
        factor=fmt_number(th["risk_gap_factor"], 1),
        shown=fmt_count(len(current["risk_list"])),
        total=fmt_count(current["at_risk_customers"]),
    )
    model = current.get("purchase_model")
    fitted = bool(model) and model["status"] == "fitted"
    define(review, "churn", definitions, ctx.t("model.footnote") if model else "")
    blocks: list[Any] = [
        HtmlBlock(
            f"{heading}\n{sentences(churn_sentences(current, previous, ctx, rep_labels(con, review)))}\n{warned}"
        ),
        lifecycle_composition_chart(history, ctx),
    ]
    note = _history_note(history, current, ctx)
    if note:
        blocks.append(HtmlBlock(note))
    blocks += [
        state_flow_sankey(flows_frame(current), ctx),
        recency_chart(recency, ctx, settings=settings),
        HtmlBlock(
            f"<h3>{esc(ctx.t('churn.risk_heading'))}</h3>\n<p>{esc(risk_intro)}</p>\n"
            + risk_table_html(risk_frame(current), ctx)
        ),
    ]
    if model:
        # the parameters and the back-test figures go to the appendix; the body says what they mean
        review.notes["purchase_model"] = model
        said = sentences(model_sentences(model, ctx))
        blocks.append(HtmlBlock(f"<h3>{esc(ctx.t('model.heading'))}</h3>\n{said}"))
        if fitted and model["backtest"]["status"] == "fitted":
            blocks.append(backtest_chart(pd.DataFrame(model["backtest"]["by_frequency"]), ctx))
    return blocks
