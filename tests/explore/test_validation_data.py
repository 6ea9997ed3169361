"""The explore views and drill-down on the real public exports: every view draws or says
which export it lacks (the report's notice), for the whole and for a filter."""

from __future__ import annotations

import pytest

from crmreview.explore import Dashboard, Explorer, Selection, views
from crmreview.report.html import HtmlBlock
from tests.conftest import VALIDATION_DATA
from tests.conftest import VALIDATION_IMPORTS as DATASETS

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not VALIDATION_DATA.is_dir(), reason=f"validation data not found at {VALIDATION_DATA}"),
]

#: views that need what each dataset lacks: orders (maven, olist, salesforce), deals (retail),
#: created dates (salesforce)
NOTICES = {
    "retail": {"funnel", "conversion", "time_in_stage", "followup"},
    "maven": {"retention", "lifecycle", "risk", "followup"},
    "olist": {"tiers", "retention", "lifecycle", "risk", "followup"},
    "salesforce": {"funnel", "conversion", "retention", "lifecycle", "risk", "followup"},
}


def _is_notice(item) -> bool:
    return isinstance(item, HtmlBlock) and 'class="crm-missing"' in item.html


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_every_view_draws_or_names_the_missing_export(name, validation_import):
    period = DATASETS[name][2]
    db = validation_import(name).db
    with Explorer(str(db), store=False) as ex:
        selections = [Selection(period), Selection(period, tier="A", lang="zh")]
        if ex.values.teams:
            selections.append(Selection(period, team=ex.values.teams[0]))
        for selection in selections:
            assert views.kpi_strip(ex, selection)
            noticed = set()
            for view in views.VIEWS:
                shown = views.render(view, ex, selection)
                assert shown, view.key
                if _is_notice(shown[0]):
                    noticed.add(view.key)
            assert noticed == NOTICES[name], selection
        board = Dashboard(ex, period=period)
        board.tabs.selected_index = len(views.VIEWS)
        assert "crm-warning" not in str([getattr(w, "value", "") for w in board.drill_box.children])
        board._drill_path = [("tier", "A")]
        board._draw_drill()
        assert "Tier A customers" in board.drill_box.children[1].value
