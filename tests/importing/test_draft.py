"""crm-review mapping draft: a mapping guessed from an export's headers and values.

A draft of each built-in adapter's sample export imports the same records as the adapter; a
Chinese export with renamed and custom columns gets TODOs that stop the import, naming each
key, and imports with the expected counts once they are filled in."""

from datetime import datetime
from pathlib import Path

import pytest
import yaml

from crmreview.cli import main
from crmreview.importing import ImportFileError, import_files
from crmreview.importing.draft import TODO, draft_mapping, fold
from crmreview.schema import TABLE_SPECS
from crmreview.warehouse import connect_read
from tests.importing.test_adapters import _jiandaoyun_xlsx
from tests.paths import EXPORTS
from tests.xlsxfile import write_xlsx

TABLES = ("customers", "reps", "deals", "deal_stage_history", "orders", "activities")
#: ids a mapping generates (a hash of other columns, with a prefix of the mapping's choosing)
GENERATED = {("activities", "activity_id")}


def _tables(db, generated=GENERATED):
    """Each table's rows over its columns, generated ids aside."""
    out = {}
    with connect_read(db) as con:
        for table in TABLES:
            names = [c for c in TABLE_SPECS[table].names if (table, c) not in generated]
            frame = con.execute(f"select {', '.join(names)} from {table}").df()
            out[table] = frame
    return out


def _same_records(adapter_db, draft_db, generated=GENERATED, tables=TABLES):
    """The draft's import holds the adapter's records: the same rows over every column the
    adapter fills (the draft may fill more, e.g. size_band)."""
    adapter, draft = _tables(adapter_db, generated), _tables(draft_db, generated)
    for table in tables:
        filled = [c for c in adapter[table].columns if adapter[table][c].notna().any()]
        left = sorted(map(tuple, adapter[table][filled].astype(str).values.tolist()))
        right = sorted(map(tuple, draft[table][filled].astype(str).values.tolist()))
        assert left == right, table


def _draft_file(tmp_path, files, name="d"):
    draft = draft_mapping(files, name=name)
    path = tmp_path / f"{name}.yml"
    path.write_text(draft.text, encoding="utf-8")
    return draft, path


ADAPTER_EXPORTS = {
    "salesforce": ["Account.csv", "Opportunity.csv", "OpportunityHistory.csv"],
    "hubspot": ["hubspot-crm-exports-all-companies-2026-09-30.csv", "hubspot-crm-exports-all-deals-2026-09-30.csv"],
    "zoho": ["Accounts.csv", "Deals_2026_09_30.csv", "Stage_History_2026_09_30.csv"],
    "neocrm": ["客户.csv", "机会_2026-09-30.csv", "活动记录.csv", "订单.csv"],
    "fxiaoke": ["客户_20260930.csv", "商机2.0_20260930.csv", "跟进记录_20260930.csv", "销售订单_20260930.csv"],
    "yonyou": ["商机_2026-09-30.csv", "商機_繁體_2026-09-30.csv", "销售订单.csv"],
}


@pytest.mark.parametrize("source", sorted(ADAPTER_EXPORTS))
def test_a_draft_of_each_adapters_sample_export_imports_what_the_adapter_imports(tmp_path, source):
    files = [EXPORTS / source / name for name in ADAPTER_EXPORTS[source]]
    draft, mapping = _draft_file(tmp_path, files)
    assert draft.todos == []
    adapter = import_files(files, tmp_path / "a.duckdb", source=source, timezone="Asia/Shanghai")
    drafted = import_files(files, tmp_path / "b.duckdb", mapping=mapping, timezone="Asia/Shanghai")
    # the same files feed the same tables with the same accounting
    count = sorted((Path(r.file).name, r.table, r.rows_read, r.rows_loaded, r.rows_rejected) for r in adapter)
    assert count == sorted((Path(r.file).name, r.table, r.rows_read, r.rows_loaded, r.rows_rejected) for r in drafted)
    _same_records(tmp_path / "a.duckdb", tmp_path / "b.duckdb")


def test_a_draft_of_a_salesforce_report_export_imports_what_the_adapter_imports(tmp_path):
    files = [EXPORTS / "salesforce" / "opportunities_report.csv"]
    draft, mapping = _draft_file(tmp_path, files)
    # the report's dates are month-first (8/14/2026): the draft says so
    assert "format: '%m/%d/%Y'" in draft.text or 'format: "%m/%d/%Y"' in draft.text
    import_files(files, tmp_path / "a.duckdb", source="salesforce")
    import_files(files, tmp_path / "b.duckdb", mapping=mapping)
    _same_records(tmp_path / "a.duckdb", tmp_path / "b.duckdb")


