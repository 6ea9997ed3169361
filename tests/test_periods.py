from datetime import date

import pytest

from crmreview.periods import ACCEPTED_FORMS, PeriodError, parse_period, relative_period


@pytest.mark.parametrize(
    ("text", "kind", "start", "end"),
    [
        ("2026Q3", "quarter", date(2026, 7, 1), date(2026, 9, 30)),
        ("2026q1", "quarter", date(2026, 1, 1), date(2026, 3, 31)),
        ("2026-07", "month", date(2026, 7, 1), date(2026, 7, 31)),
        ("2024-02", "month", date(2024, 2, 1), date(2024, 2, 29)),
        ("2026", "year", date(2026, 1, 1), date(2026, 12, 31)),
        ("2026-07-01..2026-09-30", "range", date(2026, 7, 1), date(2026, 9, 30)),
        (" 2026Q4 ", "quarter", date(2026, 10, 1), date(2026, 12, 31)),
    ],
)
def test_each_accepted_form_parses_to_its_closed_date_range(text, kind, start, end):
    period = parse_period(text)
    assert (period.kind, period.start, period.end, period.as_of) == (kind, start, end, end)


def test_last_quarter_and_last_month_are_relative_to_today():
    today = date(2026, 11, 22)
    assert parse_period("last-quarter", today=today).label == "2026Q3"
    assert parse_period("last-month", today=today).label == "2026-10"
    assert parse_period("last-quarter", today=date(2026, 2, 1)).label == "2025Q4"
    assert parse_period("last-month", today=date(2026, 1, 31)).label == "2025-12"


def test_previous_period_has_the_same_kind():
    assert parse_period("2026Q1").compare("prev").label == "2025Q4"
    assert parse_period("2026-03").compare("prev").label == "2026-02"
    assert parse_period("2026").compare("prev").label == "2025"
    previous = parse_period("2026-07-01..2026-07-10").compare("prev")
    assert (previous.start, previous.end) == (date(2026, 6, 21), date(2026, 6, 30))


def test_year_over_year_is_the_same_period_a_year_earlier():
    assert parse_period("2026Q3").compare("yoy").label == "2025Q3"
    feb = parse_period("2024-02").compare("yoy")
    assert (feb.start, feb.end) == (date(2023, 2, 1), date(2023, 2, 28))
    span = parse_period("2024-02-29..2024-03-01").compare("yoy")
    assert (span.start, span.end) == (date(2023, 2, 28), date(2023, 3, 1))


def test_as_of_overrides_the_last_day():
    period = parse_period("2026Q3", as_of=date(2026, 8, 15))
    assert period.as_of == date(2026, 8, 15) and period.end == date(2026, 9, 30)


@pytest.mark.parametrize("text", ["2026Q5", "2026-13", "Q3 2026", "2026-09-30..2026-07-01", "", "lastquarter"])
def test_invalid_text_is_an_error_listing_the_accepted_forms(text):
    with pytest.raises(PeriodError) as info:
        parse_period(text)
    message = str(info.value)
    assert repr(text) in message
    for form in ACCEPTED_FORMS:
        assert form in message


def test_an_unknown_comparison_is_an_error():
    with pytest.raises(PeriodError, match="prev, yoy"):
        parse_period("2026Q3").compare("mom")


def test_last_week_is_monday_to_sunday_of_the_week_before():
    # 2026-11-30 is a Monday: the week before runs Monday 23 to Sunday 29 November
    week = parse_period("last-week", today=date(2026, 11, 30))
    assert (week.kind, week.start, week.end, week.as_of) == (
        "range",
        date(2026, 11, 23),
        date(2026, 11, 29),
        date(2026, 11, 29),
    )
    # any day of that week gives the same week; a Sunday still looks at the week before its own
    assert parse_period("last-week", today=date(2026, 12, 6)) == week
    assert parse_period("last-week", today=date(2026, 11, 29)).start == date(2026, 11, 16)
    # across a year end; the label reads back as the same period
    new_year = parse_period("last-week", today=date(2027, 1, 4))
    assert (new_year.start, new_year.end) == (date(2026, 12, 28), date(2027, 1, 3))
    assert parse_period(new_year.label) == new_year
    # its comparison is the week before it
    assert (week.compare("prev").start, week.compare("prev").end) == (date(2026, 11, 16), date(2026, 11, 22))


def test_month_to_date_runs_from_the_first_to_the_day_itself():
    mtd = parse_period("month-to-date", today=date(2026, 11, 18))
    assert (mtd.kind, mtd.start, mtd.end, mtd.days) == ("range", date(2026, 11, 1), date(2026, 11, 18), 18)
    assert mtd.label == "2026-11-01..2026-11-18"
    first = parse_period("month-to-date", today=date(2026, 12, 1))
    assert (first.start, first.end, first.days) == (date(2026, 12, 1), date(2026, 12, 1), 1)


def test_relative_period_refuses_an_unknown_rule():
    with pytest.raises(PeriodError, match="last-week, last-month, last-quarter, month-to-date"):
        relative_period("next-week", date(2026, 11, 30))
