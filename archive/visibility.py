"""Which rows of ``lick.observation`` a caller may see: the one access rule, in SQL.

A row is visible once its release date has passed, to archive staff (principal ``role:staff``),
or when one of the caller's principals (``user:<name>``, ``program:<id>``, ``group:<name>``) holds
a grant on it (``lick.access_grant``, mirrored in the row's ``grantees``). The caller's principals are set per
transaction in the setting ``lick.principals``, signed so that the query role cannot forge them
(:mod:`archive.principals`); without it, or with a value that does not verify, the caller is
anonymous.

The database enforces it with row-level security on ``lick.observation`` (migration 0014): the
policy :data:`VISIBLE_ROWS` filters every row the query role reads, and the published views are
``security_invoker`` views over the table (:mod:`archive.published`), so the query role reads
through them, and nowhere else, the rows the policy lets through, whatever SQL the web layer
sends. PostgreSQL evaluates a policy before any condition of the query that is not leakproof,
as a ``security_barrier`` view would; unlike such a view, the table stays in the query's own
plan, so ``ORDER BY ... LIMIT`` walks an ordered index and stops early, and counts may be
aggregated in parallel workers (PostgreSQL 15 plans a ``security_barrier`` view as a subquery
apart: it returns its rows unordered, and its InitPlans keep its partial paths from the query).
"""

# lick.current_principals() as migration 0001 made it, trusting the setting as it stands; migration
# 0006 replaces it with archive.principals.CURRENT_PRINCIPALS_SQL (and its downgrade restores this).
UNSIGNED_PRINCIPALS_SQL = """
CREATE OR REPLACE FUNCTION lick.current_principals() RETURNS text[]
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT coalesce(nullif(current_setting('lick.principals', true), ''), '{}')::text[]
$$
"""

PUBLIC_URL_SQL = """
CREATE FUNCTION lick.public_url() RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT coalesce(nullif(current_setting('lick.public_url', true), ''), 'http://127.0.0.1:8000')
$$
"""

URL_QUOTE_SQL = """
CREATE OR REPLACE FUNCTION lick.url_quote(value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT replace(replace(replace(replace(replace(value, '%', '%25'), '&', '%26'), '#', '%23'),
                   '+', '%2B'), ' ', '%20')
$$
"""

STAFF_PRINCIPAL = "role:staff"

# ``grantees`` mirrors the row's grants in lick.access_grant (kept by triggers). The principals
# are read once per query, as InitPlans, not once per row; a public row passes on its release date
# alone, without touching the grants. Columns are bare: a policy names its table's columns.
PRINCIPALS = "(SELECT lick.current_principals())"
IS_STAFF = f"(SELECT '{STAFF_PRINCIPAL}' = ANY (lick.current_principals()))"


def visible_rule(release: str = "obs_release_date", grantees: str = "grantees") -> str:
    """The rule over any relation with a release moment and a grantees array: the table's rows,
    or the count summary's buckets (:mod:`archive.visible_counts`), so both follow one rule."""
    return f"({release} <= now() OR {grantees} && {PRINCIPALS} OR {IS_STAFF})"


VISIBLE_ROWS = visible_rule()


def policy_sql(query_role: str, ingest_role: str) -> list[str]:
    """Row-level security on lick.observation: the query role sees the visible rows; the ingest
    role, which writes the table, every row; any other role but the owner, none (PostgreSQL's
    default when no policy names it)."""
    return [
        "ALTER TABLE lick.observation ENABLE ROW LEVEL SECURITY",
        f'CREATE POLICY visible_rows ON lick.observation FOR SELECT TO "{query_role}" '
        f"USING {VISIBLE_ROWS}",
        f'CREATE POLICY ingest_writes ON lick.observation FOR ALL TO "{ingest_role}" '
        "USING (true) WITH CHECK (true)",
    ]
