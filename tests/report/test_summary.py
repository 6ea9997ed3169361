"""The executive summary: which cards the data support, how numbers and changes read, and
headlines that never contradict their numbers (fixtures of a few values, answers by hand)."""

from __future__ import annotations

import re

import pytest

from crmreview.report.sections.contents import contents_html
from crmreview.report.sections.summary import cards, cards_html, fmt_change, fmt_value, headlines, headlines_html

# funnel and shop results written out by hand (only the keys the cards read)
FUNNEL_NOW = {
    "won_amount": 1_200_000.0,
    "win_rate": 0.32,
    "median_cycle_days": 41.0,
    "open_amount": 500_000.0,
    "pipeline_velocity": 6829.27,
    "cohort_deals": 300,
    "warnings": [{"code": "no_lost_deals", "params": {}}, {"code": "history_inferred", "params": {"deals": 3}}],
}
FUNNEL_BEFORE = {
    "won_amount": 1_000_000.0,  # +20 %
    "win_rate": 0.32,  # held
    "median_cycle_days": 50.0,  # -18 %
    "open_amount": 500_000.0,  # held
    "pipeline_velocity": None,  # not comparable
    "cohort_deals": 250,  # +20 %
}
REPURCHASE_NOW = {"net_revenue": 90_000.0, "customers_purchasing": 120, "repeat_rate": 0.25}
REPURCHASE_BEFORE = {"net_revenue": 100_000.0, "customers_purchasing": 100, "repeat_rate": 0.2}


def lacking(*absent):
    """A ``review.missing`` for a warehouse without the inputs ``absent``."""
    return lambda needs: [n for n in needs if any(part in absent for part in n.split("|"))]


def pipeline_cards(lang="en", currency="¥"):
    results = {"funnel": (FUNNEL_NOW, FUNNEL_BEFORE)}
    return cards(results, lacking("orders", "targets", "activities"), lang, currency)


# -- formatting ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "value", "lang", "currency", "shown"),
    [
        ("money", 1_234_567.0, "en", "¥", "¥1,234,567"),
        ("money", 1_234_567.0, "zh", "¥", "¥123.5万"),
        ("money", 9_999.0, "zh", "¥", "¥9,999"),
        ("money", 1_500.0, "en", "EUR", "1,500 EUR"),
        ("money", 1_500.0, "en", "", "1,500"),
        ("money_per_day", 6829.27, "en", "$", "$6,829/day"),
        ("rate", 0.316, "en", "¥", "32%"),
        ("days", 41.5, "en", "¥", "41.5 days"),
        ("days", 41.0, "zh", "¥", "41 天"),
        ("count", 1268, "en", "¥", "1,268"),
        ("money", None, "en", "¥", "–"),
        ("rate", float("nan"), "en", "¥", "–"),
    ],
)
def test_a_card_number_reads_with_its_currency_unit_and_wan_in_chinese(kind, value, lang, currency, shown):
    assert fmt_value(kind, value, lang, currency) == shown


@pytest.mark.parametrize(
    ("kind", "now", "before", "lang", "change"),
    [
        ("rate", 0.32, 0.28, "en", "+4 pp"),
        ("rate", 0.28, 0.32, "zh", "−4 个百分点"),
        ("rate", 0.184, 0.104, "en", "+8 pp"),  # 18% and 10% as shown: +8, not +7.7
        ("rate", 0.3201, 0.32, "en", "±0 pp"),
        ("money", 120.0, 100.0, "en", "+20%"),
        ("count", 99.0, 100.0, "en", "−1%"),
        ("count", 1001.0, 1000.0, "en", "+0.1%"),
        ("money", 50.0, 0.0, "en", ""),  # no relative change from 0
        ("money", None, 100.0, "en", ""),
        ("rate", 0.3, None, "en", ""),
    ],
)
def test_a_change_is_in_points_between_the_shown_rates_and_per_cent_otherwise(kind, now, before, lang, change):
    assert fmt_change(kind, now, before, lang) == change


# -- which cards -----------------------------------------------------------------------------


