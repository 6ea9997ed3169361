"""The explore filters offer the customers' industry and size band, like ``--by industry`` and
``--by size_band`` of the metrics."""

import pytest

from crmreview import warehouse
from crmreview.explore import Explorer, Selection, views

PERIOD = "2026Q3"


def test_industry_and_size_band_are_single_dimension_filters():
    assert Selection(PERIOD, industry="制造业").scope == ("industry", "制造业")
    assert Selection(PERIOD, size_band="50-199").scope == ("size_band", "50-199")
    with pytest.raises(ValueError, match="industry and size_band cannot be combined"):
        Selection(PERIOD, industry="制造业", size_band="50-199")


@pytest.mark.slow
def test_an_industry_filter_counts_the_deals_of_that_industrys_customers(imported_sample):
    sample = imported_sample(seed=3, size=0.3)
    with Explorer(str(sample.db), store=False) as explorer:
        values = explorer.values
        with warehouse.connect_read(sample.db) as con:
            industries = sorted(r[0] for r in con.execute("select distinct industry from customers").fetchall() if r[0])
            sizes = sorted(r[0] for r in con.execute("select distinct size_band from customers").fetchall() if r[0])
            industry = industries[0]
            created = con.execute(
                "select count(*) from deals join customers using (customer_id) "
                "where customers.industry = $industry and deals.created_at::date between '2026-07-01' and '2026-09-30'",
                {"industry": industry},
            ).fetchall()[0][0]
        assert sorted(values.industries) == industries and sorted(values.size_bands) == sizes
        selection = Selection(PERIOD, industry=industry)
        current, _ = explorer.scoped("funnel", selection)
        assert current["cohort_deals"] == created > 0
        for view in views.VIEWS:
            assert views.render(view, explorer, selection), view.key


@pytest.fixture(scope="module")
def fields_db(tmp_path_factory):
    """The custom-field warehouse of the metrics' attribute tests (counted by hand there)."""
    from crmreview.importing import import_files
    from tests.metrics.test_attribute_breakdowns import FILES

    folder = tmp_path_factory.mktemp("fields")
    for name, text in FILES.items():
        (folder / name).write_text(text, encoding="utf-8")
    import_files(sorted(folder.glob("*.csv")), folder / "w.duckdb")
    return folder / "w.duckdb"


def test_custom_fields_are_filters_and_a_field_value_shows_its_group(fields_db):
    from crmreview.explore.dashboard import Dashboard

    with Explorer(str(fields_db), store=False) as explorer:
        # 合同类型 holds one value per record (the deal's 框架协议 too); 客户标签 lists tags
        assert sorted(explorer.values.fields) == [
            ("attr:合同类型", "单次"),
            ("attr:合同类型", "年框"),
            ("attr:合同类型", "框架协议"),
            ("tag:客户标签", "价格敏感"),
            ("tag:客户标签", "决策链复杂"),
        ]
        # deals created in 2026Q3 of 年框: D1 (C1, won) and D3 (C3, lost); D2 is the deal's own 框架协议
        funnel, _ = explorer.scoped("funnel", Selection(PERIOD, field=("attr:合同类型", "年框")))
        assert funnel["cohort_deals"] == 2
        # buyers tagged 价格敏感: C1, C2, C4; repeat C1 and C4 (as the metric's tag breakdown)
        repurchase, _ = explorer.scoped("repurchase", Selection(PERIOD, field=("tag:客户标签", "价格敏感")))
        assert (repurchase["customers_purchasing"], repurchase["repeat_customers"]) == (3, 2)
        board = Dashboard(explorer)
        labels = [label for label, _ in board.field.options]
        assert "合同类型: 年框" in labels and "客户标签: 价格敏感" in labels
        board.tier.value = "A"
        board.field.value = ("tag:客户标签", "决策链复杂")
        assert board.selection.scope == ("tag:客户标签", "决策链复杂") and board.selection.tier is None
        for view in views.VIEWS:
            assert views.render(view, explorer, board.selection), view.key
        with pytest.raises(ValueError, match="tier and field cannot be combined"):
            Selection(PERIOD, tier="A", field=("attr:合同类型", "年框"))
