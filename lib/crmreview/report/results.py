"""The metric results a report shows, computed once per review and shared by its sections.

The executive summary states numbers that the sections below it show again (the win rate,
the churn rate, the A tier's share of value …). Both read them from here, so a number in a
sentence is the number in the chart: :func:`result` computes a metric for the review's
period or its comparison once, annotates it (``data_span``, ``missing_inputs``,
``warnings``, numbers resting on a missing input set to null; :mod:`crmreview.metrics.inputs`)
and keeps it in ``review.notes`` for every later section.

The funnel of both periods is the review's own (``review.current`` / ``review.previous``).

Sections also hand their technical detail (the counting rule, thresholds, definitions) to
the appendix here (:func:`define`), so the body says what the numbers mean and the appendix
how they are counted.

Owners are shown the same way in every table and sentence: :func:`rep_labels` gives each
rep id its label ("Name (id)", the id alone when the rep has no name).

Public names: ``result``, ``define``, ``definitions``, ``rep_labels``, ``OPTIONS``,
``PREVIOUS_OPTIONS``.
"""

from __future__ import annotations

from typing import Any

from .. import queries
from ..metrics import metric
from ..metrics.inputs import annotate

__all__ = ["result", "define", "definitions", "rep_labels", "OPTIONS", "PREVIOUS_OPTIONS"]

#: the options each metric is computed with in a report, the same for every section that
#: reads it (the churn section's risk list of 50 and the purchase model included)
OPTIONS: dict[str, dict[str, Any]] = {
    "tiers": {"compare": True},
    "retention": {"compare": True},
    "churn": {"compare": True, "risk_list_length": 50},
    "followup": {},
    "repurchase": {},
    "quality": {},
}
#: what differs for the comparison period (its churn is read for the rate: no list, no model)
PREVIOUS_OPTIONS: dict[str, dict[str, Any]] = {"churn": {"risk_list_length": 0, "model": False}}

_NOTES_KEY = "metric_results"


def result(con: Any, review: Any, name: str, which: str = "current") -> dict[str, Any]:
    """Metric ``name`` for the review's period (``which="current"``) or its comparison
    (``"previous"``), annotated, computed on first use and shared afterwards.

    ``con`` is a read-only connection to the review's warehouse (unused when the result is
    already known). The options are those of :data:`OPTIONS` (``compare`` is the review's
    comparison mode; for the comparison period :data:`PREVIOUS_OPTIONS` override them).
    """
    if which not in ("current", "previous"):
        raise ValueError(f"which must be 'current' or 'previous', got {which!r}")
    if name == "funnel":
        return review.current if which == "current" else review.previous
    if name not in OPTIONS:
        raise ValueError(f"no report options for metric {name!r}; known: funnel, {', '.join(OPTIONS)}")
    cache = review.notes.setdefault(_NOTES_KEY, {})
    key = (name, which)
    if key not in cache:
        if con is None:
            raise ValueError(f"metric {name!r} is not computed yet and no warehouse connection was given")
        entry = metric(name)
        module = entry.load()
        period = review.period if which == "current" else review.comparison
        options = {**OPTIONS[name], **(PREVIOUS_OPTIONS.get(name, {}) if which == "previous" else {})}
        if options.pop("compare", False):
            options["compare"] = review.compare_mode
        computed = getattr(module, entry.function)(con, period, settings=review.settings, **options)
        cache[key] = annotate(con, module.INPUTS, computed, period, settings=review.settings, inv=review.inventory)
    return cache[key]


def define(review: Any, section: str, *texts: str) -> None:
    """Hand the appendix the definitions behind ``section``'s numbers (replacing what the
    section handed before, so building a section twice does not repeat them)."""
    review.notes.setdefault("definitions", {})[section] = [text for text in texts if text]


def definitions(review: Any) -> dict[str, list[str]]:
    """Section name -> the definitions it handed over, in the order the sections were built."""
    return {name: texts for name, texts in review.notes.get("definitions", {}).items() if texts}


def rep_labels(con: Any, review: Any) -> dict[str, str]:
    """Rep id -> how the report names the rep (``queries/report/rep_names.sql``), read once."""
    if "rep_labels" not in review.notes:
        frame = queries.run(con, "report/rep_names", {})
        review.notes["rep_labels"] = dict(frame.itertuples(index=False, name=None))
    return review.notes["rep_labels"]
