"""Paths and settings: the one module that knows where things live.

Nothing else builds a path from ``__file__``. Resources (``queries/``, ``notebooks/``) are
read from the source checkout when the package runs from one, or from the copies bundled
into the wheel otherwise.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "PACKAGE_DIR",
    "PROJECT_ROOT",
    "QUERIES_DIR",
    "NOTEBOOKS_DIR",
    "DATA_DIR",
    "SAMPLE_DIR",
    "REPORTS_DIR",
    "default_db_path",
    "Settings",
    "DEFAULT_SETTINGS",
    "SettingsError",
    "settings_path",
    "load_settings",
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
    # -- lifecycle (purchases only): new within new_days of the first purchase; active while
    #    recency <= active_days; dormant while <= churn_days; churned after
    new_days: int = 90
    active_days: int = 90
    churn_days: int = 180
    #: churn risk: recency above this multiple of the customer's own median purchase gap
    risk_gap_factor: float = 1.5

    def __post_init__(self) -> None:
        if len(self.stages) < 2:
            raise ValueError("settings.stages needs at least two stages (a first stage and won)")
        if len(set(self.stages)) != len(self.stages):
            raise ValueError(f"settings.stages has a duplicate stage: {list(self.stages)}")
        if "lost" in self.stages:
            raise ValueError("settings.stages must not contain 'lost': it is terminal and kept aside")
        if not 0 < self.tier_a_share < self.tier_b_share <= 1:
            raise ValueError(
                "settings need 0 < tier_a_share < tier_b_share <= 1, got "
                f"{self.tier_a_share} and {self.tier_b_share}"
            )
        if not self.new_days > 0 or not 0 < self.active_days < self.churn_days:
            raise ValueError("settings need new_days > 0 and 0 < active_days < churn_days")

    @property
    def won_stage(self) -> str:
        return self.stages[-1]

    @property
    def all_stages(self) -> tuple[str, ...]:
        """The funnel stages plus the terminal ``lost``: every stage a deal may carry."""
        return (*self.stages, "lost")

    def stage_label(self, stage: str, lang: str = "en") -> str:
        return self.stage_labels.get(stage, {}).get(lang, stage)


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
    their defaults, ``stage_labels`` entries are merged into the default labels. With no
    path, :func:`settings_path` decides; with none there, the defaults."""
    import dataclasses

    import yaml

    path = Path(path) if path else settings_path()
    if path is None:
        return DEFAULT_SETTINGS
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise SettingsError(f"cannot read settings file {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise SettingsError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise SettingsError(f"{path}: expected a mapping of setting names to values")
    known = {f.name: f for f in dataclasses.fields(Settings)}
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise SettingsError(
            f"{path}: unknown setting {', '.join(unknown)}; known settings: {', '.join(known)}"
        )
    if "stages" in data:
        data["stages"] = tuple(data["stages"])
    if "stage_labels" in data:
        data["stage_labels"] = {**DEFAULT_SETTINGS.stage_labels, **data["stage_labels"]}
    if "followup_cadence_days" in data:
        data["followup_cadence_days"] = {**DEFAULT_SETTINGS.followup_cadence_days, **data["followup_cadence_days"]}
    try:
        return dataclasses.replace(DEFAULT_SETTINGS, **data)
    except (TypeError, ValueError) as exc:
        raise SettingsError(f"{path}: {exc}") from None
