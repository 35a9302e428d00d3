"""COUNT(*) per instrument through the access rule, answered from a summary kept at ingest.

``lick.instrument_counts`` and its triggers, and ``lick.visible_instrument_counts(text)``, which
the ADQL translator calls for ``COUNT(*) ... [WHERE instrument_name = '...'] [GROUP BY
instrument_name]`` on ivoa.obscore (archive/visible_counts.py: why the answer is exact). The
query role may call the function, never read the summary.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03
"""
from alembic import op

from archive.visible_counts import INSTRUMENTS, install, uninstall

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    install(op, INSTRUMENTS)


def downgrade() -> None:
    uninstall(op, INSTRUMENTS)
