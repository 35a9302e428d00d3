"""The archive schema on the real PostgreSQL + pgsphere: migrations, published views, roles."""
from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone
from functools import partial

import psycopg2
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine

from archive.config import get_settings
from archive.db import VERSION_TABLE, alembic_config
from archive.principals import signed_principals
from archive.publish import publish
from archive.published import OBSCORE, PUBLISHED_VIEWS
from archive.schema import metadata
from archive.testdb import create_database, drop_database

# ObsCore 1.1 Appendix C: the mandatory columns with their
# UCD and utype, written out here independently of archive.published.
OBSCORE_STANDARD = {
    "dataproduct_type": ("meta.code.class", "obscore:ObsDataset.dataProductType", None),
    "calib_level": ("meta.code;obs.calib", "obscore:ObsDataset.calibLevel", None),
    "obs_collection": ("meta.id", "obscore:DataID.collection", None),
    "obs_id": ("meta.id", "obscore:DataID.observationID", None),
    "obs_publisher_did": ("meta.ref.ivoid", "obscore:Curation.publisherDID", None),
    "access_url": ("meta.ref.url", "obscore:Access.reference", None),
    "access_format": ("meta.code.mime", "obscore:Access.format", None),
    "access_estsize": ("phys.size;meta.file", "obscore:Access.size", "kbyte"),
    "target_name": ("meta.id;src", "obscore:Target.name", None),
    "s_ra": ("pos.eq.ra", "obscore:Char.SpatialAxis.Coverage.Location.Coord.Position2D.Value2.C1", "deg"),
    "s_dec": ("pos.eq.dec", "obscore:Char.SpatialAxis.Coverage.Location.Coord.Position2D.Value2.C2", "deg"),
    "s_fov": ("phys.angSize;instr.fov", "obscore:Char.SpatialAxis.Coverage.Bounds.Extent.diameter", "deg"),
    "s_region": ("pos.outline;obs.field", "obscore:Char.SpatialAxis.Coverage.Support.Area", None),
    "s_resolution": ("pos.angResolution", "obscore:Char.SpatialAxis.Resolution.Refval.value", "arcsec"),
    "s_xel1": ("meta.number", "obscore:Char.SpatialAxis.numBins1", None),
    "s_xel2": ("meta.number", "obscore:Char.SpatialAxis.numBins2", None),
    "t_min": ("time.start;obs.exposure", "obscore:Char.TimeAxis.Coverage.Bounds.Limits.StartTime", "d"),
    "t_max": ("time.end;obs.exposure", "obscore:Char.TimeAxis.Coverage.Bounds.Limits.StopTime", "d"),
    "t_exptime": ("time.duration;obs.exposure", "obscore:Char.TimeAxis.Coverage.Support.Extent", "s"),
    "t_resolution": ("time.resolution", "obscore:Char.TimeAxis.Resolution.Refval.value", "s"),
    "t_xel": ("meta.number", "obscore:Char.TimeAxis.numBins", None),
    "em_min": ("em.wl;stat.min", "obscore:Char.SpectralAxis.Coverage.Bounds.Limits.LoLimit", "m"),
    "em_max": ("em.wl;stat.max", "obscore:Char.SpectralAxis.Coverage.Bounds.Limits.HiLimit", "m"),
    "em_res_power": ("spect.resolution", "obscore:Char.SpectralAxis.Resolution.ResolPower.refVal", None),
    "em_xel": ("meta.number", "obscore:Char.SpectralAxis.numBins", None),
    "o_ucd": ("meta.ucd", "obscore:Char.ObservableAxis.ucd", None),
    "pol_states": ("meta.code;phys.polarization", "obscore:Char.PolarizationAxis.stateList", None),
    "pol_xel": ("meta.number", "obscore:Char.PolarizationAxis.numBins", None),
    "facility_name": ("meta.id;instr.tel", "obscore:Provenance.ObsConfig.Facility.name", None),
    "instrument_name": ("meta.id;instr", "obscore:Provenance.ObsConfig.Instrument.name", None),
}

# ADQL type -> the PostgreSQL types a view column of that type may have.
PG_TYPES = {
    "VARCHAR": {"text"}, "CLOB": {"text"}, "INTEGER": {"integer"}, "SMALLINT": {"smallint"},
    "BIGINT": {"bigint"}, "DOUBLE": {"double precision"},
    "TIMESTAMP": {"timestamp with time zone", "timestamp without time zone"},
    "REGION": {"spoly"}, "POINT": {"spoint"},
}