def test_a_draft_of_a_jiandaoyun_xlsx_with_a_title_row_imports_what_the_adapter_imports(tmp_path):
    path = _jiandaoyun_xlsx(tmp_path / "客户跟进表_2026-09-30.xlsx")
    draft, mapping = _draft_file(tmp_path, [path])
    assert draft.todos == []
    import_files([path], tmp_path / "a.duckdb", source="jiandaoyun", timezone="Asia/Shanghai")
    import_files([path], tmp_path / "b.duckdb", mapping=mapping, timezone="Asia/Shanghai")
    # the form has no deal number: both generate one (with prefixes of their own); the adapter
    # also lists each 负责人 as a rep, which the draft leaves to the user
    tables = tuple(t for t in TABLES if t != "reps")
    _same_records(
        tmp_path / "a.duckdb",
        tmp_path / "b.duckdb",
        GENERATED | {("deals", "deal_id"), ("deal_stage_history", "deal_id")},
        tables,
    )


# ----------------------------------------------------------------------------- a renamed export

HEADER = [
    "序号",
    "商機編號",
    "客户全称",
    "當前階段",
    "預計簽單金額(万元)",
    "立项日期",
    "跟进人",
    "合同类型",
    "客户标签",
    "签约日",
]
ROWS = [
    [
        "1",
        "1543209876543210011",
        "恒达物流",
        "初步接洽",
        "4.8",
        "03/06/2026",
        "王芳",
        "新签",
        "价格敏感,决策链复杂",
        "",
    ],
    ["2", "1543209876543210012", "金龙食品", "方案报价", "12.5", "19/05/2026", "王芳", "续约", "", ""],
    ["3", "1543209876543210013", "明华零售", "赢单", "3.65", "28/04/2026", "李伟", "新签", "价格敏感", "22/07/2026"],
    ["4", "1543209876543210014", "泰和制药", "技术交流会", "1.2", "15/07/2026", "赵敏", "增购", "", ""],
    ["5", "1543209876543210015", "远洋航运", "丢单", "2", "01/07/2026", "赵敏", "新签", "", "30/08/2026"],
    ["6", "1543209876543210016", "星辰教育", "样品测试", "", "10/09/2026", "李伟", "新签", "", ""],
    ["合计", None, None, None, "24.15", None, None, None, None, None],
]


def _renamed_export(tmp_path) -> Path:
    return write_xlsx(tmp_path / "商机台账_2026-09-30.xlsx", {"商机": [["商机台账（华东区）"], HEADER, *ROWS]})


def test_a_renamed_chinese_export_gets_todos_that_stop_the_import_naming_each_key(tmp_path):
    path = _renamed_export(tmp_path)
    draft, mapping = _draft_file(tmp_path, [path])
    data = yaml.safe_load(draft.text)
    (feed,) = data["feeds"]
    assert feed["table"] == "deals"
    columns = feed["columns"]
    # traditional headers and the 万元 unit are recognised; day-first dates get their format
    assert columns["deal_id"] == "商機編號"
    assert columns["stage"] == "當前階段"
    assert columns["amount"] == {"expr": "[預計簽單金額(万元)] * 10000"}
    assert columns["created_at"] == {"column": "立项日期", "format": "%d/%m/%Y"}
    assert columns["owner_rep_id"] == "跟进人"
    # custom columns are listed, not mapped; the stage names it does not know are TODOs
    assert "# not mapped (no canonical column): 序号, 合同类型, 客户标签, 签约日" in draft.text
    assert data["stage_map"] == {
        "初步接洽": "lead",
        "方案报价": "proposal",
        "赢单": "won",
        "丢单": "lost",
        "技术交流会": TODO,
        "样品测试": TODO,
    }
    assert draft.todos == ["stage_map.技术交流会", "stage_map.样品测试"]
    with pytest.raises(ImportFileError) as error:
        import_files([path], tmp_path / "w.duckdb", mapping=mapping)
    assert "still TODO, to fill in before importing: stage_map.技术交流会 (line" in str(error.value)
    assert "stage_map.样品测试 (line" in str(error.value)

    # filled in (and the close date the draft could not name added by hand), it imports
    text = draft.text.replace("技术交流会: TODO", "技术交流会: qualified").replace(
        "样品测试: TODO", "样品测试: qualified"
    )
    text = text.replace(
        "      owner_rep_id:", "      closed_at: {column: 签约日, format: '%d/%m/%Y'}\n      owner_rep_id:"
    )
    mapping.write_text(text, encoding="utf-8")
    (result,) = import_files([path], tmp_path / "w.duckdb", mapping=mapping)
    # six deals; the 合计 row is skipped
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (7, 6, 1)
    with connect_read(tmp_path / "w.duckdb") as con:
        rows = con.execute(
            "select deal_id, stage, outcome, amount::double, created_at::date::varchar, closed_at::date::varchar "
            "from deals order by deal_id"
        ).fetchall()
    assert rows == [
        ("1543209876543210011", "lead", "open", 48000.0, "2026-06-03", None),
        ("1543209876543210012", "proposal", "open", 125000.0, "2026-05-19", None),
        ("1543209876543210013", "won", "won", 36500.0, "2026-04-28", "2026-07-22"),
        ("1543209876543210014", "qualified", "open", 12000.0, "2026-07-15", None),
        ("1543209876543210015", "lost", "lost", 20000.0, "2026-07-01", "2026-08-30"),
        ("1543209876543210016", "qualified", "open", None, "2026-09-10", None),
    ]


