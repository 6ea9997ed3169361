"""Rendering a report: execute a parameterized notebook, then write one self-contained HTML
(and, on request, its PDF).

Public names: ``render_report``, ``templates``, ``default_template``, ``notebook_path``,
``notebook_parameters``, ``check_parameters``, ``report_stem``, ``scope_slug``,
``network_references``, ``ReportError``, ``PdfUnavailable``, ``REPORT_PARAMETERS``,
``AUDIT_DIR``.

One rendered report = ``notebooks/<template>.ipynb`` executed by papermill with the report
parameters, converted by nbconvert to an HTML file that hides the code, embeds plotly.js
once and references nothing on the network, so it reads the same offline, attached to an
email or archived; optionally printed to PDF by Chromium (``pdf.py``). Files are written
under a temporary name and renamed into place only when complete:
``<template>_<period>_<scope>_<lang>.html`` (+ ``.pdf``) in the output folder, the scope
being ``all`` or e.g. ``team-East``, and the executed notebook, which holds the parameters
used (papermill's ``injected-parameters`` cell and metadata), in its ``audit/`` subfolder.
A notebook that fails leaves the previous report untouched and its executed copy as
``audit/<stem>.failed.ipynb``. While a report renders, one progress line per section
(with its time) is handed to the ``progress`` callback: each section writes a marked line
on the kernel's stderr (``review.PROGRESS_ENV``), which papermill passes on as it comes.

Facts this relies on (checked with papermill 2.7, nbclient 0.11, nbconvert 7.17, plotly 7.1,
see TOOLING-FACTS.md): plotly figures vanish from nbconvert HTML unless the kernel uses the
``notebook`` renderer; papermill waits forever on a stuck cell unless given a timeout, and
fails with ``NoSuchKernel`` unless given a kernel name that exists; the ``lab`` template
links require.js, MathJax and mermaid from cdnjs, and plotly's ``notebook`` renderer adds a
MathJax ``<script src=...cdnjs...>`` to every figure.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from functools import lru_cache
from html import unescape
from pathlib import Path
from typing import Any

from .. import config, warehouse
from ..files import write_atomic as _write_atomic
from ..i18n import check_lang, t
from ..metrics.common import attribute_of, check_attribute, check_by
from ..metrics.funnel import BREAKDOWNS as FUNNEL_BREAKDOWNS
from ..metrics.inputs import data_span, inventory
from ..periods import COMPARE_MODES, Period, PeriodError, parse_period
from ..scope import Scope
from .offline import network_references
from .review import PROGRESS_ENV, PROGRESS_PREFIX, make_scope

__all__ = [
    "ReportError",
    "PdfUnavailable",
    "REPORT_PARAMETERS",
    "AUDIT_DIR",
    "render_report",
    "templates",
    "default_template",
    "notebook_path",
    "notebook_parameters",
    "check_parameters",
    "report_stem",
    "scope_slug",
    "network_references",
]

#: the parameters every report notebook takes (its ``parameters`` cell may hold more)
REPORT_PARAMETERS = ("db_path", "period", "compare", "lang", "as_of", "config_path")
#: the output folder's subfolder that keeps each report's executed notebook (the audit trail)
AUDIT_DIR = "audit"
#: the period kinds a template reports on (a template not listed takes any period)
TEMPLATE_PERIODS = {
    "quarterly_review": ("quarter", "year", "range"),
    "monthly_review": ("month",),
}
#: report parameters a template cannot do without (its notebook's default is empty)
TEMPLATE_REQUIRES = {"rep_scorecard": ("rep",)}
#: environment of the kernel that executes a report: figures as embedded HTML + plotly.js,
#: and one progress line per section on stderr
KERNEL_ENV = {"PLOTLY_RENDERER": "notebook", PROGRESS_ENV: "1"}
#: the print stylesheet, shipped beside this module and inlined into every report
PRINT_CSS = "print.css"
#: cells tagged so are notes for notebook users, left out of the rendered report
REMOVE_TAG = "remove-cell"

_NAME = re.compile(r"[a-z][a-z0-9_]*")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# plotly's notebook renderer puts <script src="https://cdnjs.../mathjax/..."></script> in
# every figure; the report has no LaTeX, so the tag is dropped (any other network tag fails)
_MATHJAX_TAG = re.compile(r"<script\b[^>]*\bsrc\s*=\s*[\"'][^\"']*mathjax[^\"']*[\"'][^>]*>\s*</script>", re.I)
# The HTML template: nbconvert's lab template without the blocks that load require.js,
# jupyter-widgets, MathJax and mermaid from a CDN. Nothing in a report needs them.
_TEMPLATE_NAME = "crmreview_report.html.j2"
_TEMPLATE = """\
{%- extends 'index.html.j2' -%}
{% block html_head_js %}{% endblock html_head_js %}
{% block jupyter_widgets %}{% endblock jupyter_widgets %}
{% block html_head_js_mathjax %}{% endblock html_head_js_mathjax %}
{% block html_head_js_mermaidjs %}{% endblock html_head_js_mermaidjs %}
{% block extra_css %}
<style type="text/css">
main { max-width: 1100px; margin: 0 auto; }
.crm-warning { color: #b45309; }
table.crm-kpi { border-collapse: collapse; }
</style>
<style type="text/css">
{% raw %}__PRINT_CSS__{% endraw %}
</style>
{% endblock extra_css %}
"""


class ReportError(RuntimeError):
    """A report could not be rendered: bad arguments, a failing notebook, an unsafe HTML."""


class PdfUnavailable(ReportError):
    """The HTML report is written, but no Chromium is installed to print its PDF."""

    def __init__(self, message: str, html_path: Path) -> None:
        super().__init__(message)
        self.html_path = html_path


#: notebooks in ``notebooks/`` that are not report templates (the dashboard, the import notebook)
NOT_REPORTS = frozenset({"explore", "import"})


def templates() -> list[str]:
    """The report templates: the notebooks in ``notebooks/``, by name, but the dashboard and
    the import notebook."""
    return sorted(p.stem for p in config.NOTEBOOKS_DIR.glob("*.ipynb") if p.stem not in NOT_REPORTS)


def default_template(period: Period) -> str:
    """The template for a report without a name: ``monthly_review`` for a month,
    ``quarterly_review`` otherwise."""
    return "monthly_review" if period.kind == "month" else "quarterly_review"


def notebook_path(name: str) -> Path:
    """``notebooks/<name>.ipynb``; raises ``ReportError`` listing the reports that exist."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ReportError(f"report name {name!r} must be lowercase letters, digits and _")
    path = config.NOTEBOOKS_DIR / f"{name}.ipynb"
    if not path.is_file():
        known = templates()
        raise ReportError(f"no report {name!r} (looked for {path}); reports: {', '.join(known) or 'none'}")
    return path


def notebook_parameters(name: str) -> dict[str, dict[str, str]]:
    """The parameters of report ``name`` as papermill reads them from its ``parameters`` cell:
    ``{name: {"name", "inferred_type_name", "default", "help"}}``."""
    import papermill  # slow to import (about 3 s): only when a report is rendered

    return dict(papermill.inspect_notebook(str(notebook_path(name))))


def check_parameters(name: str, names: Iterable[str]) -> None:
    """Raise ``ReportError`` when report ``name`` has no parameter for one of ``names``."""
    declared = notebook_parameters(name)
    unknown = [n for n in names if n not in declared]
    if unknown:
        raise ReportError(
            f"report {name!r} has no parameter {', '.join(map(repr, unknown))}; its "
            f"parameters cell declares: {', '.join(declared) or 'nothing'}"
        )


def scope_slug(scope: Scope | None = None, *, mask_pii: bool = False) -> str:
    """The scope part of a report's file name: ``all``, or ``team-east``, ``rep-r07``
    (``Scope.slug``), followed by ``-masked`` when names are masked."""
    slug = (scope.slug() if scope is not None else "") or "all"
    return f"{slug}-masked" if mask_pii else slug


def report_stem(
    name: str, period_label: str, lang: str, scope: Scope | None = None, *, mask_pii: bool = False, by: str = ""
) -> str:
    """File name stem of a rendered report: ``quarterly_review_2026Q3_all_en``,
    ``monthly_review_2026-08_team-east_zh``, ``rep_scorecard_2026Q3_rep-r07-masked_en``; a
    breakdown adds itself (``quarterly_review_2026Q3_all_by-attr-合同类型_en``), so that a report
    with ``--by`` never overwrites the one without."""
    slug = scope_slug(scope, mask_pii=mask_pii)
    if by:
        slug += "_by-" + (re.sub(r"[^\w]+", "-", by.strip().lower(), flags=re.UNICODE).strip("-") or "none")
    return f"{name}_{period_label}_{slug}_{lang}"


@lru_cache(maxsize=1)
def _print_css() -> str:
    from importlib.resources import files

    return files(__package__).joinpath(PRINT_CSS).read_text(encoding="utf-8")


class _ProgressLines:
    """A write-only stream for the kernel's stderr: passes each section's progress line on
    to ``report`` (``name seconds``) and ignores everything else (warnings stay in the
    executed notebook)."""

    def __init__(self, report: Callable[[str, float], None]) -> None:
        self._report = report
        self._pending = ""

    def write(self, text: str) -> int:
        self._pending += text
        *lines, self._pending = self._pending.split("\n")
        for line in lines:
            if line.startswith(PROGRESS_PREFIX):
                name, _, seconds = line[len(PROGRESS_PREFIX) :].strip().rpartition(" ")
                try:
                    self._report(name, float(seconds))
                except ValueError:
                    continue
        return len(text)

    def flush(self) -> None:
        pass


@lru_cache(maxsize=1)
def _kernel_manager_class() -> type:
    """A kernel manager that starts the kernel with :data:`KERNEL_ENV` in its environment,
    leaving this process's environment alone."""
    from jupyter_client.manager import AsyncKernelManager

    class ReportKernelManager(AsyncKernelManager):
        async def start_kernel(self, **kw: Any) -> None:  # type: ignore[override]
            kw["env"] = {**(kw.get("env") or os.environ), **KERNEL_ENV}
            # local IPC sockets in the render's work folder instead of TCP ports: nothing
            # listens on the network, and the sockets go away with the folder
            if kw.get("cwd"):
                self.transport = "ipc"
                self.ip = os.path.join(kw["cwd"], "kernel-ipc")
            await super().start_kernel(**kw)

    return ReportKernelManager


def _failed_cell(executed: Path) -> tuple[str, str]:
    """(cell id, first source line) of the cell that failed or was running, if known."""
    import nbformat

    try:
        nb = nbformat.read(executed, as_version=4)
    except (OSError, ValueError):
        return "?", ""
    for cell in nb.cells:
        status = cell.get("metadata", {}).get("papermill", {}).get("status")
        errored = any(out.get("output_type") == "error" for out in cell.get("outputs", []))
        if errored or status == "running":
            first = next((line for line in cell.source.splitlines() if line.strip()), "")
            return cell.get("id", "?"), first.strip()
    return "?", ""


def _innermost_frame(traceback: list[str]) -> str:
    frames = [
        line.strip()
        for entry in traceback
        for line in _ANSI.sub("", entry).splitlines()
        if line.strip().startswith("File ")
    ]
    return frames[-1] if frames else ""


def _execute(
    source: Path,
    executed: Path,
    parameters: dict[str, object],
    workdir: Path,
    timeout: int,
    on_section: Callable[[str, float], None] | None = None,
) -> None:
    import papermill

    papermill.execute_notebook(
        str(source),
        str(executed),
        parameters=parameters,
        kernel_name="python3",
        progress_bar=False,
        log_output=False,
        # the kernel's stderr as it comes: each section's progress line
        stderr_file=_ProgressLines(on_section) if on_section else None,
        start_timeout=120,
        execution_timeout=timeout,
        # passed to nbclient: the kernel starts in ``workdir`` (nbclient's documented way,
        # papermill's own ``cwd`` would chdir this whole process) with KERNEL_ENV
        resources={"metadata": {"path": str(workdir)}},
        kernel_manager_class=_kernel_manager_class(),
    )


def _report_title(executed: Path) -> str:
    """The report's title as its header shows it: the text of the first ``<h1>`` of the
    executed notebook's outputs ("" when there is none)."""
    import nbformat

    nb = nbformat.read(executed, as_version=4)
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            html = out.get("data", {}).get("text/html")
            html = "".join(html) if isinstance(html, list) else html or ""
            found = re.search(r"<h1\b[^>]*>(.*?)</h1>", html, re.S)
            if found:
                return unescape(re.sub(r"<[^>]+>", "", found.group(1))).strip()
    return ""


def _export_html(executed: Path, *, title: str, lang: str) -> str:
    import nbformat
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter

    nb = nbformat.read(executed, as_version=4)
    nb.cells = [c for c in nb.cells if REMOVE_TAG not in c.get("metadata", {}).get("tags", [])]
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        # warnings on stderr stay in the executed .ipynb, not in the report
        cell.outputs = [
            out for out in cell.outputs if not (out.get("output_type") == "stream" and out.get("name") == "stderr")
        ]
        for out in cell.outputs:
            data = out.get("data", {})
            if "text/html" in data:
                html = data["text/html"]
                html = "".join(html) if isinstance(html, list) else html
                data["text/html"] = _MATHJAX_TAG.sub("", html)
    nb.metadata.pop("widgets", None)
    nb.metadata["title"] = title
    exporter = HTMLExporter(
        template_name="lab",
        extra_loaders=[DictLoader({_TEMPLATE_NAME: _TEMPLATE.replace("__PRINT_CSS__", _print_css())})],
        template_file=_TEMPLATE_NAME,
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        exclude_anchor_links=True,
        mathjax_url="",
        require_js_url="",
        mermaid_js_url="",
        mermaid_layout_elk_js_url="",
        jquery_url="",
        jupyter_widgets_base_url="",
        widget_renderer_url="",
        language_code=lang,
    )
    body, _ = exporter.from_notebook_node(nb)
    return body


def render_report(
    name: str | None = None,
    *,
    period: str,
    compare: str = "prev",
    db: str | Path | None = None,
    out_dir: str | Path | None = None,
    lang: str = "en",
    as_of: str = "",
    config_path: str | Path | None = None,
    timeout: int = 600,
    team: str = "",
    region: str = "",
    rep: str = "",
    pipeline: str = "",
    mask_pii: bool = False,
    by: str = "",
    pdf: bool = False,
    progress: Callable[[str], None] | None = None,
) -> Path:
    """Render report ``name`` for ``period`` and return the path of its HTML file.

    ``name``: a template of ``notebooks/`` (default: :func:`default_template` of the
    period); ``period``: period text (``2026Q3``, ``last-quarter``, …), resolved here once,
    so the notebook and the file name agree; ``compare``: ``prev`` or ``yoy``; ``db``: the
    warehouse (default ``config.default_db_path()``); ``out_dir``: default
    ``config.REPORTS_DIR``; ``lang``: ``en`` or ``zh``; ``as_of``: ``YYYY-MM-DD`` or "";
    ``config_path``: a settings file (default: ``config.settings_path()``, else the built-in
    settings); ``timeout``: seconds one notebook cell may run; ``team``, ``region``, ``rep``,
    ``pipeline``: restrict every section to that scope ("" = no restriction; the warehouse
    must know the value); ``mask_pii``: customer and rep names as pseudonyms; ``by``: one more
    breakdown of the funnel detail (industry, size_band, attr:NAME, tag:NAME, …); ``pdf``: also print the
    report to ``<stem>.pdf`` (raises :class:`PdfUnavailable` after writing the HTML when no
    Chromium is installed); ``progress``: called with one line per step (section timings).
    Arguments are checked before anything runs; a failing notebook raises
    :class:`ReportError` naming the cell and the exception.
    """
    from .review import parse_as_of

    say = progress or (lambda line: None)
    check_lang(lang)
    if compare not in COMPARE_MODES:
        raise PeriodError(f"comparison {compare!r} is not one of: {', '.join(COMPARE_MODES)}")
    as_of_date = parse_as_of(as_of)
    this = parse_period(period, as_of=as_of_date)
    if not isinstance(timeout, int) or timeout <= 0:
        raise ReportError(f"timeout must be a positive number of seconds, got {timeout!r}")
    scope = make_scope(team, region, rep, pipeline)
    name = name or default_template(this)
    source = notebook_path(name)
    kinds = TEMPLATE_PERIODS.get(name)
    if kinds is not None and this.kind not in kinds:
        other = default_template(this)
        raise ReportError(
            f"{name} reports on a {' or '.join(kinds)}, not on {this.kind} {this.label}; "
            f"for {this.label} use {other} (crm-review report {other} --period {this.label})"
        )
    given = {"team": team, "region": region, "rep": rep, "pipeline": pipeline}
    lacking = [key for key in TEMPLATE_REQUIRES.get(name, ()) if not given.get(key)]
    if lacking:
        raise ReportError(f"{name} needs {' and '.join('--' + key for key in lacking)} (crm-review report --list)")
    settings_file = Path(config_path).expanduser() if config_path else config.settings_path()
    if settings_file is not None:
        config.load_settings(settings_file)  # fail now on a bad settings file
    db_file = Path(db).expanduser() if db else config.default_db_path()
    parameters: dict[str, object] = {
        "db_path": str(db_file.resolve()),  # absolute: the kernel runs in a temporary folder
        "period": this.label,
        "compare": compare,
        "lang": lang,
        "as_of": as_of_date.isoformat() if as_of_date else "",
        "config_path": str(settings_file.resolve()) if settings_file else "",
    }
    # scope and masking only when asked for: a template without them still renders unscoped
    parameters.update(dict(scope.items()))
    if mask_pii:
        parameters["mask_pii"] = True
    if by:
        try:
            check_by(by, "report", FUNNEL_BREAKDOWNS)
        except ValueError as exc:
            raise ReportError(str(exc)) from None
        if mask_pii and attribute_of(by) is not None:
            raise ReportError(f"--by {by} cannot be combined with --mask-pii: a masked report hides the custom fields")
        parameters["by"] = by
    check_parameters(name, parameters)
    # fail now, not inside the kernel, on a missing, locked or outdated warehouse or a scope
    # it does not know; and say on stderr when the period lies outside the data (the report
    # says it in its header too)
    with warehouse.connect_read(parameters["db_path"], scope=scope) as con:
        first, last = data_span(inventory(con))
        try:
            check_attribute(con, by or None, deals=True)
        except ValueError as exc:
            raise ReportError(str(exc)) from None
    if first is not None and (this.end < first or this.start > last):
        print(
            f"crm-review: warning: {this.label} lies outside the data, which covers {first} – {last}",
            file=sys.stderr,
        )

    out = (Path(out_dir).expanduser() if out_dir else config.REPORTS_DIR).resolve()
    audit = out / AUDIT_DIR
    audit.mkdir(parents=True, exist_ok=True)
    stem = report_stem(name, this.label, lang, scope, mask_pii=mask_pii, by=by)
    html_path, pdf_path = out / f"{stem}.html", out / f"{stem}.pdf"
    ipynb_path, failed_path = audit / f"{stem}.ipynb", audit / f"{stem}.failed.ipynb"

    say(f"rendering {stem} from notebooks/{name}.ipynb")
    with tempfile.TemporaryDirectory(prefix="crm-review-report-") as work:
        workdir = Path(work)
        executed = workdir / f"{stem}.ipynb"
        started = time.monotonic()
        try:
            _execute(
                source,
                executed,
                parameters,
                workdir,
                timeout,
                lambda section, seconds: say(f"  {section:<16} {seconds:6.1f} s"),
            )
        except Exception as exc:
            _raise_failure(exc, name, executed, failed_path, timeout, time.monotonic() - started)
        say(f"notebook executed in {time.monotonic() - started:.1f} s")
        title = _report_title(executed) or t("report.title", lang, period=this.label)
        html = _export_html(executed, title=title, lang=lang)
        leaks = network_references(html)
        if leaks:
            raise ReportError(
                f"the {name} HTML would load from the network ({len(leaks)} reference(s), "
                f"first: {leaks[0]!r}); not written"
            )
        _write_atomic(ipynb_path, executed.read_bytes(), like=db_file)
        _write_atomic(html_path, html.encode("utf-8"), like=db_file)
    failed_path.unlink(missing_ok=True)
    say(f"wrote {html_path} ({html_path.stat().st_size / 1e6:.1f} MB) and {ipynb_path.relative_to(out)}")
    if pdf:
        _write_pdf(html_path, pdf_path, title=title, detail=_page_detail(this, lang), say=say, like=db_file)
    return html_path


def _page_detail(period: Period, lang: str) -> str:
    return t("chart.subtitle_single", lang, period=period.label, as_of=period.as_of.isoformat())


def _write_pdf(
    html_path: Path, pdf_path: Path, *, title: str, detail: str, say: Callable[[str], None], like: Path | None = None
) -> None:
    from ..browser import BrowserUnavailable
    from .pdf import print_pdf

    started = time.monotonic()
    try:
        data = print_pdf(html_path, title=title, detail=detail)
    except BrowserUnavailable as exc:
        raise PdfUnavailable(
            f"no PDF: {exc}; then run the command again with --pdf. The HTML report is written: {html_path}",
            html_path,
        ) from None
    _write_atomic(pdf_path, data, like=like)
    say(f"wrote {pdf_path} ({len(data) / 1e6:.1f} MB) in {time.monotonic() - started:.1f} s")


def _raise_failure(exc: Exception, name: str, executed: Path, failed_path: Path, timeout: int, elapsed: float) -> None:
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    kept = ""
    if executed.is_file():
        _write_atomic(failed_path, executed.read_bytes())
        kept = f"; the executed notebook is kept at {failed_path}"
    cell_id, first_line = _failed_cell(executed)
    where = f"{name}.ipynb, cell {cell_id!r}" + (f" ({first_line})" if first_line else "")
    if isinstance(exc, PapermillExecutionError):
        frame = _innermost_frame(exc.traceback)
        at = f" at {frame}" if frame else ""
        raise ReportError(f"{where} failed: {exc.ename}: {exc.evalue}{at}{kept}") from None
    if isinstance(exc, CellTimeoutError):
        raise ReportError(f"{where} did not finish within the {timeout} s cell timeout{kept}") from None
    if isinstance(exc, DeadKernelError):
        raise ReportError(f"{where}: the kernel died after {elapsed:.0f} s ({exc}){kept}") from None
    raise ReportError(f"{name}.ipynb could not be executed: {type(exc).__name__}: {exc}{kept}") from exc
