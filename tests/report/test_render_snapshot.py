"""One snapshot per report: every section reads the warehouse state the review opened, even
when an import is published while the report is being built."""

from __future__ import annotations

import pytest

from crmreview import warehouse
from crmreview.importing import import_files
from crmreview.report import review as review_module
from crmreview.report.review import REVIEW_SECTIONS, quarterly_review
from tests.conftest import import_funnel_q3

# three more deals created in 2026Q3 (the fixture has 9 deals, 7 of them created in 2026Q3:
# D6 was created in June, D7 has no creation date)
NEW_DEALS = """deal_id,customer_id,owner_rep_id,stage,outcome,amount,created_at,closed_at,lost_reason
N1,C1,R1,won,won,500,2026-07-20 09:00:00,2026-08-20 10:00:00,
N2,C2,R2,lost,lost,700,2026-07-21 09:00:00,2026-08-21 10:00:00,Price
N3,C3,R2,lead,open,900,2026-07-22 09:00:00,,
"""


@pytest.fixture
def db(tmp_path):
    return import_funnel_q3(tmp_path / "w.duckdb")


def _deals(con) -> int:
    return con.execute("select count(*) from deals").fetchall()[0][0]


def _shown(items) -> list[str]:
    """What a section displays, comparable across calls: HTML text and figure JSON."""
    return [item.html if hasattr(item, "html") else item.to_json() for item in items]


def test_a_section_built_after_an_import_shows_the_state_the_review_opened(db, tmp_path):
    before = quarterly_review(str(db), period="2026Q3")  # the reference, built before the import
    expected = _shown(before.section("funnel_detail"))
    review = quarterly_review(str(db), period="2026Q3")
    kpis = review.section("kpis")  # a first section, before the import
    assert kpis

    new = tmp_path / "new" / "deals.csv"
    new.parent.mkdir()
    new.write_text(NEW_DEALS, encoding="utf-8")
    (result,) = import_files([new], db)
    assert result.rows_loaded == 3
    with warehouse.connect_read(db) as fresh:
        assert _deals(fresh) == 12  # the import is published

    # the next section of the same report still reads the 9 deals it started with
    assert _deals(review.snapshot.connection()) == 9
    assert _shown(review.section("funnel_detail")) == expected
    assert review.current["cohort_deals"] == 7
    after = quarterly_review(str(db), period="2026Q3")  # the next report sees the import
    assert after.current["cohort_deals"] == 10
    assert _shown(after.section("funnel_detail")) != expected
    for r in (before, review, after):
        r.close()


def test_a_whole_review_opens_the_warehouse_once(db, monkeypatch):
    opened = []
    real = warehouse.connect_read

    def counting(*args, **kwargs):
        opened.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(review_module.warehouse, "connect_read", counting)
    with quarterly_review(str(db), period="2026Q3") as review:
        for name in review.sections:
            review.section(name)
        assert review.snapshot.is_open
    assert review.sections == REVIEW_SECTIONS
    assert len(opened) == 1
    assert not review.snapshot.is_open


def test_a_closed_review_refuses_to_read_again(db):
    review = quarterly_review(str(db), period="2026Q3")
    review.close()
    review.close()  # closing twice is harmless
    with pytest.raises(RuntimeError, match="snapshot is closed"):
        review.section("funnel_detail")
