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
    with Explorer(str(sample.db)) as explorer:
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
