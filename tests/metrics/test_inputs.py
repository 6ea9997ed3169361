"""Every metric says what its numbers rest on: data span, missing inputs, warnings; a number
computed from nothing is null, never 0 (DESIGN "Partial exports"). Each warning code has a
fixture of a few rows here."""

import pytest

from crmreview import metrics
from crmreview.i18n import t
from crmreview.metrics.inputs import WARNING_CODES, inventory, warning
from crmreview.periods import parse_period

Q3 = parse_period("2026Q3")


def _deals(con, *rows):
    """rows: (deal_id, stage, outcome, amount, created_at, closed_at)"""
    for row in rows:
        con.execute(
            "insert into deals (deal_id, customer_id, owner_rep_id, stage, outcome, amount, created_at, closed_at) "
            "values ($1, 'C1', 'R1', $2, $3, $4, $5, $6)",
            list(row),
        )


def _codes(result):
    return [w["code"] for w in result["warnings"]]


def test_an_orders_only_warehouse_has_no_funnel_numbers_and_names_the_missing_deals(empty_warehouse):
    con = empty_warehouse
    con.execute("insert into orders values ('O1', 'C1', '2026-08-01', 100), ('O2', 'C1', '2026-09-01', 50)")
    funnel = metrics.compute(con, "funnel", Q3)
    assert funnel["missing_inputs"] == ["deals"]
    assert funnel["cohort_deals"] is None and funnel["win_rate"] is None and funnel["deals_closed"] is None
    assert all(stage["reached"] is None for stage in funnel["stages"])
    repurchase = metrics.compute(con, "repurchase", Q3)
    assert repurchase["missing_inputs"] == [] and repurchase["customers_purchasing"] == 1
    assert repurchase["data_span"] == {
        "first_date": "2026-08-01",
        "last_date": "2026-09-01",
        "tables": {"orders": {"first_date": "2026-08-01", "last_date": "2026-09-01"}},
    }


def test_follow_up_without_activities_is_null_not_zero_percent(empty_warehouse):
    con = empty_warehouse
    con.execute("insert into customers (customer_id, owner_rep_id, created_at) values ('C1', 'R1', '2026-01-01')")
    con.execute("insert into reps (rep_id, name, team, region) values ('R1', 'Ann', 'East', 'E')")
    result = metrics.compute(con, "followup", Q3)
    assert result["missing_inputs"] == ["activities", "targets"]
    assert result["customers"] == 1
    assert result["compliance"] is None and result["overdue"] is None and result["never_contacted"] is None
    assert result["reps"][0]["compliance"] is None and result["attainment"] is None


def test_deals_without_created_dates_keep_the_win_rate_but_not_the_cohort(empty_warehouse):
    con = empty_warehouse
    _deals(
        con,
        ("D1", "won", "won", 100, None, "2026-08-01"),
        ("D2", "lost", "lost", 50, None, "2026-08-02"),
    )
    result = metrics.compute(con, "funnel", Q3)
    assert result["missing_inputs"] == ["deals.created_at"]
    assert result["cohort_deals"] is None and result["median_cycle_days"] is None
    assert result["win_rate"] == 0.5 and result["won"] == 1 and result["avg_won_amount"] == 100


def test_no_lost_deals_is_a_warning_next_to_the_win_rate(empty_warehouse):
    con = empty_warehouse
    _deals(con, ("D1", "won", "won", 100, "2026-07-01", "2026-08-01"), ("D2", "lead", "open", 10, "2026-07-02", None))
    result = metrics.compute(con, "funnel", Q3)
    assert result["win_rate"] == 1.0
    assert "no_lost_deals" in _codes(result)


def test_deals_without_amounts_warn_and_leave_values_empty(empty_warehouse):
    con = empty_warehouse
    _deals(
        con,
        ("D1", "won", "won", None, "2026-07-01", "2026-08-01"),
        ("D2", "lost", "lost", None, "2026-07-01", "2026-08-01"),
    )
    result = metrics.compute(con, "funnel", Q3)
    assert "no_amounts" in _codes(result) and result["missing_inputs"] == ["deals.amount"]
    assert result["avg_won_amount"] is None and result["pipeline_velocity"] is None
    assert result["win_rate"] == 0.5


def test_inferred_history_is_a_warning_naming_how_many_deals(empty_warehouse):
    con = empty_warehouse
    _deals(
        con,
        ("D1", "won", "won", 100, "2026-07-01", "2026-08-01"),
        ("D2", "lost", "lost", 5, "2026-07-01", "2026-08-03"),
    )
    con.execute("insert into deal_history_origin values ('D1', 'inferred', 1), ('D2', 'inferred', 1)")
    result = metrics.compute(con, "funnel", Q3)
    (item,) = [w for w in result["warnings"] if w["code"] == "history_inferred"]
    assert item["params"] == {"deals": 2} and "2 deals" in item["message"]


