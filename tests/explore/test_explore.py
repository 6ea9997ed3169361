"""The explore logic in-process: filters, views, drill-down and the snapshot, on a small
generated sample; numbers checked against direct counts on the warehouse."""

from __future__ import annotations

import shutil
from datetime import date

import ipywidgets as widgets
import pytest

from crmreview import metrics, queries, warehouse
from crmreview.explore import Dashboard, Explorer, Selection, drill, views
from crmreview.explore.session import SCOPED_METRICS, environment_flag
from crmreview.importing import import_files
from crmreview.metrics import churn as churn_metric
from crmreview.periods import parse_period
from crmreview.report.html import HtmlBlock
from crmreview.scope import Scope

PERIOD = "2026Q3"

pytestmark = pytest.mark.slow  # each test computes the review on a generated sample


@pytest.fixture(scope="module")
def sample(imported_sample):
    return imported_sample(seed=3, size=0.3)


@pytest.fixture(scope="module")
def explorer(sample):
    with Explorer(str(sample.db), store=False) as ex:
        yield ex


def _one(con, sql, params=None):
    return con.execute(sql, params or {}).fetchall()[0][0]


def test_filter_values_are_the_warehouse_dimensions(explorer, sample):
    with warehouse.connect_read(sample.db) as con:
        teams = {r[0] for r in con.execute("select distinct team from reps").fetchall()}
        reps = _one(con, "select count(*) from reps")
        last = _one(con, "select max(greatest(coalesce(closed_at, created_at)::date)) from deals")
    values = explorer.values
    assert set(values.teams) == teams
    assert len(values.reps) == reps
    assert values.periods[0] == PERIOD and values.periods[1] == "2026Q2"
    assert values.last_date >= last
    team = values.teams[0]
    assert {rep for _, rep in values.reps_of(team)} == {r for r, _, t in values.reps if t == team}


def test_team_funnel_counts_the_deals_its_reps_created_in_the_period(explorer, sample):
    team = explorer.values.teams[0]
    current, previous = explorer.scoped("funnel", Selection(PERIOD, team=team))
    with warehouse.connect_read(sample.db) as con:
        created = _one(
            con,
            "select count(*) from deals join reps on deals.owner_rep_id = reps.rep_id "
            "where reps.team = $team and created_at::date between '2026-07-01' and '2026-09-30'",
            {"team": team},
        )
        before = _one(
            con,
            "select count(*) from deals join reps on deals.owner_rep_id = reps.rep_id "
            "where reps.team = $team and created_at::date between '2026-04-01' and '2026-06-30'",
            {"team": team},
        )
    assert current["cohort_deals"] == created > 0
    assert current["stages"][0]["reached"] == created
    assert previous["cohort_deals"] == before
    assert current["period"]["label"] == PERIOD  # the group keeps its result's context


#: the numbers of each scoped metric compared with its breakdown's group
SCOPED_NUMBERS = {
    "funnel": ("cohort_deals", "stages", "win_rate", "avg_won_amount", "median_cycle_days", "pipeline_velocity"),
    "repurchase": (
        "customers_purchasing",
        "repeat_rate",
        "returning_rate",
        "returning_revenue_share",
        "median_gap_days",
    ),
    "churn": ("customers", "states", "churn_rate", "grr", "nrr", "at_risk_customers"),
    "retention": ("cohorts", "grr", "nrr"),
}
OPTIONS = {"funnel": {"pipeline": None}, "churn": {"risk_list_length": views.ROWS_SHOWN, "model": False}}


