"""Constant memory on a million rows, and real psycopg2 values from PostgreSQL + pgsphere."""
from __future__ import annotations

import io
import shutil
import subprocess
import tracemalloc

import pytest
from astropy.io.votable import parse

from archive.columns import Column
from vo_services.encoders import write_votable
from vo_services.encoders.text import write_csv

FIVE = [Column("obs_id", "VARCHAR"), Column("s_ra", "DOUBLE"), Column("s_dec", "DOUBLE"),
        Column("t_min", "DOUBLE"), Column("calib_level", "INTEGER")]


def million_rows(batch: int = 10_000, total: int = 1_000_000):
    """Batches made on demand, as a server-side cursor delivers them."""
    for start in range(0, total, batch):
        yield [(f"2019-05/03/shane/b{i}", i * 1e-4, -30.0 + i * 1e-5, 58000.5 + i, 1)
               for i in range(start, start + batch)]


def streaming_peak(chunks) -> tuple[int, int]:
    """(bytes written, tracemalloc peak) while consuming a stream of chunks."""
    tracemalloc.start()
    try:
        written = sum(len(chunk) for chunk in chunks)
        return written, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_million_rows_binary2_in_bounded_memory():
    written, peak = streaming_peak(write_votable(FIVE, million_rows(), serialization="BINARY2"))
    assert written > 45_000_000  # ~47 bytes a row went through, base64-encoded
    assert peak < 20_000_000, f"peak {peak / 1e6:.1f} MB while streaming {written / 1e6:.0f} MB"


def test_csv_memory_does_not_grow_with_rows():
    small = streaming_peak(write_csv(FIVE, million_rows(total=50_000)))
    large = streaming_peak(write_csv(FIVE, million_rows(total=250_000)))
    assert large[0] > 4 * small[0]
    assert large[1] < 1.5 * small[1], f"peak grew from {small[1] / 1e6:.1f} to {large[1] / 1e6:.1f} MB"


def test_stil_reads_binary2_polygons(tmp_path):
    """votlint cannot check BINARY2 polygons (see test_votable); STIL's reader must still agree."""
    if shutil.which("stilts") is None:
        pytest.skip("stilts is not installed")
    from tests.encoders.conftest import FIELDS, ROWS

    path = tmp_path / "poly.vot"
    path.write_bytes(b"".join(write_votable(FIELDS, [ROWS])))
    result = subprocess.run(["stilts", "tpipe", f"in={path}", "ofmt=csv", "cmd=keepcols 'id outline observer'"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "id,outline,observer"
    assert lines[1].startswith('0,"(10.0, 20.0, 11.0, 20.0, 11.0, 21.0')
    assert "Åke Wirén, Ōsaka 観測 😀" in lines[1]


@pytest.fixture
def pg_cursor(owner_conn):
    """A named (server-side) cursor on the session's test database, which has pg_sphere."""
    yield owner_conn.cursor(name="votable_test")


def test_real_cursor_values(pg_cursor):
    pg_cursor.execute("""
        SELECT n::bigint, n::smallint, (n * 10)::integer, n * 0.5::real, n * 1.5::double precision,
               CASE WHEN n = 2 THEN NULL ELSE 'Åke ' || n END,
               spoint(radians(350.0 + n), radians(20.0)),
               scircle(spoint(radians(10.0), radians(-30.0)), radians(0.5)),
               spoly('{(10d,20d),(11d,20d),(11d,21d)}'),
               timestamptz '2019-05-03 01:03:56.93+00' + n * interval '1 hour',
               n % 2 = 0
        FROM generate_series(0, 2) AS n""")
    fields = [Column("id", "BIGINT"), Column("s", "SMALLINT"), Column("i", "INTEGER"), Column("r", "REAL"),
              Column("d", "DOUBLE"), Column("name", "VARCHAR", votable_datatype="unicodeChar"),
              Column("pos", "POINT"), Column("fov", "CIRCLE"), Column("outline", "POLYGON"),
              Column("date_obs", "TIMESTAMP"), Column("flag", "BOOLEAN")]
    batches = iter(lambda: pg_cursor.fetchmany(2), [])
    table = parse(io.BytesIO(b"".join(write_votable(fields, batches)))).get_first_table().array
    assert len(table) == 3
    assert table[0]["name"] == "Åke 0"
    assert table[2]["name"] == "" or table.mask[2]["name"]
    assert list(table[0]["pos"]) == pytest.approx([350.0, 20.0])
    assert list(table[1]["pos"]) == pytest.approx([351.0, 20.0])
    assert list(table[2]["pos"]) == pytest.approx([352.0, 20.0])
    assert list(table[0]["fov"]) == pytest.approx([10.0, -30.0, 0.5])
    assert list(table[0]["outline"]) == pytest.approx([10.0, 20.0, 11.0, 20.0, 11.0, 21.0])
    assert table[1]["date_obs"] == "2019-05-03T02:03:56.930"
    assert table[1]["r"] == pytest.approx(0.5) and table[1]["d"] == 1.5 and not table[1]["flag"]
