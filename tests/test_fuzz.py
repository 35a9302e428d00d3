"""Fuzzing (issue #20): random and hostile input at every door, with a fixed seed and a time budget.

The bulk of the cases go through the in-process layers (the ADQL translator, DALI/TAP/SCS
parameter parsing, the TAP_UPLOAD VOTable reader, the FITS header reader); a few thousand go
through the real gunicorn and Celery worker. What must hold: the translator translates or raises
its own AdqlError with a position; every layer raises only its own error; no HTTP 500, every
error a VOTable error document with QUERY_STATUS ERROR (DALI 1.1 §4.2); a broken FITS file is a
recorded ingest failure with a reason and no row; and afterwards the service and the worker
still answer. Each test stops early, saying so, if its share of the budget runs out.
"""
from __future__ import annotations

import functools
import http.client
import io
import random
import re
import shutil
import time
import urllib.parse
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.adql import lyonetia_queries
from vo_services.dali import DaliParameterError, DaliParams
from vo_services.tap.adql import AdqlError, AdqlSyntaxError, Catalog, check, translate
from vo_services.tap.examples import EXAMPLES

pytestmark = pytest.mark.slow

SEED = 20_2026
#: Seconds each test may spend (about 110 s in all on an idle machine); a test that runs out
#: stops generating cases and reports how many it ran.
BUDGET_S = {"grammar": 25, "mutation": 30, "params": 8, "upload": 12, "fits": 10, "ingest": 10, "http": 35}
#: How many cases each test aims for (more than 20,000 in all).
CASES = {"grammar": 1_500, "mutation": 9_000, "params": 5_000, "upload": 1_200, "fits": 4_000,
         "ingest": 60, "http": 1_500}
RAN: dict[str, int] = {}


class Budget:
    """Counts a test's cases and tells it when its time is up."""

    def __init__(self, name: str):
        self.name = name
        self.deadline = time.monotonic() + BUDGET_S[name]
        self.cases = 0

    def more(self) -> bool:
        if self.cases >= CASES[self.name] or time.monotonic() > self.deadline:
            RAN[self.name] = self.cases
            return False
        self.cases += 1
        return True


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    from vo_services.tap.catalog import catalog as published

    return published()


# ---------------------------------------------------------------- ADQL: grammar-based generation

_COLUMNS = {
    "ivoa.obscore": ["obs_id", "s_ra", "s_dec", "t_min", "t_exptime", "target_name", "s_region",
                     "access_estsize", "calib_level", "obs_release_date", "em_min", "dataproduct_type"],
    "lick.observations": ["obs_id", "s_ra", "s_dec", "pos", "exptime", "airmass", "instrument",
                          "date_obs", "header", "file_size", "ingest_flags", "frame_type"],
    "tap_schema.columns": ["table_name", "column_name", "datatype", "size", "principal"],
}
_NUMBERS = st.one_of(st.integers(-10**20, 10**20).map(str),
                     st.floats(allow_nan=False, allow_infinity=False).map(repr),
                     st.sampled_from(["0", "1", "-0.5", "1e308", "1E-400", "0x7FFFFFFF", "0xFFFFFFFFFFFFFFFFFF", ".5", "5."]))
_STRINGS = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12).map(
    lambda s: "'" + s.replace("'", "''") + "'")
_FUNCS1 = ["ABS", "CEILING", "FLOOR", "SQRT", "LOG", "LOG10", "EXP", "SIN", "ACOS", "RADIANS",
           "DEGREES", "LOWER", "UPPER", "COUNT", "MAX", "MIN", "AVG", "SUM", "COORD1", "AREA",
           "CENTROID", "pg_sleep", "ivo_nocasematch"]
_FUNCS2 = ["POWER", "MOD", "ROUND", "TRUNCATE", "ATAN2", "DISTANCE", "CONTAINS", "INTERSECTS",
           "ivo_hasword", "IN_UNIT", "COALESCE"]


