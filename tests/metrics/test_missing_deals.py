"""A deal a later full export no longer has (``deals.missing_since``, ``import --full-snapshot``)
is neither open nor closed from that export's date on: the funnel counts it as ``missing_at``
its furthest stage, it leaves the open pipeline, the stale list and the forecast, and a
``deals_missing`` warning says how many and since when. Before that date it is open as before.

The three deals, by hand: D1 proposal in August, won on 2026-09-12; D2 lead in August, proposal
on 2026-09-30 (the September export); D3 lead in August and absent from the full export of 2026-09-30.
"""

from datetime import date
from pathlib import Path

import pytest

from crmreview import metrics
from crmreview.importing import import_files
from crmreview.periods import parse_period
from crmreview.warehouse import connect_read
from tests.importing.test_record_versions import AUGUST, MAPPING, SEPTEMBER


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("missing")
    mapping = folder / "snap.yml"
    mapping.write_text(MAPPING, encoding="utf-8")
    august, september = folder / "deals_2026-08-31.csv", folder / "deals_2026-09-30.csv"
    august.write_text(AUGUST, encoding="utf-8")
    september.write_text(SEPTEMBER, encoding="utf-8")
    db = folder / "w.duckdb"
    import_files([august], db, mapping=mapping)
    import_files([september], db, mapping=mapping, full_snapshot=True)
    return db


def _funnel(db: Path, as_of: str) -> dict:
    with connect_read(db) as con:
        return metrics.compute(con, "funnel", parse_period("2026Q3", as_of=date.fromisoformat(as_of)))


def _by_stage(result: dict, key: str) -> dict[str, int]:
    return {s["stage"]: s[key] for s in result["stages"]}


def test_from_the_export_date_a_missing_deal_is_neither_open_nor_closed(warehouse):
    result = _funnel(warehouse, "2026-09-30")
    assert result["cohort_deals"] == 3
    assert _by_stage(result, "reached") == {"lead": 3, "proposal": 2, "won": 1}
    assert _by_stage(result, "missing_at") == {"lead": 1, "proposal": 0, "won": 0}
    assert _by_stage(result, "open_at") == {"lead": 0, "proposal": 1, "won": 0}
    assert _by_stage(result, "lost_at") == {"lead": 0, "proposal": 0, "won": 0}
    # the open pipeline is D2 alone; nothing stale (D3 sat in lead since July, but is gone)
    assert (result["open_deals"], result["open_amount"]) == (1, 200.0)
    assert result["stale_deals"] == 0
    (warned,) = [w for w in result["warnings"] if w["code"] == "deals_missing"]
    assert warned["params"] == {"deals": 1, "date": "2026-09-30"}
    assert "1 deals open in an earlier export were missing from the full export of 2026-09-30" in warned["message"]


def test_before_the_export_date_the_deal_is_open_as_it_was(warehouse):
    result = _funnel(warehouse, "2026-09-15")
    assert _by_stage(result, "missing_at") == {"lead": 0, "proposal": 0, "won": 0}
    # D2 entered proposal in the export of 2026-09-30, so on 2026-09-15 both sit in lead
    assert _by_stage(result, "open_at") == {"lead": 2, "proposal": 0, "won": 0}
    assert (result["open_deals"], result["open_amount"]) == (2, 250.0)
    assert "deals_missing" not in [w["code"] for w in result["warnings"]]


def test_the_forecast_leaves_a_missing_deal_out_of_the_open_pipeline(warehouse):
    with connect_read(warehouse) as con:
        result = metrics.compute(con, "forecast", parse_period("2026Q3", as_of=date.fromisoformat("2026-09-30")))
    assert result["open_deals"] == 1  # D2; D3 is gone
    assert "deals_missing" in [w["code"] for w in result["warnings"]]


def test_the_quality_metric_and_the_appendix_list_them(warehouse):
    from crmreview.charts import ChartContext
    from crmreview.report.sections.appendix import quality_html

    with connect_read(warehouse) as con:
        result = metrics.compute(con, "quality", parse_period("2026Q3"))
    assert result["missing_deals"] == [{"missing_since": "2026-09-30", "deals": 1}]
    assert [w["params"] for w in result["warnings"] if w["code"] == "deals_missing"] == [
        {"deals": 1, "date": "2026-09-30"}
    ]
    html = quality_html(result, ChartContext("2026Q3", "2026Q2", "2026-09-30", lang="zh"))
    assert "1 个在之前导出中未结的商机不在 2026-09-30 的完整导出中" in html
