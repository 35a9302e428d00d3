"""Each observation carries the principals of its grants (``grantees``), kept by triggers on
``lick.access_grant``, so that the access rule is a cheap array overlap on the row itself.

The rule used to probe ``access_grant`` with EXISTS; the planner hashes that subquery whenever it
expects many rows, which pgsphere's rough estimates make it do for every cone: 40 ms to hash
30,000 grants of a member of 20 programs, for a cone of 17 rows (bench/bench_auth.py).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

REFRESH = """
CREATE FUNCTION lick.refresh_grantees() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- statement-level: one UPDATE per INSERT/UPDATE/DELETE statement on access_grant
    IF TG_OP = 'INSERT' THEN
        UPDATE lick.observation o SET grantees = lick.grantees_of(o.id)
        WHERE o.id IN (SELECT observation_id FROM new_grants);
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE lick.observation o SET grantees = lick.grantees_of(o.id)
        WHERE o.id IN (SELECT observation_id FROM old_grants);
    ELSE
        UPDATE lick.observation o SET grantees = lick.grantees_of(o.id)
        WHERE o.id IN (SELECT observation_id FROM old_grants UNION SELECT observation_id FROM new_grants);
    END IF;
    RETURN NULL;
END $$
"""

GRANTEES_OF = """
CREATE FUNCTION lick.grantees_of(observation bigint) RETURNS text[] LANGUAGE sql STABLE AS $$
    SELECT coalesce(array_agg(principal ORDER BY principal), '{}') FROM lick.access_grant
    WHERE observation_id = observation
$$
"""

TRIGGERS = (
    "CREATE TRIGGER access_grant_inserted AFTER INSERT ON lick.access_grant "
    "REFERENCING NEW TABLE AS new_grants FOR EACH STATEMENT EXECUTE FUNCTION lick.refresh_grantees()",
    "CREATE TRIGGER access_grant_deleted AFTER DELETE ON lick.access_grant "
    "REFERENCING OLD TABLE AS old_grants FOR EACH STATEMENT EXECUTE FUNCTION lick.refresh_grantees()",
    "CREATE TRIGGER access_grant_updated AFTER UPDATE ON lick.access_grant "
    "REFERENCING OLD TABLE AS old_grants NEW TABLE AS new_grants "
    "FOR EACH STATEMENT EXECUTE FUNCTION lick.refresh_grantees()",
)


def upgrade() -> None:
    op.add_column("observation", sa.Column(
        "grantees", postgresql.ARRAY(sa.Text()), nullable=False, server_default=sa.text("'{}'"),
        comment="the principals of this row's grants, kept from lick.access_grant by triggers"), schema="lick")
    op.execute(GRANTEES_OF)
    op.execute(REFRESH)
    for trigger in TRIGGERS:
        op.execute(trigger)
    op.execute("UPDATE lick.observation o SET grantees = g.principals FROM "
               "(SELECT observation_id, array_agg(principal ORDER BY principal) AS principals "
               " FROM lick.access_grant GROUP BY observation_id) AS g WHERE g.observation_id = o.id")


def downgrade() -> None:
    # The published views read grantees: drop them, and forget their fingerprint so that the next
    # `lick-admin migrate` makes them again (archive/publish.py).
    op.execute("DROP VIEW IF EXISTS ivoa.obscore, lick.observations")
    op.execute("DO $$ BEGIN IF EXISTS (SELECT FROM pg_namespace WHERE nspname = 'tap_schema') THEN "
               "COMMENT ON SCHEMA tap_schema IS NULL; END IF; END $$")
    for name in ("inserted", "deleted", "updated"):
        op.execute(f"DROP TRIGGER access_grant_{name} ON lick.access_grant")
    op.execute("DROP FUNCTION lick.refresh_grantees()")
    op.execute("DROP FUNCTION lick.grantees_of(bigint)")
    op.drop_column("observation", "grantees", schema="lick")
