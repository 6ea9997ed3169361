"""The metrics registry: every entry points at a module that keeps the metric contract."""

from __future__ import annotations

import inspect

import pytest

from crmreview import metrics
from crmreview.metrics import REGISTRY, common
from crmreview.periods import parse_period


@pytest.mark.parametrize("name", list(REGISTRY))
def test_every_registered_metric_module_provides_the_function_breakdowns_rows_and_summary(name):
    entry = REGISTRY[name]
    module = entry.load()
    function = getattr(module, entry.function)
    parameters = inspect.signature(function).parameters
    assert list(parameters)[:2] == ["con", "period"]
    assert {"settings", "by"} <= set(parameters)
    assert set(entry.breakdowns) <= set(common.ALL_BREAKDOWNS)
    assert callable(module.rows) and callable(module.summary)


@pytest.mark.parametrize(("name", "option"), [(e.name, o) for e in REGISTRY.values() for o in e.options])
def test_every_registered_option_is_a_keyword_of_the_metric_with_the_declared_default(name, option):
    function = getattr(REGISTRY[name].load(), REGISTRY[name].function)
    parameter = inspect.signature(function).parameters[option.name]
    assert parameter.kind is inspect.Parameter.KEYWORD_ONLY
    assert parameter.default == option.default and (option.choices is None or option.default in option.choices)


def test_an_unknown_metric_names_the_registered_ones():
    with pytest.raises(metrics.MetricError, match="unknown metric 'pipeline'; expected one of: funnel, tiers"):
        metrics.metric("pipeline")


def test_an_option_value_outside_its_choices_is_a_clear_error(empty_warehouse):
    with pytest.raises(
        metrics.MetricError, match="metric 'funnel' option 'rule' is 'loose'; expected one of: furthest"
    ):
        metrics.compute(empty_warehouse, "funnel", parse_period("2026Q3"), rule="loose")


def test_metrics_sharing_an_option_name_declare_the_same_option():
    declared: dict[str, set] = {}
    for entry in REGISTRY.values():
        for option in entry.options:
            declared.setdefault(option.name, set()).add(option)
    assert all(len(options) == 1 for options in declared.values())  # one --flag on the command line each