@functools.cache
def _expression(table: str) -> st.SearchStrategy[str]:
    leaf = st.one_of(st.sampled_from(_COLUMNS[table]), _NUMBERS, _STRINGS,
                     st.sampled_from(["NULL", "PI()", "RAND()", "unknown_col", "x.s_ra", "TRUE"]))

    def extend(inner):
        return st.one_of(
            st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "||", "&", "%"]), inner).map(" ".join),
            st.tuples(st.sampled_from(_FUNCS1), inner).map(lambda t: f"{t[0]}({t[1]})"),
            st.tuples(st.sampled_from(_FUNCS2), inner, inner).map(lambda t: f"{t[0]}({t[1]}, {t[2]})"),
            st.tuples(inner, inner).map(lambda t: f"POINT('ICRS', {t[0]}, {t[1]})"),
            st.tuples(inner, inner, inner).map(lambda t: f"CIRCLE({t[0]}, {t[1]}, {t[2]})"),
            st.lists(inner, min_size=0, max_size=8).map(lambda xs: f"POLYGON({', '.join(xs)})"),
            st.tuples(inner, st.sampled_from(["INTEGER", "BIGINT", "DOUBLE PRECISION", "CHAR(3)",
                                               "VARCHAR", "TIMESTAMP", "POINT"])).map(
                lambda t: f"CAST({t[0]} AS {t[1]})"),
            st.tuples(inner, inner, inner).map(lambda t: f"CASE WHEN {t[0]} = {t[1]} THEN {t[2]} END"),
            inner.map(lambda x: f"({x})"),
            inner.map(lambda x: f"-{x}"),
        )
    return st.recursive(leaf, extend, max_leaves=8)


@functools.cache
def _condition(table: str) -> st.SearchStrategy[str]:
    e = _expression(table)
    atom = st.one_of(
        st.tuples(e, st.sampled_from(["=", "<>", "<", ">=", "LIKE", "ILIKE", "NOT LIKE"]), e).map(" ".join),
        st.tuples(e, e, e).map(lambda t: f"{t[0]} BETWEEN {t[1]} AND {t[2]}"),
        e.map(lambda x: f"{x} IS NOT NULL"),
        st.tuples(e, st.lists(e, min_size=1, max_size=4)).map(lambda t: f"{t[0]} IN ({', '.join(t[1])})"),
        st.tuples(e, e).map(lambda t: f"1 = CONTAINS(POINT('ICRS', {t[0]}, {t[1]}), CIRCLE('ICRS', 10, 20, 1))"),
        st.just("EXISTS (SELECT 1 FROM ivoa.obscore)"),
    )
    return st.recursive(atom, lambda c: st.one_of(
        st.tuples(c, st.sampled_from(["AND", "OR"]), c).map(" ".join),
        c.map(lambda x: f"NOT ({x})")), max_leaves=4)


@st.composite
def adql_queries(draw) -> str:
    table = draw(st.sampled_from(sorted(_COLUMNS)))
    columns = _COLUMNS[table]
    select = draw(st.one_of(st.just("*"), st.lists(
        st.tuples(_expression(table), st.sampled_from(["", " AS a", " AS \"x y\"", " AS select"])).map("".join),
        min_size=1, max_size=4).map(", ".join)))
    head = draw(st.sampled_from(["SELECT", "SELECT DISTINCT", "SELECT ALL"]))
    top = draw(st.sampled_from(["", "TOP 0 ", "TOP 5 ", "TOP 99999999999999999999 ", "TOP -1 "]))
    source = draw(st.sampled_from([
        table, f"{table} AS t", f"{table} AS t JOIN ivoa.obscore AS o ON t.obs_id = o.obs_id",
        f"{table} NATURAL JOIN lick.observations", f"(SELECT * FROM {table}) AS q", "nosuch.table",
        f"{table}, {table}"]))
    query = f"{head} {top}{select} FROM {source}"
    if draw(st.booleans()):
        query += " WHERE " + draw(_condition(table))
    if draw(st.integers(0, 3)) == 0:
        query += " GROUP BY " + draw(st.sampled_from(columns))
    if draw(st.integers(0, 2)) == 0:
        query += " ORDER BY " + draw(st.sampled_from(columns + ["1", "2 DESC", "99"]))
    wrap = draw(st.integers(0, 6))
    if wrap == 0:
        query = f"WITH w AS ({query}) SELECT * FROM w"
    elif wrap == 1:
        query = f"{query} UNION SELECT {select} FROM {table}"
    return query + draw(st.sampled_from(["", ";", " -- comment", "\n", " OFFSET 3"]))


