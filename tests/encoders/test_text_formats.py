"""CSV, TSV, JSON and FITS round trips."""
from __future__ import annotations

import csv
import io
import json
import math

import pytest
from astropy.table import Table

from tests.encoders.conftest import FIELDS, LONG_TEXT, ROWS, SPOLY, expected_degrees
from archive.columns import Column
from vo_services.encoders.fits import write_fits
from vo_services.encoders.jsonformat import write_json
from vo_services.encoders.text import write_csv, write_tsv


def batches(rows=ROWS, size=7):
    return [rows[i:i + size] for i in range(0, len(rows), size)]


def test_csv_rfc4180_round_trip():
    data = b"".join(write_csv(FIELDS, batches()))
    assert data.startswith(b"id,small,count,ratio,s_ra,target name,") and b"\r\n" in data
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    assert rows[0] == [f.name for f in FIELDS]
    first = dict(zip(rows[0], rows[1]))
    assert first["target name"] == 'M0 <&> "x", y'
    assert first["observer"] == "Åke Wirén, Ōsaka 観測 😀"
    assert first["pos"] == "350.0 20.0"
    assert first["date_obs"] == "2019-05-03T01:03:56.930"
    assert first["flag"] == "T"
    assert [float(x) for x in first["outline"].split()] == pytest.approx(expected_degrees(SPOLY))
    assert dict(zip(rows[0], rows[2]))["header"] == LONG_TEXT
    assert set(rows[-2]) == {""}  # the all-null row
    assert dict(zip(rows[0], rows[-1]))["ratio"] == ""  # NaN is null


def test_csv_through_astropy():
    table = Table.read(b"".join(write_csv(FIELDS, batches())).decode(), format="ascii.csv")
    assert len(table) == len(ROWS)
    assert table["id"][3] == 3 and table["s_ra"][3] == 13.0
    assert table["target name"][0] == 'M0 <&> "x", y'
    assert table["id"].mask[-2]


def test_csv_maxrec():
    lines = b"".join(write_csv(FIELDS[:3], batches(), maxrec=4)).split(b"\r\n")
    assert len([line for line in lines if line]) == 1 + 4


def test_tsv_has_no_tabs_or_breaks_in_values():
    fields = [Column("a", "VARCHAR"), Column("b", "INTEGER")]
    data = b"".join(write_tsv(fields, [[("x\ty\nz", 1), (None, None)]])).decode()
    assert data == "a\tb\nx y z\t1\n\t\n"
    table = Table.read(b"".join(write_tsv(FIELDS[:6], batches())).decode(), format="ascii.tab")
    assert len(table) == len(ROWS) and table["s_ra"][1] == 11.0


def test_json_shape_and_values():
    document = json.loads(b"".join(write_json(FIELDS, batches(), maxrec=len(ROWS))))
    assert [m["name"] for m in document["metadata"]] == [f.name for f in FIELDS]
    assert document["metadata"][9] | {} == {"name": "pos", "datatype": "double", "arraysize": "2",
                                            "xtype": "point", "unit": "deg", "ucd": None,
                                            "utype": None, "description": None}
    first = dict(zip([f.name for f in FIELDS], document["data"][0]))
    assert first["pos"] == pytest.approx([350.0, 20.0]) and first["flag"] is True
    assert first["observer"] == "Åke Wirén, Ōsaka 観測 😀"
    assert document["data"][-2] == [None] * len(FIELDS)
    assert document["data"][-1][3] is None  # NaN
    assert document["status"] == "OK"


def test_json_overflow_and_error():
    assert json.loads(b"".join(write_json(FIELDS, batches(), maxrec=3)))["status"] == "OVERFLOW"

    def failing():
        yield ROWS[:2]
        raise RuntimeError("timeout")

    document = json.loads(b"".join(write_json(FIELDS, failing())))
    assert document["status"] == "ERROR" and document["message"] == "timeout"
    assert len(document["data"]) == 2


def test_fits_round_trip(tmp_path):
    path = tmp_path / "result.fits"
    path.write_bytes(b"".join(write_fits(FIELDS, batches())))
    assert path.stat().st_size % 2880 == 0
    table = Table.read(path)
    assert table.colnames == [f.name for f in FIELDS]
    assert len(table) == len(ROWS)
    assert table["id"][5] == 5 and table["s_ra"].unit == "deg"
    assert table["observer"][0] == "Åke Wirén, Ōsaka 観測 😀"
    assert table["header"][1] == LONG_TEXT
    assert list(table["pos"][0]) == pytest.approx([350.0, 20.0])
    assert list(table["outline"][0]) == pytest.approx(expected_degrees(SPOLY))
    assert table["date_obs"][0] == "2019-05-03T01:03:56.930"
    assert table["id"].mask[-2] and table["count"].mask[-2] and table["small"].mask[-2]
    assert math.isnan(table["ratio"][-1]) or table["ratio"].mask[-1]


def test_fits_overflow_card(tmp_path):
    from astropy.io import fits

    path = tmp_path / "overflow.fits"
    path.write_bytes(b"".join(write_fits(FIELDS[:3], batches(), maxrec=5)))
    with fits.open(path) as hdus:
        assert hdus[1].header["NAXIS2"] == 5 and hdus[1].header["QSTATUS"] == "OVERFLOW"


def test_fits_empty_result(tmp_path):
    path = tmp_path / "empty.fits"
    path.write_bytes(b"".join(write_fits(FIELDS, [])))
    table = Table.read(path)
    assert len(table) == 0 and table.colnames == [f.name for f in FIELDS]


def test_csv_error_midway_reraises_and_maxrec_zero_is_header_only():
    def failing():
        yield ROWS[:2]
        raise RuntimeError("timeout")

    chunks = write_csv(FIELDS[:2], failing())
    assert next(chunks).startswith(b"id,small") and next(chunks).count(b"\r\n") == 2
    with pytest.raises(RuntimeError, match="timeout"):
        next(chunks)
    assert b"".join(write_csv(FIELDS[:2], batches(), maxrec=0)) == b"id,small\r\n"


def test_parquet_round_trip():
    pq = pytest.importorskip("pyarrow.parquet")
    from vo_services.encoders.parquet import write_parquet

    chunks = list(write_parquet(FIELDS, batches(), maxrec=20))
    assert len(chunks) > 3  # one row group flushed per batch
    data = b"".join(chunks)
    table = pq.read_table(io.BytesIO(data))
    assert table.column_names == [f.name for f in FIELDS] and table.num_rows == 20
    first = table.slice(0, 1).to_pylist()[0]
    assert first["observer"] == "Åke Wirén, Ōsaka 観測 😀"
    assert first["pos"] == pytest.approx([350.0, 20.0])
    assert first["outline"] == pytest.approx(expected_degrees(SPOLY))
    assert first["date_obs"] == "2019-05-03T01:03:56.930"
    assert table.schema.field("pos").metadata[b"xtype"] == b"point"
    assert pq.ParquetFile(io.BytesIO(data)).metadata.metadata[b"QUERY_STATUS"] == b"OVERFLOW"
    nulls = pq.read_table(io.BytesIO(b"".join(write_parquet(FIELDS, batches())))).slice(len(ROWS) - 2).to_pylist()
    assert set(nulls[0].values()) == {None}
    assert nulls[1]["ratio"] is None and nulls[1]["s_ra"] is None  # NaN is null
