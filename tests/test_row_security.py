"""The access rule as row-level security (migration 0014): what it lets the planner do, and what it
still refuses the query role.

The published views were ``security_barrier`` views, which PostgreSQL 15 plans as subqueries
apart: an outer ``ORDER BY ... LIMIT`` could never walk an index (every visible row was read and
sorted), and the rule's InitPlans inside the subquery kept its partial paths from the query, so
that a count could not be aggregated in parallel workers. Now the policy on
``lick.observation`` filters the rows and the views are ``security_invoker`` views, planned with
the query. The plans are checked as the query role, with the costs tilted so that the tiny test
table does not decide for the planner: a Sort where an ordered scan is possible, or no Partial
Aggregate where workers are allowed, means the view still hides the table from the plan.
"""
from __future__ import annotations

import re

import psycopg2
import pytest
from psycopg2 import sql
from sqlalchemy import create_engine

from archive.config import get_settings
from archive.principals import signed_principals
from archive.publish import publish
from tests.test_forgery import PROGRAM, VIEWS, hidden_row  # noqa: F401  (fixture)
from vo_services.tap.adql import translate
from vo_services.tap.catalog import catalog


def _plan(conn, adql: str, *settings: str) -> str:
    with conn.cursor() as cur:
        cur.execute("SELECT set_config('lick.principals', %s, true)",
                    (signed_principals(["user:ann"], conn.get_backend_pid()),))
        for setting in settings:
            cur.execute(setting)
        cur.execute("EXPLAIN " + translate(adql, catalog(), maxrec=20000).sql)
        plan = "\n".join(r[0] for r in cur.fetchall())
    conn.rollback()
    return plan


def _sorts_everything(plan: str) -> bool:
    """A Sort node (not an Incremental Sort of rows that arrive in order of the index)."""
    return re.search(r"(^|->  )Sort ", plan, re.M) is not None


@pytest.mark.parametrize("order, index", [("t_min", "observation_t_min"),
                                          ("observing_night", "observation_night_")])
def test_a_sorted_page_walks_an_ordered_index_through_the_view(archive_db, query_conn, order, index):
    """The portal's search with few conditions, newest first: the index is walked backwards and
    the rule is a filter on it, so LIMIT stops early. (On the small test table the night may come
    from observation_night_timestamp, its ties on obs_id sorted incrementally.)"""
    plan = _plan(query_conn, f"SELECT TOP 51 obs_id, t_min FROM lick.observations "
                             f"WHERE instrument = 'Kast Blue' ORDER BY {order} DESC, obs_id DESC",
                 "SET LOCAL enable_sort = off", "SET LOCAL enable_bitmapscan = off")
    assert f"Index Scan Backward using {index}" in plan and not _sorts_everything(plan), plan
    assert plan.count("InitPlan") == 2, plan  # the principals, once per query


def test_the_portal_keyset_page_still_uses_its_index(archive_db, query_conn):
    """A page after a key: the bound on t_min is the ordered index's condition."""
    plan = _plan(query_conn, "SELECT TOP 51 obs_id, t_min FROM lick.observations WHERE instrument = 'Kast Blue' "
                             "AND t_min <= 59000 AND (t_min < 59000 OR obs_id < 'x') "
                             "ORDER BY t_min DESC, obs_id DESC",
                 "SET LOCAL enable_sort = off", "SET LOCAL enable_bitmapscan = off")
    assert "Index Scan Backward using observation_t_min" in plan and "Index Cond: (t_min <=" in plan, plan
    assert not _sorts_everything(plan), plan


def test_a_count_through_the_view_may_run_in_parallel(archive_db, query_conn):
    # COUNT(obs_id): a bare COUNT(*) of either view is answered by a count summary
    # (archive/visible_counts.py), not by reading the view.
    plan = _plan(query_conn, "SELECT COUNT(obs_id) FROM lick.observations",
                 "SET LOCAL parallel_setup_cost = 0", "SET LOCAL parallel_tuple_cost = 1",
                 "SET LOCAL cpu_tuple_cost = 10", "SET LOCAL min_parallel_table_scan_size = 0",
                 "SET LOCAL enable_indexscan = off",
                 "SET LOCAL enable_indexonlyscan = off", "SET LOCAL enable_bitmapscan = off")
    # Counted in the workers, the principals checked once in the leader.
    assert "Partial Aggregate" in plan and "Params Evaluated" in plan, plan


def test_the_query_role_reads_the_table_only_as_the_rule_allows(hidden_row, query_conn):  # noqa: F811
    """Whatever SQL the web layer lets through: the published columns of the visible rows."""
    for column in ("file_path", "checksum", "grantees", "release_override"):
        with pytest.raises(psycopg2.errors.InsufficientPrivilege), query_conn.cursor() as cur:
            cur.execute(sql.SQL("SELECT {} FROM lick.observation").format(sql.Identifier(column)))
        query_conn.rollback()
    count = "SELECT count(*) FROM lick.observation WHERE obs_release_date > now()"
    with query_conn.cursor() as cur:
        cur.execute(count)
        assert cur.fetchone()[0] == 0, "anonymous: no proprietary row"
        cur.execute("SELECT set_config('lick.principals', %s, true)",
                    (signed_principals([PROGRAM], query_conn.get_backend_pid()),))
        cur.execute(count)
        assert cur.fetchone()[0] == 1, "the program's own row"
    query_conn.rollback()
    with pytest.raises(psycopg2.errors.InsufficientPrivilege), query_conn.cursor() as cur:
        cur.execute("SET row_security = off")  # fails closed rather than show every row
        cur.execute("SELECT count(*) FROM ivoa.obscore")
    query_conn.rollback()
    with query_conn.cursor() as cur:  # the statistics of hidden rows stay hidden
        cur.execute("SELECT count(*) FROM pg_stats WHERE schemaname = 'lick' AND tablename = 'observation'")
        assert cur.fetchone()[0] == 0
    query_conn.rollback()


def test_an_error_in_a_callers_condition_never_runs_on_a_hidden_row(hidden_row, query_conn):  # noqa: F811
    for view in VIEWS:
        with query_conn.cursor() as cur:
            cur.execute(sql.SQL("SELECT count(*) FROM {} WHERE 1 / (CASE WHEN obs_release_date > now() "
                                "THEN 0 ELSE 1 END) = 1").format(sql.Identifier(*view.split("."))))
            cur.fetchone()
        query_conn.rollback()


def test_views_are_not_published_over_a_table_without_row_security(archive_db):
    """security_invoker views over a table that filters nothing would show every row."""
    eng = create_engine(get_settings().database_url("owner"))
    try:
        with eng.connect() as conn:
            trans = conn.begin()
            conn.exec_driver_sql("ALTER TABLE lick.observation DISABLE ROW LEVEL SECURITY")
            with pytest.raises(RuntimeError, match="row-level security"):
                publish(conn, force=True)
            trans.rollback()
    finally:
        eng.dispose()
