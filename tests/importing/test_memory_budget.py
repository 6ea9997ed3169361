"""The import's memory limit is the whole process's: DuckDB gets what the rest leaves."""

import pytest

from crmreview.importing.limits import (
    MEMORY_RESERVE,
    MEMORY_RESERVE_PER_THREAD,
    duckdb_memory_limit,
    input_bytes,
    parse_size,
    resident_bytes,
)


@pytest.mark.parametrize(
    ("text", "size"),
    [("2GB", 2_000_000_000), ("512 MB", 512_000_000), ("1.5GiB", 3 * 2**29), ("64kb", 64_000), ("100", 100)],
)
def test_sizes_read_as_duckdb_reads_them(text, size):
    assert parse_size(text) == size


def test_duckdb_gets_the_limit_less_the_process_and_the_reserve():
    before = resident_bytes()
    share = duckdb_memory_limit("2GB", threads=2)
    after = resident_bytes()
    kib = int(share.removesuffix("KiB"))
    reserve = MEMORY_RESERVE + 2 * MEMORY_RESERVE_PER_THREAD
    assert (2_000_000_000 - after - reserve) // 1024 - 1 <= kib <= (2_000_000_000 - before - reserve) // 1024 + 1
    # each further thread takes its reserve from DuckDB's share
    assert int(duckdb_memory_limit("2GB", threads=3).removesuffix("KiB")) < kib - 40 * 1024


def test_a_text_that_is_no_size_is_left_to_duckdb_to_refuse():
    assert parse_size("lots") is None
    assert duckdb_memory_limit("lots") == "lots"


def test_the_data_imported_takes_its_share_from_duckdb(tmp_path):
    plain, packed = tmp_path / "orders.csv", tmp_path / "orders.csv.gz"
    plain.write_bytes(b"x" * 1000)
    packed.write_bytes(b"x" * 1000)
    assert input_bytes([plain, packed]) == 1000 + 4 * 1000
    without = int(duckdb_memory_limit("2GB", threads=2).removesuffix("KiB"))
    with_data = int(duckdb_memory_limit("2GB", threads=2, input_bytes=10**9).removesuffix("KiB"))
    # a tenth of the data's bytes, give or take what the process allocated in between
    assert abs((without - with_data) - 10**8 // 1024) < 2048
