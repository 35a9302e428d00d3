"""Fixtures of the ADQL translator tests: the published catalogue and a scratch pgsphere database.

The database tests run on a scratch database of their own, cloned by the owner role from the
pg_sphere template that scripts/setup.sh makes, and dropped afterwards; no test is skipped for
want of a database. It holds a plain table for each published table, with the same columns and
the indexed point columns the catalogue declares, so the generated SQL runs as is.
"""
from __future__ import annotations

import os

import pytest

from vo_services.tap.adql import Catalog
from vo_services.tap.adql.types import SqlType
from vo_services.tap.adql.validator import quote_identifier
from vo_services.tap.catalog import catalog as published_catalog

SCRATCH_DB = f"{os.environ['LICK_DB_NAME']}_adql"

# (s_ra, s_dec) of the rows of the scratch tables; s_region is a 0.2 degree square around each.
ROWS = [(150.0, 20.0), (150.2, 20.1), (10.0, -30.0), (359.9, 0.0), (0.05, 0.0)]


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return published_catalog()


@pytest.fixture(scope="session")
def pgsphere(catalog):
    """A connection to the scratch database with the catalogue's tables."""
    import psycopg2

    from archive.config import get_settings
    from archive.testdb import create_database, drop_database

    create_database(SCRATCH_DB)
    conn = psycopg2.connect(get_settings().dsn("owner", dbname=SCRATCH_DB))
    try:
        with conn.cursor() as cur:
            for table in catalog:
                _create_table(cur, table)
        conn.commit()
        yield conn
    finally:
        conn.close()
        drop_database(SCRATCH_DB)


def _create_table(cur, table) -> None:
    schema, name = (quote_identifier(p) for p in table.sql_parts)
    columns = [f"{quote_identifier(c.name)} {_pg_type(c.datatype)}" for c in table.columns]
    columns += [f"{quote_identifier(point)} spoint" for point in table.point_columns.values()
                if table.column(point) is None]
    cur.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    cur.execute(f"DROP TABLE IF EXISTS {schema}.{name} CASCADE")
    cur.execute(f"CREATE TABLE {schema}.{name} ({', '.join(columns)})")
    for (ra_column, dec_column), point in table.point_columns.items():
        cur.execute(f"CREATE INDEX ON {schema}.{name} USING gist ({quote_identifier(point)})")
    if table.column("s_ra") is None:
        return
    region = table.column("s_region") is not None
    for ra, dec in ROWS:
        values = {"s_ra": ra, "s_dec": dec, "obs_id": f"obs-{ra}-{dec}"}
        if region:
            values["s_region"] = ("{(%rd,%rd),(%rd,%rd),(%rd,%rd),(%rd,%rd)}"
                                  % (ra - .1, dec - .1, ra + .1, dec - .1, ra + .1, dec + .1,
                                     ra - .1, dec + .1))
        for point in table.point_columns.values():
            values[point] = f"({ra}d,{dec}d)"
        names = ", ".join(quote_identifier(n) for n in values)
        cur.execute(f"INSERT INTO {schema}.{name} ({names}) VALUES "
                    f"({', '.join(['%s'] * len(values))})", list(values.values()))


def _pg_type(adql_type: str) -> str:
    return {"REGION": "spoly", "TIMESTAMP": "timestamp", "CLOB": "text"}.get(
        adql_type, SqlType(adql_type).pg)
