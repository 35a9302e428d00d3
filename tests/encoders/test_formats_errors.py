"""The RESPONSEFORMAT registry and the DALI error document."""
from __future__ import annotations

import io

import pytest
from astropy.io.votable import parse

from vo_services.encoders import FORMATS, UnknownFormat, error_document, output_formats, resolve


@pytest.mark.parametrize("value, name, content_type", [
    (None, "votable", "application/x-votable+xml"),
    ("votable", "votable", "application/x-votable+xml"),
    ("VOTABLE", "votable", "application/x-votable+xml"),
    ("application/x-votable+xml", "votable", "application/x-votable+xml"),
    ("text/xml", "votable", "text/xml;charset=utf-8"),
    ("application/x-votable+xml;serialization=BINARY2", "votable", "application/x-votable+xml;serialization=BINARY2"),
    ("Application/X-VOTable+XML; serialization=tabledata", "votable/td", "Application/X-VOTable+XML; serialization=tabledata"),
    ("votable/td", "votable/td", "application/x-votable+xml;serialization=TABLEDATA"),
    ("votable/b2", "votable", "application/x-votable+xml"),
    ("application/x-votable+xml;content=datalink", "votable", "application/x-votable+xml;content=datalink"),
    ("csv", "csv", "text/csv;header=present;charset=utf-8"),
    ("text/csv", "csv", "text/csv;charset=utf-8"),
    ("TSV", "tsv", "text/tab-separated-values;charset=utf-8"),
    ("text/tab-separated-values", "tsv", "text/tab-separated-values;charset=utf-8"),
    ("fits", "fits", "application/fits"),
    ("application/fits", "fits", "application/fits"),
    ("json", "json", "application/json"),
    ("parquet", "parquet", "application/vnd.apache.parquet"),
    ("application/x-parquet", "parquet", "application/x-parquet"),
])
def test_resolve(value, name, content_type):
    fmt, answered = resolve(value)
    assert fmt.name == name and answered == content_type


@pytest.mark.parametrize("value", ["text/html", "votable/binary", "application/x-votable+xml;serialization=FITS", "xls"])
def test_unknown_format(value):
    with pytest.raises(UnknownFormat, match="unsupported RESPONSEFORMAT"):
        resolve(value)


def test_output_formats_for_capabilities():
    listed = output_formats()
    assert [f["mime"] for f in listed] == [f.mime for f in FORMATS]
    assert listed[0]["aliases"][0] == "votable"
    assert {"csv", "tsv", "fits", "json", "votable/td"} <= {a for f in listed for a in f["aliases"]}
    for entry in listed:
        fmt, _ = resolve(entry["mime"])
        assert fmt.mime == entry["mime"]


def test_every_format_encodes():
    from archive.columns import Column

    for fmt in FORMATS:
        if fmt.name == "parquet":
            pytest.importorskip("pyarrow")
        data = b"".join(fmt([Column("n", "INTEGER")], [[(1,), (2,)]], maxrec=5))
        assert data


def test_error_document(votlint, tmp_path):
    document = error_document("Syntax error at <line 1> & \x00 more")
    votable = parse(io.BytesIO(document))
    resource = votable.resources[0]
    assert resource.type == "results" and not resource.tables
    status = [i for i in resource.infos if i.name == "QUERY_STATUS"]
    assert len(status) == 1 and status[0].value == "ERROR"
    assert status[0].content == "Syntax error at <line 1> & \ufffd more"
    path = tmp_path / "error.vot"
    path.write_bytes(document)
    assert votlint(path) == ""
    assert b">unknown error<" in error_document("  ")