def test_a_pipeline_gets_deal_cards_and_a_shop_gets_customer_cards():
    assert [c["key"] for c in pipeline_cards()] == [
        "won_amount",
        "win_rate",
        "median_cycle_days",
        "open_amount",
        "pipeline_velocity",
        "deals_created",  # a pipeline without orders also counts its new deals
    ]
    shop = cards(
        {"repurchase": (REPURCHASE_NOW, REPURCHASE_BEFORE), "funnel": ({}, {})},
        lacking("deals", "targets", "activities"),
        "en",
        "¥",
    )
    assert [c["key"] for c in shop] == ["net_revenue", "buyers", "repeat_rate"]


def test_a_card_needing_a_missing_column_is_left_out():
    no_amounts = cards({"funnel": (FUNNEL_NOW, FUNNEL_BEFORE)}, lacking("orders", "deals.amount"), "en")
    assert [c["key"] for c in no_amounts] == ["win_rate", "median_cycle_days", "deals_created"]


def test_a_card_carries_the_warnings_that_qualify_its_number_and_no_others():
    by_key = {c["key"]: c for c in pipeline_cards()}
    assert [w["code"] for w in by_key["win_rate"]["warnings"]] == ["no_lost_deals"]
    assert by_key["won_amount"]["warnings"] == []  # history_inferred does not qualify a sum of won amounts
    html = cards_html(list(by_key.values()), "2026Q2", "en")
    win_rate_card = re.search(r'<div class="crm-card" data-card="win_rate">.*?</div></div>', html).group(0)
    assert "No deal in the data is lost" in win_rate_card


def test_equal_values_held_and_a_missing_comparison_is_not_compared():
    by_key = {c["key"]: c for c in pipeline_cards()}
    assert by_key["win_rate"]["direction"] == "held" and by_key["win_rate"]["change"] == ""
    assert by_key["median_cycle_days"]["direction"] == "fell"
    assert by_key["pipeline_velocity"]["direction"] is None and by_key["pipeline_velocity"]["size"] is None


def test_values_that_differ_below_the_shown_precision_held():
    # 31.6 % and 32.4 % both read 32 %: the card and any sentence say it held
    (card,) = [
        c
        for c in cards({"funnel": ({"win_rate": 0.316}, {"win_rate": 0.324})}, lacking("orders"), "en")
        if c["key"] == "win_rate"
    ]
    assert (card["shown_now"], card["shown_before"], card["direction"], card["size"]) == ("32%", "32%", "held", 0.0)


# -- headlines --------------------------------------------------------------------------------


def test_headlines_rank_the_largest_changes_first_and_name_the_card_numbers():
    said = headlines(pipeline_cards(), "2026Q2", "en")
    # won amount +20 % and deals created +20 % tie (card order), the cycle -18 %; nothing else changed
    assert [h["key"] for h in said] == ["won_amount", "deals_created", "median_cycle_days"]
    assert said[0]["text"] == "Won revenue rose from ¥1,000,000 in 2026Q2 to ¥1,200,000 (+20%)."
    assert said[2]["text"] == "Median sales cycle fell from 50 days in 2026Q2 to 41 days (−18%)."
    assert [h["section"] for h in said] == ["funnel", "funnel", "funnel"]


def test_with_fewer_than_three_changes_the_held_numbers_fill_in_and_say_they_held():
    before = {**FUNNEL_NOW, "won_amount": 1_100_000.0}  # only won revenue changed
    said = headlines(cards({"funnel": (FUNNEL_NOW, before)}, lacking("orders"), "en"), "2026Q2", "en")
    assert [h["key"] for h in said] == ["won_amount", "win_rate", "median_cycle_days"]
    # the win rate is qualified by a warning (no lost deals): its headline points to it
    assert said[1]["text"] == "Win rate held at 32%, as in 2026Q2. (read it with the warning on its card)"


def test_a_headline_never_says_down_from_a_number_to_the_same_number():
    equal = {"net_revenue": 1268.0, "customers_purchasing": 1268, "repeat_rate": 0.5}
    shown = cards({"repurchase": (equal, dict(equal))}, lacking("deals"), "en")
    for lang in ("en", "zh"):
        for h in headlines(cards({"repurchase": (equal, dict(equal))}, lacking("deals"), lang), "2026Q2", lang):
            assert "rose" not in h["text"] and "fell" not in h["text"] and "下降" not in h["text"]
            assert h["text"].count("1,268") <= 1
    assert {c["direction"] for c in shown} == {"held"}


