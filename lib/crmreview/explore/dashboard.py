"""The explore dashboard: ipywidgets filters, views in tabs and the drill-down, composed
over an :class:`~crmreview.explore.session.Explorer`.

A view's blocks and figures are set as the ``outputs`` of an ``Output`` widget in one update
(widget state, like any other widget value), never captured with ``with output:``: captured
output is routed by the front end, and the executor that runs the served notebook (nbclient,
under Voilà) mimics that by sending a message to the kernel for every captured output while it
waits for the cell's reply on the same socket, which can lose the wake-up for that reply and
leave the page loading forever. Figures use plotly's mimetype (the JupyterLab / Voilà plotly
extension draws them from its locally served bundle); plotly's ``notebook`` renderer, which
embeds plotly.js, is never used. Only the visible tab is drawn on each change; the KPI strip
always.

Public names: ``Dashboard``, ``dashboard``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import ipywidgets as widgets
import pandas as pd
import plotly.graph_objects as go
from IPython.core.formatters import format_display_data
from IPython.display import HTML

from ..i18n import t
from ..metrics.common import attribute_of
from ..report.html import HtmlBlock, esc, fmt_count, fmt_days, fmt_money, fmt_pct, table
from . import drill
from .session import TIERS, Explorer, Selection, environment_flag
from .views import VIEWS, kpi_strip, render

__all__ = ["Dashboard", "dashboard"]

_ALL = "\x00all"  # the "(all)" choice of a filter (a value no CRM gives)
_CSS = """
<style>
.crm-explore { font-family: -apple-system, 'Segoe UI', Roboto, 'Noto Sans', 'Noto Sans CJK SC', 'PingFang SC',
  'Microsoft YaHei', sans-serif; }
