"""Ingest bookkeeping: notifications from the watcher, and failures for admins to retry.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from archive.config import get_settings

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ingest_failure",
        sa.Column("file_path", sa.Text, primary_key=True, comment="relative to the archive root"),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("first_failed_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("last_failed_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("attempts", sa.Integer, nullable=False, server_default=sa.text("1")),
        schema="lick",
    )
    op.create_table(
        "ingest_notification",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("event", sa.Text, nullable=False),
        sa.Column("paths", sa.ARRAY(sa.Text), nullable=False, comment="relative to the archive root"),
        sa.Column("status", sa.Text, nullable=False, server_default=sa.text("'queued'")),
        sa.Column("summary", sa.Text),
        sa.Column("failures", JSONB, comment="[[path, reason], ...] of files that could not be ingested"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("event IN ('changed', 'deleted')", name="notification_event_known"),
        sa.CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name="notification_status_known"),
        schema="lick",
    )
    ingest = f'"{get_settings().ingest_role}"'
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON lick.ingest_failure, lick.ingest_notification TO {ingest}")
    op.execute(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA lick TO {ingest}")


def downgrade() -> None:
    op.drop_table("ingest_notification", schema="lick")
    op.drop_table("ingest_failure", schema="lick")
