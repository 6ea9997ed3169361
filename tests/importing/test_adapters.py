"""Each built-in adapter imports a sample export written from the vendor's documented columns
(tests/fixtures/exports/<source>/); the expected tables are written out by hand."""

from datetime import datetime
from pathlib import Path

import pytest

from crmreview.importing import ImportFileError, import_files
from crmreview.importing.mapping import BUILTIN_ADAPTERS, builtin_mapping
from crmreview.warehouse import connect_read
from tests.paths import EXPORTS
from tests.xlsxfile import Formula, write_xlsx

EXPORTS = EXPORTS


def _rows(db, sql, params=None):
    with connect_read(db) as con:
        return con.execute(sql, params).fetchall()


def _deals(db):
    return _rows(
        db,
        "select deal_id, customer_id, stage, outcome, amount::double, created_at::varchar, "
        "closed_at::varchar from deals order by deal_id",
    )


def test_every_built_in_adapter_is_a_mapping_file_that_loads():
    for name in BUILTIN_ADAPTERS:
        mapping = builtin_mapping(name)
        assert mapping.name == name and mapping.path.name == f"{name}.yml" and mapping.feeds


# ----------------------------------------------------------------------------- Salesforce


def test_salesforce_data_export_loads_opportunities_accounts_and_history(tmp_path):
    db = tmp_path / "w.duckdb"
    folder = EXPORTS / "salesforce"
    files = [folder / "Opportunity.csv", folder / "OpportunityHistory.csv", folder / "Account.csv"]
    results = import_files(files, db, source="salesforce", timezone="Asia/Shanghai")
    assert [
        (Path(r.file).name, r.table, r.rows_read, r.rows_loaded, r.rows_rejected, r.records_loaded) for r in results
    ] == [
        ("Account.csv", "customers", 5, 5, 0, 5),
        ("Opportunity.csv", "deals", 8, 8, 0, 8),
        # nine saves; the second Qualification save and Value Proposition (also 'qualified')
        # repeat the stage before them
        ("OpportunityHistory.csv", "deal_stage_history", 9, 9, 0, 7),
    ]
    assert _deals(db) == [
        (
            "0065g00000AbCdEAA1",
            "0015g00000XyZ01AAA",
            "won",
            "won",
            48000.0,
            "2026-06-03 09:20:00",
            "2026-08-14 00:00:00",
        ),
        ("0065g00000AbCdFAA1", "0015g00000XyZ02AAA", "proposal", "open", 125000.0, "2026-05-19 10:45:00", None),
        (
            "0065g00000AbCdGAA1",
            "0015g00000XyZ03AAA",
            "lost",
            "lost",
            36500.0,
            "2026-04-28 16:10:00",
            "2026-07-22 00:00:00",
        ),
        ("0065g00000AbCdHAA1", "0015g00000XyZ01AAA", "proposal", "open", None, "2026-08-30 11:00:00", None),
        ("0065g00000AbCdIAA1", "0015g00000XyZ04AAA", "lead", "open", 18000.0, "2026-09-10 13:30:00", None),
        ("0065g00000AbCdJAA1", "0015g00000XyZ02AAA", "qualified", "open", 9500.0, "2026-09-01 14:00:00", None),
        ("0065g00000AbCdKAA1", "0015g00000XyZ05AAA", "qualified", "open", 27000.0, "2026-07-15 15:45:00", None),
        (
            "0065g00000AbCdLAA1",
            "0015g00000XyZ04AAA",
            "won",
            "won",
            15800.5,
            "2026-06-20 09:00:00",
            "2026-09-29 00:00:00",
        ),
    ]
    assert _rows(
        db, "select deal_id, stage, entered_at::varchar from deal_stage_history order by deal_id, entered_at"
    ) == [
        ("0065g00000AbCdEAA1", "lead", "2026-06-03 09:20:00"),
        ("0065g00000AbCdEAA1", "qualified", "2026-06-10 11:00:00"),
        ("0065g00000AbCdEAA1", "proposal", "2026-07-28 11:00:00"),
        ("0065g00000AbCdEAA1", "won", "2026-08-14 15:02:11"),
        ("0065g00000AbCdGAA1", "qualified", "2026-04-28 16:10:00"),
        ("0065g00000AbCdGAA1", "proposal", "2026-05-20 16:10:00"),
        ("0065g00000AbCdGAA1", "lost", "2026-07-22 17:00:00"),
    ]
    assert _rows(db, "select customer_id, name, industry, region from customers order by customer_id")[0] == (
        "0015g00000XyZ01AAA",
        "Hengda Logistics",
        "Transportation",
        "Shanghai",
    )


