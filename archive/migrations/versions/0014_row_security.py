"""The access rule as row-level security on lick.observation, and ordered indexes for sorted pages.

Until now the published views were ``security_barrier`` views filtering by the access rule. In
PostgreSQL 15 such a view is planned as a subquery apart from the query (measured on 1,000,000 rows,
bench/bench_aggregates.py and bench/bench_portal_search.py, EXPLAIN as the query role):

- an ``ORDER BY t_min DESC LIMIT 51`` of the query cannot reach the subquery, which returns its
  rows unordered: every visible row of the instrument was read and sorted (1.4 s), while the
  same SQL on the table walks an index backwards and stops after 400 rows (3 ms);
- the rule's principals, read once as InitPlans inside the subquery, make PostgreSQL 15 drop the
  subquery's partial paths (``SS_charge_for_initplans``), so a count through the view was never
  aggregated in parallel workers, where the same SQL on the table is.

Row-level security keeps the rule in the database, for any SQL the query role runs: the policy
``visible_rows`` (archive/visibility.py) filters each row the query role reads, before any
condition of the query that is not leakproof, as the ``security_barrier`` did; the views become
``security_invoker`` views without a filter of their own (archive/published.py, remade by
archive/publish.py, which grants the query role only the columns they show and refuses to publish
while this migration's row security is missing). The ingest role, which writes the table, has a
policy that lets it through; any other role but the owner sees no row.

Known cost: a condition on a view column that is an expression is checked after the policy
unless every function in it is leakproof. The views show the night as ``observing_night::timestamp``
(date to timestamp, not LEAKPROOF in PostgreSQL), so a range of nights is no longer a condition
of 0013's GiST index (the security_barrier view let it through, as written against the view):
the portal's cone + instrument + nights search reads about twice the index entries (10,384
against 5,055 for a 20-degree cone) and takes about 1.2 to 1.9 times as long. Marking that cast
LEAKPROOF (scripts/leakproof.sql, after a CHECK that keeps stored nights in the timestamp range,
so that it cannot fail) or a stored timestamp column for the night would bring it back.

The ordered indexes serve the portal's sorted pages and ADQL's ``ORDER BY ... TOP``: t_min with
obs_id (the portal's tie-break; the access rule's columns stay included, so counts of a t_min range
remain index-only), and the published views' timestamp of the night with obs_id.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03
"""
from alembic import op

from archive.config import get_settings
from archive.visibility import policy_sql

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

def upgrade() -> None:
    s = get_settings()
    for statement in policy_sql(s.query_role, s.ingest_role):
        op.execute(statement)
    op.execute("DROP INDEX lick.observation_t_min")
    op.execute("CREATE INDEX observation_t_min ON lick.observation (t_min, obs_id) "
               "INCLUDE (t_max, obs_release_date, grantees)")
    op.execute("CREATE INDEX observation_night_obs_id ON lick.observation "
               "((CAST(observing_night AS TIMESTAMP WITHOUT TIME ZONE)), obs_id)")


def downgrade() -> None:
    s = get_settings()
    op.execute("DROP INDEX lick.observation_night_obs_id")
    op.execute("DROP INDEX lick.observation_t_min")
    op.execute("CREATE INDEX observation_t_min ON lick.observation (t_min) "
               "INCLUDE (t_max, obs_release_date, grantees)")
    # Without row security the security_invoker views would show every row: take the query
    # role's columns away, so that they fail closed until views with their own filter are made.
    op.execute(f'REVOKE SELECT ON lick.observation FROM "{s.query_role}"')
    op.execute("DROP POLICY ingest_writes ON lick.observation")
    op.execute("DROP POLICY visible_rows ON lick.observation")
    op.execute("ALTER TABLE lick.observation DISABLE ROW LEVEL SECURITY")
