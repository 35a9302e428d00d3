"""COUNT(*) per instrument through the access rule, answered from a summary kept at ingest.

``lick.instrument_counts`` and its triggers, and ``lick.visible_instrument_counts(text)``, which
the ADQL translator calls for ``COUNT(*) ... [WHERE instrument_name = '...'] [GROUP BY
instrument_name]`` on ivoa.obscore (archive/visible_counts.py: why the answer is exact). The
query role may call the function, never read the summary.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from archive.config import get_settings
from archive.visible_counts import (
    COUNT_FUNCTION,
    COUNT_FUNCTION_SQL,
    DROP_FUNCTIONS_SQL,
    DROP_TRIGGERS_SQL,
    REBUILD_SQL,
    REVOKE_SQL,
    TRIGGER_FUNCTION_SQL,
    TRIGGERS_SQL,
)

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "instrument_counts",
        sa.Column("instrument_name", sa.Text(), primary_key=True),
        sa.Column("released_at", sa.DateTime(timezone=True), primary_key=True,
                  comment="UTC day of the rows' release; -infinity: released a week before they were counted"),
        sa.Column("grantees", postgresql.ARRAY(sa.Text()), primary_key=True,
                  comment="the rows' grantees; {} when folded"),
        sa.Column("files", sa.BigInteger(), nullable=False),
        schema="lick")
    op.execute(TRIGGER_FUNCTION_SQL)
    for trigger in TRIGGERS_SQL:
        op.execute(trigger)
    op.execute(COUNT_FUNCTION_SQL)
    op.execute(REVOKE_SQL)
    op.execute(f'GRANT EXECUTE ON FUNCTION {COUNT_FUNCTION}(text) TO "{get_settings().query_role}"')
    for statement in REBUILD_SQL:
        op.execute(statement)


def downgrade() -> None:
    for statement in DROP_TRIGGERS_SQL:
        op.execute(statement)
    op.execute(DROP_FUNCTIONS_SQL)
    op.drop_table("instrument_counts", schema="lick")
