"""pgsphere text and timestamps into DALI values."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from archive.columns import Column
from vo_services.encoders import values
from vo_services.encoders.fields import xml_ids


def test_point_in_degrees_with_ra_wrapped():
    assert values.point("(-0.1745329251994330 , 0.5)") == pytest.approx((350.0, 28.64788975654116))
    assert values.point(None) is None


def test_circle():
    assert values.circle("<(6.283185307179586 , -0.5235987755982988) , 0.008726646259971648>") == \
        pytest.approx((0.0, -30.0, 0.5), abs=1e-9)


def test_polygon_flat_vertices():
    assert values.polygon("{(0 , 0),(0.1 , 0),(0.1 , 0.1)}") == pytest.approx(
        (0.0, 0.0, 5.729577951308233, 0.0, 5.729577951308233, 5.729577951308233))


def test_region_as_stcs():
    assert values.region("{(0 , 0),(0.1 , 0),(0.1 , 0.1)}").startswith("Polygon ICRS 0.0 0.0 5.7295")
    assert values.region("<(0 , 0) , 0.1>").startswith("Circle ICRS 0.0 0.0 5.7295")
    assert values.region("Box ICRS 1 2 3 4") == "Box ICRS 1 2 3 4"


@pytest.mark.parametrize("value, text", [
    (datetime(2019, 5, 3, 1, 3, 56, 930000, tzinfo=timezone.utc), "2019-05-03T01:03:56.930"),
    (datetime(2019, 5, 3, 1, 3, 56, tzinfo=timezone(timedelta(hours=-8))), "2019-05-03T09:03:56"),
    (datetime(2019, 5, 3, 1, 3, 56, 123456), "2019-05-03T01:03:56.123456"),
    (date(2019, 5, 3), "2019-05-03T00:00:00"),
])
def test_timestamp_dali(value, text):
    assert values.timestamp(value) == text


def test_field_types():
    assert Column("a", "varchar").votable == ("char", "*", None)
    assert Column("a", "CLOB").votable == ("char", "*", "adql:clob")
    assert Column("a", "CHAR", arraysize="8").votable == ("char", "8", None)
    assert Column("a", "VARCHAR", votable_datatype="unicodeChar").votable == ("unicodeChar", "*", None)
    with pytest.raises(ValueError, match="BLOB"):
        Column("a", "BLOB")


def test_a_published_column_is_a_result_column():
    from archive.published import OBSCORE

    column = next(c for c in OBSCORE.columns if c.name == "s_region")
    assert isinstance(column, Column)
    assert column.votable == ("char", "*", "adql:region") and column.ucd == "pos.outline;obs.field"


def test_xml_ids():
    assert xml_ids([Column("é", "INTEGER"), Column("-x", "INTEGER")]) == ["_", "_-x"]