.crm-kpi-strip { display: flex; flex-wrap: wrap; gap: 8px; margin: 4px 0 8px; }
.crm-kpi-card { border: 1px solid #e5e7eb; border-radius: 6px; padding: 6px 12px; min-width: 130px; background: #fafafa; }
.crm-kpi-label { font-size: 12px; color: #4b5563; }
.crm-kpi-value { font-size: 22px; font-weight: 600; color: #111827; }
.crm-kpi-before { font-size: 11px; color: #6b7280; }
.crm-kpi-change { font-weight: 600; color: #374151; }
.crm-scope { color: #374151; margin: 2px 0; }
.crm-table { border-collapse: collapse; margin: 6px 0; }
.crm-table th, .crm-table td { padding: 3px 10px; border-bottom: 1px solid #eee; text-align: left; }
.crm-funnel-table td[data-key] { text-align: right; }
.crm-note, .crm-missing, .crm-warning, .crm-empty { color: #4b5563; }
.crm-drill-title { font-weight: 600; margin: 8px 0 4px; }
</style>
"""


#: plotly's options for every figure of the dashboard
_PLOTLY_CONFIG = {"displaylogo": False, "responsive": True}


def _output(item: Any) -> dict[str, Any]:
    """The display output (nbformat) of a view's item: an HTML block, a plotly figure, a widget."""
    if isinstance(item, go.Figure):
        figure = json.loads(item.to_json())
        data = {"application/vnd.plotly.v1+json": {**figure, "config": _PLOTLY_CONFIG}, "text/plain": "<Figure>"}
        return {"output_type": "display_data", "data": data, "metadata": {}}
    if isinstance(item, HtmlBlock):
        item = HTML(item.html)
    data, metadata = format_display_data(item)
    return {"output_type": "display_data", "data": data, "metadata": metadata}


def _when(value: datetime | None) -> str:
    return "–" if value is None else value.strftime("%Y-%m-%d %H:%M")


class Dashboard:
    """Filters, a KPI strip, the views in tabs and the drill-down, over one explorer."""

    def __init__(self, explorer: Explorer, *, lang: str = "en", period: str | None = None) -> None:
        self.explorer = explorer
        values = explorer.values
        periods = list(values.periods) or [period or "last-quarter"]
        self.selection = Selection(period or periods[0], lang=lang)
        self._busy = False
        self._drill_path: list[tuple[str, str]] = []
        self._drawn: dict[int, Selection] = {}  # tab -> the selection it shows
        layout = widgets.Layout(width="auto")
        self.period = widgets.Dropdown(options=periods, value=self.selection.period, layout=layout)
        self.compare = widgets.Dropdown(layout=layout)
        self.pipeline = widgets.Dropdown(layout=layout)
        self.team = widgets.Dropdown(layout=layout)
        self.rep = widgets.Dropdown(layout=layout)
        self.tier = widgets.Dropdown(layout=layout)
        self.channel = widgets.Dropdown(layout=layout)
        self.region = widgets.Dropdown(layout=layout)
        self.industry = widgets.Dropdown(layout=layout)
        self.size_band = widgets.Dropdown(layout=layout)
        self.field = widgets.Dropdown(layout=layout)  # a custom field's value (attr:NAME, tag:NAME)
        self.lang = widgets.Dropdown(options=[("English", "en"), ("中文", "zh")], value=lang, layout=layout)
        self.refresh_button = widgets.Button(layout=widgets.Layout(width="auto"))
        self.refresh_button.add_class("crm-refresh")
        self.header = widgets.HTML()
        self.help = widgets.HTML()
        self.status = widgets.HTML()
        self.kpis = widgets.Output()
        self.outputs = [widgets.Output() for _ in VIEWS]
        self.drill_box = widgets.VBox()
        self.tabs = widgets.Tab(children=[*self.outputs, self.drill_box])
        self._labels: dict[str, widgets.Label] = {}
        self.field_box = self._labelled("field", self.field)
        self._fill_options()
        self._wire()
        filters = [
            self._labelled("period", self.period),
            self._labelled("compare", self.compare),
            self._labelled("pipeline", self.pipeline),
            self._labelled("team", self.team),
            self._labelled("rep", self.rep),
            self._labelled("tier", self.tier),
            self._labelled("channel", self.channel),
            self._labelled("region", self.region),
            self._labelled("industry", self.industry),
            self._labelled("size_band", self.size_band),
            self.field_box,
            self._labelled("lang", self.lang),
            widgets.VBox([widgets.Label(""), self.refresh_button]),
        ]
        self.filter_note = widgets.HTML()
        self.widget = widgets.VBox(
            [
                widgets.HTML(_CSS),
                self.header,
                self.help,
                widgets.HBox(filters, layout=widgets.Layout(flex_flow="row wrap")),
                self.filter_note,
                self.status,
                self.kpis,
                self.tabs,
            ],
            layout=widgets.Layout(width="100%"),
        )
        self.widget.add_class("crm-explore")
        self._relabel()
        self.update()

    # -- layout and text ----------------------------------------------------------------

    def _labelled(self, key: str, control: widgets.Widget) -> widgets.VBox:
        control.add_class(f"crm-filter-{key}")
        label = widgets.Label()
        self._labels[key] = label
        return widgets.VBox([label, control])

    def _t(self, key: str, **fmt: object) -> str:
        return t(key, self.selection.lang, **fmt)

    def _choices(self, values: Sequence[Any], *, labels: dict[str, str] | None = None) -> list[tuple[str, str]]:
        shown = [(self._t("explore.all"), _ALL)]
        for value in values:
            text = (labels or {}).get(value, value)
            shown.append((text if text else self._t("explore.none_value"), value))
        return shown

    def _set_options(self, control: widgets.Dropdown, options: list[tuple[str, str]], value: str | None) -> None:
        keep = value if value is not None and any(v == value for _, v in options) else _ALL
        control.options = options
        control.value = keep

    def _fill_options(self) -> None:
        values, sel = self.explorer.values, self.selection
        self._busy = True
        try:
            self.compare.options = [(self._t(f"explore.compare.{m}"), m) for m in ("prev", "yoy")]
            self.compare.value = sel.compare
            self._set_options(self.pipeline, self._choices(values.pipelines), sel.pipeline)
            self._set_options(self.team, self._choices(values.teams), sel.team)
            reps = values.reps_of(sel.team)
            self._set_options(
                self.rep, self._choices([r for _, r in reps], labels={rep: label for label, rep in reps}), sel.rep
            )
            self._set_options(self.tier, self._choices(TIERS), sel.tier)
            self._set_options(self.channel, self._choices(values.channels), sel.channel)
            self._set_options(self.region, self._choices(values.regions), sel.region)
            self._set_options(self.industry, self._choices(values.industries), sel.industry)
            self._set_options(self.size_band, self._choices(values.size_bands), sel.size_band)
            fields = {field: f"{attribute_of(field[0])}: {field[1]}" for field in values.fields}
            self._set_options(self.field, self._choices(list(fields), labels=fields), sel.field)
            self.field_box.layout.display = None if fields else "none"  # no custom field: no filter
        finally:
            self._busy = False

    def _relabel(self) -> None:
        for key, label in self._labels.items():
            label.value = self._t(f"explore.filter.{key}")
        self.refresh_button.description = self._t("explore.refresh")
        for i, view in enumerate(VIEWS):
            self.tabs.set_title(i, self._t(f"explore.view.{view.key}"))
        self.tabs.set_title(len(VIEWS), self._t("explore.view.drill"))
        self.help.value = f'<p class="crm-note">{esc(self._t("explore.help"))}</p>'
        self.filter_note.value = f'<small class="crm-note">{esc(self._t("explore.filter.one_dimension"))}</small>'
        values = self.explorer.values
        self.header.value = (
            f"<h2>{esc(self._t('explore.title'))}</h2><p class='crm-note'><small>"
            + esc(
                self._t(
                    "explore.snapshot",
                    path=self.explorer.path.name,
                    first=values.first_date or "–",
                    last=values.last_date or "–",
                    imported=_when(values.last_import_at),
                )
            )
            + "</small></p>"
        )

    # -- events -------------------------------------------------------------------------

    def _wire(self) -> None:
        for control in (
            self.period,
            self.compare,
            self.pipeline,
            self.team,
            self.rep,
            self.tier,
            self.channel,
            self.region,
            self.industry,
            self.size_band,
            self.field,
            self.lang,
        ):
            control.observe(self._on_filter, names="value")
        self.tabs.observe(self._on_tab, names="selected_index")
        self.refresh_button.on_click(self._on_refresh)

    def _value(self, control: widgets.Dropdown) -> str | None:
        return None if control.value == _ALL else control.value

    def _on_filter(self, change: dict[str, Any]) -> None:
        if self._busy:
            return
        owner = change["owner"]
        sel = self.selection
        updates: dict[str, Any] = {
            "period": self.period.value,
            "compare": self.compare.value,
            "pipeline": self._value(self.pipeline),
            "lang": self.lang.value,
        }
        dims = {
            "team": self.team,
            "rep": self.rep,
            "tier": self.tier,
            "channel": self.channel,
            "region": self.region,
            "industry": self.industry,
            "size_band": self.size_band,
            "field": self.field,
        }
        current = {name: self._value(control) for name, control in dims.items()}
        if owner in dims.values():
            name = next(n for n, c in dims.items() if c is owner)
            # one dimension at a time; a rep narrows its team
            keep = {"team": ("team",), "rep": ("rep", "team")}.get(name, (name,))
            for other in dims:
                if other not in keep:
                    current[other] = None
            if name == "team":
                current["rep"] = None
            if name == "rep" and current["rep"] is not None:
                current["team"] = next(
                    (team for rep, _, team in self.explorer.values.reps if rep == current["rep"]), None
                )
        self.selection = sel.with_(**updates, **current)
        self._fill_options()
        if owner is self.lang:
            self._relabel()  # the same results in the other language: the drill-down stays where it is
        else:
            self._drill_path = []
        self.update()

    def _on_tab(self, change: dict[str, Any]) -> None:
        self._draw_tab()

    def _on_refresh(self, _button: Any) -> None:
        opened = self.explorer.refresh()
        if opened:
            self._drawn.clear()
            self._fill_options()
            self._relabel()
            self.status.value = f"<small>{esc(self._t('explore.refresh.done', imported=_when(self.explorer.values.last_import_at)))}</small>"
            self.update()
        else:
            self.status.value = f"<small>{esc(self._t('explore.refresh.none', opened=_when(self.explorer.values.last_import_at)))}</small>"

    # -- drawing ------------------------------------------------------------------------

    def _fill(self, output: widgets.Output, draw: Callable[[], Sequence[Any]]) -> None:
        """Replace what ``output`` shows with what ``draw`` returns, in one widget update."""
        try:
            items = list(draw())
        except Exception as exc:  # a view that fails says so and leaves the others working
            items = [HtmlBlock(f'<p class="crm-warning">{esc(self._t("explore.error", error=exc))}</p>')]
        output.outputs = tuple(_output(item) for item in items)

    def forget(self) -> None:
        """Forget the computed results, the scoped connections and what the tabs show: the next
        interaction computes what it shows again (as on a first visit)."""
        self.explorer.forget()
        self._drawn.clear()

    def update(self) -> None:
        """Redraw the KPI strip and the visible tab for the current selection."""
        if self.explorer.newer_available():
            self.status.value = f"<small>{esc(self._t('explore.refresh.available'))}</small>"
        self._fill(self.kpis, lambda: kpi_strip(self.explorer, self.selection))
        self._draw_tab()

    def _draw_tab(self) -> None:
        """Draw the visible tab, unless it already shows the current selection (the other tabs
        are drawn when opened: a filter change computes only what is seen)."""
        index = self.tabs.selected_index or 0
        if index < len(VIEWS):
            if self._drawn.get(index) == self.selection:
                return
            view = VIEWS[index]
            self._fill(self.outputs[index], lambda: render(view, self.explorer, self.selection))
            self._drawn[index] = self.selection
        else:
            self._draw_drill()

    # -- drill-down -----------------------------------------------------------------------

    def _go(self, level: str, key: str) -> Callable[[Any], None]:
        def click(_button: Any) -> None:
            self._drill_path.append((level, key))
            self._draw_drill()

        return click

    def _back(self, _button: Any) -> None:
        if self._drill_path:
            self._drill_path.pop()
        self._draw_drill()

    def _grid(
        self, headers: Sequence[str], rows: Sequence[tuple[str, Callable[[Any], None] | None, Sequence[str]]]
    ) -> widgets.GridBox:
        """A table whose first column is a button (drills further) or a label."""
        cells: list[widgets.Widget] = [widgets.HTML(f"<b>{esc(h)}</b>") for h in headers]
        for first, on_click, rest in rows:
            if on_click is None:
                cells.append(widgets.HTML(esc(first)))
            else:
                button = widgets.Button(description=first, layout=widgets.Layout(width="auto"), tooltip=first)
                button.on_click(on_click)
                cells.append(button)
            cells += [widgets.HTML(esc(value)) for value in rest]
        return widgets.GridBox(
            cells,
            layout=widgets.Layout(grid_template_columns=f"repeat({len(headers)}, max-content)", grid_gap="2px 14px"),
        )

    def _title(self, text: str) -> widgets.HTML:
        return widgets.HTML(f'<div class="crm-drill-title">{esc(text)}</div>')

    def _draw_drill(self) -> None:
        try:
            parts = self._drill_parts()
        except Exception as exc:
            parts = [widgets.HTML(f'<p class="crm-warning">{esc(self._t("explore.error", error=exc))}</p>')]
        self.drill_box.children = parts

    def _team_rows(self, frame: pd.DataFrame, level: str, label_column: str) -> list:
        return [
            (
                str(r[label_column]) or self._t("explore.none_value"),
                self._go(level, r["group"]),
                [
                    fmt_count(r["cohort_deals"]),
                    fmt_count(r["won"]),
                    fmt_count(r["lost"]),
                    fmt_pct(r["win_rate"]),
                    fmt_count(r["open_deals"]),
                ],
            )
            for _, r in frame.iterrows()
        ]

    def _drill_parts(self) -> list[widgets.Widget]:
        ex, sel, lang = self.explorer, self.selection, self.selection.lang
        numbers = [self._t(f"explore.col.{k}") for k in ("deals_created", "won", "lost", "win_rate", "open")]
        path = list(self._drill_path)
        if not path and sel.team is not None:
            path = [("team", sel.team)]
        back = widgets.Button(description=self._t("explore.drill.back"), layout=widgets.Layout(width="max-content"))
        back.on_click(self._back)
        if not path:
            teams = drill.teams(ex, sel)
            tiers = drill.tiers(ex, sel)
            tier_rows = [
                (
                    r.tier,
                    self._go("tier", r.tier),
                    [
                        fmt_count(r.customers),
                        fmt_pct(r.share_of_customers),
                        fmt_money(r.value),
                        fmt_pct(r.share_of_value),
                    ],
                )
                for r in tiers.itertuples(index=False)
            ]
            tier_headers = [
                self._t("explore.col.tier"),
                self._t("explore.col.customers"),
                self._t("explore.share"),
                self._t("explore.col.value"),
                self._t("explore.share"),
            ]
            return [
                widgets.HTML(f"<p class='crm-note'>{esc(self._t('explore.drill.intro'))}</p>"),
                self._title(self._t("explore.drill.teams")),
                self._grid(
                    [self._t("explore.col.team"), *numbers],
                    self._team_rows(teams.assign(label=teams["group"]), "team", "label"),
                ),
                self._title(self._t("explore.drill.tiers")),
                self._grid(tier_headers, tier_rows),
            ]
        level, key = path[-1]
        if level == "team":
            reps = drill.team_reps(ex, sel, key)
            return [
                back,
                self._title(self._t("explore.drill.reps_of", team=key)),
                self._grid([self._t("explore.col.rep"), *numbers], self._team_rows(reps, "rep", "label")),
            ]
        if level == "rep":
            deals = drill.rep_deals(ex, sel, key)
            total = int(deals["count_deals"].iloc[0]) if len(deals) else 0
            rows = [
                (
                    r.deal_id,
                    self._go("deal", r.deal_id),
                    [
                        r.customer_name or r.customer_id or "",
                        ex.settings.stage_label(r.stage, lang) if r.stage else "",
                        self._t("explore.status.stale") if r.is_stale else self._t(f"explore.status.{r.status_as_of}"),
                        fmt_money(r.amount),
                        str(r.created_date)[:10],
                        "" if r.closed_date is None else str(r.closed_date)[:10],
                        fmt_count(r.days_since_change),
                    ],
                )
                for r in deals.itertuples(index=False)
            ]
            headers = [
                self._t(f"explore.col.{k}")
                for k in ("deal", "customer", "stage", "status", "amount", "created", "closed", "days_since_change")
            ]
            title = self._t("explore.drill.deals_of", rep=ex.values.rep_label(key), shown=len(rows), total=total)
            return [back, self._title(title), self._grid(headers, rows)]
        if level == "deal":
            history = drill.deal_history(ex, sel, key)
            rows = [
                (ex.settings.stage_label(r.stage, lang), None, [str(r.entered_at)[:16], fmt_days(r.days_in_stage)])
                for r in history.itertuples(index=False)
            ]
            headers = [self._t(f"explore.col.{k}") for k in ("stage", "entered", "days_in_stage")]
            parts = [back, self._title(self._t("explore.drill.history_of", deal=key))]
            if len(history):
                deal = history.iloc[0]
                facts = [
                    self._t(f"explore.status.{deal['outcome']}") if deal["outcome"] else "",
                    ex.settings.stage_label(deal["deal_stage"], lang) if deal["deal_stage"] else "",
                    f"{self._t('explore.col.amount')} {fmt_money(deal['amount'])}",
                    ""
                    if deal["created_at"] is None
                    else f"{self._t('explore.col.created')} {str(deal['created_at'])[:10]}",
                    ""
                    if deal["closed_at"] is None
                    else f"{self._t('explore.col.closed')} {str(deal['closed_at'])[:10]}",
                    deal["lost_reason"] or "",
                ]
                parts.append(widgets.HTML(f"<p>{esc(' · '.join(f for f in facts if f))}</p>"))
            return [*parts, self._grid(headers, rows)]
        if level == "tier":
            customers = drill.tier_customers(ex, sel, key)
            total = int(customers["count_customers"].iloc[0]) if len(customers) else 0
            rows = [
                (
                    r.customer_id,
                    self._go("customer", r.customer_id),
                    [
                        r.customer_name or "",
                        r.rep_name or r.owner_rep_id or "",
                        fmt_money(r.value),
                        "" if r.last_order_date is None else str(r.last_order_date)[:10],
                    ],
                )
                for r in customers.itertuples(index=False)
            ]
            headers = [self._t(f"explore.col.{k}") for k in ("customer", "customer", "rep", "value", "last_order")]
            title = self._t("explore.drill.customers_of", tier=key, shown=len(rows), total=total)
            return [back, self._title(title), self._grid(headers, rows)]
        detail = drill.customer_detail(ex, sel, key)
        orders, deals, activities = detail["orders"], detail["deals"], detail["activities"]

        def total(frame: pd.DataFrame, column: str) -> int:
            return int(frame[column].iloc[0]) if len(frame) else 0

        parts: list[widgets.Widget] = [back, self._title(self._t("explore.drill.customer", customer=key))]
        parts.append(
            self._title(self._t("explore.drill.orders", shown=len(orders), total=total(orders, "count_orders")))
        )
        parts.append(
            widgets.HTML(
                table(
                    [self._t("explore.col.order"), self._t("explore.col.date"), self._t("explore.col.amount")],
                    [[r.order_id, str(r.order_date)[:10], fmt_money(r.amount)] for r in orders.itertuples(index=False)],
                    numeric=(2,),
                    css_class="crm-table",
                )
            )
        )
        parts.append(self._title(self._t("explore.drill.deals", shown=len(deals), total=total(deals, "count_deals"))))
        parts.append(
            widgets.HTML(
                table(
                    [
                        self._t(f"explore.col.{k}")
                        for k in ("deal", "rep", "stage", "status", "amount", "created", "closed")
                    ],
                    [
                        [
                            r.deal_id,
                            ex.values.rep_label(r.owner_rep_id),
                            ex.settings.stage_label(r.stage, lang) if r.stage else "",
                            self._t(f"explore.status.{r.status_as_of}"),
                            fmt_money(r.amount),
                            str(r.created_date)[:10],
                            "" if r.closed_date is None else str(r.closed_date)[:10],
                        ]
                        for r in deals.itertuples(index=False)
                    ],
                    numeric=(4,),
                    css_class="crm-table",
                )
            )
        )
        parts.append(
            self._title(
                self._t("explore.drill.activities", shown=len(activities), total=total(activities, "count_activities"))
            )
        )
        parts.append(
            widgets.HTML(
                table(
                    [self._t(f"explore.col.{k}") for k in ("date", "kind", "rep", "deal")],
                    [
                        [str(r.occurred_at)[:16], r.kind or "", ex.values.rep_label(r.rep_id), r.deal_id or ""]
                        for r in activities.itertuples(index=False)
                    ],
                    css_class="crm-table",
                )
            )
        )
        return parts


def dashboard(db_path: str = "", *, lang: str = "en", period: str = "", mask_pii: bool = False) -> widgets.Widget:
    """The explore dashboard over the warehouse at ``db_path`` ("" = the default), opened at
    ``period`` ("" = the data's last quarter), in ``lang``."""
    explorer = Explorer(db_path, mask_pii=mask_pii or environment_flag("CRM_REVIEW_MASK_PII"), lang=lang)
    return Dashboard(explorer, lang=lang, period=period or None).widget