def _view_columns(conn, schema: str, name: str) -> list[tuple[str, str]]:
    with conn.cursor() as cur:
        cur.execute(
            "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
            "JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relname = %s AND a.attnum > 0 AND NOT a.attisdropped "
            "ORDER BY a.attnum", (schema, name))
        return cur.fetchall()


def test_migrations_create_what_the_schema_declares(archive_db):
    """Alembic's comparison of the migrated database with archive.schema finds no difference."""
    eng = create_engine(get_settings().database_url("owner"))
    try:
        with eng.connect() as conn:
            context = MigrationContext.configure(conn, opts={
                "version_table": VERSION_TABLE, "include_schemas": True,
                "include_name": lambda name, type_, parents: type_ != "schema" or name == "lick",
            })
            diff = [d for d in compare_metadata(context, metadata)
                    # pgsphere types are unknown to SQLAlchemy's reflection; columns are still compared.
                    if not (isinstance(d, list) and d and d[0][0] == "modify_type")]
    finally:
        eng.dispose()
    assert diff == []


def test_migrations_go_down_and_up_again():
    name = f"lick_migr_{uuid.uuid4().hex[:8]}"
    create_database(name)
    url = get_settings().database_url("owner", dbname=name)
    config = alembic_config(url)
    try:
        command.upgrade(config, "head")
        eng = create_engine(url)
        with eng.begin() as conn:
            assert publish(conn) is True
        with eng.begin() as conn:
            assert publish(conn) is False, "a second run has nothing to do"
        eng.dispose()
        with psycopg2.connect(get_settings().dsn("owner", dbname=name)) as conn:
            assert [c for c, _ in _view_columns(conn, "ivoa", "obscore")][:2] == [
                "dataproduct_type", "calib_level"]
        command.downgrade(config, "base")
        with psycopg2.connect(get_settings().dsn("owner", dbname=name)) as conn, conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM pg_namespace WHERE nspname IN ('lick', 'ivoa')")
            assert cur.fetchone()[0] == 0
        command.upgrade(config, "head")
        with psycopg2.connect(get_settings().dsn("owner", dbname=name)) as conn, conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM lick.observation")
            assert cur.fetchone()[0] == 0
    finally:
        drop_database(name)


def test_obscore_view_has_the_standard_columns_and_metadata(owner_conn):
    columns = dict(_view_columns(owner_conn, "ivoa", "obscore"))
    assert set(OBSCORE_STANDARD) <= set(columns)
    published = {c.name: c for c in OBSCORE.columns}
    assert list(published) == list(columns), "the view and its description list the same columns"
    assert [c.name for c in OBSCORE.columns if c.hidden] == ["pos"]
    for name, (ucd, utype, unit) in OBSCORE_STANDARD.items():
        column = published[name]
        assert (column.ucd, column.utype, column.unit) == (ucd, utype, unit), name
    for name, pg_type in columns.items():
        assert pg_type in PG_TYPES[published[name].datatype], (name, pg_type)
    # ObsCore 1.1 Table 4: these may never be NULL.
    for name in ("calib_level", "obs_collection", "obs_id", "obs_publisher_did"):
        assert published[name].principal


# What _insert_observation wrote, and nothing else (the session's demo rows stay).
DELETE_MINE = "DELETE FROM lick.observation WHERE file_path LIKE '/secret/%%'"


def _insert_observation(conn, obs_id: str, release: datetime, ra: float = 150.0, dec: float = 20.0) -> int:
    with conn.cursor() as cur:
        cur.execute(
            "INSERT INTO lick.observation (obs_id, obs_publisher_did, dataproduct_type, target_name, "
            "s_ra, s_dec, pos, instrument_name, facility_name, obs_release_date, telescope, instrument, "
            "frame_type, observing_night, file_size, file_mtime, header, file_path) VALUES "
            "(%s, %s, 'image', 'Feige 110', %s, %s, spoint(radians(%s), radians(%s)), 'Nickel Direct', "
            "'Lick Nickel 1m', %s, 'Nickel', 'Nickel Direct', 'science', %s, 4096, now(), 'SIMPLE = T', %s) "
            "RETURNING id",
            (obs_id, f"ivo://test?{obs_id}", ra, dec, ra, dec, release, date(2020, 1, 1),
             f"/secret/{obs_id}.fits"))
        return cur.fetchone()[0]



