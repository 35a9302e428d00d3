"""The observing night within the range of a timestamp, so its cast to timestamp cannot fail.

The published views show ``observing_night`` as a timestamp. Under the row security of migration
0014 a condition on that expression stays an index condition (0013's GiST index, 0014's ordered
index) only if the cast is LEAKPROOF, which ``scripts/leakproof.sql`` declares: true on this
table only if no stored date lies past the last timestamp (294276 AD), where the cast would raise an
error that could tell of a hidden row. This CHECK makes that so.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03
"""
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE lick.observation ADD CONSTRAINT observation_night_is_a_timestamp "
               "CHECK (observing_night < DATE '294276-12-31')")


def downgrade() -> None:
    op.execute("ALTER TABLE lick.observation DROP CONSTRAINT observation_night_is_a_timestamp")
