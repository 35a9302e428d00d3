"""Principals the query role cannot forge: a secret key, readable by the owner role only, and
``lick.current_principals()`` checking the keyed MAC of the setting (archive/principals.py).

Until now the views trusted ``lick.principals`` as it stood, and any SQL run as the query role
could set it to ``{role:staff}`` (issue 13).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""
import secrets

import sqlalchemy as sa
from alembic import op

from archive.config import get_settings
from archive.principals import CURRENT_PRINCIPALS_SQL, KEY_BYTES, padded_keys
from archive.visibility import UNSIGNED_PRINCIPALS_SQL

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "principal_key",
        sa.Column("id", sa.Boolean, primary_key=True, server_default=sa.text("true")),
        sa.Column("key", sa.LargeBinary, nullable=False, comment="HMAC-SHA256 key of lick.principals"),
        sa.Column("ipad_key", sa.LargeBinary, nullable=False, comment="key XOR 0x36 bytes"),
        sa.Column("opad_key", sa.LargeBinary, nullable=False, comment="key XOR 0x5c bytes"),
        sa.CheckConstraint("id", name="principal_key_one_row"),
        sa.CheckConstraint(f"octet_length(key) = {KEY_BYTES}", name="principal_key_length"),
        schema="lick",
    )
    key = secrets.token_bytes(KEY_BYTES)
    ipad_key, opad_key = padded_keys(key)
    op.execute(sa.text("INSERT INTO lick.principal_key (key, ipad_key, opad_key) VALUES (:k, :i, :o)")
               .bindparams(k=key, i=ipad_key, o=opad_key))
    # Only the owner role reads it (and lick.current_principals(), which runs as the owner).
    s = get_settings()
    op.execute("REVOKE ALL ON lick.principal_key FROM PUBLIC")
    op.execute(f'REVOKE ALL ON lick.principal_key FROM "{s.query_role}", "{s.ingest_role}"')
    op.execute(CURRENT_PRINCIPALS_SQL)


def downgrade() -> None:
    op.execute(UNSIGNED_PRINCIPALS_SQL)
    op.drop_table("principal_key", schema="lick")
