"""The settings file (``crm-review.yml``, ``--config``), declared key by key.

Every key is optional: a key the file leaves out keeps its default in
:class:`crmreview.config.Settings`, so only the keys a file gives are validated (a default
of ``None`` here means "not given", never a value). Checks that tie two settings together
(``tier_a_share < tier_b_share``, ``active_days < churn_days``) and the scorecard's inner
shape (:func:`crmreview.config.check_scorecard`) run on the merged settings, in ``Settings``.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, StrictFloat, StrictInt, StrictStr, field_validator

from .yamlcheck import Lines, StrictModel, check

__all__ = ["SettingsFile", "FollowupCadence", "TierWeights", "Scorecard", "check_settings_file"]


class FollowupCadence(StrictModel):
    """Days allowed between activities, per customer tier; tiers left out keep their default."""

    key_noun = "tier"

    A: StrictInt = Field(None, gt=0, description="days for tier A, e.g. 7")
    B: StrictInt = Field(None, gt=0, description="days for tier B, e.g. 14")
    C: StrictInt = Field(None, gt=0, description="days for tier C, e.g. 30")


class TierWeights(StrictModel):
    """A customer's weight in its rep's target, per tier; tiers left out keep their default."""

    key_noun = "tier"

    A: StrictFloat = Field(None, ge=0, description="a weight for tier A, e.g. 1")
    B: StrictFloat = Field(None, ge=0, description="a weight for tier B, e.g. 0.5")
    C: StrictFloat = Field(None, ge=0, description="a weight for tier C, e.g. 0 (upside only)")


class Scorecard(StrictModel):
    """The scorecard's two parts; either replaces the default's whole."""

    dimensions: list[dict[str, Any]] = Field(
        None, description="a list of dimensions, each with name, measure or field, and weight"
    )
    cutoffs: dict[str, Any] = Field(None, description="scores for tiers A and B, e.g. {A: 80, B: 60}")


class SettingsFile(StrictModel):
    """The keys of a settings file, one per field of :class:`crmreview.config.Settings`."""

    key_noun = "setting"
    file_expected = "a mapping of setting names to values, e.g. stale_days: 30"

    stages: list[StrictStr] = Field(
        None,
        min_length=2,
        description="the funnel's stages in order, won last, e.g. [lead, qualified, proposal, won]",
    )
    stage_labels: dict[StrictStr, dict[StrictStr, StrictStr]] = Field(
        None, description="labels per stage and language, e.g. {negotiation: {en: Negotiation, zh: 谈判}}"
    )
    stale_days: StrictInt = Field(None, gt=0, description="days, e.g. 30")
    min_group_deals: StrictInt = Field(None, ge=0, description="a number of deals, e.g. 20")
    tier_a_share: StrictFloat = Field(None, gt=0, le=1, description="a share between 0 and 1, e.g. 0.8 for 80 %")
    tier_b_share: StrictFloat = Field(None, gt=0, le=1, description="a share between 0 and 1, e.g. 0.95 for 95 %")
    value_window_months: StrictInt = Field(None, gt=0, description="months, e.g. 12")
    followup_cadence_days: FollowupCadence = Field(
        None, description="days between activities per tier, e.g. {A: 7, B: 14, C: 30}"
    )
    pool_days: StrictInt = Field(None, gt=0, description="days, e.g. 90")
    scorecard: Scorecard = Field(None, description="dimensions and cutoffs")
    new_days: StrictInt = Field(None, gt=0, description="days, e.g. 90")
    active_days: StrictInt = Field(None, gt=0, description="days, e.g. 90")
    churn_days: StrictInt = Field(None, gt=0, description="days, e.g. 180")
    risk_gap_factor: StrictFloat = Field(None, gt=0, description="a multiple of the usual gap, e.g. 1.5")
    currency: StrictStr = Field(
        None, min_length=1, max_length=8, description="a currency symbol or code, e.g. ¥, $ or EUR"
    )
    memory_limit: StrictStr = Field(
        None,
        # the sizes --memory-limit takes (crmreview.importing.limits.parse_size), with a unit
        pattern=r"(?i)^\s*\d+(\.\d+)?\s*([kmgt]i?b|%)\s*$",
        description="memory for DuckDB, a size such as 2GB, 512MiB or 50%",
    )
    max_columns: StrictInt = Field(None, gt=0, description="a number of columns, e.g. 2000")
    max_line_bytes: StrictInt = Field(None, gt=0, description="bytes per CSV line, e.g. 8388608")
    max_cell_chars: StrictInt = Field(None, gt=0, description="characters per value, e.g. 1000000")
    xlsx_max_cells: StrictInt = Field(None, gt=0, description="cells per XLSX sheet, e.g. 50000000")
    xlsx_max_bytes: StrictInt = Field(None, gt=0, description="unpacked bytes per XLSX file, e.g. 1073741824")
    forecast_history_periods: StrictInt = Field(None, ge=1, description="a number of periods, e.g. 4")
    backtest_periods: StrictInt = Field(None, ge=1, description="a number of periods, e.g. 4")
    target_history_periods: StrictInt = Field(None, ge=1, description="a number of periods, e.g. 4")
    target_rounding: StrictFloat = Field(None, gt=0, description="an amount, e.g. 1000 (or 0.01 for cents)")
    target_tier_weights: TierWeights = Field(None, description="weights per tier, e.g. {A: 1, B: 0.5, C: 0}")

    @field_validator("stages")
    @classmethod
    def _stages_are_distinct_names(cls, stages: list[str]) -> list[str]:
        if any(not name.strip() for name in stages):
            raise ValueError(f"{stages} has an empty stage name")
        doubled = sorted({name for name in stages if stages.count(name) > 1})
        if doubled:
            raise ValueError(f"{stages} names {', '.join(doubled)} twice; each stage comes once")
        if "lost" in stages:
            raise ValueError(f"{stages} must not contain 'lost': it is terminal and kept aside")
        return stages


def check_settings_file(data: Any, *, where: str, lines: Lines) -> dict[str, Any]:
    """The keys ``data`` gives, checked; raises :class:`~crmreview.yamlcheck.SchemaError`
    with one line per problem. Nested blocks (``followup_cadence_days``, ``scorecard``) keep
    only the keys the file gives."""
    return check(SettingsFile, data, where=where, lines=lines).model_dump(exclude_unset=True)
