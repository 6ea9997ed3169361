"""The PDF of a rendered report: its HTML printed by the distribution's Chromium.

Public names: ``print_pdf``, ``pdf_available``, ``INSTALL_HINT``.

The HTML report is opened from its file in headless Chromium (``crmreview.browser``:
Playwright, no browser download) with a viewport about as wide as an A4 page's text
column, so plotly lays the charts out at the width they will print at. Once every chart
has drawn (``.main-svg``) and the fonts are loaded, the page switches to print media (the
report's print stylesheet, ``print.css``: tables wrap within the page, charts and table
rows are not cut across pages) and every chart is resized to its printed width: without
that resize, charts drawn for the screen keep their width and are clipped at the right
margin. The page is then printed on A4 with a header (report title, period and scope) and
a footer (page n / total) on every page.
"""

from __future__ import annotations

import html
from pathlib import Path

from ..browser import INSTALL_HINT, BrowserUnavailable, chromium, chromium_path

__all__ = ["print_pdf", "pdf_available", "INSTALL_HINT", "VIEWPORT", "MARGIN"]

#: the browser window: about the A4 text column (210 mm - 2 x 10 mm = 718 CSS px)
VIEWPORT = {"width": 720, "height": 1000}
#: page margins; the header and footer are printed inside the top and bottom ones
MARGIN = {"top": "16mm", "bottom": "14mm", "left": "10mm", "right": "10mm"}
_FONT = "font-family: 'Noto Sans CJK SC', 'Noto Sans', 'DejaVu Sans', sans-serif; font-size: 8px; color: #555;"
_CHARTS_DRAWN = (
    "() => Array.from(document.querySelectorAll('.plotly-graph-div')).every(d => d.querySelector('.main-svg'))"
)
_RESIZE_CHARTS = """async () => {
  const charts = Array.from(document.querySelectorAll('.plotly-graph-div'));
  if (charts.length && window.Plotly) { await Promise.all(charts.map(c => window.Plotly.Plots.resize(c))); }
  await document.fonts.ready;
  return charts.length;
}"""


def pdf_available() -> bool:
    """Whether a Chromium to print with is installed."""
    return chromium_path() is not None


def _header(title: str, detail: str) -> str:
    return (
        f'<div style="{_FONT} width: 100%; margin: 0 10mm; display: flex; justify-content: space-between;">'
        f"<span>{html.escape(title)}</span><span>{html.escape(detail)}</span></div>"
    )


def _footer(title: str) -> str:
    return (
        f'<div style="{_FONT} width: 100%; margin: 0 10mm; display: flex; justify-content: space-between;">'
        f'<span>{html.escape(title)}</span><span><span class="pageNumber"></span> / '
        '<span class="totalPages"></span></span></div>'
    )


def print_pdf(html_path: str | Path, *, title: str, detail: str = "", timeout_s: float = 180.0) -> bytes:
    """The PDF (bytes) of the report at ``html_path``: A4 pages, ``title`` at the top left of
    every page and ``detail`` (period, scope) at the top right, ``title`` and the page number
    at the bottom. Raises ``crmreview.browser.BrowserUnavailable`` without a Chromium."""
    path = Path(html_path).resolve()
    if not path.is_file():
        raise FileNotFoundError(f"no report at {path}")
    if not pdf_available():
        raise BrowserUnavailable(f"no Chromium found to print the PDF with; {INSTALL_HINT}")
    with chromium() as context:
        page = context.new_page()
        page.set_default_timeout(timeout_s * 1000)
        page.set_viewport_size(VIEWPORT)
        page.goto(path.as_uri(), wait_until="load")
        page.wait_for_function(_CHARTS_DRAWN)
        page.emulate_media(media="print")
        page.evaluate(_RESIZE_CHARTS)
        return page.pdf(
            format="A4",
            print_background=True,
            display_header_footer=True,
            header_template=_header(title, detail),
            footer_template=_footer(title),
            margin=MARGIN,
        )
