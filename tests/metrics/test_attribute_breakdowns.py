"""Breakdowns by the canonical fields that were no breakdown before (industry, size band) and
by custom fields (``attr:NAME``, ``tag:NAME``), on a warehouse small enough to count by hand.

Customers (客户标签 holds several tags; C4 repeats one):
  C1 制造 大型 合同类型 年框  tags 价格敏感、决策链复杂   orders 07-05, 08-05
  C2 制造 小型 合同类型 单次  tags 价格敏感             orders 07-10
  C3 零售 小型 合同类型 年框  no tags                   orders 09-01
  C4 零售 -    no 合同类型    tags 决策链复杂, 价格敏感,价格敏感   orders 09-02, 09-20
Deals created in 2026Q3: D1 (C1, won), D2 (C2, open, its own 合同类型 框架协议), D3 (C3, lost),
D4 (C4, open).
"""

import pytest

from crmreview.importing import import_files
from crmreview.metrics import MetricError, compute
from crmreview.periods import parse_period
from crmreview.warehouse import connect_read

Q3 = parse_period("2026Q3")

FILES = {
    "customers.csv": "customer_id,name,industry,size_band,合同类型,客户标签\n"
    'C1,甲,制造,大型,年框,"价格敏感、决策链复杂"\n'
    "C2,乙,制造,小型,单次,价格敏感\n"
    "C3,丙,零售,小型,年框,\n"
    'C4,丁,零售,,,"决策链复杂, 价格敏感,价格敏感"\n',
    "orders.csv": "order_id,customer_id,order_date,amount\n"
    "O1,C1,2026-07-05,100\nO2,C1,2026-08-05,200\nO3,C2,2026-07-10,50\n"
    "O4,C3,2026-09-01,80\nO5,C4,2026-09-02,30\nO6,C4,2026-09-20,40\n",
    "deals.csv": "deal_id,customer_id,stage,outcome,amount,created_at,closed_at,合同类型\n"
    "D1,C1,won,won,1000,2026-07-01,2026-08-01,\n"
    "D2,C2,proposal,open,500,2026-07-02,,框架协议\n"
    "D3,C3,lost,lost,300,2026-07-03,2026-07-20,\n"
    "D4,C4,qualified,open,200,2026-07-04,,\n",
}


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    folder = tmp_path_factory.mktemp("attributes")
    for name, text in FILES.items():
        (folder / name).write_text(text, encoding="utf-8")
    db = folder / "w.duckdb"
    import_files(sorted(folder.glob("*.csv")), db)
    return db


def _groups(result, *keys):
    return {g["group"]: tuple(g[k] for k in keys) for g in result["groups"]}


def test_a_customer_counts_under_each_of_its_tags_and_the_output_says_the_groups_overlap(db):
    with connect_read(db) as con:
        result = compute(con, "repurchase", Q3, by="tag:客户标签")
    # 价格敏感: C1, C2, C4 (C4 once although tagged twice), repeat C1, C4; 决策链复杂: C1, C4
    assert _groups(result, "customers_purchasing", "repeat_customers") == {
        "价格敏感": (3, 2),
        "决策链复杂": (2, 2),
        None: (1, 0),
    }
    assert result["customers_purchasing"] == 4  # 3 + 2 + 1 = 6 in the groups
    assert [w["code"] for w in result["warnings"]].count("groups_overlap") == 1


def test_an_attribute_breakdown_groups_customers_by_the_attribute_value(db):
    with connect_read(db) as con:
        result = compute(con, "repurchase", Q3, by="attr:合同类型")
    assert _groups(result, "customers_purchasing", "repeat_customers") == {"年框": (2, 1), "单次": (1, 0), None: (1, 1)}
    assert "groups_overlap" not in [w["code"] for w in result["warnings"]]