def _same(a, b) -> bool:
    """Equal numbers (floats to 1e-9) in equal structures."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, float):
        return a == pytest.approx(b, rel=1e-9)
    return a == b


def test_a_scoped_filter_gives_the_numbers_of_its_group_in_the_metric_breakdown(explorer):
    assert set(SCOPED_NUMBERS) == set(SCOPED_METRICS)
    values = explorer.values
    rep, _, team = values.reps[0]
    selections = [
        Selection(PERIOD, team=team),
        Selection(PERIOD, team=team, rep=rep),
        Selection(PERIOD, region=values.regions[0]),
        Selection(PERIOD, channel=values.channels[0], compare="yoy"),
    ]
    for selection in selections:
        by, group = selection.scope
        for name, keys in SCOPED_NUMBERS.items():
            current, previous = explorer.scoped(name, selection, **OPTIONS.get(name, {}))
            breakdown = explorer.result(name, selection, by=by, **OPTIONS.get(name, {}))
            assert breakdown["groups"] and not current.get("groups")  # the scope's own result, not a group
            expected = next(g for g in breakdown["groups"] if g["group"] == group)
            expected_before = next(g for g in breakdown["comparison"]["groups"] if g["group"] == group)
            for key in keys:
                if key in expected:
                    assert _same(current[key], expected[key]), (name, by, key)
                if key in expected_before:
                    assert _same(previous[key], expected_before[key]), (name, by, key)
    assert Selection(PERIOD, tier="A").read_scope is None  # a tier is ranked over every customer


#: the metrics (and parts) whose function computes one group of a breakdown alone
ONE_GROUP = ("funnel", "repurchase", "churn_rates")


def test_a_group_computed_alone_is_its_group_of_the_whole_breakdown(explorer):
    values = explorer.values
    for by, groups in (("tier", ("A", "C", "no such tier")), ("industry", values.industries[:1])):
        selection = Selection(PERIOD, compare="yoy")
        for name in ONE_GROUP:
            options = OPTIONS.get(name, {})
            whole = explorer.result(name, selection, by=by, **options)
            assert whole["groups"] and whole["comparison"]["groups"]
            for group in groups:
                alone = explorer.result(name, selection, by=by, group=group, **options)
                for result, full in ((alone, whole), (alone["comparison"], whole["comparison"])):
                    expected = [g for g in full["groups"] if g["group"] == group]
                    assert _same(result["groups"], expected), (name, by, group)
                    assert result["period"] == full["period"] and result["warnings"] == full["warnings"]
    tier_a = explorer.result("funnel", Selection(PERIOD), by="tier", group="A", pipeline=None)
    assert tier_a["groups"][0]["cohort_deals"] > 0 and "cohort_deals" not in tier_a  # the group, not the whole


def test_a_tier_filter_computes_its_tier_alone(explorer, monkeypatch):
    asked = []
    real_run = queries.run

    def recording_run(con, name, params):
        asked.append((name, params.get("by"), params.get("only_group")))
        return real_run(con, name, params)

    monkeypatch.setattr(queries, "run", recording_run)
    selection = Selection("2026Q2", tier="B")
    views.kpi_strip(explorer, selection)
    grouped = {"metrics/funnel/stages", "metrics/funnel/closed", "metrics/repurchase/rates", "metrics/churn/rate"}
    ran = [entry for entry in asked if entry[0] in grouped]
    assert ran and all(entry[1:] == ("tier", "B") for entry in ran), ran
    current, previous = explorer.scoped("funnel", selection, pipeline=None)
    whole = explorer.result("funnel", selection, by="tier", pipeline=None)
    assert _same(current, {**{k: whole[k] for k in ("period", "as_of", "rule", "stale_days", "missing_inputs",
                                                        "warnings", "data_span") if k in whole},
                           **next(g for g in whole["groups"] if g["group"] == "B")})  # fmt: skip
    assert (
        previous["cohort_deals"] == next(g for g in whole["comparison"]["groups"] if g["group"] == "B")["cohort_deals"]
    )


def test_the_funnel_and_its_comparison_in_one_pass_are_the_metric_of_each_period(explorer, sample):
    selection = Selection(PERIOD, compare="yoy")
    explorer.forget()
    result = explorer.result("funnel", selection, pipeline=None)
    period = parse_period(PERIOD)
    with warehouse.connect_read(sample.db) as con:
        expected = metrics.compute(con, "funnel", period, compare="yoy")
    assert result["cohort_deals"] > 0 and result["comparison"]["cohort_deals"] > 0
    for key in ("cohort_deals", "stages", "win_rate", "median_cycle_days", "lost_reasons", "stale_deals", "warnings"):
        assert _same(result[key], expected[key]), key
        assert _same(result["comparison"][key], expected["comparison"][key]), key


def test_a_channel_scope_keeps_the_channel_deals_and_customers_and_every_rep(sample):
    with warehouse.connect_read(sample.db) as con:
        channel = _one(con, "select min(source_channel) from customers")
        deals = _one(
            con,
            "select count(*) from deals left join customers using (customer_id) "
            "where coalesce(deals.source_channel, customers.source_channel) = $c",
            {"c": channel},
        )
        customers = _one(con, "select count(*) from customers where source_channel = $c", {"c": channel})
        orders = _one(
            con,
            "select count(*) from orders join customers using (customer_id) where customers.source_channel = $c",
            {"c": channel},
        )
        reps = _one(con, "select count(*) from reps")
    with warehouse.connect_read(sample.db, scope=Scope(channel=channel)) as con:
        assert _one(con, "select count(*) from deals") == deals > 0
        assert _one(con, "select count(*) from customers") == customers > 0
        assert _one(con, "select count(*) from orders") == orders > 0
        assert _one(con, "select count(*) from reps") == reps
    with (
        pytest.raises(ValueError, match="no channel 'nowhere'"),
        warehouse.connect_read(sample.db, scope=Scope(channel="nowhere")),
    ):
        pass


def test_every_view_draws_for_every_kind_of_filter(explorer):
    values = explorer.values
    rep, _, team = values.reps[0]
    selections = [
        Selection(PERIOD),
        Selection(PERIOD, team=team, lang="zh"),
        Selection(PERIOD, team=team, rep=rep),
        Selection(PERIOD, tier="A"),
        Selection(PERIOD, channel=values.channels[0], pipeline=values.pipelines[0]),
        Selection(PERIOD, region=values.regions[0], compare="yoy"),
    ]
    for selection in selections:
        strip = views.kpi_strip(explorer, selection)
        assert 'data-kpi="win_rate"' in strip[0].html
        for view in views.VIEWS:
            shown = views.render(view, explorer, selection)
            assert shown, (view.key, selection)


def test_funnel_table_carries_the_numbers_of_the_metric(explorer):
    selection = Selection(PERIOD, team=explorer.values.teams[1])
    current, _ = explorer.scoped("funnel", selection)
    html = views.render(views.VIEWS[0], explorer, selection)[0].html
    assert f'data-scope="team={selection.team}"' in html
    for stage in current["stages"]:
        assert f'<tr data-stage="{stage["stage"]}">' in html
        assert f'data-key="reached" data-value="{stage["reached"]}"' in html


def test_rep_deals_come_stale_first_then_lost_and_belong_to_the_rep(explorer, sample):
    selection = Selection(PERIOD)
    rep = drill.team_reps(explorer, selection, explorer.values.teams[0])["group"].iloc[0]
    deals = drill.rep_deals(explorer, selection, rep)
    assert 0 < len(deals) <= drill.ROWS
    order = [
        0 if s else (1 if st == "lost" else 2 if st == "open" else 3)
        for s, st in zip(deals["is_stale"], deals["status_as_of"])
    ]
    assert order == sorted(order)
    stale = deals[deals["is_stale"]]
    assert list(stale["days_since_change"]) == sorted(stale["days_since_change"], reverse=True)
    assert all(d >= 30 for d in stale["days_since_change"])
    with warehouse.connect_read(sample.db) as con:
        ids = {
            r[0] for r in con.execute("select deal_id from deals where owner_rep_id = $rep", {"rep": rep}).fetchall()
        }
        in_scope = _one(
            con,
            "select count(*) from deals where owner_rep_id = $rep and created_at < '2026-10-01' and ("
            "created_at::date between '2026-07-01' and '2026-09-30' "
            "or closed_at::date between '2026-07-01' and '2026-09-30' "
            "or outcome = 'open' or closed_at >= '2026-10-01')",
            {"rep": rep},
        )
    assert set(deals["deal_id"]) <= ids
    assert deals["count_deals"].iloc[0] == in_scope


def test_deal_history_lists_its_stages_with_the_days_between_them(explorer, sample):
    selection = Selection(PERIOD)
    with warehouse.connect_read(sample.db) as con:
        deal_id, rows = con.execute(
            "select deal_id, count(*) from deal_stage_history where entered_at < '2026-10-01' "
            "group by deal_id order by count(*) desc, deal_id limit 1"
        ).fetchall()[0]
        entered = [r[0] for r in con.execute(
            "select entered_at from deal_stage_history where deal_id = $d order by entered_at", {"d": deal_id}
        ).fetchall()]  # fmt: skip
    history = drill.deal_history(explorer, selection, deal_id)
    assert len(history) == rows
    for i in range(rows - 1):
        assert history["days_in_stage"].iloc[i] == (entered[i + 1].date() - entered[i].date()).days
    assert history["days_in_stage"].iloc[-1] == (date(2026, 9, 30) - entered[rows - 1].date()).days


def test_tier_drill_down_lists_the_tier_customers_by_value_and_their_records(explorer, sample):
    selection = Selection(PERIOD)
    tiers = drill.tiers(explorer, selection)
    customers = drill.tier_customers(explorer, selection, "A")
    assert customers["count_customers"].iloc[0] == int(tiers.loc[tiers["tier"] == "A", "customers"].iloc[0])
    assert list(customers["value"]) == sorted(customers["value"], reverse=True)
    customer = customers["customer_id"].iloc[0]
    detail = drill.customer_detail(explorer, selection, customer)
    with warehouse.connect_read(sample.db) as con:
        orders = _one(
            con, "select count(*) from orders where customer_id = $c and order_date < '2026-10-01'", {"c": customer}
        )
        deals = _one(
            con, "select count(*) from deals where customer_id = $c and created_at < '2026-10-01'", {"c": customer}
        )
        acts = _one(
            con,
            "select count(*) from activities where customer_id = $c and occurred_at < '2026-10-01'",
            {"c": customer},
        )
    assert detail["orders"]["count_orders"].iloc[0] == orders
    assert len(detail["orders"]) == min(orders, drill.ROWS)
    assert (detail["deals"]["count_deals"].iloc[0] if deals else 0) == deals
    assert (detail["activities"]["count_activities"].iloc[0] if acts else 0) == acts
    with pytest.raises(ValueError, match="tier 'Z'"):
        drill.tier_customers(explorer, selection, "Z")


def test_backlog_counts_the_overdue_customers_of_the_group(explorer):
    team = explorer.values.teams[0]
    selection = Selection(PERIOD, team=team)
    group, _ = explorer.scoped("followup", selection)
    rows = views.backlog(explorer, selection)
    assert rows["count_overdue"].iloc[0] == group["overdue"]
    assert len(rows) == min(group["overdue"], views.ROWS_SHOWN)
    whole = explorer.result("followup", selection)
    assert views.backlog(explorer, Selection(PERIOD))["count_overdue"].iloc[0] == whole["overdue"]


def test_a_view_without_its_inputs_shows_the_report_notice(tmp_path, sample):
    db = tmp_path / "deals-only.duckdb"
    import_files([sample.folder / "deals.csv", sample.folder / "reps.csv"], db)
    with Explorer(str(db), store=False) as ex:
        selection = Selection(ex.values.periods[0])
        for view in views.VIEWS:
            shown = views.render(view, ex, selection)
            if view.key in ("retention", "lifecycle", "risk", "followup"):
                assert isinstance(shown[0], HtmlBlock) and 'class="crm-missing"' in shown[0].html, view.key
        # the key numbers leave out what rests on orders
        assert 'data-kpi="net_revenue"' not in views.kpi_strip(ex, selection)[0].html


def test_the_explorer_keeps_its_snapshot_until_refreshed(tmp_path, sample):
    db = tmp_path / "w.duckdb"
    shutil.copyfile(sample.db, db)
    extra = tmp_path / "deals.csv"
    header = (sample.folder / "deals.csv").read_text(encoding="utf-8").splitlines()[0]
    extra.write_text(header + "\nDNEW1,,R01,,lead,open,100.00,2026-08-01 10:00:00,,,\n", encoding="utf-8")
    period = parse_period(PERIOD)
    with Explorer(str(db), store=False) as ex:
        team = next(of for rep, _, of in ex.values.reps if rep == "R01")
        before = ex.result("funnel", Selection(PERIOD))["cohort_deals"]
        team_before = ex.scoped("funnel", Selection(PERIOD, team=team))[0]["cohort_deals"]
        ex.forget()  # the team's connection is opened again after the import
        assert not ex.newer_available() and not ex.refresh()
        import_files([extra], db)
        assert ex.newer_available()
        assert ex.result("funnel", Selection(PERIOD))["cohort_deals"] == before  # the snapshot it opened
        assert ex.scoped("funnel", Selection(PERIOD, team=team))[0]["cohort_deals"] == team_before
        assert ex.refresh()
        assert ex.result("funnel", Selection(PERIOD))["cohort_deals"] == before + 1
        assert ex.scoped("funnel", Selection(PERIOD, team=team))[0]["cohort_deals"] == team_before + 1
        assert not ex.newer_available()
    assert period.label == PERIOD


def test_dashboard_filters_clear_each_other_and_drill_down_by_clicks(explorer):
    board = Dashboard(explorer)
    values = explorer.values
    team = values.teams[0]
    board.team.value = team
    assert board.selection.scope == ("team", team)
    assert {v for _, v in board.rep.options[1:]} == {rep for _, rep in values.reps_of(team)}
    board.tier.value = "A"
    assert board.selection.scope == ("tier", "A") and board.selection.team is None
    rep, _, rep_team = values.reps[0]
    board.rep.value = rep if rep in [v for _, v in board.rep.options] else board.rep.value
    board.team.value = rep_team
    board.rep.value = rep
    assert board.selection.scope == ("rep", rep) and board.selection.team == rep_team
    board.lang.value = "zh"
    assert board.tabs.get_title(0) == "漏斗与流失"
    board.lang.value = "en"
    board.team.value = team
    board.tabs.selected_index = len(views.VIEWS)  # drill down: the team's reps
    buttons = [w for w in board.drill_box.children[-1].children if hasattr(w, "on_click")]
    assert buttons, "the team's reps are buttons"
    buttons[0].click()  # a rep's deals
    deal_buttons = [w for w in board.drill_box.children[-1].children if hasattr(w, "on_click")]
    deal_buttons[0].click()  # a deal's history
    assert board.drill_box.children[1].value.count(deal_buttons[0].description) == 1
    board.drill_box.children[0].click()  # back to the deals
    assert "stale and lost first" in board.drill_box.children[1].value


def test_views_are_widget_state_and_a_filter_change_draws_only_the_visible_tab(explorer, monkeypatch):
    def captured(_output):
        raise AssertionError("a view was captured with `with output:` (the served page can hang on it)")

    monkeypatch.setattr(widgets.Output, "__enter__", captured)
    board = Dashboard(explorer)
    team = explorer.values.teams[0]
    tiers = [v.key for v in views.VIEWS].index("tiers")
    html = " ".join(o["data"].get("text/html", "") for o in board.outputs[0].outputs)
    assert 'data-scope="all"' in html and board.outputs[tiers].outputs == ()
    board.team.value = team
    html = " ".join(o["data"].get("text/html", "") for o in board.outputs[0].outputs)
    assert f'data-scope="team={team}"' in html
    assert board.outputs[tiers].outputs == ()  # not drawn until opened
    board.tabs.selected_index = tiers
    assert board.outputs[tiers].outputs
    figures = [o for o in board.outputs[0].outputs if "application/vnd.plotly.v1+json" in o["data"]]
    assert figures and figures[0]["data"]["application/vnd.plotly.v1+json"]["config"]["displaylogo"] is False


def test_masked_explorer_shows_no_customer_or_rep_name(sample, monkeypatch):
    with warehouse.connect_read(sample.db) as con:
        names = {r[0] for r in con.execute("select name from reps union select name from customers").fetchall() if r[0]}
    monkeypatch.setenv("CRM_REVIEW_MASK_PII", "1")
    assert environment_flag("CRM_REVIEW_MASK_PII")
    with Explorer(str(sample.db), mask_pii=True, store=False) as ex:
        selection = Selection(PERIOD)
        shown = [label for _, label, _ in ex.values.reps]
        for view in views.VIEWS:
            shown += [b.html for b in views.render(view, ex, selection) if isinstance(b, HtmlBlock)]
        customers = drill.tier_customers(ex, selection, "A")
        shown += [str(v) for v in customers["customer_name"]] + [str(v) for v in customers["rep_name"]]
        rep = ex.values.reps[0][0]
        shown += [str(v) for v in drill.rep_deals(ex, selection, rep)["customer_name"]]
    text = "\n".join(shown)
    assert not [name for name in names if name in text]


def test_the_parts_the_views_take_alone_give_the_numbers_of_their_metric(explorer):
    selection = Selection(PERIOD)
    churn = explorer.result("churn", selection, by="team", risk_list_length=views.ROWS_SHOWN, model=False)
    rates = explorer.result("churn_rates", selection, by="team")
    keys = ("churn_rate", "start_customers", "churned_customers", "grr", "nrr")
    for now, expected in ((rates, churn), (rates["comparison"], churn["comparison"])):
        assert all(_same(now[key], expected[key]) for key in keys)
        groups = {g["group"]: g for g in expected["groups"]}
        assert {g["group"] for g in now["groups"]} == set(groups)
        assert all(_same(g[key], groups[g["group"]][key]) for g in now["groups"] for key in keys)
    tiers = explorer.result("tiers", selection, by="team", compare=False)
    whole = explorer.result("tier_distribution", selection, compare=False)
    by_team = explorer.result("tier_distribution", selection, by="team", compare=False)
    assert _same(whole["tiers"], tiers["tiers"]) and sum(t["customers"] for t in whole["tiers"]) > 0
    assert _same({g["group"]: g["tiers"] for g in by_team["groups"]}, {g["group"]: g["tiers"] for g in tiers["groups"]})
    # the comparison's concentration and follow-up compliance (what the tabs' sentences compare)
    full_tiers = explorer.result("tiers", selection, by="team")
    full_followup = explorer.result("followup", selection, by="team")
    for name, full, keys in (
        ("tier_concentration", full_tiers, ("customers", "total_value", "top20_value_share", "gini", "value_basis")),
        ("followup_compliance", full_followup, ("customers", "overdue", "compliance", "never_contacted",
                                                "pool_candidates", "ownership_conflicts", "tiers")),
    ):  # fmt: skip
        previous = explorer.previous(name, selection)
        assert previous["period"]["label"] == "2026Q2" == full["comparison"]["period"]["label"]
        assert all(_same(previous[key], full["comparison"][key]) for key in keys)
        assert previous["customers"] > 0
        groups = explorer.result(name, selection, by="team", compare=False)["groups"]
        expected = {g["group"]: g for g in full["groups"]}
        assert {g["group"] for g in groups} == set(expected)
        assert all(_same(g[key], expected[g["group"]][key]) for g in groups for key in keys if key != "value_basis")


def test_the_key_numbers_never_compute_the_churn_metric_and_the_language_queries_nothing(explorer, monkeypatch):
    def refused(*args, **kwargs):
        raise AssertionError("the key numbers computed the whole churn metric")

    explorer.forget()
    monkeypatch.setattr(churn_metric, "churn", refused)
    board = Dashboard(explorer)  # the funnel tab and the key numbers
    board.team.value = explorer.values.teams[0]
    shown = " ".join(o["data"].get("text/html", "") for o in board.kpis.outputs)
    assert 'data-kpi="churn_rate"' in shown and 'data-kpi="nrr"' in shown and "crm-warning" not in shown
    ran = []
    monkeypatch.setattr(queries, "run", lambda *args: ran.append(args[1]))
    board.lang.value = "zh"
    assert ran == []  # the same results, drawn in Chinese
    assert "crm-warning" not in " ".join(o["data"].get("text/html", "") for o in board.kpis.outputs)
    explorer.forget()
