"""The executive summary: key numbers as cards, then the headlines on what changed most.

Public names: ``build``, ``Card``, ``CARDS``, ``cards``, ``headlines``, ``cards_html``,
``headlines_html``, ``numbers_html``, ``fmt_value``, ``fmt_change``, ``HEADLINES``.

The section a card links to shows the same number again, formatted the same way, in a small
table at its top (:func:`numbers_html`): a headline's number is always in the section it
points to.

A card is one number of this period next to the comparison period's and the change, with
the warnings that qualify it. Which cards a report shows follows what the data support
(DESIGN "Partial exports"): a card is left out when an input it needs is missing from the
warehouse (``review.missing``), so a shop gets revenue, buyers, active customers, repeat
rate, churn rate, NRR and the A tier's customers, and a pipeline gets won revenue, win
rate, cycle, open pipeline, velocity and deals created (plus attainment with targets and
follow-up compliance with activities).

Every number comes from :func:`crmreview.report.results.result`, the same result the
section below shows, and is formatted once (:func:`fmt_value`); a headline is written from
the formatted card, so it never says "down from 1,268 to 1,268": two values that look the
same *held*. Headlines are ranked by the size of the change (relative to the comparison
value), the largest first, and each links to the section that shows the number.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ...i18n import MESSAGES, t
from ..html import HtmlBlock, esc, fmt_count, fmt_days, fmt_pct, missing, section_anchor, section_heading, table
from ..results import result

__all__ = [
    "build",
    "Card",
    "CARDS",
    "cards",
    "headlines",
    "cards_html",
    "headlines_html",
    "fmt_value",
    "fmt_change",
    "HEADLINES",
    "numbers_html",
]

#: at most this many headlines, at least ``HEADLINES[0]`` when as many cards can be compared
HEADLINES = (3, 5)

Getter = Callable[[Mapping[str, Any]], Any]


def _key(name: str) -> Getter:
    return lambda obj: obj.get(name)


def _a_customers(obj: Mapping[str, Any]) -> Any:
    """The A tier's customers. (Its share of value is the A threshold by construction of ABC,
    80 % give or take one customer, so it says nothing; how many customers it takes does.)"""
    if not obj.get("total_value"):
        return None  # with no value everyone is C: no A tier to count
    return next((e.get("customers") for e in obj.get("tiers") or [] if e["tier"] == "A"), None)


#: lifecycle states that count as active customers (bought within the active window or
#: just started or came back)
ACTIVE_STATES = ("new", "active", "reactivated")


def _active(obj: Mapping[str, Any]) -> Any:
    states = obj.get("states") or []
    values = [s.get("customers") for s in states if s["state"] in ACTIVE_STATES]
    if not values or any(missing(v) for v in values):
        return None
    return sum(values)


@dataclass(frozen=True)
class Card:
    """One key number: where it comes from, how it reads, what it needs, where it is shown.

    ``metric``/``value``: the report result (:mod:`crmreview.report.results`) and how to read
    the number from it; ``kind``: money, money_per_day, rate, days or count; ``section``: the
    section that shows it (the headline's link); ``needs``: warehouse inputs without which the
    card is left out; ``only_without``: a secondary card shown only when this input is
    missing (deals created in a warehouse without orders); ``better``: +1 when a rise is
    good, -1 when a fall is, 0 when neither; ``warnings``: the metric warning codes that
    qualify this number (shown on the card)."""

    key: str
    group: str
    metric: str
    value: Getter
    kind: str
    section: str
    needs: tuple[str, ...]
    better: int = 1
    warnings: tuple[str, ...] = ()
    only_without: str | None = None


CARDS: tuple[Card, ...] = (
    Card("won_amount", "pipeline", "funnel", _key("won_amount"), "money", "funnel",
         ("deals", "deals.closed_at", "deals.amount"), warnings=("small_sample",)),
    Card("win_rate", "pipeline", "funnel", _key("win_rate"), "rate", "funnel",
         ("deals", "deals.closed_at"), warnings=("no_lost_deals", "small_sample")),
    Card("median_cycle_days", "pipeline", "funnel", _key("median_cycle_days"), "days", "funnel",
         ("deals", "deals.closed_at", "deals.created_at"), better=-1, warnings=("small_sample",)),
    Card("open_amount", "pipeline", "funnel", _key("open_amount"), "money", "funnel", ("deals", "deals.amount"),
         warnings=("deals_missing",)),
    Card("pipeline_velocity", "pipeline", "funnel", _key("pipeline_velocity"), "money_per_day", "funnel",
         ("deals", "deals.amount", "deals.created_at", "deals.closed_at"), warnings=("no_lost_deals", "small_sample")),
    Card("deals_created", "pipeline", "funnel", _key("cohort_deals"), "count", "funnel",
         ("deals", "deals.created_at"), only_without="orders"),
    Card("attainment", "pipeline", "followup", _key("attainment"), "rate", "followup", ("targets", "deals")),
    Card("net_revenue", "customers", "repurchase", _key("net_revenue"), "money", "repurchase", ("orders",)),
    Card("buyers", "customers", "repurchase", _key("customers_purchasing"), "count", "repurchase", ("orders",),
         only_without="deals"),
    Card("active_customers", "customers", "churn", _active, "count", "churn", ("orders",)),
    Card("repeat_rate", "customers", "repurchase", _key("repeat_rate"), "rate", "repurchase", ("orders",)),
    Card("churn_rate", "customers", "churn", _key("churn_rate"), "rate", "churn", ("orders",), better=-1),
    Card("nrr", "customers", "retention", _key("nrr"), "rate", "retention", ("orders",)),
    Card("a_customers", "customers", "tiers", _a_customers, "count", "tiers", ("orders|deals.amount",), better=0),
    Card("compliance", "customers", "followup", _key("compliance"), "rate", "followup", ("activities",)),
)  # fmt: skip


# -- numbers, formatted once -------------------------------------------------------------


def fmt_value(kind: str, value: float | None, lang: str, currency: str = "") -> str:
    """A card's number as the reader sees it: money with the currency (in Chinese from
    10,000 up in 万), rates in %, days and counts with thousands separators; "–" for none."""
    if missing(value):
        return "–"
    if kind in ("money", "money_per_day"):
        if lang == "zh" and abs(value) >= 10_000:
            amount = f"{value / 10_000:,.1f}万"
        else:
            amount = f"{value:,.0f}"
        text = f"{currency}{amount}" if len(currency) == 1 else (f"{amount} {currency}" if currency else amount)
        return text + (t("summary.per_day", lang) if kind == "money_per_day" else "")
    if kind == "rate":
        return fmt_pct(value)
    if kind == "days":
        return fmt_days(value) + t("summary.days_unit", lang)
    return fmt_count(value)


def fmt_change(kind: str, now: float | None, before: float | None, lang: str) -> str:
    """The change from ``before`` to ``now``: for a rate, the difference of the percentages as
    shown (32% and 28% differ by +4 pp, never by a number the reader cannot check), for the
    rest per cent; "" when either is missing or ``before`` is 0 (no relative change)."""
    if missing(now) or missing(before):
        return ""
    if kind == "rate":
        points = int(fmt_pct(now).rstrip("%")) - int(fmt_pct(before).rstrip("%"))
        text = f"{points:+d}" if points else "±0"
        return t("summary.points", lang, value=text.replace("-", "−"))
    if before == 0:
        return ""
    rel = (now - before) / abs(before)
    text = f"{rel:+.0%}" if round(abs(rel) * 100) >= 1 or rel == 0 else f"{rel:+.1%}"
    return text.replace("-", "−")


def _direction(shown_now: str, shown_before: str, now: float, before: float) -> str:
    """rose, fell or held, from the numbers as shown: two values that read the same held."""
    if shown_now == shown_before:
        return "held"
    return "rose" if now > before else "fell"


def cards(
    results: Mapping[str, tuple[Mapping[str, Any], Mapping[str, Any] | None]],
    missing_inputs: Callable[[tuple[str, ...]], list[str]],
    lang: str,
    currency: str = "",
) -> list[dict[str, Any]]:
    """The cards the data support, in :data:`CARDS` order, each a dict: ``key``, ``group``,
    ``section``, ``kind``, ``better``, ``now``/``before`` (numbers or None), ``shown_now``,
    ``shown_before``, ``change`` (text), ``direction`` (rose, fell, held, or None when not
    comparable), ``size`` (|relative change|, None when not comparable) and ``warnings``
    (``{"code", "params"}`` of the metric warnings that qualify it).

    ``results``: metric name -> (this period's result, the comparison's or None);
    ``missing_inputs``: the review's ``missing`` (the needs the warehouse lacks).
    """
    out = []
    for card in CARDS:
        if card.metric not in results or missing_inputs(card.needs):
            continue
        if card.only_without is not None and not missing_inputs((card.only_without,)):
            continue
        current, previous = results[card.metric]
        now = card.value(current)
        before = card.value(previous) if previous else None
        now = None if missing(now) else float(now)
        before = None if missing(before) else float(before)
        shown_now, shown_before = (
            fmt_value(card.kind, now, lang, currency),
            fmt_value(card.kind, before, lang, currency),
        )
        comparable = now is not None and before is not None
        size = None  # |relative change|: none from a comparison value of 0
        if comparable and shown_now == shown_before:
            size = 0.0
        elif comparable and before != 0:
            size = abs(now - before) / abs(before)
        out.append(
            {
                "key": card.key,
                "group": card.group,
                "section": card.section,
                "kind": card.kind,
                "better": card.better,
                "now": now,
                "before": before,
                "shown_now": shown_now,
                "shown_before": shown_before,
                "change": fmt_change(card.kind, now, before, lang) if comparable and shown_now != shown_before else "",
                "direction": _direction(shown_now, shown_before, now, before) if comparable else None,
                "size": size,
                "warnings": [
                    {"code": w["code"], "params": w.get("params", {})}
                    for w in current.get("warnings") or []
                    if w["code"] in card.warnings
                ],
            }
        )
    return out


def headlines(shown: Sequence[Mapping[str, Any]], compare_label: str, lang: str) -> list[dict[str, str]]:
    """Three to five sentences on what changed most, from the cards (never a number that is
    not on a card): the cards whose change can be measured, ranked by its size (ties: the
    card order); when fewer than three changed, the largest cards that held fill up to three.
    A card with warnings gives a headline that points to them. Each: ``{"text", "section",
    "key"}``; an empty list when nothing can be compared.
    """
    low, high = HEADLINES
    measured = [c for c in shown if c["size"] is not None]
    order = {id(c): i for i, c in enumerate(shown)}
    changed = sorted((c for c in measured if c["direction"] != "held"), key=lambda c: (-c["size"], order[id(c)]))
    held = [c for c in measured if c["direction"] == "held"]
    chosen = changed[:high] + held[: max(0, low - len(changed[:high]))]
    out = []
    for c in chosen:
        label = t(f"summary.card.{c['key']}", lang)
        fields = {
            "label": label,
            "now": c["shown_now"],
            "before": c["shown_before"],
            "change": c["change"],
            "compare": compare_label,
        }
        text = t(f"summary.say.{c['direction']}", lang, **fields)
        if c["warnings"]:  # a number a warning qualifies is not repeated without it
            text += " " + t("summary.say.warned", lang)
        out.append({"text": text, "section": c["section"], "key": c["key"]})
    return out


# -- HTML --------------------------------------------------------------------------------

_STYLE = """<style>
.crm-cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(165px, 1fr)); gap: 8px; margin: 4px 0 10px; }
.crm-card { border: 1px solid #e5e7eb; border-radius: 6px; padding: 6px 10px; background: #fafafa; break-inside: avoid; }
.crm-card .crm-card-label { font-size: 0.85em; font-weight: 600; line-height: 1.2; }
.crm-card .crm-card-label a { color: #1f2937; text-decoration: none; }
.crm-card .crm-card-hint { font-size: 0.72em; color: #6b7280; line-height: 1.2; }
.crm-card .crm-card-value { font-size: 1.4em; font-weight: 600; margin: 1px 0; white-space: nowrap; }
.crm-card .crm-card-before { font-size: 0.78em; color: #6b7280; line-height: 1.25; }
.crm-card .good { color: #15803d; } .crm-card .bad { color: #b91c1c; } .crm-card .neutral { color: #374151; }
.crm-card .crm-warning { font-size: 0.75em; margin: 3px 0 0; line-height: 1.25; }
.crm-summary h3 { margin: 8px 0 4px; font-size: 1.05em; }
.crm-toc ol { columns: 3; margin: 4px 0 12px; }
.crm-question { color: #4b5563; font-style: italic; margin-top: -4px; }
.crm-headlines li { margin: 2px 0; }
</style>"""


def _tone(card: Mapping[str, Any]) -> str:
    if card["direction"] in (None, "held") or not card["better"]:
        return "neutral"
    rising = card["direction"] == "rose"
    return "good" if rising == (card["better"] > 0) else "bad"


def _arrow(card: Mapping[str, Any]) -> str:
    return {"rose": "▲", "fell": "▼", "held": "＝"}.get(card["direction"] or "", "")


def cards_html(shown: Sequence[Mapping[str, Any]], compare_label: str, lang: str, *, a_share: float = 0.8) -> str:
    """The cards grouped (pipeline, customers), each with its number, the comparison's, the
    change and its warnings; ``a_share`` is the ABC threshold the A tier's hint names."""
    parts = []
    for group in ("pipeline", "customers"):
        members = [c for c in shown if c["group"] == group]
        if not members:
            continue
        items = []
        for c in members:
            if c["direction"] is None:
                before = t("summary.no_compare", lang, compare=compare_label)
            elif c["direction"] == "held":
                before = t("summary.held_card", lang, compare=compare_label, before=c["shown_before"])
            else:
                before = t("summary.before_card", lang, compare=compare_label, before=c["shown_before"])
            change = f'<span class="{_tone(c)}">{_arrow(c)} {esc(c["change"])}</span> ' if c["direction"] else ""
            warned = "".join(
                f'<p class="crm-warning"><strong>⚠</strong> {esc(t("warning." + w["code"], lang, **w["params"]))}</p>'
                for w in c["warnings"]
            )
            hint_key = f"summary.hint.{c['key']}"
            hint_text = t(hint_key, lang, a_share=fmt_pct(a_share)) if hint_key in MESSAGES else ""
            hint = f'<div class="crm-card-hint">{esc(hint_text)}</div>' if hint_text else ""
            items.append(
                f'<div class="crm-card" data-card="{esc(c["key"])}">'
                f'<div class="crm-card-label"><a href="#{section_anchor(c["section"])}">'
                f"{esc(t('summary.card.' + c['key'], lang))}</a></div>{hint}"
                f'<div class="crm-card-value">{esc(c["shown_now"])}</div>'
                f'<div class="crm-card-before">{change}{esc(before)}</div>{warned}</div>'
            )
        parts.append(
            f'<h3>{esc(t("summary.group." + group, lang))}</h3>\n<div class="crm-cards">{"".join(items)}</div>'
        )
    return "\n".join(parts)


def headlines_html(said: Sequence[Mapping[str, str]], lang: str) -> str:
    """The headlines as a list, each ending with a link to the section that shows its number."""
    if not said:
        return ""
    items = "".join(
        f'<li>{esc(h["text"])} <a href="#{section_anchor(h["section"])}">'
        f"→ {esc(t('section.' + h['section'] + '.title', lang))}</a></li>"
        for h in said
    )
    return f'<h3>{esc(t("summary.headlines", lang))}</h3>\n<ul class="crm-headlines">{items}</ul>'


def _results(
    con: Any, review: Any, section: str | None = None
) -> dict[str, tuple[Mapping[str, Any], Mapping[str, Any] | None]]:
    """The results the cards (of ``section``, or all) read, for the metrics whose inputs the
    warehouse holds."""
    wanted = {
        card.metric for card in CARDS if not review.missing(card.needs) and (section is None or card.section == section)
    }
    return {name: (result(con, review, name), result(con, review, name, "previous")) for name in sorted(wanted)}


def numbers_html(con: Any, review: Any, section: str) -> str:
    """The cards that link to ``section`` as a table at its top: the number, the comparison's
    and the change, exactly as the summary shows them ("" when none links there)."""
    lang = review.lang
    shown = [
        c
        for c in cards(_results(con, review, section), review.missing, lang, review.settings.currency)
        if c["section"] == section
    ]
    if not shown:
        return ""
    held = t("summary.unchanged", lang)
    rows = [
        [
            t(f"summary.card.{c['key']}", lang),
            c["shown_now"],
            c["shown_before"],
            held if c["direction"] == "held" else c["change"] or "–",
        ]
        for c in shown
    ]
    headers = [t("kpi.metric", lang), review.ctx.period_label, review.ctx.compare_label, t("summary.change", lang)]
    return table(headers, rows, numeric=(1, 2, 3), css_class="crm-table crm-numbers")


def build(con: Any, review: Any) -> list[HtmlBlock]:
    """Heading, the cards and the headlines of ``review``."""
    lang = review.lang
    shown = cards(_results(con, review), review.missing, lang, review.settings.currency)
    said = headlines(shown, review.ctx.compare_label, lang)
    a_share = review.settings.tier_a_share
    body = (
        cards_html(shown, review.ctx.compare_label, lang, a_share=a_share)
        if shown
        else f"<p>{esc(t('summary.empty', lang))}</p>"
    )
    if shown and not said:
        body += f"\n<p>{esc(t('summary.nothing_compared', lang, compare=review.ctx.compare_label))}</p>"
    return [
        HtmlBlock(
            f'{_STYLE}\n<div class="crm-summary">{section_heading("summary", lang)}\n{body}\n'
            f"{headlines_html(said, lang)}</div>"
        )
    ]
