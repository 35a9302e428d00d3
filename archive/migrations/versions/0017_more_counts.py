"""COUNT(*) per observing night, data product type and calibration level, answered from summaries.

``lick.night_counts``, ``lick.product_type_counts`` and ``lick.calib_level_counts``, their triggers
and count functions, generated from the declarations of archive/visible_counts.py by the code that
made 0016's instrument counts; the ADQL translator calls them for ``COUNT(*) [WHERE column = literal]
[GROUP BY column]`` on lick.observations (observing_night) and ivoa.obscore (dataproduct_type,
calib_level). The query role may call the functions, never read the summaries.

Every summary, 0016's too, gets an index on its release day and a GIN index on its grantees, and
the instrument counts' function is made again by the same code: one value is read by the
summary's key, all values by those indexes (a branch each). Downgrading drops the indexes of 0016's
summary and leaves its function's body (same signature, same answers); 0016's downgrade drops it.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03
"""
from alembic import op

from archive.visible_counts import CALIB_LEVELS, INSTRUMENTS, NIGHTS, PRODUCT_TYPES, install, uninstall

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

COUNTED = (NIGHTS, PRODUCT_TYPES, CALIB_LEVELS)


def upgrade() -> None:
    for counted in COUNTED:
        install(op, counted)
    for counted in (INSTRUMENTS, *COUNTED):
        for name, column, method in counted.summary_indexes():
            # GIN without its pending list: a summary changes with every ingest, and a search
            # reads the whole pending list until a vacuum (30 ms instead of 2 at 1M rows)
            op.create_index(name, counted.summary, [column], schema="lick", postgresql_using=method,
                            postgresql_with={"fastupdate": "off"} if method == "gin" else {})
    op.execute(INSTRUMENTS.count_function_sql)


def downgrade() -> None:
    for counted in reversed(COUNTED):
        uninstall(op, counted)
    for name, _, _ in INSTRUMENTS.summary_indexes():
        op.drop_index(name, table_name=INSTRUMENTS.summary, schema="lick")