def insert_hidden_observation(conn, obs_id: str, program_id: str) -> int:
    """A row still proprietary for a year, granted to ``program:<program_id>`` only (the program
    made too); committed. Remove both with :func:`remove_hidden_observations`."""
    row = _insert_observation(conn, obs_id, datetime.now(timezone.utc) + timedelta(days=365))
    with conn.cursor() as cur:
        cur.execute("INSERT INTO lick.program (program_id) VALUES (%s)", (program_id,))
        cur.execute("INSERT INTO lick.access_grant VALUES (%s, %s, 'test')", (row, f"program:{program_id}"))
    conn.commit()
    return row


def remove_hidden_observations(conn, program_id: str) -> None:
    with conn.cursor() as cur:
        cur.execute(DELETE_MINE + "; DELETE FROM lick.program WHERE program_id = %s", (program_id,))
    conn.commit()

def test_query_role_cannot_write_or_read_file_paths(archive_db, owner_conn):
    _insert_observation(owner_conn, "2020-01/01/nickel/d1", datetime(2020, 1, 1, tzinfo=timezone.utc))
    owner_conn.commit()
    conn = psycopg2.connect(get_settings().dsn("query"))
    try:
        for statement in (
            "SELECT file_path FROM lick.observation",
            "SELECT * FROM lick.access_grant",
            "INSERT INTO lick.program (program_id) VALUES ('x')",
            "UPDATE ivoa.obscore SET target_name = 'x'",
            "DELETE FROM lick.observations",
            "CREATE TABLE lick.mine (x int)",
        ):
            with pytest.raises(psycopg2.Error) as info, conn.cursor() as cur:
                cur.execute(statement)
            assert info.value.pgcode in ("42501", "42809"), statement  # insufficient privilege / wrong object
            conn.rollback()
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM ivoa.obscore WHERE obs_id = '2020-01/01/nickel/d1'")
            assert cur.fetchone()[0] == 1
        for schema, view in (("ivoa", "obscore"), ("lick", "observations")):
            names = {c for c, _ in _view_columns(conn, schema, view)}
            assert "file_path" not in names and "id" not in names
    finally:
        conn.close()
        with owner_conn.cursor() as cur:
            cur.execute(DELETE_MINE)
        owner_conn.commit()


def test_proprietary_rows_reach_only_granted_principals(archive_db, owner_conn):
    future = datetime.now(timezone.utc) + timedelta(days=365)
    hidden = _insert_observation(owner_conn, "2026-01/01/nickel/d2", future)
    with owner_conn.cursor() as cur:
        cur.execute("INSERT INTO lick.program (program_id) VALUES ('TESTS_N001')")
        cur.execute("INSERT INTO lick.access_grant VALUES (%s, 'program:TESTS_N001', 'test')", (hidden,))
    owner_conn.commit()
    conn = psycopg2.connect(get_settings().dsn("query"))
    signed = partial(signed_principals, backend_pid=conn.get_backend_pid())
    try:
        count = "SELECT count(*) FROM lick.observations WHERE obs_id = '2026-01/01/nickel/d2'"
        with conn.cursor() as cur:
            cur.execute(count)
            assert cur.fetchone()[0] == 0, "anonymous callers must not see proprietary rows"
            cur.execute("SELECT set_config('lick.principals', %s, true)", (signed(["program:2025B_X"]),))
            cur.execute(count)
            assert cur.fetchone()[0] == 0, "another program must not see them"
            cur.execute("SELECT set_config('lick.principals', %s, true)",
                        (signed(["user:jdoe", "program:TESTS_N001"]),))
            cur.execute(count)
            assert cur.fetchone()[0] == 1
        conn.rollback()
        with conn.cursor() as cur:  # a transaction's setting ends with it
            cur.execute(count)
            assert cur.fetchone()[0] == 0
    finally:
        conn.close()
        with owner_conn.cursor() as cur:
            cur.execute(DELETE_MINE + "; DELETE FROM lick.program WHERE program_id = 'TESTS_N001'")
        owner_conn.commit()


# GiST indexes led by the position: the cone's own, and the portal search's (migration 0013), which
# a tiny table's planner may pick for a cone alone.
POSITION_INDEXES = ("observation_pos_gist", "observation_cone_instrument_night")


