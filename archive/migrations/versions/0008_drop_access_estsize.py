"""Drop ``lick.observation.access_estsize``: ingest wrote it and nothing read it. ObsCore's
``access_estsize`` is computed from ``file_size`` in the published view (archive/published.py).

Revision ID: 0008
Revises: 0005
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_column("observation", "access_estsize", schema="lick")


def downgrade() -> None:
    op.add_column("observation", sa.Column("access_estsize", sa.BigInteger, comment="file size, kbyte"),
                  schema="lick")
    op.execute("UPDATE lick.observation SET access_estsize = (file_size + 1023) / 1024")