def test_salesforce_report_export_with_labels_a_repeated_header_and_us_dates(tmp_path):
    db = tmp_path / "w.duckdb"
    (result,) = import_files([EXPORTS / "salesforce" / "opportunities_report.csv"], db, source="salesforce")
    assert (result.table, result.rows_read, result.rows_loaded, result.rows_rejected) == ("deals", 7, 7, 0)
    assert _rows(
        db,
        "select deal_id, customer_id, owner_rep_id, stage, amount::double, created_at::date::varchar, "
        "closed_at::date::varchar, lost_reason from deals order by deal_id",
    ) == [
        ("0065g00000AbCdEAA1", "Hengda Logistics", "Wang Fang", "won", 48000.0, "2026-06-03", "2026-08-14", None),
        ("0065g00000AbCdFAA1", "Jinlong Foods", "Wang Fang", "proposal", 125000.0, "2026-05-19", None, None),
        ("0065g00000AbCdGAA1", "Minghua Retail", "Li Wei", "lost", 36500.0, "2026-04-28", "2026-07-22", "Price"),
        ("0065g00000AbCdHAA1", "Hengda Logistics", "Li Wei", "proposal", None, "2026-08-30", None, None),
        ("0065g00000AbCdIAA1", "Taihe Pharma", "Zhao Min", "lead", 18000.0, "2026-09-10", None, None),
        ("0065g00000AbCdKAA1", "Yuanfeng Textiles", "Zhao Min", "qualified", 27000.0, "2026-07-15", None, None),
        ("0065g00000AbCdLAA1", "Taihe Pharma", "Zhao Min", "won", 15800.5, "2026-06-20", "2026-09-29", None),
    ]


def test_salesforce_stage_order_comes_from_the_sales_process_not_the_alphabet():
    mapping = builtin_mapping("salesforce")
    crm_order = [crm for crm, _ in mapping.feeds[0].stage_map]
    assert crm_order == [
        "Prospecting",
        "Qualification",
        "Needs Analysis",
        "Value Proposition",
        "Id. Decision Makers",
        "Perception Analysis",
        "Proposal/Price Quote",
        "Negotiation/Review",
        "Closed Won",
        "Closed Lost",
    ]
    funnel = ["lead", "qualified", "proposal", "won"]
    ranks = [funnel.index(stage) for _, stage in mapping.feeds[0].stage_map if stage in funnel]
    assert ranks == sorted(ranks)


# ----------------------------------------------------------------------------- HubSpot


def test_hubspot_deals_export_unpivots_date_entered_columns_in_both_quote_styles(tmp_path):
    db = tmp_path / "w.duckdb"
    folder = EXPORTS / "hubspot"
    results = import_files(sorted(folder.glob("*.csv")), db, source="hubspot")
    assert [(r.table, r.rows_read, r.rows_loaded, r.rows_rejected, r.records_loaded) for r in results] == [
        ("customers", 3, 3, 0, 3),
        ("deals", 6, 6, 0, 6),
        ("deal_stage_history", 6, 6, 0, 15),
        # the Date exited columns: every deal's current stage has its own Date entered value
        ("deal_stage_history", 6, 6, 0, 0),
    ]
    assert _deals(db) == [
        ("15822109481", "Acme Robotics", "won", "won", 24000.0, "2026-06-02 09:14:00", "2026-08-28 16:02:00"),
        ("15822109482", "Brightwave Media", "lost", "lost", 8500.0, "2026-05-11 14:20:00", "2026-07-15 12:00:00"),
        ("15822109483", "Cobalt Health", "proposal", "open", 12800.0, "2026-07-06 08:30:00", None),
        ("15822109484", "Delta Freight", "qualified", "open", 6000.0, "2026-09-01 10:00:00", None),
        ("15822109485", "Evergreen Foods", "lead", "open", None, "2026-09-20 15:40:00", None),
        ("15822109486", "Fusion Labs", "won", "won", 3200.0, "2026-08-15 09:00:00", "2026-09-05 10:00:00"),
    ]
    history = _rows(
        db, "select deal_id, stage, entered_at::varchar from deal_stage_history order by deal_id, entered_at"
    )
    # 'Qualified To Buy' is written with single quotes in this export, the others with double
    assert [h for h in history if h[0] in {"15822109481", "15822109484"}] == [
        ("15822109481", "lead", "2026-06-02 09:14:00"),
        ("15822109481", "qualified", "2026-06-09 11:30:00"),
        ("15822109481", "proposal", "2026-07-20 15:45:00"),
        ("15822109481", "won", "2026-08-28 16:02:00"),
        ("15822109484", "qualified", "2026-09-01 10:00:00"),
    ]
    assert len(history) == 15
    assert _rows(db, "select lost_reason from deals where outcome = 'lost'") == [("Went with a competitor",)]
    # the export names its date in the file name; no snapshot is kept when history is exported
    assert _rows(db, "select count(*) from deal_snapshots") == [(0,)]


