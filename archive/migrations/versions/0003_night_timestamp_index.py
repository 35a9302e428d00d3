"""An index for the published views' observing_night, a timestamp there (DataLink calibrations).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE INDEX observation_night_timestamp ON lick.observation "
               "((observing_night::timestamp without time zone), instrument)")


def downgrade() -> None:
    op.execute("DROP INDEX lick.observation_night_timestamp")
