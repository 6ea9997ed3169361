"""The explorer's results kept on disk per snapshot (crmreview.explore.store) and the warm-up
filling them ahead of visitors (crmreview.explore.warm)."""

from __future__ import annotations

import math
import os
import shutil
import stat
import subprocess
import sys
import time
from dataclasses import replace

import pytest

from crmreview import queries
from crmreview.config import DEFAULT_SETTINGS
from crmreview.explore import Dashboard, Explorer, Selection
from crmreview.explore import warm as warm_module
from crmreview.explore.serve import warm_command
from crmreview.explore.store import KEEP_DAYS, SUFFIX, ResultStore
from crmreview.explore.views import VIEWS
from crmreview.importing import import_files
from tests.conftest import import_funnel_q3

PERIOD = "2026Q3"


@pytest.fixture(scope="module")
def sample(imported_sample):
    return imported_sample(seed=3, size=0.3)


@pytest.fixture
def db(sample, tmp_path):
    """A private copy of the sample warehouse: the store is written beside it."""
    path = tmp_path / "w.duckdb"
    shutil.copyfile(sample.db, path)
    return path


def _store(tmp_path, **changes) -> ResultStore:
    warehouse = tmp_path / "w.duckdb"
    warehouse.touch()
    return ResultStore(warehouse, changes.pop("stamp", (1, 2, 3)), changes.pop("settings", DEFAULT_SETTINGS), changes)


# -- the store ----------------------------------------------------------------------------


def test_a_result_reads_back_equal_and_only_under_its_own_key(tmp_path):
    store = _store(tmp_path)
    value = {"rate": 0.25, "none": None, "nan": math.nan, "stages": [{"reached": 3, "label": "线索"}], "ok": True}
    key = ("funnel", None, "2026-07-01")
    assert store.put(key, value)
    back = store.get(key)
    assert back["stages"] == value["stages"] and back["rate"] == 0.25 and back["none"] is None
    assert math.isnan(back["nan"]) and back["ok"] is True
    assert store.get(("funnel", None, "2026-04-01")) is None
    assert key in store and ("other",) not in store


def test_what_json_would_change_is_not_kept(tmp_path):
    from datetime import date

    store = _store(tmp_path)
    assert not store.put(("a",), {"pair": (1, 2)})  # a tuple would come back a list
    assert not store.put(("b",), {"day": date(2026, 7, 1)})  # not JSON at all
    assert not store.put(("c",), {1: "x"})  # a number key would come back text
    assert store.get(("a",)) is None and store.get(("b",)) is None and store.get(("c",)) is None


def test_a_listed_table_reads_back_with_its_types_and_missing_values(tmp_path):
    import pandas as pd

    frame = pd.DataFrame(
        {
            "customer_id": pd.Series(["C1", "C2", None], dtype="str"),
            "value": [0.1 + 0.2, 1e-300, float("nan")],
            "days": pd.Series([3, None, 5], dtype="Int64"),
            "cadence": pd.Series([7, 14, 30], dtype="int32"),
            "last": pd.to_datetime(["2026-08-27 13:45:01.5", None, "2026-01-01"], format="ISO8601").astype(
                "datetime64[us]"
            ),
            "never": [False, True, False],
        }
    )
    store = _store(tmp_path)
    assert store.put(("query",), frame)
    back = store.get(("query",))
    assert back.equals(frame) and list(back.dtypes) == list(frame.dtypes)
    assert back["value"][0] == 0.1 + 0.2 and back["last"][0] == pd.Timestamp("2026-08-27 13:45:01.5")
    assert not store.put(("indexed",), frame.set_index("customer_id"))  # the index would be lost


def test_a_damaged_or_foreign_file_is_not_read(tmp_path):
    store = _store(tmp_path)
    key = ("funnel",)
    store.put(key, {"n": 1})
    path = store._path(key)
    path.write_text('{"key": "(\'funnel\',)", "value": {"n"', encoding="utf-8")  # cut short
    assert store.get(key) is None
    path.write_text('{"key": "(\'other\',)", "value": {"n": 1}}', encoding="utf-8")  # another key's text
    assert store.get(key) is None