def test_hubspot_date_exited_columns_date_the_entry_into_a_stage_no_column_records(tmp_path):
    # 201 left Qualified To Buy on 09-20 for Contract Sent, which has no Date entered column
    # here: proposal entered 09-20 14:00. 203 left Appointment Scheduled on 09-08 and is
    # Closed Lost: lost entered 09-08 17:00. 202 is still in the last stage it entered; 204
    # moved back to Appointment Scheduled, re-entered on 09-25 09:30, the time of its last
    # exit: nothing is added.
    db = tmp_path / "w.duckdb"
    results = import_files(sorted((EXPORTS / "hubspot_exits").glob("*.csv")), db, source="hubspot")
    assert [(r.table, r.rows_read, r.rows_loaded, r.records_loaded) for r in results] == [
        ("deals", 4, 4, 4),
        ("deal_stage_history", 4, 4, 7),
        ("deal_stage_history", 4, 4, 2),
    ]
    assert _rows(db, "select deal_id, stage, entered_at::varchar from deal_stage_history order by all") == [
        ("201", "lead", "2026-09-01 09:00:00"),
        ("201", "proposal", "2026-09-20 14:00:00"),
        ("201", "qualified", "2026-09-05 10:00:00"),
        ("202", "lead", "2026-09-02 11:00:00"),
        ("202", "qualified", "2026-09-10 16:30:00"),
        ("203", "lead", "2026-09-03 08:15:00"),
        ("203", "lost", "2026-09-08 17:00:00"),
        ("204", "lead", "2026-09-25 09:30:00"),
        ("204", "qualified", "2026-09-12 13:00:00"),
    ]
    # the columns no feed maps travel as attributes
    assert _rows(db, "select deal_id, attributes['Contract Type'], attributes['Deal Name'] from deals order by 1") == [
        ("201", "annual", "Gamma Tools - rollout"),
        ("202", "pilot", "Helix Bio - pilot"),
        ("203", None, "Iris Textiles - seats"),
        ("204", "annual", "Jade Logistics - renewal"),
    ]


# ----------------------------------------------------------------------------- Zoho


def test_zoho_deals_and_stage_history_exports(tmp_path):
    db = tmp_path / "w.duckdb"
    folder = EXPORTS / "zoho"
    results = import_files(sorted(folder.glob("*.csv")), db, source="zoho")
    assert [(Path(r.file).name, r.table, r.rows_read, r.rows_loaded, r.records_loaded) for r in results] == [
        ("Accounts.csv", "customers", 4, 4, 4),
        ("Deals_2026_09_30.csv", "deals", 4, 4, 4),
        ("Stage_History_2026_09_30.csv", "deal_stage_history", 11, 11, 10),
    ]
    assert _deals(db) == [
        ("Huaxin Pharma - LIMS", "Huaxin Pharma", "won", "won", 86000.0, "2026-05-06 10:12:00", "2026-09-12 00:00:00"),
        (
            "Lantian Retail - BI",
            "Lantian Retail",
            "lost",
            "lost",
            45500.0,
            "2026-04-22 14:30:00",
            "2026-08-30 00:00:00",
        ),
        ("Qingshan Steel - MES phase 2", "Qingshan Steel", "proposal", "open", 240000.0, "2026-06-18 09:00:00", None),
        ("Yufeng Agri - trial", "Yufeng Agri", "lead", "open", 12000.0, "2026-09-14 08:45:00", None),
    ]
    assert _rows(
        db,
        "select stage, entered_at::varchar from deal_stage_history "
        "where deal_id = 'Lantian Retail - BI' order by entered_at",
    ) == [
        ("lead", "2026-04-22 14:30:00"),
        ("proposal", "2026-05-20 11:00:00"),
        ("lost", "2026-08-30 10:00:00"),
    ]


# ----------------------------------------------------------------------------- 简道云 Jiandaoyun

