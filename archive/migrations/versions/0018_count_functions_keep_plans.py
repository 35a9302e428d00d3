"""The count functions of archive/visible_counts.py in PL/pgSQL, which keeps their plans.

A SQL function's body is planned at every call when it cannot be inlined, and a SECURITY DEFINER
one never is: about 0.2 ms of the 0.5 ms a count of one observing night took at 1,000,000 rows.
The same query under PL/pgSQL's ``RETURN QUERY`` is planned once per session. Same signatures,
grants and answers; the downgrade makes the SQL functions of 0016 and 0017 again.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03
"""
from alembic import op

from archive.visible_counts import COUNTED

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for counted in COUNTED:
        op.execute(counted.count_function_sql)


def downgrade() -> None:
    for counted in COUNTED:
        op.execute(counted.count_function_in("sql"))
