"""An index for the portal's usual search: a cone with an instrument and a range of nights.

The cone's GiST index alone finds every row of a wide cone, and PostgreSQL then reads each of
them from the table to test instrument and night: at 1,000,000 rows a 20-degree cone is most of
the table. One GiST index over the position, the instrument and the night (the published views'
timestamp of it) tests all three inside the index, so only the matching rows are read from the
table (bench/bench_portal_search.py). ``btree_gist`` gives text and timestamps their GiST
operator classes; it is a trusted extension (PostgreSQL 13+), which the database's owner may
create. Its operators are the types' own leakproof ones, so the index serves the
``security_barrier`` views.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03
"""
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    op.execute("CREATE INDEX observation_cone_instrument_night ON lick.observation USING gist "
               "(pos, instrument, (CAST(observing_night AS TIMESTAMP WITHOUT TIME ZONE)))")


def downgrade() -> None:
    op.execute("DROP INDEX lick.observation_cone_instrument_night")
    op.execute("DROP EXTENSION IF EXISTS btree_gist")
