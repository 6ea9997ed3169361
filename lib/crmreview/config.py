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

    def __post_init__(self) -> None:
        if len(self.stages) < 2:
            raise ValueError("settings.stages needs at least two stages (a first stage and won)")
        if len(set(self.stages)) != len(self.stages):
            raise ValueError(f"settings.stages has a duplicate stage: {list(self.stages)}")
        if "lost" in self.stages:
            raise ValueError("settings.stages must not contain 'lost': it is terminal and kept aside")

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
