"""The fast paths of the vectorised BINARY2 encoder write exactly what the general ones do.

Numbers are packed by one ``struct`` call per column when every value packs (else numpy, as
before); a row whose one variable-length cell is ``char`` text is laid out by interleaving
(``RowEncoder._around_text``) instead of labelling every byte (``RowEncoder._scatter``). Each
is compared with the cell-by-cell encoder (:mod:`vo_services.encoders.binary2_small`, written
independently) and with the general path on the same rows: NULLs, NaN, infinities, extreme
values, empty and non-ASCII text, the text first, between numbers and last.
"""
from __future__ import annotations

import io
import random
from decimal import Decimal

import numpy as np
import pytest
from astropy.io.votable import parse_single_table

from archive.columns import Column
from vo_services.encoders import write_votable
from vo_services.encoders.binary2 import Base64Stream, RowEncoder, cell_encoder
from vo_services.encoders.binary2_small import SmallRows

TYPES = {"V": Column("v", "VARCHAR"), "D": Column("d", "DOUBLE"), "R": Column("r", "REAL"),
         "I": Column("i", "INTEGER"), "S": Column("s", "SMALLINT"), "B": Column("b", "BIGINT"),
         "C": Column("c", "CLOB")}
EDGE = {
    "V": ["", "x", "Åke 観測 😀", "\ud800 lone surrogate", "a\x00b", "ascii only " * 30, None],
    "C": ["card\n" * 50, "", None, "é"],
    "D": [0.0, -0.0, float("nan"), float("inf"), -float("inf"), 1e-310, 1.7976931348623157e308, None],
    "R": [0.1, 3.4028234e38, 1e-46, float("nan"), -float("inf"), None],  # 1e300: below
    "I": [0, -2**31, 2**31 - 1, True, None],
    "S": [0, -2**15, 2**15 - 1, None],
    "B": [0, -2**63, 2**63 - 1, None],
}
LAYOUTS = ["V", "VD", "DV", "DVID", "ISDV", "BVRD", "VVD", "DCI", "RDIS"]


def random_rows(layout: str, n: int, rng: random.Random, nulls: bool) -> list[tuple]:
    def value(kind: str):
        pool = [v for v in EDGE[kind] if nulls or v is not None]
        if rng.random() < 0.3:
            return rng.choice(pool)
        return {"V": lambda: f"2019-05/03/shane/b{rng.randrange(10**rng.randint(0, 7))}",
                "C": lambda: "SIMPLE = T " * rng.randint(0, 3),
                "D": lambda: rng.uniform(-1e6, 1e6), "R": lambda: rng.uniform(-10, 10),
                "I": lambda: rng.randint(-2**31, 2**31 - 1), "S": lambda: rng.randint(-99, 99),
                "B": lambda: rng.randint(-2**63, 2**63 - 1)}[kind]()
    return [tuple(value(kind) for kind in layout) for _ in range(n)]


@pytest.mark.parametrize("nulls", [False, True])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_fast_paths_write_the_cell_by_cell_bytes(layout, nulls):
    fields = [TYPES[kind] for kind in layout]
    rows = random_rows(layout, 700, random.Random(f"{layout}{nulls}"), nulls)
    encoder = RowEncoder(fields)
    fast = encoder.vectorised(rows).tobytes()
    assert fast == SmallRows(fields).encode(rows)
    cells = [encode(column) for encode, column in zip(encoder.encoders, zip(*rows))]
    flags = np.packbits(np.stack([c.null for c in cells], axis=1), axis=1)
    if any(c.variable for c in cells):
        assert fast == RowEncoder._scatter(len(rows), flags, cells).tobytes()


def test_text_among_numbers_takes_the_interleaving_path(monkeypatch):
    fields = [Column("obs_id", "VARCHAR"), Column("s_ra", "DOUBLE"), Column("n", "INTEGER")]
    rows = [(f"id{i}", i * 0.5, i) for i in range(200)]
    calls = []
    monkeypatch.setattr(RowEncoder, "_scatter", staticmethod(lambda *a: calls.append(a)))
    assert RowEncoder(fields).vectorised(rows).tobytes() == SmallRows(fields).encode(rows)
    assert calls == []


@pytest.mark.parametrize("field, column", [
    (TYPES["D"], [Decimal("1.5"), Decimal("NaN"), 2, True, 2**70]),  # struct converts as numpy does
    (TYPES["R"], [1e300, -1e300, 0.1]),  # struct refuses to overflow; numpy writes infinities
    (TYPES["I"], [1.7, -2.2, 3]),  # struct refuses floats; numpy truncates, as before
    (TYPES["D"], [1.0, None, 3.0]),  # NULL: numpy, NaN
])
def test_values_struct_will_not_pack_are_encoded_as_before(field, column):
    cells = cell_encoder(field)(column)
    expected = np.array([np.nan if v is None else v for v in column]).astype(
        {"DOUBLE": ">f8", "REAL": ">f4", "INTEGER": ">i4"}[field.datatype])
    assert cells.block.tobytes() == expected.tobytes()


def test_region_text_is_still_converted():
    """REGION values are strings too, but pgsphere's, turned into STC-S: not the plain path."""
    field = Column("s_region", "REGION")
    rows = [("<(0.17453292519943295 , -0.5235987755982988) , 0.008726646259971648>",)] * 70
    assert b"Circle ICRS" in RowEncoder([field]).vectorised(rows).tobytes()


def test_base64_is_binascii_s():
    import binascii

    data = bytes(range(256)) * 1001
    stream = Base64Stream()
    encoded = b"".join(stream.feed(data[:1000]) + stream.feed(data[1000:]) + [stream.close()])
    assert binascii.a2b_base64(encoded) == data
    assert encoded.replace(b"\n", b"") == binascii.b2a_base64(data, newline=False)


def test_astropy_reads_a_large_mixed_result():
    fields = [Column("obs_id", "VARCHAR"), Column("s_ra", "DOUBLE"), Column("calib", "SMALLINT")]
    rows = [(None if i % 97 == 0 else f"Ōsaka {i}" if i % 89 == 0 else f"id{i}",
             None if i % 50 == 0 else i / 7, i % 4) for i in range(30_000)]
    document = b"".join(write_votable(fields, [rows[:20_000], rows[20_000:]]))
    table = parse_single_table(io.BytesIO(document)).array
    assert len(table) == 30_000
    for i in (0, 1, 89, 97, 100, 20_000, 29_999):
        expected = rows[i][0]
        got = table["obs_id"][i]
        if expected is None:
            assert table["obs_id"].mask[i] or got == ""
        else:
            assert got == expected.replace("Ō", "?")
        assert (np.ma.is_masked(table["s_ra"][i]) or np.isnan(table["s_ra"][i])) == (rows[i][1] is None)
