"""Paths and settings: the one module that knows where things live.

Nothing else builds a path from ``__file__``. Resources (``queries/``, ``notebooks/``) are
read from the source checkout when the package runs from one, or from the copies bundled
into the wheel otherwise.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "PACKAGE_DIR",
    "PROJECT_ROOT",
    "QUERIES_DIR",
    "NOTEBOOKS_DIR",
    "DATA_DIR",
    "SAMPLE_DIR",
    "REPORTS_DIR",
    "ADAPTERS_DIR",
    "MESSAGES_DIR",
    "default_db_path",
    "demo_db_path",
    "notebook_db_path",
    "Settings",
    "DEFAULT_SETTINGS",
    "SettingsError",
    "settings_path",
    "load_settings",
    "check_scorecard",
    "SCORECARD_MEASURES",
    "SCORECARD_FIELDS",
]

PACKAGE_DIR = Path(__file__).resolve().parent
_CHECKOUT = PACKAGE_DIR.parent.parent
_IN_CHECKOUT = (_CHECKOUT / "queries").is_dir() and (_CHECKOUT / "lib" / "crmreview").is_dir()

#: Root of the source checkout, or the current directory for an installed package.
PROJECT_ROOT = _CHECKOUT if _IN_CHECKOUT else Path.cwd()
_RESOURCES = _CHECKOUT if _IN_CHECKOUT else PACKAGE_DIR / "_resources"

QUERIES_DIR = _RESOURCES / "queries"
NOTEBOOKS_DIR = _RESOURCES / "notebooks"
DATA_DIR = PROJECT_ROOT / "data"
SAMPLE_DIR = DATA_DIR / "sample"
REPORTS_DIR = PROJECT_ROOT / "reports"
#: built-in adapters and example mappings (YAML), shipped inside the package
ADAPTERS_DIR = PACKAGE_DIR / "adapters"
#: report and chart text, one YAML file per section (en + zh)
MESSAGES_DIR = PACKAGE_DIR / "messages"


def demo_db_path() -> Path:
    """The warehouse ``crm-review demo`` builds from the sample: ``data/demo.duckdb``."""
    return DATA_DIR / "demo.duckdb"


def notebook_db_path(db_path: str = "") -> Path:
    """The warehouse a notebook opens for ``db_path`` ("" = the default): the default
    warehouse, or, when there is none yet and the demo has run, the demo's, so that a report
    notebook opened right after ``crm-review demo`` runs as it is."""
    if db_path:
        return Path(db_path)
    default = default_db_path()
    if not default.exists() and "CRM_REVIEW_DB" not in os.environ and demo_db_path().exists():
        return demo_db_path()
    return default


def default_db_path() -> Path:
    """The warehouse used when no ``--db`` is given: ``$CRM_REVIEW_DB`` or ``data/crm.duckdb``."""
    env = os.environ.get("CRM_REVIEW_DB")
    return Path(env) if env else DATA_DIR / "crm.duckdb"


@dataclass(frozen=True)
class Settings:
    """Business settings shared by metrics, charts and reports.

    ``stages`` is the ordered funnel; ``lost`` is terminal and kept aside. A team may add a
    stage (``negotiation`` between ``proposal`` and ``won``); the last stage is the won stage.
    """

    stages: tuple[str, ...] = ("lead", "qualified", "proposal", "won")
    stage_labels: dict[str, dict[str, str]] = field(
        default_factory=lambda: {
            "lead": {"zh": "线索", "en": "Lead"},
            "qualified": {"zh": "意向", "en": "Qualified"},
            "proposal": {"zh": "报价", "en": "Proposal"},
            "negotiation": {"zh": "谈判", "en": "Negotiation"},
            "won": {"zh": "成交", "en": "Won"},
            "lost": {"zh": "输单", "en": "Lost"},
        }
    )
    stale_days: int = 30
    #: groups with fewer deals than this are flagged as too small to read
    min_group_deals: int = 20
    # -- customer tiers (ABC / Pareto): value over a trailing window
    tier_a_share: float = 0.80
    tier_b_share: float = 0.95
    value_window_months: int = 12
    # -- follow-up: days allowed between activities per tier, and when a customer returns to the pool
    followup_cadence_days: dict[str, int] = field(default_factory=lambda: {"A": 7, "B": 14, "C": 30})
    pool_days: int = 90
    # -- scorecard tiers: weighted dimensions, each scored 0-100, and cut-offs on the score
    #    (see check_scorecard for the shape; a settings file replaces "dimensions" whole)
    scorecard: dict[str, Any] = field(default_factory=lambda: _default_scorecard())
    # -- lifecycle (purchases only): new within new_days of the first purchase; active while
    #    recency <= active_days; dormant while <= churn_days; churned after
    new_days: int = 90
    active_days: int = 90
    churn_days: int = 180
    #: churn risk: recency above this multiple of the customer's own median purchase gap
    risk_gap_factor: float = 1.5
    #: the report currency: the symbol money is shown with (amounts are imported as numbers)
    currency: str = "¥"
    # -- bounds on one import (crmreview.importing.limits): DuckDB's memory (it spills to a
    #    temporary folder beyond it) and what one export may hold
    memory_limit: str = "2GB"
    max_columns: int = 2_000
    max_line_bytes: int = 8 * 1024 * 1024
    max_cell_chars: int = 1_000_000
    xlsx_max_cells: int = 50_000_000
    xlsx_max_bytes: int = 1024 * 1024 * 1024
    # -- forecast (metrics forecast): deals closed in the previous forecast_history_periods
    #    periods of the period's kind give each stage's conversion and time to close; the
    #    back-test forecasts each of the backtest_periods periods before at 1/3 and 2/3
    forecast_history_periods: int = 4
    backtest_periods: int = 4
    # -- target split (targets split): won revenue of the previous target_history_periods
    #    periods; amounts rounded to target_rounding (and summing exactly); a customer's
    #    share of its rep's target by tier
    target_history_periods: int = 4
    target_rounding: float = 1000
    target_tier_weights: dict[str, float] = field(default_factory=lambda: {"A": 1.0, "B": 0.5, "C": 0.0})

    def __post_init__(self) -> None:
        if len(self.stages) < 2:
            raise ValueError("settings.stages needs at least two stages (a first stage and won)")
        if len(set(self.stages)) != len(self.stages):
            raise ValueError(f"settings.stages has a duplicate stage: {list(self.stages)}")
        if "lost" in self.stages:
            raise ValueError("settings.stages must not contain 'lost': it is terminal and kept aside")
        if not 0 < self.tier_a_share < self.tier_b_share <= 1:
            raise ValueError(
                f"settings need 0 < tier_a_share < tier_b_share <= 1, got {self.tier_a_share} and {self.tier_b_share}"
            )
        if not self.new_days > 0 or not 0 < self.active_days < self.churn_days:
            raise ValueError("settings need new_days > 0 and 0 < active_days < churn_days")
        cadence = self.followup_cadence_days
        if sorted(cadence) != ["A", "B", "C"] or not all(_is_int(v) and v > 0 for v in cadence.values()):
            raise ValueError(
                f"settings.followup_cadence_days needs a whole number of days > 0 for A, B and C, got {cadence}"
            )
        if not _is_int(self.pool_days) or self.pool_days <= 0:
            raise ValueError(f"settings.pool_days must be a whole number of days > 0, got {self.pool_days!r}")
        check_scorecard(self.scorecard)
        for name in ("forecast_history_periods", "backtest_periods", "target_history_periods"):
            if not _is_int(getattr(self, name)) or getattr(self, name) < 1:
                raise ValueError(f"settings.{name} must be a whole number of periods >= 1, got {getattr(self, name)!r}")
        if not _is_number(self.target_rounding) or not self.target_rounding > 0:
            raise ValueError(f"settings.target_rounding must be an amount > 0, got {self.target_rounding!r}")
        weights = self.target_tier_weights
        if sorted(weights) != ["A", "B", "C"] or not all(_is_number(v) and v >= 0 for v in weights.values()):
            raise ValueError(f"settings.target_tier_weights needs a number >= 0 for A, B and C, got {weights}")
        if not any(weights.values()):
            raise ValueError("settings.target_tier_weights gives every tier 0: no customer could carry a target")

    @property
    def won_stage(self) -> str:
        return self.stages[-1]

    @property
    def all_stages(self) -> tuple[str, ...]:
        """The funnel stages plus the terminal ``lost``: every stage a deal may carry."""
        return (*self.stages, "lost")

    def stage_label(self, stage: str, lang: str = "en") -> str:
        return self.stage_labels.get(stage, {}).get(lang, stage)


#: what a scorecard dimension can weigh: measures (amount and frequency: more is better;
#: recency: fewer days is better) and customer fields
SCORECARD_MEASURES = ("amount", "frequency", "recency")
SCORECARD_FIELDS = ("industry", "region", "size_band", "source_channel")


def _default_scorecard() -> dict[str, Any]:
    """The 4-dimension weighted evaluation: amount 40 %, purchase frequency 30 % (both scored
    by rank in the customer base), recency 20 % (days since the last purchase, in bands) and
    company size 10 % (the size_band field); A from a score of 80, B from 60."""
    return {
        "dimensions": [
            {"name": "amount", "measure": "amount", "weight": 0.4},
            {"name": "frequency", "measure": "frequency", "weight": 0.3},
            {
                "name": "recency",
                "measure": "recency",
                "weight": 0.2,
                "bands": [[30, 100], [90, 70], [180, 40], [365, 10]],
            },
            {
                "name": "size",
                "field": "size_band",
                "weight": 0.1,
                "points": {"1000+": 100, "200-999": 70, "50-199": 40, "1-49": 20},
            },
        ],
        "cutoffs": {"A": 80, "B": 60},
    }


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_scorecard(scorecard: object) -> None:
    """Raise ``ValueError`` naming the problem unless ``scorecard`` has this shape::

        dimensions:                  # one or more, each with a unique name
          - name: amount
            measure: amount          # amount | frequency | recency, or instead
            field: size_band         # industry | region | size_band | source_channel
            weight: 0.4              # > 0; weights need not sum to 1
            bands: [[30, 100], ...]  # measures only: [bound, points]; without bands a
                                     # measure is scored by rank (0-100)
            points: {"1000+": 100}   # fields only: points per value
            default_points: 0        # points when no band is reached / the value is not listed
        cutoffs: {A: 80, B: 60}      # score >= A -> A, >= B -> B, else C; A > B

    A band is reached when the measure is at least its bound (amount, frequency) or, for
    recency, at most its bound in days; the band with the highest (recency: lowest) bound
    reached gives the points.
    """
    where = "settings.scorecard"
    if not isinstance(scorecard, dict):
        raise ValueError(f"{where} must be a mapping with dimensions and cutoffs")
    unknown = sorted(set(scorecard) - {"dimensions", "cutoffs"})
    if unknown:
        raise ValueError(f"{where} has unknown key(s) {', '.join(map(str, unknown))}; expected dimensions, cutoffs")
    cutoffs = scorecard.get("cutoffs")
    if (
        not isinstance(cutoffs, dict)
        or sorted(cutoffs) != ["A", "B"]
        or not all(_is_number(v) for v in cutoffs.values())
        or not cutoffs["A"] > cutoffs["B"]
    ):
        raise ValueError(f"{where}.cutoffs needs numbers A > B (e.g. {{A: 80, B: 60}}), got {cutoffs!r}")
    dimensions = scorecard.get("dimensions")
    if not isinstance(dimensions, list) or not dimensions:
        raise ValueError(f"{where}.dimensions must be a non-empty list")
    names = set()
    allowed = {"name", "measure", "field", "weight", "bands", "points", "default_points"}
    for i, dim in enumerate(dimensions, start=1):
        at = f"{where}.dimensions[{i}]"
        if not isinstance(dim, dict):
            raise ValueError(f"{at} must be a mapping")
        unknown = sorted(set(dim) - allowed)
        if unknown:
            raise ValueError(
                f"{at} has unknown key(s) {', '.join(map(str, unknown))}; allowed: {', '.join(sorted(allowed))}"
            )
        name = dim.get("name")
        if not isinstance(name, str) or not name or name in names:
            raise ValueError(f"{at} needs a unique non-empty name, got {name!r}")
        names.add(name)
        at = f"{where} dimension {name!r}"
        if not _is_number(dim.get("weight")) or not dim["weight"] > 0:
            raise ValueError(f"{at} needs a weight > 0, got {dim.get('weight')!r}")
        if not _is_number(dim.get("default_points", 0)):
            raise ValueError(f"{at}: default_points must be a number")
        measure, column = dim.get("measure"), dim.get("field")
        if (measure is None) == (column is None):
            raise ValueError(
                f"{at} needs exactly one of measure ({', '.join(SCORECARD_MEASURES)}) "
                f"or field ({', '.join(SCORECARD_FIELDS)})"
            )
        if measure is not None:
            if measure not in SCORECARD_MEASURES:
                raise ValueError(f"{at}: measure {measure!r} is not one of {', '.join(SCORECARD_MEASURES)}")
            if "points" in dim:
                raise ValueError(f"{at}: points are for field dimensions; a measure uses bands")
            bands = dim.get("bands", [])
            if not isinstance(bands, list) or not all(
                isinstance(b, (list, tuple)) and len(b) == 2 and all(_is_number(x) for x in b) for b in bands
            ):
                raise ValueError(f"{at}: bands must be a list of [bound, points] pairs, got {bands!r}")
            bounds = [b[0] for b in bands]
            if len(set(bounds)) != len(bounds):
                raise ValueError(f"{at}: two bands have the same bound: {bounds}")
        else:
            if column not in SCORECARD_FIELDS:
                raise ValueError(f"{at}: field {column!r} is not one of {', '.join(SCORECARD_FIELDS)}")
            if "bands" in dim:
                raise ValueError(f"{at}: bands are for measure dimensions; a field uses points")
            points = dim.get("points")
            if not isinstance(points, dict) or not all(_is_number(v) for v in points.values()):
                raise ValueError(f"{at}: points must map field values to numbers, got {points!r}")


DEFAULT_SETTINGS = Settings()


class SettingsError(ValueError):
    """A settings file that cannot be used."""


def settings_path() -> Path | None:
    """The settings file in force: ``$CRM_REVIEW_CONFIG``, else ``crm-review.yml`` in the
    project folder when it exists, else none (the defaults)."""
    env = os.environ.get("CRM_REVIEW_CONFIG")
    if env:
        return Path(env)
    candidate = PROJECT_ROOT / "crm-review.yml"
    return candidate if candidate.is_file() else None


def load_settings(path: str | os.PathLike | None = None) -> Settings:
    """Settings from a YAML file whose keys are :class:`Settings` fields; missing keys keep
    their defaults, ``stage_labels`` and ``followup_cadence_days`` entries are merged into the
    defaults, ``scorecard`` replaces ``dimensions`` or ``cutoffs`` whole. With no path,
    :func:`settings_path` decides; with none there, the defaults.

    Raises :class:`SettingsError` naming the file, the key and its line, the value and what
    was expected (:mod:`crmreview.settings_schema` declares every key)."""
    path = Path(path) if path else settings_path()
    if path is None:
        return DEFAULT_SETTINGS
    # the declared schema (pydantic models) is built only when there is a file to check
    from .settings_schema import check_settings_file
    from .yamlcheck import SchemaError, read_yaml

    try:
        raw, lines = read_yaml(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SettingsError(f"cannot read settings file {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise SettingsError(f"{path}: not valid YAML: {exc}") from None
    if raw is None:
        raw = {}
    try:
        data = check_settings_file(raw, where=str(path), lines=lines)
    except SchemaError as exc:
        raise SettingsError(str(exc)) from None
    if "stages" in data:
        data["stages"] = tuple(data["stages"])
    if "stage_labels" in data:
        data["stage_labels"] = {**DEFAULT_SETTINGS.stage_labels, **data["stage_labels"]}
    if "followup_cadence_days" in data:
        data["followup_cadence_days"] = {**DEFAULT_SETTINGS.followup_cadence_days, **data["followup_cadence_days"]}
    if "scorecard" in data:
        data["scorecard"] = {**DEFAULT_SETTINGS.scorecard, **data["scorecard"]}
    if "target_tier_weights" in data:
        data["target_tier_weights"] = {**DEFAULT_SETTINGS.target_tier_weights, **data["target_tier_weights"]}
    try:
        return dataclasses.replace(DEFAULT_SETTINGS, **data)
    except ValueError as exc:
        raise SettingsError(f"{path}: {exc}") from None