def _translates_or_adql_error(query: str, catalog: Catalog) -> None:
    """The one property of the translator: a translation, or its own error with a position."""
    try:
        translate(query, catalog, maxrec=1000)
    except AdqlSyntaxError as exc:
        whole = not query.strip() or "longer" in exc.message or "nested" in exc.message
        assert exc.line is not None or whole, (query, str(exc))
    except AdqlError:
        pass
    try:
        check(query)
    except AdqlError:
        pass


def test_generated_adql_translates_or_raises_adql_error(catalog):
    budget = Budget("grammar")

    @settings(max_examples=CASES["grammar"], deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(adql_queries())
    def run(query):
        if budget.more():
            _translates_or_adql_error(query, catalog)

    run()
    RAN["grammar"] = budget.cases
    print(f"\nADQL grammar: {budget.cases} cases")


# ---------------------------------------------------------------- ADQL: mutations of real queries

_TOKENS = ["SELECT", "FROM", "WHERE", "(", ")", "'", "''", '"', ",", ".", "*", "--", "/*", "*/",
           "\\", "\x00", "\u00e9", "\U0001f600", "\u202e", "1e999", "0x", "TOP", "JOIN", "UNION",
           "CONTAINS(", "POINT(", "CIRCLE(", ";", " OR 1=1", "pg_sleep(10)", "$$", "::text", "%"]


def mutate(text: str, rng: random.Random) -> str:
    """One to four random edits: delete, duplicate, insert a token or byte, swap, truncate."""
    for _ in range(rng.randint(1, 4)):
        if not text:
            text = rng.choice(_TOKENS)
        i, j = sorted(rng.randrange(len(text) + 1) for _ in range(2))
        kind = rng.randrange(7)
        if kind == 0:
            text = text[:i] + text[j:]
        elif kind == 1:
            text = text[:j] + text[i:j] + text[j:]
        elif kind == 2:
            text = text[:i] + rng.choice(_TOKENS) + text[i:]
        elif kind == 3:
            text = text[:i] + chr(rng.choice([rng.randrange(32, 127), rng.randrange(0, 0x3000)])) + text[i:]
        elif kind == 4 and j > i:
            text = text[:i] + text[i:j][::-1] + text[j:]
        elif kind == 5:
            text = text[:i]
        else:
            text = text[:i] + "(" * rng.randrange(1, 300) + text[i:]
    return text


SEED_QUERIES = ([e.query for e in EXAMPLES] + lyonetia_queries.VALID
                + [q if isinstance(q, str) else q[0] for q in lyonetia_queries.INVALID])


def test_mutated_queries_translate_or_raise_adql_error(catalog):
    rng = random.Random(SEED)
    budget = Budget("mutation")
    while budget.more():
        _translates_or_adql_error(mutate(rng.choice(SEED_QUERIES), rng), catalog)
    print(f"\nADQL mutations: {budget.cases} cases")


# ---------------------------------------------------------------- DALI, TAP, SCS parameters

_ODD_VALUES = ["", " ", "0", "-1", "1e309", "nan", "NaN", "inf", "-inf", "9" * 400, "1,2", "0x10",
               "\u0661\u0662", "１２", "\x00", "%00", "%ZZ", "ＲＡ", "1e-400", "doQuery", "DOQUERY",
               "ADQL", "adql-2.1", "votable", "csv", "application/x-votable+xml;serialization=binary2",
               "text/html", "fits", "parquet", "tsv", "2", "3", "4", "ivo://x?y", "a" * 70_000,
               "SELECT TOP 1 obs_id FROM ivoa.obscore", "SELECT", "Ω"]
_NAMES = ["RA", "DEC", "SR", "VERB", "MAXREC", "RESPONSEFORMAT", "FORMAT", "ID", "REQUEST", "LANG",
          "QUERY", "RUNID", "UPLOAD", "ra", "Sr", "maxrec", "PHASE", "x"]


def random_params(rng: random.Random) -> list[tuple[str, str]]:
    pairs = []
    for _ in range(rng.randint(0, 8)):
        name = rng.choice(_NAMES)
        value = rng.choice(_ODD_VALUES) if rng.random() < 0.6 else str(rng.uniform(-1e6, 1e6))
        pairs.append((name, value))
        if rng.random() < 0.15:
            pairs.append((name, rng.choice(_ODD_VALUES)))  # repeated (DALI §3.2)
    return pairs


def test_odd_parameters_raise_only_usage_errors():
    from vo_services.scs.cone import Cone, ConeError
    from vo_services.tap.execution import TapRequest, TapUsageError

    rng = random.Random(SEED)
    budget = Budget("params")
    while budget.more():
        params = DaliParams(random_params(rng))
        for parse, errors in ((TapRequest.from_params, (TapUsageError,)), (Cone.from_params, (ConeError,))):
            try:
                parse(params)
            except errors:
                pass
        try:
            params.integer("MAXREC")
        except DaliParameterError:
            pass
    print(f"\nDALI parameters: {budget.cases} cases")


# ---------------------------------------------------------------- TAP_UPLOAD VOTables

GOOD_VOTABLE = b"""<?xml version="1.0"?>
<VOTABLE version="1.4" xmlns="http://www.ivoa.net/xml/VOTable/v1.3"><RESOURCE><TABLE>
<FIELD name="ra" datatype="double"/><FIELD name="name" datatype="char" arraysize="*"/>
<FIELD name="n" datatype="int"/><FIELD name="p" datatype="double" arraysize="2" xtype="point"/>
<DATA><TABLEDATA><TR><TD>10.5</TD><TD>abc</TD><TD>3</TD><TD>10 20</TD></TR>
<TR><TD>11</TD><TD></TD><TD></TD><TD></TD></TR></TABLEDATA></DATA></TABLE></RESOURCE></VOTABLE>
"""
SECRET = Path(__file__)  # an external entity pointing at a readable file must not be read


def hostile_votables() -> list[bytes]:
    """The named attacks: entities (billion laughs, external), DTDs, deep nesting, huge fields."""
    laughs = b'<!DOCTYPE v [<!ENTITY a "lol">' + b"".join(
        b'<!ENTITY %s "%s">' % (bytes([98 + i]), (b"&%s;" % bytes([97 + i])) * 10) for i in range(9)) + b"]>"
    xxe = b'<!DOCTYPE v [<!ENTITY x SYSTEM "file://%s">]>' % str(SECRET).encode()
    body = GOOD_VOTABLE.split(b"?>", 1)[1]
    return [
        b'<?xml version="1.0"?>' + laughs + body.replace(b"abc", b"&j;"),
        b'<?xml version="1.0"?>' + xxe + body.replace(b"abc", b"&x;"),
        b'<?xml version="1.0"?><!DOCTYPE v SYSTEM "http://127.0.0.1:9/evil.dtd">' + body,
        b'<?xml version="1.0"?><!DOCTYPE v [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]>' + body,
        b"<VOTABLE>" + b"<RESOURCE>" * 50_000 + b"</RESOURCE>" * 50_000 + b"</VOTABLE>",
        GOOD_VOTABLE.replace(b"abc", b"x" * 3_000_000),
        GOOD_VOTABLE.replace(b'datatype="int"', b'datatype="bogus"'),
        GOOD_VOTABLE.replace(b"<TD>3</TD>", b"<TD>three</TD>"),
        GOOD_VOTABLE.replace(b"<TD>10 20</TD>", b"<TD>10 20 30 40 50</TD>"),
        GOOD_VOTABLE.replace(b"abc", b"a\x00b"),
        GOOD_VOTABLE.replace(b"abc", "é€\U0001f600".encode()),
        GOOD_VOTABLE.replace(b'name="ra"', b'name="select"'),
        GOOD_VOTABLE.replace(b'name="ra"', b'name="n"'),
        b"", b"\x00" * 100, b"<", b"not xml at all", "<VOTABLE>é".encode("latin-1"),
    ]


def _reads_or_upload_error(data: bytes) -> None:
    from vo_services.tap.uploads import UploadError, read_votable

    try:
        upload = read_votable("t", data)
    except UploadError as exc:
        assert "lollollol" not in str(exc) and "import" not in str(exc)
        return
    flat = repr(upload.rows)
    assert "lollollol" not in flat, "an XML entity was expanded"
    assert "from __future__" not in flat, "an external entity was read"


def test_hostile_and_mutated_uploads_raise_only_upload_errors():
    rng = random.Random(SEED)
    budget = Budget("upload")
    for data in hostile_votables():
        budget.more()
        _reads_or_upload_error(data)
    text = GOOD_VOTABLE.decode()
    while budget.more():
        _reads_or_upload_error(mutate(text, rng).encode("utf-8", "surrogatepass"))
    print(f"\nUpload VOTables: {budget.cases} cases")


# ---------------------------------------------------------------- FITS headers and ingest

def _card(text: str) -> bytes:
    return text.encode("latin-1", "replace").ljust(80)[:80]


def fits_header(cards: list[str]) -> bytes:
    data = b"".join(_card(c) for c in cards) + _card("END")
    return data + b" " * (-len(data) % 2880)


BASE_CARDS = ["SIMPLE  =                    T", "BITPIX  =                   16", "NAXIS   =                    2",
              "NAXIS1  =                   10", "NAXIS2  =                   10", "OBJECT  = 'Feige 110'",
              "DATE-OBS= '2024-05-01T08:00:00.00'", "EXPTIME =                 30.0",
              "RA      = '23:19:58.4'", "DEC     = '-05:09:56'", "INSTRUME= 'Kast Blue'"]


def mutate_fits(rng: random.Random) -> bytes:
    cards = list(BASE_CARDS)
    for _ in range(rng.randint(1, 5)):
        kind = rng.randrange(8)
        i = rng.randrange(len(cards))
        if kind == 0:
            cards[i] = cards[i].split("=")[0] + "= " + rng.choice(_ODD_VALUES[:30] + ["'unterminated", "T", "(1,2)", "-17"])
        elif kind == 1:
            cards[1] = f"BITPIX  = {rng.choice(['7', '0', '-16', '64', '-64', 'X', '99999999999999999999'])}"
        elif kind == 2:
            cards += [f"HISTORY {'x' * 70}"] * rng.randrange(1, 4000)  # giant header
        elif kind == 3:
            cards[i] = cards[i][:rng.randrange(80)] + "\x00" + cards[i]
        elif kind == 4:
            cards[i] = "".join(chr(rng.randrange(128, 0x2000)) for _ in range(20)) + cards[i]
        elif kind == 5:
            del cards[i]
        elif kind == 6:
            cards[2] = f"NAXIS   = {rng.choice(['0', '3', '999', '-1', '1.5'])}"
        else:
            cards.insert(i, f"NAXIS{rng.randrange(1, 4)}  = {rng.choice(['0', '-5', '10000000000000', 'NaN'])}")
    data = fits_header(cards)
    cut = rng.random()
    if cut < 0.2:
        data = data[:rng.randrange(len(data))]  # truncated
    elif cut < 0.3:
        data = data.replace(b"END" + b" " * 77, b" " * 80)  # no END
    return data + bytes(rng.randrange(256) for _ in range(rng.randrange(0, 200)))


def test_mutated_fits_headers_raise_only_unreadable_file():
    from ingest.fitsread import UnreadableFile, parse_header_bytes

    rng = random.Random(SEED)
    budget = Budget("fits")
    while budget.more():
        try:
            parse_header_bytes(mutate_fits(rng))
        except UnreadableFile as exc:
            assert exc.reason
    print(f"\nFITS headers: {budget.cases} cases")


@pytest.mark.django_db(transaction=True)
def test_broken_fits_files_are_recorded_failures_without_rows(demo_archive, archive_root):
    """Files written into the archive root, ingested through the real pipeline: each one is a
    row or a failure with a reason; a failure leaves no row."""
    from sqlalchemy import select

    from archive.db import engine
    from archive.schema import ingest_failure, observation
    from ingest.pipeline import ingest_batch

    template = next(p for p in sorted((archive_root / "demo").rglob("*.fits")))
    night_dir = archive_root / "fuzz" / template.relative_to(archive_root / "demo").parent
    night_dir.mkdir(parents=True, exist_ok=True)
    original = template.read_bytes()
    rng = random.Random(SEED)
    budget = Budget("ingest")
    paths = []
    while budget.more():
        data = mutate_fits(rng) if rng.random() < 0.5 else mutate(original[:2880 * 4].decode("latin-1"), rng).encode("latin-1", "replace")
        path = night_dir / f"fuzz{budget.cases:04d}.fits"
        path.write_bytes(data)
        paths.append(path)
    rel = [p.relative_to(archive_root).as_posix() for p in paths]

    def recorded() -> tuple[dict[str, str], set[str]]:
        with engine("ingest").connect() as conn:
            failed = dict(conn.execute(select(ingest_failure.c.file_path, ingest_failure.c.reason)
                                       .where(ingest_failure.c.file_path.in_(rel))).all())
            stored = set(conn.execute(select(observation.c.file_path)
                                      .where(observation.c.file_path.in_(rel))).scalars())
        return failed, stored

    try:
        ingest_batch(paths, root=archive_root)
        failed, stored = recorded()
    finally:  # the files go, and with them their rows: the session's other tests count the demo's
        shutil.rmtree(archive_root / "fuzz")
        ingest_batch(paths, root=archive_root)
    assert recorded() == ({}, set())
    assert not (set(failed) & stored), "a failed file left a row"
    assert set(failed) | stored == set(rel)
    assert all(reason.strip() for reason in failed.values())
    print(f"\nFITS ingest: {len(paths)} files, {len(failed)} failures recorded, {len(stored)} rows")


# ---------------------------------------------------------------- through the real gunicorn

class Client:
    """One keep-alive HTTP connection to the live server (reopened when the server closes it)."""

    def __init__(self, base: str):
        self.netloc = urllib.parse.urlsplit(base).netloc
        self.conn = http.client.HTTPConnection(self.netloc, timeout=120)

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict | None = None) -> tuple[int, dict, bytes]:
        for attempt in (0, 1):
            try:
                self.conn.request(method, path, body=body, headers=headers or {})
                response = self.conn.getresponse()
                return response.status, dict(response.getheaders()), response.read()
            except (http.client.HTTPException, ConnectionError):
                self.conn.close()
                self.conn = http.client.HTTPConnection(self.netloc, timeout=120)
                if attempt:
                    raise
        raise AssertionError("unreachable")


