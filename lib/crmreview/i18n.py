"""Report and chart text in English and Chinese: the one place user-facing words live.

Public names: ``LANGS``, ``check_lang``, ``t``, ``MESSAGES``.

``t(key, lang, **fmt)`` looks a message up and fills its ``{placeholders}`` with
``str.format`` (so a literal brace is written doubled). An unknown language or key raises,
so a missing translation fails a test instead of showing a key to a reader. Stage names
are not here: they belong to the user-editable settings (``config.Settings.stage_labels``).
"""
from __future__ import annotations

__all__ = ["LANGS", "check_lang", "t", "MESSAGES"]

LANGS = ("en", "zh")

MESSAGES: dict[str, dict[str, str]] = {
    # -- figure title furniture
    "chart.subtitle": {
        "en": "{period} vs {compare} · as of {as_of}",
        "zh": "{period} 对比 {compare} · 数据截至 {as_of}",
    },
    "chart.no_data": {
        "en": "No deals in {period}",
        "zh": "{period} 没有商机",
    },
    "chart.stage": {"en": "Stage", "zh": "阶段"},
    "chart.deals": {"en": "Deals", "zh": "商机数"},
    # -- funnel chart
    "funnel.title": {"en": "Sales funnel", "zh": "销售漏斗"},
    "funnel.text_first": {"en": "{count}", "zh": "{count}"},
    "funnel.text": {
        "en": "{count}<br>{pct_previous} of previous · {pct_first} of first",
        "zh": "{count}<br>占上一阶段 {pct_previous} · 占首阶段 {pct_first}",
    },
    # plotly hover templates: %{{...}} is plotly's, doubled so that str.format keeps it
    "funnel.hover": {
        "en": "%{{y}}<br>reached: %{{x}}<br>of previous: %{{customdata[0]}}"
        "<br>of first: %{{customdata[1]}}<extra></extra>",
        "zh": "%{{y}}<br>到达：%{{x}}<br>占上一阶段：%{{customdata[0]}}"
        "<br>占首阶段：%{{customdata[1]}}<extra></extra>",
    },
    "funnel.x": {"en": "Deals reaching the stage", "zh": "到达该阶段的商机数"},
    # -- leakage chart
    "leakage.title": {"en": "Where deals leak", "zh": "商机在哪个阶段流失"},
    "leakage.x": {"en": "Furthest stage reached", "zh": "到达的最远阶段"},
    "leakage.lost": {"en": "Lost at this stage", "zh": "在此阶段输单"},
    "leakage.open": {"en": "Still open at this stage", "zh": "仍停留在此阶段"},
    "leakage.hover": {
        "en": "%{{x}}<br>{name}: %{{y}}<br>leakage rate: %{{customdata}}<extra></extra>",
        "zh": "%{{x}}<br>{name}：%{{y}}<br>流失率：%{{customdata}}<extra></extra>",
    },
    "compare.hover": {
        "en": "%{{x}}<br>{name}: %{{y}}<extra></extra>",
        "zh": "%{{x}}<br>{name}：%{{y}}<extra></extra>",
    },
    # -- comparison chart
    "compare.title": {"en": "Funnel vs comparison period", "zh": "漏斗与对比期"},
    "compare.y": {"en": "Deals reaching the stage", "zh": "到达该阶段的商机数"},
    # -- report header
    "report.title": {"en": "Sales review {period}", "zh": "销售复盘 {period}"},
    "report.period": {"en": "Period", "zh": "本期"},
    "report.compare": {"en": "Compared with", "zh": "对比期"},
    "report.compare_line": {"en": "{period}, {mode}", "zh": "{period}（{mode}）"},
    "report.compare.prev": {"en": "previous period", "zh": "上一期"},
    "report.compare.yoy": {"en": "same period a year earlier", "zh": "去年同期"},
    "report.as_of": {"en": "Data as of", "zh": "数据截至"},
    "report.loaded_through": {"en": "Data loaded through {date}.", "zh": "已导入数据截至 {date}。"},
    "report.loaded_nothing": {
        "en": "The warehouse holds no deals or orders yet.",
        "zh": "数据仓库中还没有商机或订单数据。",
    },
    "report.loaded_before_as_of": {
        "en": "The data end on {date}, before the as-of date {as_of}: figures for the days "
        "after {date} are missing, not zero.",
        "zh": "数据只到 {date}，早于截至日 {as_of}：{date} 之后的数据缺失，而不是为零。",
    },
    # -- KPI table
    "kpi.heading": {"en": "Key numbers", "zh": "关键指标"},
    "kpi.metric": {"en": "Metric", "zh": "指标"},
    "kpi.change": {"en": "Change", "zh": "变化"},
    "kpi.deals_created": {"en": "Deals created", "zh": "新建商机"},
    "kpi.win_rate": {"en": "Win rate", "zh": "赢单率"},
    "kpi.avg_won_amount": {"en": "Average won amount", "zh": "平均赢单金额"},
    "kpi.median_cycle_days": {"en": "Median sales cycle (days)", "zh": "销售周期中位数（天）"},
    "kpi.pipeline_velocity": {"en": "Pipeline velocity (per day)", "zh": "管道速度（每天）"},
    "kpi.points": {"en": "{value} pp", "zh": "{value} 个百分点"},
    # -- funnel section
    "funnel.heading": {"en": "Funnel", "zh": "销售漏斗"},
    "funnel.empty": {
        "en": "No deals were created in {period}, so there is no funnel to show.",
        "zh": "{period} 没有新建商机，因此没有漏斗可展示。",
    },
    "funnel.rule.furthest": {
        "en": "Funnel rule: a deal counts at every stage up to the furthest one it reached.",
        "zh": "漏斗口径：商机计入它到达的最远阶段及之前的所有阶段。",
    },
    "funnel.rule.strict": {
        "en": "Funnel rule: a deal counts at a stage only when it went through every stage "
        "before it.",
        "zh": "漏斗口径：商机只有依次经过之前的每个阶段，才计入该阶段。",
    },
    "funnel.rule.other": {"en": "Funnel rule: {rule}.", "zh": "漏斗口径：{rule}。"},
    "funnel.cohort": {
        "en": "{cohort} deals created in {period}; {skipped} skipped a stage, {backward} moved "
        "backwards, {excluded} without a creation date were left out.",
        "zh": "{period} 新建商机 {cohort} 个；其中 {skipped} 个跳过了阶段，{backward} 个发生回退；"
        "另有 {excluded} 个缺少创建日期，未计入。",
    },
    # -- narrative sentences (numbers are always computed, never typed)
    "say.conversion_fell": {
        "en": "{from_stage} → {to_stage} conversion fell from {before} in {compare} to {now} "
        "in {period}.",
        "zh": "{from_stage} → {to_stage} 的转化率从 {compare} 的 {before} 降至 {period} 的 {now}。",
    },
    "say.conversion_rose": {
        "en": "{from_stage} → {to_stage} conversion rose from {before} in {compare} to {now} "
        "in {period}.",
        "zh": "{from_stage} → {to_stage} 的转化率从 {compare} 的 {before} 升至 {period} 的 {now}。",
    },
    "say.conversion_held": {
        "en": "{from_stage} → {to_stage} conversion held at {now} in {period}, as in {compare}.",
        "zh": "{from_stage} → {to_stage} 的转化率在 {period} 为 {now}，与 {compare} 持平。",
    },
    "say.weakest_step": {
        "en": "The weakest step in {period} was {from_stage} → {to_stage}: {now} of deals "
        "moved on.",
        "zh": "{period} 最薄弱的环节是 {from_stage} → {to_stage}：只有 {now} 的商机进入下一阶段。",
    },
    "say.leak": {
        "en": "{count} of the {total} deals created in {period} and lost by {as_of} were lost "
        "at the {stage} stage, the biggest leak.",
        "zh": "{period} 新建、截至 {as_of} 已输单的 {total} 个商机中，有 {count} 个输在{stage}阶段，"
        "是流失最多的环节。",
    },
    "say.leak_one_of": {
        "en": "1 of the {total} deals created in {period} and lost by {as_of} was lost at the "
        "{stage} stage, the biggest leak.",
        "zh": "{period} 新建、截至 {as_of} 已输单的 {total} 个商机中，有 1 个输在{stage}阶段，"
        "是流失最多的环节。",
    },
    "say.leak_all": {
        "en": "All {total} deals created in {period} and lost by {as_of} were lost at the "
        "{stage} stage.",
        "zh": "{period} 新建、截至 {as_of} 已输单的 {total} 个商机全部输在{stage}阶段。",
    },
    "say.leak_one": {
        "en": "The one deal created in {period} and lost by {as_of} was lost at the {stage} "
        "stage.",
        "zh": "{period} 新建、截至 {as_of} 已输单的 1 个商机输在{stage}阶段。",
    },
    "say.no_losses": {
        "en": "None of the deals created in {period} had been lost by {as_of}.",
        "zh": "{period} 新建的商机截至 {as_of} 均未输单。",
    },
    "say.win_rate": {
        "en": "Deals closed in {period}: {closed}, of which {won} won, a win rate of {rate}"
        "{compare_part}.",
        "zh": "{period} 结单 {closed} 个，其中赢单 {won} 个，赢单率 {rate}{compare_part}。",
    },
    "say.win_rate_compare": {"en": " ({compare}: {rate})", "zh": "（{compare}：{rate}）"},
    "say.no_closed": {
        "en": "No deals were closed (won or lost) in {period}.",
        "zh": "{period} 没有结单（赢单或输单）的商机。",
    },
}


def check_lang(lang: str) -> str:
    """Return ``lang`` when it is a supported report language; raise ``ValueError`` otherwise."""
    if lang not in LANGS:
        raise ValueError(f"language {lang!r} is not supported; use one of: {', '.join(LANGS)}")
    return lang


def t(key: str, lang: str, **fmt: object) -> str:
    """The message ``key`` in ``lang``, with ``{placeholders}`` filled from ``fmt``."""
    check_lang(lang)
    try:
        template = MESSAGES[key][lang]
    except KeyError:
        raise KeyError(f"no {lang} text for message {key!r}") from None
    return template.format(**fmt)
