"""The funnel computed in one pass: the trend's periods, a breakdown beside the overall funnel
and a review's two periods give the numbers of the funnel computed period by period."""

from __future__ import annotations

import pandas as pd
import pytest

from crmreview.metrics.funnel import funnel, funnels, groups_frame, stages_frame, trend
from crmreview.periods import parse_period
from crmreview.scope import Scope
from crmreview.warehouse import connect_read

#: what a breakdown adds to the funnel result
BREAKDOWN_KEYS = ("by", "groups")


@pytest.fixture(scope="module")
def fixture_db(funnel_q3_db):
    return funnel_q3_db


@pytest.fixture(scope="module")
def sample(imported_sample):
    export = imported_sample(seed=11, size=0.5)
    return export.db, export.manifest


def _chain(label: str, periods: int):
    chain = [parse_period(label)]
    for _ in range(periods - 1):
        chain.append(chain[-1].compare("prev"))
    return chain[::-1]


def _trend_of_funnels(con, label: str, periods: int, rule: str = "furthest") -> pd.DataFrame:
    """The trend computed the long way: one funnel per period, from the first with data."""
    rows, started = [], False
    for period in _chain(label, periods):
        result = funnel(con, period, rule=rule)
        started = started or bool(result["cohort_deals"] or result["deals_closed"])
        if started:
            rows += [
                {
                    "period": period.label,
                    "stage": stage["stage"],
                    "cohort_deals": result["cohort_deals"],
                    "reached": stage["reached"],
                    "conversion": stage["conversion"],
                    "win_rate": result["win_rate"],
                }
                for stage in result["stages"]
            ]
    return pd.DataFrame(rows).astype({"conversion": "float64", "win_rate": "float64"})


def test_the_trend_on_the_hand_counted_deals_is_each_periods_funnel(fixture_db):
    with connect_read(fixture_db) as con:
        frame = trend(con, parse_period("2026Q3"), periods=4)
        pd.testing.assert_frame_equal(frame, _trend_of_funnels(con, "2026Q3", 4))
    # 2026Q2 as of 06-30: D6 alone, still open at lead (lost 07-25); nothing closed in Q2
    q2 = frame[frame["period"] == "2026Q2"].set_index("stage")
    assert list(q2["reached"]) == [1, 0, 0, 0]
    assert q2["win_rate"].isna().all() and q2.loc["lead", "conversion"] == 0
    q3 = frame[frame["period"] == "2026Q3"].set_index("stage")
    assert list(q3["reached"]) == [7, 5, 3, 1] and set(q3["cohort_deals"]) == {7}


@pytest.mark.parametrize("rule", ["furthest", "strict"])
def test_the_trend_on_the_sample_is_each_periods_funnel(sample, rule):
    db, _ = sample
    with connect_read(db) as con:
        pd.testing.assert_frame_equal(
            trend(con, parse_period("2026Q3"), periods=8, rule=rule), _trend_of_funnels(con, "2026Q3", 8, rule)
        )


def test_the_trend_on_the_sample_has_the_generators_known_totals(sample):
    db, manifest = sample
    with connect_read(db) as con:
        frame = trend(con, parse_period("2026Q3"), periods=8)
    assert list(dict.fromkeys(frame["period"])) == list(manifest["quarters"])
    for label, known in manifest["quarters"].items():
        rows = frame[frame["period"] == label].set_index("stage")
        assert set(rows["cohort_deals"]) == {known["cohort_deals"]}, label
        assert rows["reached"].to_dict() == known["reached"], label
        closed = known["closed_won"] + known["closed_lost"]
        assert rows["win_rate"].iloc[0] == pytest.approx(known["closed_won"] / closed), label


@pytest.mark.parametrize("by", ["rep", "channel", "tier", "pipeline"])
def test_a_breakdown_leaves_the_overall_funnel_as_it_is_without(sample, by):
    db, _ = sample
    period = parse_period("2026Q2")
    with connect_read(db) as con:
        plain = funnel(con, period)
        broken_down = funnel(con, period, by=by)
    assert broken_down["by"] == by and broken_down["groups"]
    assert {k: v for k, v in broken_down.items() if k not in BREAKDOWN_KEYS} == plain


def test_a_reps_group_is_the_funnel_of_the_warehouse_scoped_to_the_rep(sample):
    db, _ = sample
    period = parse_period("2026Q3")
    with connect_read(db) as con:
        groups = {g["group"]: g for g in funnel(con, period, by="rep")["groups"]}
    for rep in sorted(groups)[:3]:
        with connect_read(db, scope=Scope(rep=rep)) as con:
            alone = funnel(con, period)
        group = groups[rep]
        assert group["cohort_deals"] == alone["cohort_deals"] > 0, rep
        assert group["stages"] == alone["stages"], rep
        for key in ("deals_closed", "won", "lost", "win_rate", "open_deals", "median_cycle_days", "biggest_leak"):
            assert group[key] == alone[key], (rep, key)


def test_a_reviews_two_periods_in_one_pass_are_their_funnels(sample):
    db, _ = sample
    this = parse_period("2026Q3")
    periods = [this, this.compare("prev"), this.compare("yoy")]
    with connect_read(db) as con:
        assert funnels(con, periods) == [funnel(con, period) for period in periods]


def test_the_groups_frame_stacks_each_groups_stages_frame(fixture_db):
    with connect_read(fixture_db) as con:
        result = funnel(con, parse_period("2026Q3"), by="rep")
    expected = pd.concat(
        [
            stages_frame(group).assign(
                group=group["group"], small_group=group["small_group"], cohort_deals=group["cohort_deals"]
            )
            for group in result["groups"]
        ],
        ignore_index=True,
    )
    frame = groups_frame(result)
    pd.testing.assert_frame_equal(frame, expected[list(frame.columns)])
    assert list(frame["group"].unique()) == ["R1", "R2", "R3"]
    assert list(frame.loc[frame["group"] == "R1", "reached"]) == [4, 3, 2, 1]
