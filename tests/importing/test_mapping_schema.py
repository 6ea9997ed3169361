"""Mapping files checked against their declared shape (crmreview.importing.mapping_schema):
errors name the file, the key path and its line, the value and what was expected, and
suggest the closest key, table, column or source."""

import pytest

from crmreview.cli import main
from crmreview.importing.mapping import (
    ADAPTERS_DIR,
    BUILTIN_ADAPTERS,
    MappingError,
    builtin_mapping,
    load_mapping,
    parse_mapping,
)
from tests.paths import CORPUS

MAPPING_FILES = [*sorted((ADAPTERS_DIR / "examples").glob("*.yml")), CORPUS / "corpus.yml"]


def _error(text):
    with pytest.raises(MappingError) as info:
        parse_mapping(text, name="my_crm")
    return str(info.value)


@pytest.mark.parametrize("source", BUILTIN_ADAPTERS)
def test_every_built_in_adapter_loads(source):
    assert builtin_mapping(source).feeds


@pytest.mark.parametrize("path", MAPPING_FILES, ids=[p.name for p in MAPPING_FILES])
def test_every_example_mapping_loads(path):
    assert load_mapping(path).feeds


def test_an_unknown_feed_key_names_its_path_and_line_and_suggests_the_closest():
    message = _error("name: my_crm\nfeeds:\n  - table: orders\n    colums: {order_id: 单号}\n")
    assert message.startswith("my_crm: unknown key feeds[0].colums (line 4); did you mean columns? known keys: table,")


def test_an_unknown_key_of_a_column_source_names_the_column():
    message = _error("feeds:\n  - table: orders\n    columns:\n      amount: {colum: 金额}\n")
    assert message.startswith("my_crm: unknown key feeds[0].columns.amount.colum (line 4); did you mean column?")


def test_an_unknown_top_level_key_suggests_the_closest():
    message = _error("stagemap: {赢单: won}\nfeeds: [{table: orders, columns: {order_id: a}}]\n")
    assert message.startswith("my_crm: unknown key stagemap (line 1); did you mean stage_map?")


def test_a_wrong_type_names_its_path_line_value_and_what_was_expected():
    assert _error("feeds:\n  - table: deals\n    header_row: 'x'\n") == (
        "my_crm: feeds[0].header_row (line 3): 'x' is not a whole number "
        "(expected the header's row number, 1 = the first row)"
    )


def test_every_problem_is_listed_in_the_order_of_the_file():
    message = _error(
        "feeds:\n"
        "  - table: orders\n"
        "    combine: add\n"
        "    columns:\n"
        "      order_id: {generate: hash}\n"
        "      amount: true\n"
        "  - table: deals\n"
        "    history: snapshot\n"
    )
    assert message.splitlines() == [
        "my_crm: feeds[0].combine (line 3): 'add' is not one of sum, first, last",
        "my_crm: feeds[0].columns.order_id (line 5): generate: hash needs 'of', the columns whose values make the id",
        "my_crm: feeds[0].columns.amount (line 6): True is not a column name, an expression or a mapping",
        "my_crm: feeds[1].history (line 8): 'snapshot' is not one of auto, snapshots, none; did you mean snapshots?",
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "my_crm: the file is empty (expected a mapping with a name and a list of feeds)"),
        ("name: x\n", "my_crm: feeds (line 1): is missing (expected a list of feeds, each with table and columns)"),
        ("feeds: []\n", "my_crm: feeds (line 1): needs at least 1 item"),
        ("feeds: [{columns: {deal_id: a}}]\n", "my_crm: feeds[0].table (line 1): is missing"),
        (
            "feeds: [{table: deals, columns: {deal_id: {column: a, value: b}}}]\n",
            "feeds[0].columns.deal_id (line 1): needs exactly one of column, expr, value, generate",
        ),
        (
            "feeds: [{table: deals, columns: {deal_id: {column: a, optional: 1}}}]\n",
            "feeds[0].columns.deal_id.optional (line 1): 1 is not true or false",
        ),
        (
            "date_format: 3\nfeeds: [{table: deals, columns: {deal_id: a}}]\n",
            "my_crm: date_format (line 1): 3: a date format is a strptime pattern such as '%d/%m/%Y', or a list of them",
        ),
        (
            "feeds: [{table: deals, unpivot: {headers: '(', value: entered_at}}]\n",
            "feeds[0].unpivot.headers (line 1): '(' is not a valid pattern",
        ),
        (
            "feeds: [{table: deals, unpivot: {headers: x}}]\n",
            "feeds[0].unpivot.value (line 1): is missing",
        ),
        (
            "feeds: [{table: deals, stage_map: {Won: 5}, columns: {deal_id: a}}]\n",
            "feeds[0].stage_map.Won (line 1): 5 is not a text",
        ),
        (
            "feeds: [{table: orders, null_values: [a, {b: c}], columns: {order_id: a}}]\n",
            "feeds[0].null_values[1] (line 1): {'b': 'c'} is not a text or a number",
        ),
        (
            "feeds: [{table: deals, requires: [[]], columns: {deal_id: a}}]\n",
            "feeds[0].requires (line 1): [[]] is not a list of column names",
        ),
    ],
)
def test_a_malformed_mapping_is_refused_with_a_message_naming_the_key(text, message):
    assert message in _error(text)


def test_a_near_miss_table_column_or_stage_is_suggested():
    assert "table 'deal' is not a canonical table (did you mean deals?); one of:" in _error(
        "feeds: [{table: deal, columns: {deal_id: a}}]"
    )
    assert "'amount_usd' is not a column of orders (did you mean amount?); columns:" in _error(
        "feeds: [{table: orders, columns: {amount_usd: x}}]"
    )
    assert "maps 'Closed' to 'wonn', which is not a funnel stage (did you mean won?)" in _error(
        "feeds: [{table: deals, stage_map: {Closed: wonn}, columns: {deal_id: a, stage: b}}]"
    )


def test_an_unknown_source_suggests_the_closest_built_in_adapter():
    with pytest.raises(MappingError, match=r"unknown source 'salesfroce' \(did you mean salesforce\?\); built-in"):
        builtin_mapping("salesfroce")


def test_the_command_line_suggests_the_closest_source(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["import", "Opportunity.csv", "--source", "salesfroce"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "argument --source: unknown source 'salesfroce' (did you mean salesforce?)" in err
    assert "Traceback" not in err
