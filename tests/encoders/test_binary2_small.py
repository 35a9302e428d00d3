"""The cell-by-cell BINARY2 encoder for small batches writes exactly what the vectorised one does."""
from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from tests.encoders.conftest import FIELDS, ROWS
from archive.columns import Column
from vo_services.encoders.binary2 import RowEncoder
from vo_services.encoders.binary2_small import SMALL_ROWS, SmallRows, Unpackable


def both(fields, rows) -> tuple[bytes, bytes]:
    encoder = RowEncoder(fields)
    return bytes(SmallRows(fields).encode(rows)), encoder.vectorised(rows).tobytes()


def test_every_type_with_nulls_nan_and_non_ascii():
    small, vectorised = both(FIELDS, ROWS)
    assert small == vectorised


@pytest.mark.parametrize("start", range(0, len(ROWS), 5))
def test_single_rows(start):
    small, vectorised = both(FIELDS, ROWS[start:start + 1])
    assert small == vectorised


@pytest.mark.parametrize("field, column", [
    (Column("d", "DOUBLE"), [Decimal("1.5"), Decimal("NaN"), None, 2, True, float("inf")]),
    (Column("r", "REAL"), [0.1, None, float("nan"), -0.0, 3.4e38, 1e-46]),
    (Column("i", "INTEGER"), [True, False, None, -2**31, 2**31 - 1]),
    (Column("c", "CHAR", arraysize="3"), ["abcdef", "a", "", None, "é"]),
    (Column("u", "CHAR", arraysize="2", votable_datatype="unicodeChar"), ["观测站", "a", None, "😀"]),
    (Column("t", "TIMESTAMP"), [None, "2019-05-03T01:02:03"]),
    (Column("p", "POLYGON"), [None, "{(0.1 , 0.2),(0.2 , 0.2),(0.2 , 0.3)}"]),
])
def test_edge_values(field, column):
    rows = [(v,) for v in column]
    small, vectorised = both([field], rows)
    assert small == vectorised


@pytest.mark.parametrize("field, value", [
    (Column("r", "REAL"), 1e300),  # numpy makes it inf; struct refuses
    (Column("i", "INTEGER"), 1.7),  # numpy truncates; struct refuses
])
def test_values_struct_refuses_go_the_vectorised_way(field, value):
    with pytest.raises(Unpackable):
        SmallRows([field]).encode([(value,)])
    assert bytes(RowEncoder([field]).encode([(value,)])) == RowEncoder([field]).vectorised([(value,)]).tobytes()


def test_an_integer_out_of_range_fails_as_before():
    with pytest.raises(OverflowError):
        RowEncoder([Column("s", "SMALLINT")]).encode([(40_000,)])


def test_batch_size_decides_the_path():
    fields = [Column("n", "INTEGER"), Column("name", "VARCHAR")]
    rows = [(i, f"row {i}") for i in range(SMALL_ROWS + 1)]
    encoder = RowEncoder(fields)
    assert isinstance(encoder.encode(rows[:SMALL_ROWS]), bytes)
    assert isinstance(encoder.encode(rows), np.ndarray)
    assert bytes(encoder.encode(rows[:SMALL_ROWS])) == encoder.vectorised(rows[:SMALL_ROWS]).tobytes()


def test_real_database_values(owner_conn):
    """Every type as psycopg2 returns it from PostgreSQL + pgsphere, a NULL of each included."""
    with owner_conn.cursor() as cur:
        cur.execute("""
            SELECT CASE WHEN n = 3 THEN NULL ELSE n::bigint END, CASE WHEN n = 3 THEN NULL ELSE n::smallint END,
                   CASE WHEN n = 3 THEN NULL ELSE (n * 10)::integer END,
                   CASE WHEN n = 3 THEN NULL WHEN n = 2 THEN 'NaN'::real ELSE n * 0.5::real END,
                   CASE WHEN n = 3 THEN NULL ELSE n * 1.5::double precision END,
                   CASE WHEN n = 3 THEN NULL ELSE 'Åke ' || n END,
                   CASE WHEN n = 3 THEN NULL ELSE spoint(radians(350.0 + n), radians(20.0)) END,
                   CASE WHEN n = 3 THEN NULL ELSE scircle(spoint(radians(10.0), radians(-30.0)), radians(0.5)) END,
                   CASE WHEN n = 3 THEN NULL ELSE spoly('{(10d,20d),(11d,20d),(11d,21d)}') END,
                   CASE WHEN n = 3 THEN NULL ELSE timestamptz '2019-05-03 01:03:56.93+00' + n * interval '1 hour' END,
                   CASE WHEN n = 3 THEN NULL ELSE n % 2 = 0 END,
                   CASE WHEN n = 3 THEN NULL ELSE 'ab' || n END
            FROM generate_series(0, 3) AS n""")
        rows = cur.fetchall()
    fields = [Column("id", "BIGINT"), Column("s", "SMALLINT"), Column("i", "INTEGER"), Column("r", "REAL"),
              Column("d", "DOUBLE"), Column("name", "VARCHAR", votable_datatype="unicodeChar"),
              Column("pos", "POINT"), Column("fov", "CIRCLE"), Column("outline", "POLYGON"),
              Column("date_obs", "TIMESTAMP"), Column("flag", "BOOLEAN"), Column("code", "CHAR", arraysize="4")]
    small, vectorised = both(fields, rows)
    assert small == vectorised