def test_a_deal_breaks_down_by_its_own_attribute_else_its_customers(db):
    with connect_read(db) as con:
        result = compute(con, "funnel", Q3, by="attr:合同类型")
    # D1 and D3 take their customers' 年框; D2 has its own 框架协议; D4's customer has none
    assert _groups(result, "cohort_deals", "won", "lost", "open_deals") == {
        "年框": (2, 1, 1, 0),
        "框架协议": (1, 0, 0, 1),
        None: (1, 0, 0, 1),
    }


def test_industry_and_size_band_break_down_customer_and_deal_metrics(db):
    with connect_read(db) as con:
        by_industry = compute(con, "repurchase", Q3, by="industry")
        by_size = compute(con, "funnel", Q3, by="size_band")
        tiers = compute(con, "tiers", Q3, by="industry")
    assert _groups(by_industry, "customers_purchasing") == {"制造": (2,), "零售": (2,)}
    assert _groups(by_size, "cohort_deals", "won") == {"大型": (1, 1), "小型": (2, 0), None: (1, 0)}
    assert {g["group"]: g["customers"] for g in tiers["groups"]} == {"制造": 2, "零售": 2}


@pytest.mark.parametrize("name", ["tiers", "followup", "retention", "churn"])
def test_every_customer_metric_takes_tag_breakdowns(db, name):
    with connect_read(db) as con:
        result = compute(con, name, Q3, by="tag:客户标签")
    assert {g["group"] for g in result["groups"]} <= {"价格敏感", "决策链复杂", None}
    assert "价格敏感" in {g["group"] for g in result["groups"]}


def test_an_unknown_attribute_is_an_error_that_lists_the_known_ones(db):
    with connect_read(db) as con, pytest.raises(MetricError) as error:
        compute(con, "funnel", Q3, by="attr:合同")
    assert (
        str(error.value)
        == "no customer or deal attribute '合同' in the warehouse; the known attributes are: 合同类型, 客户标签"
    )
    with connect_read(db) as con, pytest.raises(MetricError, match="cannot be broken down by 'attr:'"):
        compute(con, "funnel", Q3, by="attr:")
    with connect_read(db) as con, pytest.raises(MetricError, match="cannot be broken down by 'tag:客户标签'"):
        compute(con, "forecast", Q3, by="tag:客户标签")


def test_the_report_funnel_detail_adds_the_breakdown_asked_for_with_the_overlap_note(db):
    from crmreview.report.review import quarterly_review
    from crmreview.report.sections import funnel_detail

    with quarterly_review(str(db), period="2026Q3", by="tag:客户标签") as review:
        blocks = funnel_detail.build(review.snapshot.connection(), review)
    heatmaps = [b for b in blocks if hasattr(b, "layout") and b.layout.title.text.startswith("Conversion by step and")]
    assert [h.layout.title.text for h in heatmaps] == [
        "Conversion by step and rep",
        "Conversion by step and source channel",
        "Conversion by step and group",
    ]
    # the deals of C1 and C4 carry both tags: 价格敏感 D1, D2, D4; 决策链复杂 D1, D4; none: D3
    # (each a small group: marked *)
    assert sorted(heatmaps[2].data[0].y) == sorted(["(not set) * (1)", "价格敏感 * (3)", "决策链复杂 * (2)"])
    assert any("counts in the group of each of its tags" in getattr(b, "html", str(b)) for b in blocks)


def test_a_report_breakdown_by_an_unknown_attribute_fails_before_rendering(db):
    from crmreview.report.render import ReportError, render_report

    with pytest.raises(ReportError, match="no customer or deal attribute '行业' in the warehouse"):
        render_report(period="2026Q3", db=db, by="attr:行业")


def test_a_masked_report_refuses_a_breakdown_by_custom_fields(db):
    from crmreview.report.render import ReportError, render_report

    with pytest.raises(ReportError, match="--by attr:合同类型 cannot be combined with --mask-pii"):
        render_report(period="2026Q3", db=db, by="attr:合同类型", mask_pii=True)
