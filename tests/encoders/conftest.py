"""A result with every column type, nulls of each, non-ASCII and very long text, geometries."""
from __future__ import annotations

import math
import shutil
import subprocess
from datetime import datetime, timedelta, timezone

import pytest

from archive.columns import Column

LONG_TEXT = "\n".join(["SIMPLE  =                    T / long header card"] * 2000)  # ~100 kB CLOB
FIELDS = [
    Column("id", "BIGINT", ucd="meta.id;meta.main", description="row number"),
    Column("small", "SMALLINT"),
    Column("count", "INTEGER", unit="ct"),
    Column("ratio", "REAL"),
    Column("s_ra", "DOUBLE", unit="deg", ucd="pos.eq.ra", utype="obscore:Char.SpatialAxis.Coverage.Location.Coord.Position2D.Value2.C1"),
    Column("target name", "VARCHAR", description="a name with a blank, & < > in metadata"),
    Column("observer", "VARCHAR", votable_datatype="unicodeChar"),
    Column("header", "CLOB"),
    Column("code", "CHAR", arraysize="4"),
    Column("pos", "POINT", unit="deg"),
    Column("fov", "CIRCLE", unit="deg"),
    Column("outline", "POLYGON", unit="deg"),
    Column("s_region", "REGION"),
    Column("date_obs", "TIMESTAMP"),
    Column("flag", "BOOLEAN"),
]
SPOINT = "(6.1086523819801535 , 0.3490658503988659)"  # (350°, 20°) in radians, as pgsphere prints it
SCIRCLE = "<(0.17453292519943295 , -0.5235987755982988) , 0.008726646259971648>"  # (10°, -30°), 0.5°
SPOLY = "{(0.17453292519943295 , 0.3490658503988659),(0.19198621771937624 , 0.3490658503988659),(0.19198621771937624 , 0.3665191429188092)}"
T0 = datetime(2019, 5, 3, 1, 3, 56, 930000, tzinfo=timezone.utc)


def make_rows(n: int = 25) -> list[tuple]:
    rows = []
    for i in range(n):
        rows.append((
            i, i % 100, 1000 + i, 0.5 * i, (10.0 + i) % 360, f"M{i} <&> \"x\", y",
            "Åke Wirén, Ōsaka 観測 😀" if i % 3 == 0 else f"observer {i}",
            LONG_TEXT if i == 1 else f"card {i}", f"C{i:03d}", SPOINT, SCIRCLE, SPOLY, SPOLY,
            T0 + timedelta(hours=i), i % 2 == 0,
        ))
    rows.append((None,) * len(FIELDS))  # every type null
    rows.append((n, 0, 0, float("nan"), float("nan"), "", "", "", "", None, None, None, None, None, None))
    return rows


ROWS = make_rows()


def expected_degrees(row_value: str) -> list[float]:
    from archive.pgsphere import parse_pairs_deg
    return [c for pair in parse_pairs_deg(row_value) for c in pair]


def is_null(value) -> bool:
    import numpy as np
    if value is None or value is np.ma.masked:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return bool(np.all(np.ma.getmaskarray(value))) if np.ma.isMaskedArray(value) else False


@pytest.fixture(scope="session")
def votlint():
    """Runs ``stilts votlint`` on a file and returns its complaints (empty when clean)."""
    if shutil.which("stilts") is None:
        pytest.skip("stilts is not installed: votlint checks skipped")

    def run(path) -> str:
        result = subprocess.run(["stilts", "votlint", f"votable={path}"], capture_output=True, text=True,
                                timeout=300)
        return (result.stdout + result.stderr).strip()

    return run
