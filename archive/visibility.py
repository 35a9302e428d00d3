"""Which rows of ``lick.observation`` a caller may see: the one access rule, in SQL.

A row is visible once its release date has passed, to archive staff (principal ``role:staff``),
or when one of the caller's principals (``user:<name>``, ``program:<id>``, ``group:<name>``) holds
a grant on it (``lick.access_grant``, mirrored in the row's ``grantees``). The caller's principals are set per
transaction in the setting ``lick.principals``, signed so that the query role cannot forge them
(:mod:`archive.principals`); without it, or with a value that does not verify, the caller is
anonymous. The published views filter by this predicate, and the query role can read nothing else.
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
# are read once per query, as InitPlans, not once per row.
VISIBLE_ROWS = (
    "(o.obs_release_date <= now() OR o.grantees && (SELECT lick.current_principals()) "
    f"OR (SELECT '{STAFF_PRINCIPAL}' = ANY (lick.current_principals())))"
)