_VO_ERROR = re.compile(rb'<INFO[^>]*name="QUERY_STATUS"[^>]*value="ERROR"', re.S)


def assert_standard(status: int, headers: dict, body: bytes, what: str) -> None:
    assert status != 500 and status < 500 or status == 503, (what, status, body[:500])
    if status >= 400 and status not in (401, 429):
        assert b"<VOTABLE" in body and _VO_ERROR.search(body), (what, status, body[:500])


def _form(pairs: list[tuple[str, str]]) -> bytes:
    return urllib.parse.urlencode(pairs).encode()


def test_http_fuzz_gives_no_500_and_standard_errors(live_archive):
    client = Client(live_archive)
    rng = random.Random(SEED)
    budget = Budget("http")
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    status, _, body = client.request("POST", "/tap/async", _form([("QUERY", "SELECT TOP 1 obs_id FROM ivoa.obscore"),
                                                                  ("LANG", "ADQL")]), form)
    assert status == 303
    job_paths = []
    while budget.more():
        kind = rng.randrange(6)
        if kind <= 1:
            query = mutate(rng.choice(SEED_QUERIES), rng) if kind == 0 else rng.choice(SEED_QUERIES)
            pairs = [("LANG", "ADQL"), ("QUERY", query), ("MAXREC", str(rng.choice([0, 1, 5])))]
            what, response = query, client.request("POST", "/tap/sync", _form(pairs), form)
        elif kind == 2:
            query = urllib.parse.urlencode(random_params(rng))
            if rng.random() < 0.3:
                query = mutate(query, rng).encode("utf-8", "surrogatepass").decode("latin-1")
                query = urllib.parse.quote(query, safe="=&%+")
            path = rng.choice(["/scs", "/tap/sync", "/datalink/links", "/tap/async"]) + "?" + query
            what, response = path, client.request("GET", path[:8000])
        elif kind == 3:
            ident = rng.choice(["ivo://lick.ucolick.org/archive?", "", "ivo://", "x" * 3000, "ivo://other/x?y",
                                "ivo://lick.ucolick.org/archive?" + mutate("shane/kast/2024", rng)])
            pairs = [("ID", ident)] * rng.randint(1, 3) + [("RESPONSEFORMAT", rng.choice(_ODD_VALUES[:30]))]
            path = ("/datalink/links?" + urllib.parse.urlencode(pairs))[:8000]  # the request line's limit: 8190
            what, response = pairs, client.request("GET", path)
        elif kind == 4:
            if not job_paths or rng.random() < 0.1:
                odd = [(rng.choice(["DESTRUCTION", "EXECUTIONDURATION", "RUNID"]), rng.choice(_ODD_VALUES[:30]))]
                status, headers, body = client.request("POST", "/tap/async", _form(
                    [("QUERY", rng.choice(SEED_QUERIES)), ("LANG", "ADQL")] + odd * rng.randint(0, 1)), form)
                assert_standard(status, headers, body, odd)
                if status == 303:
                    job_paths.append(urllib.parse.urlsplit(headers["Location"]).path)
                if not job_paths:
                    continue
            job = rng.choice(job_paths)
            resource = rng.choice(["/phase", "/destruction", "/executionduration", "/parameters", "", "/quote"])
            pairs = random_params(rng) + [(rng.choice(["PHASE", "DESTRUCTION", "EXECUTIONDURATION", "ACTION"]),
                                           rng.choice(_ODD_VALUES[:30] + ["RUN", "ABORT", "SUSPEND", "2030-01-01T00:00:00Z", "-5"]))]
            what, response = (job + resource, pairs), client.request("POST", job + resource, _form(pairs), form)
        else:
            data = rng.choice(hostile_votables()[:4] + hostile_votables()[6:]) if rng.random() < 0.5 else \
                mutate(GOOD_VOTABLE.decode(), rng).encode("utf-8", "surrogatepass")
            boundary = "fuzzbound"
            body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"QUERY\"\r\n\r\n"
                    "SELECT * FROM TAP_UPLOAD.t\r\n"
                    f"--{boundary}\r\nContent-Disposition: form-data; name=\"LANG\"\r\n\r\nADQL\r\n"
                    f"--{boundary}\r\nContent-Disposition: form-data; name=\"UPLOAD\"\r\n\r\nt,param:f\r\n"
                    f"--{boundary}\r\nContent-Disposition: form-data; name=\"f\"; filename=\"f.xml\"\r\n"
                    "Content-Type: text/xml\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
            what, response = "upload", client.request("POST", "/tap/sync", body,
                                                      {"Content-Type": f"multipart/form-data; boundary={boundary}"})
        assert_standard(*response, what)
        if kind == 5 and response[0] == 200:
            assert b"lollollol" not in response[2] and b"from __future__" not in response[2]
    print(f"\nHTTP: {budget.cases} requests")


def test_service_and_worker_answer_afterwards(live_archive):
    """After the storm: a simple TAP query answers and an async job completes."""
    client = Client(live_archive)
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    status, _, body = client.request("POST", "/tap/sync", _form(
        [("LANG", "ADQL"), ("QUERY", "SELECT TOP 3 obs_id FROM ivoa.obscore"), ("RESPONSEFORMAT", "votable/td")]), form)
    assert status == 200 and b"<TR>" in body
    status, headers, _ = client.request("POST", "/tap/async", _form(
        [("LANG", "ADQL"), ("QUERY", "SELECT TOP 3 obs_id FROM ivoa.obscore"), ("PHASE", "RUN")]), form)
    assert status == 303
    job = urllib.parse.urlsplit(headers["Location"]).path
    phase = b""
    for _ in range(60):
        status, _, phase = client.request("GET", f"{job}/phase")
        if phase in (b"COMPLETED", b"ERROR", b"ABORTED"):
            break
        client.request("GET", f"{job}?WAIT=5&PHASE=" + phase.decode())
    assert phase == b"COMPLETED"
    total = sum(RAN.values())
    print(f"\nfuzz cases in all: {total} ({RAN})")