def test_a_gbk_csv_with_a_missing_id_gets_a_todo_for_it(tmp_path):
    path = tmp_path / "跟进.csv"
    path.write_bytes("联系人,备注\n张三,下周回访\n李四,已报价\n".encode("gb18030"))
    draft, mapping = _draft_file(tmp_path, [path])
    assert draft.todos == ["feeds[0].table", "feeds[0].columns.TODO"]
    with pytest.raises(ImportFileError, match=r"still TODO, to fill in before importing: feeds\[0\]\.table \(line"):
        import_files([path], tmp_path / "w.duckdb", mapping=mapping)


def test_epoch_millisecond_times_are_drafted_with_from_epoch_ms(tmp_path):
    path = tmp_path / "商机.csv"
    path.write_text(
        "商机编号,商机阶段,创建时间\nA1,赢单,1780449600000\nA2,输单,1780536000000\n",
        encoding="utf-8",
    )
    draft, mapping = _draft_file(tmp_path, [path])
    assert yaml.safe_load(draft.text)["feeds"][0]["columns"]["created_at"] == {"expr": "from_epoch_ms(创建时间)"}
    import_files([path], tmp_path / "w.duckdb", mapping=mapping, timezone="UTC", exported_at=datetime(2026, 9, 30))
    with connect_read(tmp_path / "w.duckdb") as con:
        assert con.execute("select deal_id, created_at::varchar from deals order by 1").fetchall() == [
            ("A1", "2026-06-03 01:20:00"),
            ("A2", "2026-06-04 01:20:00"),
        ]


def test_headers_fold_traditional_characters_units_and_spacing():
    assert fold("預計簽單金額(元)") == fold("预计签单金额") == "预计签单金额"
    assert fold(" Opportunity  ID ") == fold("opportunity_id") == "opportunityid"
    assert fold("負責人") == "负责人"


def test_the_command_writes_the_draft_and_a_plain_import_suggests_it(tmp_path, capsys):
    path = _renamed_export(tmp_path)
    out = tmp_path / "my_crm.yml"
    assert main(["mapping", "draft", str(path), "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert f"wrote {out}" in err and "2 TODO to fill in: stage_map.技术交流会, stage_map.样品测试" in err
    assert yaml.safe_load(out.read_text(encoding="utf-8"))["name"] == "my_crm"
    # an existing file is kept unless --force
    assert main(["mapping", "draft", str(path), "--out", str(out)]) == 2
    assert "already exists" in capsys.readouterr().err
    # without --source or --mapping, a file that is not canonical points to the draft
    assert main(["import", str(path), "--db", str(tmp_path / "w.duckdb")]) == 2
    assert f"crm-review mapping draft {path} --out my_crm.yml" in capsys.readouterr().err


def test_a_workbook_of_several_sheets_gets_a_feed_per_sheet_with_a_table(tmp_path):
    """A template workbook: a sheet of notes, customers and deals; the draft reads every sheet,
    leaves out the notes and imports both tables from the one file."""
    path = write_xlsx(
        tmp_path / "销售台账_2026-09-30.xlsx",
        {
            "填写说明": [["本表由销售部维护，每周五更新"], ["金额单位：元"]],
            "客户": [
                ["客户编号", "客户名称", "所属行业"],
                ["K1", "恒达物流", "物流"],
                ["K2", "金龙食品", "食品"],
            ],
            "空白": [],
            "商机": [
                ["商机编号", "客户编号", "商机名称", "销售阶段", "预计金额", "创建时间"],
                ["S1", "K1", "仓储系统", "初步接洽", "48000", "2026-06-03"],
                ["S2", "K2", "冷链改造", "赢单", "125000", "2026-05-19"],
                ["S3", "K1", "运输管理", "输单", "20000", "2026-07-01"],
            ],
        },
    )
    draft, mapping = _draft_file(tmp_path, [path])
    data = yaml.safe_load(draft.text)
    assert [(f["sheet"], f["table"]) for f in data["feeds"]] == [("客户", "customers"), ("商机", "deals")]
    assert "# 销售台账_2026-09-30.xlsx (sheet 填写说明): left out, no table recognised" in draft.text
    assert draft.todos == []
    results = import_files([path], tmp_path / "w.duckdb", mapping=mapping)
    assert [(r.table, r.rows_loaded, r.rows_rejected) for r in results] == [("customers", 2, 0), ("deals", 3, 0)]
    with connect_read(tmp_path / "w.duckdb") as con:
        assert con.execute("select deal_id, customer_id, stage, outcome from deals order by 1").fetchall() == [
            ("S1", "K1", "lead", "open"),
            ("S2", "K2", "won", "won"),
            ("S3", "K1", "lost", "lost"),
        ]
        assert con.execute("select customer_id, name, industry from customers order by 1").fetchall() == [
            ("K1", "恒达物流", "物流"),
            ("K2", "金龙食品", "食品"),
        ]
