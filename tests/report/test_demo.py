"""`crm-review demo` end to end: generate -> import -> report, on the bundled sample."""

import re

import pytest

from crmreview import config
from crmreview.cli import main
from crmreview.metrics.funnel import funnel
from crmreview.periods import parse_period
from crmreview.report.render import network_references
from crmreview.warehouse import connect_read


@pytest.mark.slow
def test_demo_renders_the_sample_quarter_and_prints_the_report_path(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(config, "DATA_DIR", tmp_path / "data")
    monkeypatch.setattr(config, "SAMPLE_DIR", tmp_path / "data" / "sample")
    assert main(["demo", "--out", str(tmp_path / "reports")]) == 0
    printed = capsys.readouterr().out.strip().splitlines()[-1]
    assert printed == str(tmp_path / "reports" / "quarterly_review_2026Q3_en.html")

    html = (tmp_path / "reports" / "quarterly_review_2026Q3_en.html").read_text(encoding="utf-8")
    # funnel 3, funnel detail 4, tiers 3, follow-up 2, retention and churn 6
    assert html.count('class="plotly-graph-div"') == 18
    assert network_references(html) == []
    assert "report_sections" not in html
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html.split("</style>")[-1]))

    with connect_read(tmp_path / "data" / "demo.duckdb") as con:
        result = funnel(con, parse_period("2026Q3"))
        previous = funnel(con, parse_period("2026Q2"))
    assert result["cohort_deals"] > 1000
    assert f"Deals created {result['cohort_deals']:,} {previous['cohort_deals']:,}" in text
    assert (
        f"Deals closed in 2026Q3: {result['deals_closed']:,}, of which {result['won']:,} won, "
        f"a win rate of {result['win_rate']:.0%}" in text
    )
