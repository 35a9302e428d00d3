"""Permanent ingest failures, with their reason, for admins to list and retry.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""
import sqlalchemy as sa
from alembic import op

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
    op.execute(f'GRANT SELECT, INSERT, UPDATE, DELETE ON lick.ingest_failure TO "{get_settings().ingest_role}"')


def downgrade() -> None:
    op.drop_table("ingest_failure", schema="lick")