def test_contexts_differ_by_snapshot_settings_and_names_shown(tmp_path):
    base = _store(tmp_path).folder
    assert _store(tmp_path).folder == base
    assert _store(tmp_path, stamp=(1, 2, 4)).folder != base
    assert _store(tmp_path, settings=replace(DEFAULT_SETTINGS, stale_days=10)).folder != base
    assert _store(tmp_path, mask_pii=True, lang="zh").folder != base
    assert base.parent == tmp_path / ("w.duckdb" + SUFFIX)


def test_files_take_the_warehouse_permissions(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    warehouse.touch()
    os.chmod(warehouse, 0o640)
    store = ResultStore(warehouse, (1, 2, 3), DEFAULT_SETTINGS, {})
    store.put(("k",), {"n": 1})
    assert stat.S_IMODE(store._path(("k",)).stat().st_mode) == 0o640
    assert stat.S_IMODE(store.folder.stat().st_mode) == 0o750
    assert stat.S_IMODE(store.folder.parent.stat().st_mode) == 0o750


def test_a_folder_that_cannot_be_made_keeps_nothing(tmp_path):
    (tmp_path / ("w.duckdb" + SUFFIX)).write_text("a file where the folder would be", encoding="utf-8")
    store = _store(tmp_path)
    assert store.folder is None
    assert not store.put(("k",), {"n": 1}) and store.get(("k",)) is None


def test_opening_a_new_context_removes_the_long_unused_ones(tmp_path):
    old, recent = _store(tmp_path, stamp=(1, 1, 1)).folder, _store(tmp_path, stamp=(2, 2, 2)).folder
    long_ago = time.time() - (KEEP_DAYS + 1) * 86400
    os.utime(old, (long_ago, long_ago))
    _store(tmp_path, stamp=(3, 3, 3))
    assert not old.exists() and recent.exists()


# -- the explorer with its store ----------------------------------------------------------


def _shown(board: Dashboard) -> list:
    """Everything the dashboard shows, every tab drawn."""
    for index in range(len(VIEWS)):
        board.tabs.selected_index = index
    return [board.kpis.outputs, *(output.outputs for output in board.outputs)]


def _metric_queries(monkeypatch) -> list[str]:
    ran: list[str] = []
    run = queries.run

    def counted(con, name, *args, **kwargs):
        ran.append(name)
        return run(con, name, *args, **kwargs)

    monkeypatch.setattr(queries, "run", counted)
    return ran


@pytest.mark.slow
def test_the_next_explorer_of_a_snapshot_shows_the_same_and_computes_nothing(db, monkeypatch):
    with Explorer(str(db), store=False) as ex:
        computed = _shown(Dashboard(ex))
    with Explorer(str(db)) as ex:
        assert ex.store_folder is not None
        first = _shown(Dashboard(ex))
    ran = _metric_queries(monkeypatch)
    with Explorer(str(db)) as ex:
        again = _shown(Dashboard(ex))
    assert first == computed and again == computed  # every block and figure, byte for byte
    assert [name for name in ran if name.startswith("metrics/")] == []


@pytest.mark.slow
def test_a_newer_import_is_computed_not_read_from_the_older_snapshot(db, sample):
    extra = db.parent / "deals.csv"
    header = (sample.folder / "deals.csv").read_text(encoding="utf-8").splitlines()[0]
    extra.write_text(header + "\nDNEW1,,R01,,lead,open,100.00,2026-08-01 10:00:00,,,\n", encoding="utf-8")
    with Explorer(str(db)) as ex:
        before = ex.result("funnel", Selection(PERIOD))["cohort_deals"]
        folder = ex.store_folder
    import_files([extra], db)
    with Explorer(str(db)) as ex:
        assert ex.result("funnel", Selection(PERIOD))["cohort_deals"] == before + 1
        assert ex.store_folder != folder
    with Explorer(str(db)) as ex:  # and the newer snapshot's number is what is kept
        assert ex.result("funnel", Selection(PERIOD))["cohort_deals"] == before + 1


@pytest.mark.slow
def test_warming_computes_the_opening_then_each_filter_then_the_rest(db, monkeypatch):
    with Explorer(str(db)) as ex:
        names = [name for name, _ in warm_module.plan(ex)]
        tiers = ["tier 'A': key numbers", "tier 'B': key numbers", "tier 'C': key numbers"]
        assert names[:4] == ["the opening", *tiers]
        assert names.index("the other tabs") > max(names.index(f"team {t!r}: key numbers") for t in ex.values.teams)
        assert all(name.startswith("rep ") for name in names[-len(ex.values.reps) :])
        assert names.index("tier 'C': the other tabs") < names.index("2026Q2, tier 'A': key numbers")
        done: list[str] = []
        finished = warm_module.warm(ex, progress=lambda name, s, error: done.append(name), stop=lambda: len(done) >= 4)
        assert not finished and done == names[:4]
    ran = _metric_queries(monkeypatch)
    with Explorer(str(db)) as ex:
        board = Dashboard(ex)  # the opening: the key numbers and the funnel tab
        board.tier.value = "B"
        assert [name for name in ran if name.startswith("metrics/")] == []
        board.channel.value = ex.values.channels[0]  # not warmed yet: computed
        assert any(name.startswith("metrics/") for name in ran)


@pytest.mark.slow
def test_a_failing_step_is_reported_and_the_others_still_run(db, monkeypatch):
    with Explorer(str(db)) as ex:
        steps = [("good", lambda: None), ("bad", lambda: 1 / 0), ("after", lambda: None)]
        monkeypatch.setattr(warm_module, "plan", lambda explorer: iter(steps))
        seen: list[tuple[str, str | None]] = []
        assert warm_module.warm(ex, progress=lambda name, s, error: seen.append((name, error and type(error).__name__)))
    assert seen == [("good", None), ("bad", "ZeroDivisionError"), ("after", None)]


def test_warm_up_says_what_is_wrong_without_a_traceback(tmp_path, capsys):
    assert warm_module.main(["--db", str(tmp_path / "missing.duckdb")]) == 1
    err = capsys.readouterr().err
    assert "no warehouse at" in err and "Traceback" not in err


class Served(Exception):
    pass


@pytest.mark.skipif(os.name != "posix", reason="the server replaces the process on POSIX only")
@pytest.mark.parametrize("warm", [True, False])
def test_the_server_starts_the_warm_up_following_its_warehouse(tmp_path, monkeypatch, warm):
    from crmreview.explore import serve

    db = tmp_path / "w.duckdb"
    db.touch()
    started, served = [], []

    def execve(path, command, env):  # the process would become the server here
        served.append(command)
        raise Served

    monkeypatch.setattr(serve.subprocess, "Popen", lambda command, **kw: started.append((command, kw["env"])))
    monkeypatch.setattr(serve.os, "execve", execve)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(Served):
        serve.serve(db, port=8999, mask_pii=True, warm=warm)
    assert served and "--port=8999" in served[0]
    if not warm:
        assert started == []
        return
    [(command, env)] = started
    assert command == warm_command(db.resolve(), mask_pii=True)
    assert command[1:3] == ["-m", "crmreview.explore.warm"] and "--follow" in command and "--mask-pii" in command
    assert env["CRM_REVIEW_DB"] == str(db.resolve())


def test_prepare_keeps_what_the_next_visitor_opens_on_a_deals_only_export(tmp_path, monkeypatch):
    db = import_funnel_q3(tmp_path / "w.duckdb")  # deals, stage history and reps: no orders, no activities
    done = subprocess.run(
        [sys.executable, "-m", "crmreview.cli", "explore", "--prepare", "--db", str(db)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    with Explorer(str(db)) as ex:
        steps = len(list(warm_module.plan(ex)))
        assert f"warm: {steps} steps in " in done.stderr and str(ex.store_folder) in done.stderr
    ran = _metric_queries(monkeypatch)
    with Explorer(str(db)) as ex:
        shown = _shown(Dashboard(ex))
    assert [name for name in ran if name.startswith("metrics/")] == []
    assert "crm-missing" in str(shown)  # the views without orders say which export is missing
