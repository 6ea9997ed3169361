"""`crm-review demo` end to end: generate -> import -> report (HTML in both languages, and PDF
when Chromium is installed), on the bundled sample."""

import os
import re

import pytest

from crmreview import config
from crmreview.browser import chromium_path
from crmreview.cli import main
from crmreview.metrics.funnel import funnel
from crmreview.periods import parse_period
from crmreview.report.render import network_references
from crmreview.report.review import quarterly_review
from crmreview.warehouse import connect_read


@pytest.mark.slow
def test_demo_renders_the_sample_quarter_and_prints_the_report_path(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(config, "DATA_DIR", tmp_path / "data")
    monkeypatch.setattr(config, "SAMPLE_DIR", tmp_path / "data" / "sample")
    assert main(["demo", "--out", str(tmp_path / "reports")]) == 0
    printed = capsys.readouterr().out.strip().splitlines()
    reports = tmp_path / "reports"
    pdf = chromium_path() is not None
    if not pdf and os.environ.get("CI") == "true":
        pytest.fail("CI=true but no Chromium: the demo's PDF must be tested in CI")
    expected = [
        reports / f"quarterly_review_2026Q3_all_{lang}{suffix}"
        for lang in ("en", "zh")
        for suffix in ((".html", ".pdf") if pdf else (".html",))
    ]
    assert printed == [str(path) for path in expected]
    assert all(path.stat().st_size > 0 for path in expected)
    assert "销售复盘 2026Q3" in (reports / "quarterly_review_2026Q3_all_zh.html").read_text(encoding="utf-8")

    html = (reports / "quarterly_review_2026Q3_all_en.html").read_text(encoding="utf-8")
    # forecast 1 (per rep), funnel 3, funnel detail 4, tiers 3, follow-up 2, retention 2, churn 3
    # (lifecycle, flows, recency; the sample's BG/NBD fit is degenerate, so no back-test chart)
    assert html.count('class="plotly-graph-div"') == 18
    # a static document: no plotly toolbar (English-only tooltips, printed over the charts)
    assert html.count('{"displayModeBar": false, "displaylogo": false') == 18
    assert network_references(html) == []
    assert "report_sections" not in html
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html.split("</style>")[-1]))
    assert "The BG/NBD model does not fit this data" in text and "Appendix" in text

    with connect_read(tmp_path / "data" / "demo.duckdb") as con:
        result = funnel(con, parse_period("2026Q3"))
        previous = funnel(con, parse_period("2026Q2"))
    assert result["cohort_deals"] > 1000
    # the summary comes first: cards with the currency, headlines naming the card numbers
    assert text.index("Summary") < text.index("Contents") < text.index("Funnel This section answers")
    assert f"Won revenue deals won and closed in the period ¥{result['won_amount']:,.0f}" in text
    assert f"vs ¥{previous['won_amount']:,.0f} in 2026Q2" in text
    headlines = re.findall(r"<li>([^<]*(?:rose|fell|held)[^<]*)<a href=\"#section-", html)
    assert 3 <= len(headlines) <= 5
    cards = re.findall(r'class="crm-card-value">([^<]+)<', html)
    for headline in headlines:
        assert any(value in headline for value in cards), headline
    # every headline's numbers stand in the section it links to, formatted the same way
    linked = [(h, s) for h, s in re.findall(r'<li>([^<]*)<a href="#section-(\w+)">', html) if h.strip()]
    assert len(linked) == len(headlines)
    for headline, section in linked:
        body = html.split(f'id="section-{section}"', 1)[1].split('id="section-', 1)[0]
        for number in re.findall(r"¥[\d,.]+万?|\d[\d,.]*(?:%| days)?(?![\dQ\-])", headline):
            assert number in body, (number, section)
    assert "Data quality" in text and "Imported files" in text
    assert (
        f"Deals closed in 2026Q3 (whenever created): {result['deals_closed']:,}, of which {result['won']:,} won, "
        f"a win rate of {result['win_rate']:.0%}" in text
    )
    # the report notebook opened right after the demo runs as it is: with no warehouse of its
    # own yet, the default is the demo's
    monkeypatch.delenv("CRM_REVIEW_DB", raising=False)
    review = quarterly_review("", period="2026Q3")
    assert review.db_path == str(tmp_path / "data" / "demo.duckdb")
    assert review.current["cohort_deals"] == result["cohort_deals"]
