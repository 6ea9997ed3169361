"""The report's size is flat in the data: charts draw aggregates and long lists show the top
N with the total count, so ten times the data gives (almost) the same HTML."""

import pytest

from crmreview.report.render import render_report


@pytest.mark.slow
def test_the_html_of_a_ten_times_larger_sample_is_within_20_percent_of_the_sample(imported_sample, tmp_path):
    small = imported_sample(7, 1.0)
    large = imported_sample(7, 10.0)
    assert large.manifest["rows"]["orders"] >= 9 * small.manifest["rows"]["orders"]  # ten times the data
    sizes, tables = {}, {}
    for name, sample in (("small", small), ("large", large)):
        path = render_report(period="2026Q3", db=sample.db, out_dir=tmp_path / name)
        html = path.read_text(encoding="utf-8")
        sizes[name] = len(html.encode("utf-8"))
        tables[name] = html.count("<tr>")
    assert abs(sizes["large"] - sizes["small"]) / sizes["small"] < 0.20, sizes
    # lists are capped (top N of a total): the rows shown grow far less than the data
    assert tables["large"] < 1.5 * tables["small"], tables