JDY_HEADER = [
    "客户名称",
    "所属行业",
    "联系人",
    "职务",
    "联系方式",
    "企业规模",
    "年营收",
    "采购需求",
    "预算范围",
    "决策人",
    "客户等级",
    "跟进阶段",
    "最近跟进时间",
    "下次跟进时间",
    "负责人",
    "成交金额",
    "成交日期",
    "客户满意度",
    "未续约原因",
    "提交人",
    "提交时间",
    "更新时间",
    "流程状态",
]
JDY_ROWS = [
    [
        "上海华联贸易有限公司",
        "零售",
        "张伟",
        "采购经理",
        "13812345678",
        "100-499人",
        "1.2亿",
        "收银系统",
        "50万以内",
        "李总",
        "A",
        "已成交",
        "2026/9/9",
        "2026/10/9",
        "王芳",
        "¥1,234,500.00",
        "2026年9月9日",
        "满意",
        None,
        "王芳",
        "2026-03-02 10:15:00",
        "2026-09-09 18:00:00",
        "已完成",
    ],
    [
        "杭州云启科技有限公司",
        "软件",
        "陈静",
        "CTO",
        "0571-88886666",
        "20-99人",
        "3000万",
        "数据平台",
        "100万",
        "陈静",
        "B",
        "方案报价",
        46271,
        "2026/9/30",
        "刘洋",
        "1.2万",
        None,
        None,
        None,
        "刘洋",
        46190.4375,
        "2026-09-01 09:00:00",
        "进行中",
    ],
    [
        "北京方正物流有限公司",
        "物流",
        "赵敏",
        "总经理助理",
        "010-66668888",
        "500人以上",
        "5亿",
        "调度系统",
        "200万",
        "孙总",
        "A",
        "输单",
        "2026年8月20日",
        None,
        "王芳",
        "(300)",
        "2026/8/20",
        None,
        "价格过高",
        "王芳",
        "2026-02-11 14:00:00",
        "2026-08-20 17:30:00",
        "已完成",
    ],
    [
        "深圳𠮷祥电子有限公司",
        "制造",
        "周强",
        "采购",
        "13900001111",
        "100-499人",
        "8000万",
        "MES",
        "-",
        "周强",
        "C",
        "初步接触",
        None,
        "2026/10/15",
        "刘洋",
        "#N/A",
        None,
        None,
        None,
        "刘洋",
        "2026/9/20 16:45",
        "2026/9/20 16:45",
        "进行中",
    ],
]


def _jiandaoyun_xlsx(path: Path) -> Path:
    title = ["客户跟进表（导出于 2026-09-30）"] + [None] * (len(JDY_HEADER) - 1)
    amount_formula = Formula("SUM(P2:P3)", 1246500)  # a formula cell: its cached value is read
    rows = [title, JDY_HEADER, *JDY_ROWS]
    rows[3] = list(rows[3])
    rows[3][15] = amount_formula  # 杭州云启: 成交金额 as a formula with a cached value
    return write_xlsx(path, {"客户跟进表": rows}, merged={"客户跟进表": ["A1:W1"]})


def test_jiandaoyun_excel_export_with_a_title_row_chinese_amounts_and_dates(tmp_path):
    db = tmp_path / "w.duckdb"
    path = _jiandaoyun_xlsx(tmp_path / "客户跟进表_2026-09-30.xlsx")
    results = import_files([path], db, source="jiandaoyun", timezone="Asia/Shanghai")
    assert [(r.table, r.rows_read, r.rows_loaded, r.rows_rejected, r.records_loaded) for r in results] == [
        ("reps", 4, 4, 0, 2),
        ("customers", 4, 4, 0, 4),
        ("deals", 4, 3, 1, 3),
        ("activities", 4, 4, 0, 3),
    ]
    # the sheet's row 5 (header on row 2 under the merged title) has a negative amount
    assert _rows(db, 'select line, "column", value, reason from rejects') == [
        (5, "成交金额", "(300)", "negative amount; expected zero or more"),
    ]
    rows = _rows(
        db,
        "select customer_id, stage, outcome, amount::double, created_at::varchar, closed_at::varchar "
        "from deals order by customer_id",
    )
    assert rows == [
        ("上海华联贸易有限公司", "won", "won", 1234500.0, "2026-03-02 10:15:00", "2026-09-09 00:00:00"),
        # 提交时间 46190.4375 is an Excel date number: 2026-06-17 10:30
        ("杭州云启科技有限公司", "proposal", "open", 1246500.0, "2026-06-17 10:30:00", None),
        ("深圳𠮷祥电子有限公司", "lead", "open", None, "2026-09-20 16:45:00", None),
    ]
    assert all(d.startswith("JDY-") and len(d) == 20 for (d,) in _rows(db, "select deal_id from deals"))
    assert sorted(_rows(db, "select customer_id, occurred_at::date::varchar from activities")) == [
        # 最近跟进时间 46271 is an Excel date number: 2026-09-06
        ("上海华联贸易有限公司", "2026-09-09"),
        ("北京方正物流有限公司", "2026-08-20"),
        ("杭州云启科技有限公司", "2026-09-06"),
    ]
    assert _rows(db, "select rep_id from reps order by rep_id") == [("刘洋",), ("王芳",)]
    # a single export: the stage history is inferred from created_at / closed_at, and flagged
    assert _rows(db, "select origin, count(*) from deal_history_origin group by origin") == [("inferred", 3)]


