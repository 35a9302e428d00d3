"""Indexes for what people filter and count on, usable through the published views.

The views are ``security_barrier`` views (archive/published.py): a user's condition can become an
index condition only when its operator is leakproof (=, <, BETWEEN on text, numbers and
timestamps are; LIKE, ILIKE and lower() are not). So every index here is on a bare column the
views expose. The ones that serve counts carry the access rule's columns (obs_release_date,
grantees) in INCLUDE, so that COUNT(*) and GROUP BY through the views are index-only scans that
never read the 550-byte heap rows (the FITS header is already TOASTed out of line); EXPLAIN as the
query role in bench/bench_aggregates.py.

- instrument_name: COUNT per instrument and the holdings example (GROUP BY instrument_name,
  dataproduct_type with MIN(t_min), MAX(t_max)) read this index alone; the instrument plus t_min
  range (the nickel-images example) is a range scan on it.
- t_min (replaced) and t_max: time ranges and overlaps, counted index-only.
- em_min, em_max: wavelength ranges.
- target_name: equality and IN; its lower() index serves only direct SQL (lower() is not leakproof).
dataproduct_type (two values) and calib_level (one value) filter nothing an index could skip;
frame_type, the observing night and obs_release_date have their indexes from 0001 and 0003.

With grantees in indexes, a change of grantees can no longer be a HOT update: every index gets
a new entry. The ingest writes a new row's grantees with the row, and lick.refresh_grantees()
now leaves rows whose grantees are already right alone, so that a proprietary row is written
once, not inserted and then updated (bench/bench_ingest.py).

The FITS header (10 kB of text, TOASTed out of line) is compressed with lz4 rather than pglz
from now on: a quarter of the CPU for about 15% more space (measured on demo headers), where
compressing each header took a large part of the database's share of bulk ingest.

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-03
"""
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

RULE_COLUMNS = "obs_release_date, grantees"
CREATED = {
    "observation_instrument":
        f"(instrument_name, t_min) INCLUDE (dataproduct_type, t_max, {RULE_COLUMNS})",
    "observation_t_min": f"(t_min) INCLUDE (t_max, {RULE_COLUMNS})",
    "observation_t_max": "(t_max)",
    "observation_em": "(em_min, em_max)",
    "observation_target_name": "(target_name)",
}
BEFORE = {
    "observation_instrument": "(instrument_name, t_min)",
    "observation_t_min": "(t_min)",
}

#: lick.refresh_grantees() of 0005, with {only_changed} appended to each UPDATE's condition.
REFRESH = """
CREATE OR REPLACE FUNCTION lick.refresh_grantees() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- statement-level: one UPDATE per INSERT/UPDATE/DELETE statement on access_grant
    IF TG_OP = 'INSERT' THEN
        UPDATE lick.observation o SET grantees = lick.grantees_of(o.id)
        WHERE o.id IN (SELECT observation_id FROM new_grants){only_changed};
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE lick.observation o SET grantees = lick.grantees_of(o.id)
        WHERE o.id IN (SELECT observation_id FROM old_grants){only_changed};
    ELSE
        UPDATE lick.observation o SET grantees = lick.grantees_of(o.id)
        WHERE o.id IN (SELECT observation_id FROM old_grants UNION SELECT observation_id FROM new_grants){only_changed};
    END IF;
    RETURN NULL;
END $$
"""
# The same set of principals, whatever their order: no new row version.
ONLY_CHANGED = "\n          AND NOT (o.grantees @> lick.grantees_of(o.id) AND o.grantees <@ lick.grantees_of(o.id))"


def upgrade() -> None:
    for name, columns in CREATED.items():
        if name in BEFORE:
            op.execute(f"DROP INDEX lick.{name}")
        op.execute(f"CREATE INDEX {name} ON lick.observation {columns}")
    op.execute(REFRESH.format(only_changed=ONLY_CHANGED))
    op.execute("ALTER TABLE lick.observation ALTER COLUMN header SET COMPRESSION lz4")


def downgrade() -> None:
    op.execute("ALTER TABLE lick.observation ALTER COLUMN header SET COMPRESSION default")
    op.execute(REFRESH.format(only_changed=""))
    for name in CREATED:
        op.execute(f"DROP INDEX lick.{name}")
        if name in BEFORE:
            op.execute(f"CREATE INDEX {name} ON lick.observation {BEFORE[name]}")
