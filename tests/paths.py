"""Where the test data lives: hand-computed SQL cases, the malformed-file corpus, export fixtures."""

from pathlib import Path

TESTS_DIR = Path(__file__).resolve().parent
SQL_CASES = TESTS_DIR / "sql"
CORPUS = TESTS_DIR / "corpus"
EXPORTS = TESTS_DIR / "fixtures" / "exports"
DATA = TESTS_DIR / "data"