def test_the_direction_word_follows_the_numbers_in_both_languages():
    now, before = {"repeat_rate": 0.2}, {"repeat_rate": 0.25}
    (en,) = headlines(cards({"repurchase": (now, before)}, lacking("deals"), "en"), "2026Q2", "en")
    (zh,) = headlines(cards({"repurchase": (now, before)}, lacking("deals"), "zh"), "2026Q2", "zh")
    assert en["text"] == "Repeat rate fell from 25% in 2026Q2 to 20% (−5 pp)."
    assert zh["text"] == "复购率从2026Q2的 25% 下降到 20%（−5 个百分点）。"


def test_empty_and_null_numbers_make_no_headline():
    nothing = {"net_revenue": None, "customers_purchasing": None, "repeat_rate": None}
    shown = cards({"repurchase": (nothing, nothing)}, lacking("deals"), "en")
    assert [c["shown_now"] for c in shown] == ["–", "–", "–"]
    assert headlines(shown, "2026Q2", "en") == []
    assert headlines([], "2026Q2", "en") == [] and headlines_html([], "en") == ""


def test_a_change_from_zero_is_shown_on_the_card_but_not_ranked():
    shown = cards({"repurchase": ({"net_revenue": 500.0}, {"net_revenue": 0.0})}, lacking("deals"), "en")
    (revenue,) = [c for c in shown if c["key"] == "net_revenue"]
    assert revenue["direction"] == "rose" and revenue["size"] is None
    assert [h["key"] for h in headlines(shown, "2026Q2", "en")] == []


def test_each_headline_links_to_the_section_that_shows_its_number():
    html = headlines_html(headlines(pipeline_cards(), "2026Q2", "en"), "en")
    assert html.count('href="#section-funnel"') == 3 and "→ Funnel" in html


def test_at_most_five_headlines_the_largest_changes():
    now = dict.fromkeys(("net_revenue", "customers_purchasing"), 200.0)
    funnel_now = dict.fromkeys(("won_amount", "median_cycle_days", "open_amount", "pipeline_velocity"), 200.0)
    funnel_before = dict.fromkeys(funnel_now, 100.0)
    shown = cards(
        {
            "funnel": (funnel_now, funnel_before),
            "repurchase": (now, dict.fromkeys(now, 100.0)),
            "followup": ({"attainment": 0.9}, {"attainment": 0.3}),
        },
        lacking("activities"),
        "en",
    )
    assert len([c for c in shown if c["direction"] == "rose"]) == 6
    said = headlines(shown, "2026Q2", "en")
    # attainment 30 % -> 90 % (+200 %) first; five of the +100 % changes in card order
    assert [h["key"] for h in said] == [
        "attainment",
        "won_amount",
        "median_cycle_days",
        "open_amount",
        "pipeline_velocity",
    ]


# -- contents ---------------------------------------------------------------------------------


def test_the_contents_link_every_section_and_mark_those_the_data_cannot_show():
    html = contents_html(("summary", "funnel", "repurchase", "appendix"), lacking("orders"), "en")
    assert re.findall(r'href="#section-(\w+)"', html) == ["summary", "funnel", "repurchase", "appendix"]
    assert html.count("not in the data") == 1 and "Repurchase</a> <small>(not in the data)" in html


def test_the_a_tier_card_counts_its_customers_and_none_when_nothing_has_value():
    now = {"total_value": 1000.0, "tiers": [{"tier": "A", "customers": 3}, {"tier": "B", "customers": 5}]}
    before = {"total_value": 0.0, "tiers": [{"tier": "A", "customers": 0}, {"tier": "C", "customers": 8}]}
    (card,) = cards({"tiers": (now, before)}, lacking(), "en")
    assert (card["key"], card["shown_now"], card["shown_before"], card["direction"]) == ("a_customers", "3", "–", None)
    html = cards_html([card], "2026Q2", "en", a_share=0.75)
    assert "the fewest customers who bring 75% of the 12-month value" in html
