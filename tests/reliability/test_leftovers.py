"""What a killed process leaves in the temporary folder is removed by the next import: copies
of exports (crm-review-<pid>-….csv) and read connections' spill folders
(crm-review-spill-<pid>-…); a running process's are kept."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from crmreview.importing.textfiles import remove_stale_work_files
from crmreview.warehouse import connect_read, write_session


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_dead_process_s_copies_and_spill_folders_go_a_running_one_s_stay(tmp_path):
    dead, alive = _dead_pid(), os.getppid()
    (tmp_path / f"crm-review-{dead}-abc.csv").write_text("order_id\n")
    (tmp_path / f"crm-review-spill-{dead}-xyz").mkdir()
    (tmp_path / f"crm-review-spill-{dead}-xyz" / "duckdb_temp_block-1.block").write_bytes(b"x")
    (tmp_path / f"crm-review-{alive}-def.csv").write_text("order_id\n")
    (tmp_path / f"crm-review-spill-{alive}-uvw").mkdir()
    (tmp_path / "crm-review-report-q1w2").mkdir()  # a report's folder: no pid, not ours to judge
    removed = remove_stale_work_files(tmp_path)
    assert sorted(p.name for p in removed) == [f"crm-review-{dead}-abc.csv", f"crm-review-spill-{dead}-xyz"]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [f"crm-review-{alive}-def.csv", f"crm-review-spill-{alive}-uvw", "crm-review-report-q1w2"]
    )


def test_a_read_connection_s_spill_folder_is_named_for_its_process_and_removed_on_close(tmp_path):
    db = tmp_path / "crm.duckdb"
    with write_session(db):
        pass
    before = set(Path(tempfile.gettempdir()).glob(f"crm-review-spill-{os.getpid()}-*"))
    with connect_read(db):
        during = set(Path(tempfile.gettempdir()).glob(f"crm-review-spill-{os.getpid()}-*")) - before
        assert len(during) == 1
    assert not any(p.exists() for p in during)
