"""An index for target-name prefix search through the published views.

``target_name LIKE 'NGC%'`` cannot use an index through the ``security_barrier`` views: LIKE is
not leakproof, so PostgreSQL evaluates it only after the access rule, on every row. The ADQL
translator writes such a LIKE as ``starts_with(target_name, 'NGC')`` (vo_services/tap/adql/
generator.py), which is leakproof, and which PostgreSQL 15 turns into a range condition on a
btree in the "C" collation: this index. Its INCLUDE columns are what the access rule and the
recheck of starts_with read, so that counting the matches is an index-only scan.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute('CREATE INDEX observation_target_name_prefix ON lick.observation '
               '(target_name COLLATE "C") INCLUDE (target_name, obs_release_date, grantees)')


def downgrade() -> None:
    op.execute("DROP INDEX lick.observation_target_name_prefix")
