"""The malformed-file corpus (tests/corpus/): each case's exact error or rejects.

A new case is a new folder with its file and an entry in tests/corpus/cases.yaml, no code.
"""

import pytest
import yaml

from crmreview.importing import ImportFileError, import_files
from crmreview.warehouse import connect_read
from tests.paths import CORPUS

CORPUS = CORPUS
CASES = yaml.safe_load((CORPUS / "cases.yaml").read_text(encoding="utf-8"))


def test_the_corpus_has_at_least_thirty_cases_each_with_one_file_and_an_expectation():
    folders = sorted(p.name for p in CORPUS.iterdir() if p.is_dir())
    assert len(CASES) >= 30
    assert folders == [case["case"] for case in CASES]
    for case in CASES:
        assert len(list((CORPUS / case["case"]).iterdir())) == 1, case["case"]
        assert ("error" in case) != ("counts" in case), case["case"]


@pytest.mark.parametrize("case", CASES, ids=[c["case"] for c in CASES])
def test_a_malformed_file_gives_its_exact_error_or_rejects(case, tmp_path):
    (path,) = sorted((CORPUS / case["case"]).iterdir())
    db = tmp_path / "w.duckdb"
    mapping = CORPUS / case["mapping"] if "mapping" in case else None
    if "error" in case:
        with pytest.raises(ImportFileError) as info:
            import_files([path], db, mapping=mapping)
        assert str(info.value) == case["error"].format(file=path.resolve())
        assert not db.exists()  # all or nothing: the warehouse was never published
        return
    (result,) = import_files([path], db, mapping=mapping)
    counts = case["counts"]
    assert (result.table, result.rows_read, result.rows_loaded, result.rows_rejected) == (
        counts["table"],
        counts["read"],
        counts["loaded"],
        counts["rejected"],
    )
    assert result.rows_read == result.rows_loaded + result.rows_rejected
    with connect_read(db) as con:
        rejects = con.execute(
            'select file, line, "column", value, reason from rejects order by line, "column"'
        ).fetchall()
    assert {r[0] for r in rejects} <= {str(path.resolve())}
    assert [list(r[1:]) for r in rejects] == case["rejects"]