def test_cone_search_on_the_stored_point_uses_the_gist_index(owner_conn):
    with owner_conn.cursor() as cur:
        cur.execute("SET LOCAL enable_seqscan = off")
        cur.execute("EXPLAIN SELECT id FROM lick.observation "
                    "WHERE pos <@ scircle(spoint(radians(150), radians(20)), radians(0.5))")
        plan = "\n".join(r[0] for r in cur.fetchall())
    assert any(index in plan for index in POSITION_INDEXES), plan


def test_tap_schema_describes_exactly_the_published_columns(query_conn):
    with query_conn.cursor() as cur:
        cur.execute("SELECT table_name, column_name, datatype, unit, ucd, utype, principal, std "
                    "FROM tap_schema.columns ORDER BY table_name, column_index")
        described = cur.fetchall()
        cur.execute("SELECT table_name, table_type FROM tap_schema.tables ORDER BY table_index")
        tables = dict(cur.fetchall())
    assert tables["ivoa.obscore"] == "view" and tables["tap_schema.columns"] == "table"
    for view in PUBLISHED_VIEWS:
        hidden = {c.name for c in view.columns if c.hidden}
        actual = [c for c, _ in _view_columns(query_conn, view.schema, view.name) if c not in hidden]
        assert [r[1] for r in described if r[0] == view.qualified_name] == actual
    # TAP 1.1 §4.3: tap_schema.columns describes itself, "size" quoted as an ADQL reserved word.
    own = [r[1] for r in described if r[0] == "tap_schema.columns"]
    assert own[:6] == ["table_name", "column_name", "datatype", "arraysize", "xtype", '"size"']
    obscore = {r[1]: r for r in described if r[0] == "ivoa.obscore"}
    assert obscore["s_ra"][2:6] == ("double", "deg", "pos.eq.ra",
                                    "obscore:Char.SpatialAxis.Coverage.Location.Coord.Position2D.Value2.C1")
    assert obscore["obs_id"][6:] == (1, 1)
    with query_conn.cursor() as cur:
        cur.execute("SELECT key_id, from_table, target_table FROM tap_schema.keys")
        assert ("observations_obscore", "lick.observations", "ivoa.obscore") in cur.fetchall()
        cur.execute("SELECT datatype, arraysize, xtype, \"size\" FROM tap_schema.columns "
                    "WHERE table_name = 'ivoa.obscore' AND column_name IN ('s_region', 'obs_release_date') "
                    "ORDER BY column_name")
        assert cur.fetchall() == [("char", "*", "timestamp", None), ("char", "*", "adql:region", None)]


def test_cone_through_the_access_filter_still_uses_the_gist_index(archive_db, query_conn):
    """pgsphere's operators are LEAKPROOF (scripts/leakproof.sql), so the index survives the barrier."""
    with query_conn.cursor() as cur:
        cur.execute("SET LOCAL enable_seqscan = off")
        cur.execute("EXPLAIN SELECT obs_id FROM lick.observations "
                    "WHERE pos <@ scircle(spoint(radians(150), radians(20)), radians(0.5))")
        plan = "\n".join(r[0] for r in cur.fetchall())
    assert any(index in plan for index in POSITION_INDEXES), plan


def test_a_failing_expression_never_sees_hidden_rows(archive_db, owner_conn, query_conn):
    """A CAST that would fail on a hidden row's value must not run on it (security barrier)."""
    future = datetime.now(timezone.utc) + timedelta(days=30)
    _insert_observation(owner_conn, "2020-01/01/nickel/d20", datetime(2020, 1, 1, tzinfo=timezone.utc))
    hidden = _insert_observation(owner_conn, "2026-01/01/nickel/d21", future)
    with owner_conn.cursor() as cur:
        cur.execute("UPDATE lick.observation SET target_name = '42' WHERE file_path LIKE '/secret/%%'")
        cur.execute("UPDATE lick.observation SET target_name = 'SECRET-TARGET' WHERE id = %s", (hidden,))
    owner_conn.commit()
    try:
        with query_conn.cursor() as cur:
            # CASE keeps the session's other (demo) rows away from the CAST; the hidden row
            # passes the LIKE, and only the view's barrier keeps the CAST away from it.
            cur.execute("SELECT count(*) FROM lick.observations WHERE CASE "
                        "WHEN obs_id LIKE '20__-01/01/nickel/d2_' THEN CAST(target_name AS integer) = 42 "
                        "ELSE false END")
            assert cur.fetchone()[0] == 1
    finally:
        with owner_conn.cursor() as cur:
            cur.execute(DELETE_MINE)
        owner_conn.commit()