def test_a_jiandaoyun_csv_saved_by_excel_in_gbk_reads_the_same(tmp_path):
    db = tmp_path / "w.duckdb"
    import csv
    import io

    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(JDY_HEADER)
    for row in JDY_ROWS:
        writer.writerow(["" if v is None else v for v in row])
    path = tmp_path / "客户跟进表.csv"
    path.write_bytes(text.getvalue().encode("gb18030"))
    results = import_files([path], db, source="jiandaoyun", exported_at=datetime(2026, 9, 30))
    assert {r.encoding for r in results} == {"gb18030"}
    assert _rows(db, "select customer_id, amount::double from deals order by customer_id") == [
        ("上海华联贸易有限公司", 1234500.0),
        ("杭州云启科技有限公司", 12000.0),
        ("深圳𠮷祥电子有限公司", None),
    ]


def test_an_unknown_source_is_an_error_naming_the_built_in_adapters(tmp_path):
    with pytest.raises(
        ImportFileError,
        match="unknown source 'pipedrive'; built-in adapters: salesforce, hubspot, zoho, jiandaoyun, neocrm, fxiaoke, yonyou",
    ):
        import_files([EXPORTS / "zoho" / "Accounts.csv"], tmp_path / "w.duckdb", source="pipedrive")


def test_the_import_command_reads_an_export_with_a_source_and_lists_its_rejects(tmp_path, capsys):
    from crmreview.cli import main

    db = tmp_path / "w.duckdb"
    path = _jiandaoyun_xlsx(tmp_path / "客户跟进表.xlsx")
    assert (
        main(
            [
                "import",
                str(path),
                "--source",
                "jiandaoyun",
                "--db",
                str(db),
                "--show-rejects",
                "--exported-at",
                "2026-09-30",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert ": 1 row rejected\n" in out
    assert "       1  成交金额: negative amount; expected zero or more\n" in out
    assert ": '(300)': negative amount; expected zero or more\n" in out
    assert ": exported at 2026-09-30 (--exported-at)\n" in out
    assert _rows(db, "select distinct exported_at::varchar from imports where target_table = 'deals'") == [
        ("2026-09-30 00:00:00",)
    ]


def test_the_import_command_lists_the_built_in_adapters_files(capsys):
    from crmreview.cli import main

    assert main(["import", "--list-sources"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in out] == [
        "salesforce",
        "hubspot",
        "zoho",
        "jiandaoyun",
        "neocrm",
        "fxiaoke",
        "yonyou",
        "examples",
    ]
    assert out[0].endswith("adapters/salesforce.yml")


def test_the_import_command_reports_a_wrong_mapping_as_an_error(tmp_path, capsys):
    from crmreview.cli import main

    mapping = tmp_path / "m.yml"
    mapping.write_text("feeds: [{table: orders, columns: {order_id: a}}]\n", encoding="utf-8")
    path = tmp_path / "x.csv"
    path.write_text("a\n1\n", encoding="utf-8")
    assert main(["import", str(path), "--mapping", str(mapping), "--db", str(tmp_path / "w.duckdb")]) == 2
    assert "no source for required columns customer_id, order_date, amount" in capsys.readouterr().err


def test_zoho_stage_history_from_a_report_export_with_suffixed_columns(tmp_path):
    db = tmp_path / "w.duckdb"
    path = tmp_path / "Stage_History_Report.csv"
    path.write_text(
        "Deal Name,Stage (Stage History),Moved To (Stage History),Modified Time (Stage History)\n"
        "Yufeng Agri - trial,Qualification,Needs Analysis,2026-09-14 08:45:00\n"
        "Yufeng Agri - trial,Needs Analysis,,2026-09-28 10:00:00\n",
        encoding="utf-8",
    )
    (result,) = import_files([path], db, source="zoho")
    assert (result.table, result.rows_loaded, result.records_loaded) == ("deal_stage_history", 2, 2)
    assert _rows(db, "select stage, entered_at::varchar from deal_stage_history order by entered_at") == [
        ("lead", "2026-09-14 08:45:00"),
        ("qualified", "2026-09-28 10:00:00"),
    ]
