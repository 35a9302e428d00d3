"""The stored MOC coverage of the public rows, and its refresh state (archive.coverage).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op

from archive.config import get_settings

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "coverage",
        sa.Column("collection", sa.Text, primary_key=True, comment="obs_collection; '' for the whole public archive"),
        sa.Column("instrument", sa.Text, comment="instrument_name of the collection's rows"),
        sa.Column("moc_order", sa.SmallInteger, nullable=False),
        sa.Column("moc", sa.Text, nullable=False, comment="MOC 2.0 ASCII, canonical"),
        sa.Column("public_rows", sa.BigInteger, nullable=False),
        sa.Column("t_min", sa.Double), sa.Column("t_max", sa.Double),
        sa.Column("em_min", sa.Double), sa.Column("em_max", sa.Double),
        sa.Column("sky_png", sa.LargeBinary, comment="the all-sky picture of the MOC (whole archive only)"),
        sa.Column("digest", sa.Text, nullable=False, comment="SHA-256 of what the row serves: the HTTP ETag"),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=False),
        schema="lick",
    )
    op.create_table(
        "coverage_refresh",
        sa.Column("id", sa.Boolean, primary_key=True, server_default=sa.text("true")),
        sa.Column("dirty_since", sa.DateTime(timezone=True), comment="first change not yet in lick.coverage"),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), comment="start of the last refresh's snapshot"),
        sa.CheckConstraint("id", name="coverage_refresh_one_row"),
        schema="lick",
    )
    # Never computed (refreshed_at NULL): the first change sends the refresh, or beat's first sweep.
    op.execute("INSERT INTO lick.coverage_refresh (id) VALUES (true)")
    ingest = f'"{get_settings().ingest_role}"'
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON lick.coverage TO {ingest}")
    op.execute(f"GRANT SELECT, UPDATE ON lick.coverage_refresh TO {ingest}")


def downgrade() -> None:
    op.drop_table("coverage_refresh", schema="lick")
    op.drop_table("coverage", schema="lick")
