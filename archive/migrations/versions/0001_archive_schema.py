"""The archive schema: observations, programs, schedule, access grants.

The published views and TAP_SCHEMA are derived from archive.published and (re)made by
archive.publish after every migration, so they are not part of any revision.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""
import sqlalchemy as sa
from alembic import op

from archive.config import get_settings
from archive.pgsphere import SPoint, SPoly
from archive.visibility import PUBLIC_URL_SQL, UNSIGNED_PRINCIPALS_SQL

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.execute("CREATE SCHEMA lick")
    op.execute("CREATE SCHEMA ivoa")
    op.create_table(
        "observation",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("obs_id", sa.Text, nullable=False, unique=True,
                  comment="Observation identifier: the file's archive path without extension"),
        sa.Column("obs_publisher_did", sa.Text, nullable=False, unique=True),
        sa.Column("dataproduct_type", sa.Text, nullable=False),
        sa.Column("calib_level", sa.SmallInteger, nullable=False, server_default=sa.text("1")),
        sa.Column("target_name", sa.Text),
        sa.Column("s_ra", sa.Double, comment="ICRS right ascension, degrees"),
        sa.Column("s_dec", sa.Double, comment="ICRS declination, degrees"),
        sa.Column("s_fov", sa.Double, comment="field of view diameter, degrees"),
        sa.Column("s_region", SPoly),
        sa.Column("s_xel1", sa.BigInteger),
        sa.Column("s_xel2", sa.BigInteger),
        sa.Column("t_min", sa.Double, comment="start of exposure, MJD (UTC)"),
        sa.Column("t_max", sa.Double, comment="end of exposure, MJD (UTC)"),
        sa.Column("t_exptime", sa.Double, comment="exposure time, seconds"),
        sa.Column("em_min", sa.Double, comment="shortest vacuum wavelength, metres"),
        sa.Column("em_max", sa.Double, comment="longest vacuum wavelength, metres"),
        sa.Column("em_xel", sa.BigInteger),
        sa.Column("instrument_name", sa.Text, nullable=False),
        sa.Column("facility_name", sa.Text, nullable=False),
        sa.Column("access_estsize", sa.BigInteger, comment="file size, kbyte"),
        sa.Column("obs_release_date", TZ, nullable=False),
        sa.Column("pos", SPoint),
        sa.Column("telescope", sa.Text, nullable=False),
        sa.Column("instrument", sa.Text, nullable=False),
        sa.Column("frame_type", sa.Text, nullable=False),
        sa.Column("observing_night", sa.Date, nullable=False,
                  comment="local date at the start of the night (noon-to-noon, UTC-8)"),
        sa.Column("date_obs", TZ, comment="start of exposure, UTC"),
        sa.Column("filters", sa.Text),
        sa.Column("grating", sa.Text),
        sa.Column("grism", sa.Text),
        sa.Column("slit", sa.Text),
        sa.Column("dichroic", sa.Text),
        sa.Column("decker", sa.Text),
        sa.Column("aperture", sa.Text),
        sa.Column("airmass", sa.Double),
        sa.Column("observer", sa.Text),
        sa.Column("program", sa.Text),
        sa.Column("cover_id", sa.Text),
        sa.Column("file_size", sa.BigInteger, nullable=False),
        sa.Column("file_mtime", TZ, nullable=False),
        sa.Column("checksum", sa.Text, comment="MD5 of the file, hex"),
        sa.Column("ingest_flags", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("header", sa.Text, nullable=False),
        sa.Column("file_path", sa.Text, nullable=False, unique=True),
        sa.Column("ingested_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("frame_type IN ('science', 'bias', 'dark', 'flat', 'arc', 'focus', 'unknown')",
                           name="frame_type_known"),
        sa.CheckConstraint("dataproduct_type IN ('image', 'spectrum')", name="dataproduct_type_known"),
        sa.CheckConstraint("telescope IN ('Shane', 'Nickel', 'APF', 'Unknown')", name="telescope_known"),
        sa.CheckConstraint("calib_level BETWEEN 0 AND 4", name="calib_level_range"),
        sa.CheckConstraint("s_ra IS NULL OR (s_ra >= 0 AND s_ra < 360)", name="s_ra_range"),
        sa.CheckConstraint("s_dec IS NULL OR (s_dec BETWEEN -90 AND 90)", name="s_dec_range"),
        schema="lick",
    )
    op.create_index("observation_pos_gist", "observation", ["pos"], schema="lick", postgresql_using="gist")
    op.create_index("observation_s_region_gist", "observation", ["s_region"], schema="lick",
                    postgresql_using="gist")
    op.create_index("observation_t_min", "observation", ["t_min"], schema="lick")
    op.create_index("observation_night", "observation", ["observing_night"], schema="lick")
    op.create_index("observation_instrument", "observation", ["instrument_name", "t_min"], schema="lick")
    op.create_index("observation_target", "observation", [sa.text("lower(target_name)")], schema="lick")
    op.create_index("observation_frame_type", "observation", ["frame_type"], schema="lick")
    op.create_index("observation_release", "observation", ["obs_release_date"], schema="lick")

    op.create_table(
        "program",
        sa.Column("program_id", sa.Text, primary_key=True, comment="program or cover-sheet id"),
        sa.Column("title", sa.Text),
        sa.Column("release_date", sa.Date,
                  comment="when its data become public; NULL: night + default period"),
        schema="lick",
    )
    op.create_table(
        "program_observer",
        sa.Column("program_id", sa.Text, sa.ForeignKey("lick.program.program_id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("observer", sa.Text, nullable=False, comment="user name of an observer in the program"),
        sa.PrimaryKeyConstraint("program_id", "observer"),
        schema="lick",
    )
    op.create_table(
        "schedule",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("telescope", sa.Text, nullable=False),
        sa.Column("night", sa.Date, nullable=False),
        sa.Column("starts_at", TZ, comment="NULL: the whole night"),
        sa.Column("ends_at", TZ),
        sa.Column("program_id", sa.Text, sa.ForeignKey("lick.program.program_id", ondelete="CASCADE"),
                  nullable=False),
        sa.CheckConstraint("telescope IN ('Shane', 'Nickel', 'APF', 'Unknown')",
                           name="schedule_telescope_known"),
        sa.CheckConstraint("(starts_at IS NULL) = (ends_at IS NULL) AND (starts_at IS NULL OR starts_at < ends_at)",
                           name="schedule_range_valid"),
        schema="lick",
    )
    op.create_index("schedule_night", "schedule", ["telescope", "night"], schema="lick")
    op.create_table(
        "access_grant",
        sa.Column("observation_id", sa.BigInteger,
                  sa.ForeignKey("lick.observation.id", ondelete="CASCADE"), nullable=False),
        sa.Column("principal", sa.Text, nullable=False,
                  comment="who may see the file before its release: 'program:<id>' or 'user:<name>'"),
        sa.Column("reason", sa.Text, nullable=False, comment="the access rule that granted it"),
        sa.PrimaryKeyConstraint("observation_id", "principal"),
        schema="lick",
    )
    op.create_index("access_grant_principal", "access_grant", ["principal"], schema="lick")

    op.execute(UNSIGNED_PRINCIPALS_SQL)
    op.execute(PUBLIC_URL_SQL)
    # The ingest role writes the archive tables; the query role reads only what archive.publish
    # grants it (the published views).
    ingest, query = f'"{get_settings().ingest_role}"', f'"{get_settings().query_role}"'
    op.execute(f"GRANT USAGE ON SCHEMA lick TO {ingest}, {query}")
    op.execute(f"GRANT USAGE ON SCHEMA ivoa TO {query}")
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON lick.observation, lick.program, "
               f"lick.program_observer, lick.schedule, lick.access_grant TO {ingest}")
    op.execute(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA lick TO {ingest}")


def downgrade() -> None:
    # CASCADE takes the derived views along.
    op.execute("DROP SCHEMA IF EXISTS tap_schema CASCADE")
    op.execute("DROP SCHEMA ivoa CASCADE")
    op.execute("DROP SCHEMA lick CASCADE")
