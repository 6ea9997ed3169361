"""The PDF: A4 pages printed by Chromium, every section in it, no blank page, CJK text,
wide tables within the page, and the title and page numbers on every page.

Under CI (``CI=true``) these tests run or fail: a CI without Chromium is a broken CI. Elsewhere
they are skipped when no Chromium is installed (``crmreview.browser.INSTALL_HINT``).
"""

from __future__ import annotations

import html as htmlmod
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from crmreview.browser import INSTALL_HINT, chromium_path
from crmreview.report import render
from crmreview.report.pdf import print_pdf
from crmreview.report.render import PdfUnavailable, render_report


@pytest.fixture
def chromium():
    if chromium_path() is None or shutil.which("pdftotext") is None:
        if os.environ.get("CI") == "true":
            pytest.fail(
                f"CI=true: the PDF must be tested, but Chromium or poppler is missing; {INSTALL_HINT}, poppler-utils"
            )
        pytest.skip(f"no Chromium or poppler-utils here; {INSTALL_HINT}")


def pdf_text(path: Path) -> str:
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True, text=True).stdout
    return re.sub(r"\s+", " ", text)


def pages(path: Path) -> list[str]:
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True, text=True).stdout
    return text.split("\f")[:-1]


def ink(path: Path, folder: Path) -> list[float]:
    """Per page, the share of pixels darker than light grey between header and footer
    (pages rendered in grey at 20 dpi by pdftoppm, read as binary PGM)."""
    subprocess.run(["pdftoppm", "-r", "20", "-gray", str(path), str(folder / "page")], check=True)
    shares = []
    for image in sorted(folder.glob("page-*.pgm")):
        magic, width, height, _, pixels = image.read_bytes().split(maxsplit=4)
        assert magic == b"P5"
        w, h = int(width), int(height)
        body = pixels[int(h * 0.08) * w : int(h * 0.92) * w]
        shares.append(sum(1 for value in body if value < 230) / len(body))
    return shares


def headings(html: str) -> list[str]:
    """The visible text of every section heading (h1, h2) of a report."""
    found = re.findall(r"<h([12])\b[^>]*>(.*?)</h\1>", html, re.S)
    return [re.sub(r"\s+", " ", htmlmod.unescape(re.sub(r"<[^>]+>", "", text))).strip() for _, text in found]


WIDE_TABLE = "".join(f"<th>Column number {i}</th>" for i in range(14))
PAGE = f"""<!doctype html><html lang="zh"><head><meta charset="utf-8"><title>t</title>
<style>{render._print_css()}</style></head><body><main>
<div class="jp-RenderedHTMLCommon"><h1>销售复盘 2026Q3</h1><p>客户分层与流失预警。</p>
<table><thead><tr>{WIDE_TABLE}</tr></thead><tbody><tr>{"<td>某某科技有限公司</td>" * 14}</tr></tbody></table>
<h2 style="break-before: page">Churn-risk list</h2><p>The second page.</p></div></main></body></html>"""


@pytest.mark.slow
def test_a_page_prints_on_a4_with_title_period_and_page_numbers_and_its_wide_table_whole(chromium, tmp_path):
    page = tmp_path / "page.html"
    page.write_text(PAGE, encoding="utf-8")
    pdf = tmp_path / "page.pdf"
    pdf.write_bytes(print_pdf(page, title="销售复盘 2026Q3", detail="2026Q3 · 截至 2026-09-30"))
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, check=True, text=True).stdout
    assert re.search(r"Page size: +59[56](\.\d+)? x 84[12](\.\d+)? pts \(A4\)", info), info
    first, second = pages(pdf)
    assert "销售复盘 2026Q3" in first and "客户分层与流失预警" in first  # CJK, as text
    assert "2026Q3 · 截至 2026-09-30" in first and re.search(r"\b1\s*/\s*2\b", first)
    assert "Churn-risk list" in second and re.search(r"\b2\s*/\s*2\b", second)
    # all 14 columns of the wide table are on the page, none cut off at the margin
    assert first.count("有限公司") == 14


def test_without_chromium_the_html_stays_and_the_error_says_how_to_get_the_pdf(tmp_path, monkeypatch):
    monkeypatch.setenv("CRM_REVIEW_CHROMIUM", str(tmp_path / "no-chromium"))
    html = tmp_path / "r.html"
    html.write_text("<html></html>")
    with pytest.raises(PdfUnavailable) as caught:
        render._write_pdf(html, tmp_path / "r.pdf", title="t", detail="d", say=print)
    assert INSTALL_HINT in str(caught.value) and str(html) in str(caught.value)
    assert caught.value.html_path == html
    assert html.read_text() == "<html></html>" and not (tmp_path / "r.pdf").exists()


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_sample_review_pdf_has_every_section_on_pages_that_are_not_blank(chromium, imported_sample, tmp_path, lang):
    sample = imported_sample(seed=7, size=1.0)
    path = render_report(period="2026Q3", db=sample.db, out_dir=tmp_path, lang=lang, pdf=True)
    pdf = path.with_suffix(".pdf")
    assert pdf.is_file() and pdf.read_bytes().startswith(b"%PDF")
    html = path.read_text(encoding="utf-8")
    text = pdf_text(pdf)
    wanted = headings(html)
    assert len(wanted) >= 9  # the title and one heading per section at least
    assert [h for h in wanted if h not in text] == []
    title = wanted[0]
    assert title == {"en": "Sales review 2026Q3", "zh": "销售复盘 2026Q3"}[lang]
    printed = pages(pdf)
    assert len(printed) >= 8
    for number, page_text in enumerate(printed, start=1):
        assert title in page_text and re.search(rf"\b{number}\s*/\s*{len(printed)}\b", page_text)
    shares = ink(pdf, tmp_path)
    assert len(shares) == len(printed)
    assert min(shares) > 0.01, shares
    # the churn-risk table's last column is printed (the table wraps within the page)
    risk = html[html.index('id="crm-risk-table"') :]
    risk = risk[: risk.index("</thead>")]
    last_header = htmlmod.unescape(re.sub(r"<[^>]+>", "", re.findall(r"<th\b[^>]*>(.*?)</th>", risk, re.S)[-1]))
    # (its first characters: a wrapped header is extracted interleaved with its neighbours)
    assert re.sub(r"\s+", "", last_header)[:4] in re.sub(r"\s+", "", text), last_header
