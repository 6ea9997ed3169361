"""Plotly charts for reports: aggregates in, a figure out; nothing here ever shows a figure.

One module per metric (``funnel``, ``tiers``, ``followup``, ``retention``, ``churn``, ``forecast``) on the shared furniture of ``base``. Every figure
says its period, its comparison and its data as-of date (``ChartContext.subtitle``), and is
drawn from aggregates, so a report's size does not grow with the data.
"""

from .base import ChartContext
from .churn import backtest_chart, lifecycle_composition_chart, recency_chart, risk_table_html, state_flow_sankey
from .followup import attainment_chart, compliance_heatmap
from .forecast import forecast_chart
from .funnel import (
    conversion_heatmap,
    conversion_trend_chart,
    days_in_stage_chart,
    funnel_chart,
    funnel_compare_chart,
    leakage_chart,
)
from .retention import cohort_heatmap
from .tiers import migration_chart, pareto_chart, tier_distribution_chart

__all__ = [
    "ChartContext",
    "funnel_chart",
    "leakage_chart",
    "funnel_compare_chart",
    "conversion_heatmap",
    "days_in_stage_chart",
    "conversion_trend_chart",
    "pareto_chart",
    "tier_distribution_chart",
    "migration_chart",
    "compliance_heatmap",
    "attainment_chart",
    "forecast_chart",
    "cohort_heatmap",
    "lifecycle_composition_chart",
    "state_flow_sankey",
    "recency_chart",
    "backtest_chart",
    "risk_table_html",
]
