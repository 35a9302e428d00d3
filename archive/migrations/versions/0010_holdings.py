"""What the archive holds per telescope, instrument and year, kept by triggers (archive/holdings.py).

The front page read ``count(*)`` of the whole table on every view; it now reads this summary,
through ``lick.public_holdings`` (public counts as of now) and ``lick.last_night``.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op

from archive.config import get_settings
from archive.holdings import (
    DROP_TRIGGERS_SQL,
    LAST_NIGHT_VIEW_SQL,
    PUBLIC_VIEW_SQL,
    REBUILD_SQL,
    TRIGGER_FUNCTION_SQL,
    TRIGGERS_SQL,
)

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "holdings",
        sa.Column("telescope", sa.Text(), primary_key=True),
        sa.Column("instrument", sa.Text(), primary_key=True),
        sa.Column("year", sa.Integer(), primary_key=True, comment="year of the observing night"),
        sa.Column("released_at", sa.DateTime(timezone=True), primary_key=True,
                  comment="release moment of the files counted here; -infinity: already public when counted"),
        sa.Column("files", sa.BigInteger(), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        schema="lick")
    op.execute(TRIGGER_FUNCTION_SQL)
    for trigger in TRIGGERS_SQL:
        op.execute(trigger)
    op.execute(PUBLIC_VIEW_SQL)
    op.execute(LAST_NIGHT_VIEW_SQL)
    for statement in REBUILD_SQL:
        op.execute(statement)
    query = f'"{get_settings().query_role}"'
    op.execute(f"GRANT SELECT ON lick.public_holdings, lick.last_night TO {query}")


def downgrade() -> None:
    op.execute("DROP VIEW lick.public_holdings, lick.last_night")
    for statement in DROP_TRIGGERS_SQL:
        op.execute(statement)
    op.execute("DROP FUNCTION lick.count_holdings()")
    op.drop_table("holdings", schema="lick")