def test_a_period_outside_the_data_says_so_with_the_data_span(empty_warehouse):
    con = empty_warehouse
    con.execute("insert into orders values ('O1', 'C1', '2010-03-01', 100), ('O2', 'C1', '2010-05-01', 50)")
    result = metrics.compute(con, "repurchase", Q3)
    (item,) = result["warnings"]
    assert item["code"] == "period_outside_data"
    assert item["message"] == "2026Q3 lies outside the data, which covers 2010-03-01 – 2010-05-01."
    inside = metrics.compute(con, "repurchase", parse_period("2010Q2"))
    assert inside["warnings"] == []


def test_a_handful_of_deals_is_a_small_sample(empty_warehouse):
    con = empty_warehouse
    _deals(con, *[(f"D{i}", "lost", "lost", 10, "2026-07-01", "2026-07-20") for i in range(5)])
    result = metrics.compute(con, "funnel", Q3)
    (item,) = [w for w in result["warnings"] if w["code"] == "small_sample"]
    assert item["params"] == {"created": 5, "closed": 5, "period": "2026Q3", "minimum": 20}
    _deals(con, *[(f"E{i}", "lost", "lost", 10, "2026-07-01", "2026-07-20") for i in range(20)])
    assert "small_sample" not in _codes(metrics.compute(con, "funnel", Q3))


def test_the_comparison_period_is_annotated_too(empty_warehouse):
    con = empty_warehouse
    con.execute("insert into orders values ('O1', 'C1', '2026-08-01', 100)")
    result = metrics.compute(con, "repurchase", Q3, compare="prev")
    assert result["comparison"]["missing_inputs"] == [] and "data_span" in result["comparison"]
    assert "data_span" not in result["change"] and "warnings" not in result["change"]


def test_the_inventory_counts_rows_values_and_spans_of_every_table(empty_warehouse):
    con = empty_warehouse
    _deals(con, ("D1", "won", "won", None, "2026-07-01", "2026-08-01"), ("D2", "lead", "open", 7, "2026-06-01", None))
    inv = inventory(con)
    assert inv.rows["deals"] == 2 and inv.rows["orders"] == 0
    assert inv.non_null["deals.amount"] == 1 and inv.non_null["deals.closed_at"] == 1
    assert [d.isoformat() for d in inv.spans["deals"]] == ["2026-06-01", "2026-08-01"]
    assert inv.missing("orders") and inv.missing("deals.lost_reason") and not inv.missing("deals.amount")


def test_every_warning_code_has_english_and_chinese_text():
    params = {
        "no_lost_deals": {},
        "no_amounts": {},
        "history_inferred": {"deals": 1234},
        "period_outside_data": {"period": "2030Q1", "first": "2024-01-01", "last": "2026-09-30"},
        "small_sample": {"created": 3, "closed": 2, "period": "2026Q3", "minimum": 20},
        "model_degenerate": {"reason": "parameters at their bounds"},
        "stage_unused": {"stages": "proposal"},
        "forecast_no_history": {"start": "2025-07-01", "end": "2026-06-30", "period": "2026Q3"},
        "forecast_thin_history": {"closed": 5, "start": "2025-07-01", "end": "2026-06-30", "minimum": 20},
        "forecast_no_comparable": {"deals": 3, "start": "2025-07-01", "end": "2026-06-30"},
        "forecast_amounts_imputed": {"deals": 7},
        "groups_overlap": {"by": "tag:客户标签"},
        "deals_missing": {"deals": 12, "date": "2026-09-30"},
    }
    assert set(params) == set(WARNING_CODES)
    for code, values in params.items():
        english, chinese = t(f"warning.{code}", "en", **values), t(f"warning.{code}", "zh", **values)
        assert english != chinese and all(str(v) in english.replace(",", "") for v in values.values())
    assert "1,234" in t("warning.history_inferred", "zh", deals=1234)
    with pytest.raises(ValueError, match="unknown warning code"):
        warning("no_such_code")


def test_a_collapsed_purchase_model_is_degenerate_and_says_why():
    import numpy as np

    from crmreview.metrics.churn import degenerate_reason

    fine = {"r": 0.8, "alpha": 10.0, "a": 0.6, "b": 2.5, "backtest": {"status": "fitted", "relative_error": -0.1}}
    alive = np.array([0.2, 0.7, 0.95, 1.0])
    assert degenerate_reason(fine, alive) is None
    assert degenerate_reason({**fine, "a": 7.9e10}, alive) == "parameter a = 7.9e+10, outside 0.0001 – 10000"
    assert degenerate_reason({**fine, "a": 1.9e-13}, alive) == "parameter a = 1.9e-13, outside 0.0001 – 10000"
    assert degenerate_reason(fine, np.full(200, 0.999)) == "P(alive) is at least 99% for 100% of customers"
    off = {**fine, "backtest": {"status": "fitted", "relative_error": 0.62}}
    assert degenerate_reason(off, alive) == "the back-test missed the holdout purchases by 62%"


def test_a_degenerate_model_is_a_warning_and_gives_no_predictions(online_retail_warehouse):
    result = metrics.compute(online_retail_warehouse, "churn", parse_period("2010Q3"))
    model = result["purchase_model"]
    assert model["status"] == "degenerate" and model["reason"].startswith("parameter a = ")
    assert "model_degenerate" in _codes(result)
    assert result["risk_list"] and all(row["p_alive"] is None for row in result["risk_list"])
