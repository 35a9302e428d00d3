"""An index for case-insensitive publisher DIDs through the published views (SIA 2.0 ID).

SIA 2.0 §2.1.9 (and ObsCore §2.5) compare IVOA identifiers case-insensitively. ``lower(did) =
lower('...')`` cannot use an index through the ``security_barrier`` views: lower() is not
leakproof, so PostgreSQL would evaluate it after the access rule, on every row (seconds at a
million rows). Text equality is leakproof; in a nondeterministic, case-insensitive ICU collation
(``lick.ci``) it is the comparison wanted, and this btree in that collation answers it.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # ICU level 2: letters compare without case (level 3), with their accents.
    op.execute("CREATE COLLATION IF NOT EXISTS lick.ci "
               "(provider = icu, locale = 'und-u-ks-level2', deterministic = false)")
    op.execute("CREATE INDEX observation_did_ci ON lick.observation (obs_publisher_did COLLATE lick.ci)")


def downgrade() -> None:
    op.execute("DROP INDEX lick.observation_did_ci")
    op.execute("DROP COLLATION lick.ci")
