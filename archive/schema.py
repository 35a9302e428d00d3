"""The archive schema, defined once.

Tables live in the PostgreSQL schema ``lick``; the published views (``ivoa.obscore`` and
``lick.observations``) are described in :mod:`archive.published` and created by the migrations.
Alembic migrations in ``archive/migrations`` create exactly what this module declares; a test
compares the two.
"""
from __future__ import annotations

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Double,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    Table,
    Text,
    UniqueConstraint,
    cast,
    func,
    text,
)

from sqlalchemy.dialects.postgresql import JSONB

from archive.pgsphere import SPoint, SPoly
from archive.visible_counts import COUNTED

SCHEMA = "lick"

FRAME_TYPES = ("science", "bias", "dark", "flat", "arc", "focus", "unknown")
DATAPRODUCT_TYPES = ("image", "spectrum")
TELESCOPES = ("Shane", "Nickel", "APF", "Unknown")

metadata = MetaData(schema=SCHEMA)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


observation = Table(
    "observation",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    # ObsCore 1.1 quantities, stored as real columns.
    Column("obs_id", Text, nullable=False, unique=True,
           comment="Observation identifier: the file's archive path without extension"),
    Column("obs_publisher_did", Text, nullable=False, unique=True),
    Column("dataproduct_type", Text, nullable=False),
    Column("calib_level", SmallInteger, nullable=False, server_default=text("1")),
    Column("target_name", Text),
    Column("s_ra", Double, comment="ICRS right ascension, degrees"),
    Column("s_dec", Double, comment="ICRS declination, degrees"),
    Column("s_fov", Double, comment="field of view diameter, degrees"),
    Column("s_region", SPoly),
    Column("s_xel1", BigInteger),
    Column("s_xel2", BigInteger),
    Column("t_min", Double, comment="start of exposure, MJD (UTC)"),
    Column("t_max", Double, comment="end of exposure, MJD (UTC)"),
    Column("t_exptime", Double, comment="exposure time, seconds"),
    Column("em_min", Double, comment="shortest vacuum wavelength, metres"),
    Column("em_max", Double, comment="longest vacuum wavelength, metres"),
    Column("em_xel", BigInteger),
    Column("instrument_name", Text, nullable=False),
    Column("facility_name", Text, nullable=False),
    Column("obs_release_date", DateTime(timezone=True), nullable=False),
    # Set by an archive admin; ingest and reapply-access then keep it as the release date.
    Column("release_override", DateTime(timezone=True), comment="release date set by an admin"),
    # A copy of the principals in lick.access_grant for this row, kept by triggers (migration
    # 0005), so that the access rule (archive.visibility) needs no subquery.
    Column("grantees", ARRAY(Text), nullable=False, server_default=text("'{}'"),
           comment="the principals of this row's grants, kept from lick.access_grant by triggers"),
    # Position for the spatial index; NULL when the file has no usable coordinates.
    Column("pos", SPoint),
    # Lick quantities.
    Column("telescope", Text, nullable=False),
    Column("instrument", Text, nullable=False),
    Column("frame_type", Text, nullable=False),
    Column("observing_night", Date, nullable=False,
           comment="local date at the start of the night (noon-to-noon, UTC-8)"),
    Column("date_obs", DateTime(timezone=True), comment="start of exposure, UTC"),
    Column("filters", Text),
    Column("grating", Text),
    Column("grism", Text),
    Column("slit", Text),
    Column("dichroic", Text),
    Column("decker", Text),
    Column("aperture", Text),
    Column("airmass", Double),
    Column("observer", Text),
    Column("program", Text),
    Column("cover_id", Text),
    Column("file_size", BigInteger, nullable=False),
    Column("file_mtime", DateTime(timezone=True), nullable=False),
    Column("checksum", Text, comment="MD5 of the file, hex"),
    Column("ingest_flags", Integer, nullable=False, server_default=text("0")),
    Column("header", Text, nullable=False),  # compressed with lz4 (migration 0007)
    # Never published: where the file lives, relative to the archive root.
    Column("file_path", Text, nullable=False, unique=True),
    Column("ingested_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint(_in("frame_type", FRAME_TYPES), name="frame_type_known"),
    CheckConstraint(_in("dataproduct_type", DATAPRODUCT_TYPES), name="dataproduct_type_known"),
    CheckConstraint(_in("telescope", TELESCOPES), name="telescope_known"),
    CheckConstraint("calib_level BETWEEN 0 AND 4", name="calib_level_range"),
    CheckConstraint("s_ra IS NULL OR (s_ra >= 0 AND s_ra < 360)", name="s_ra_range"),
    CheckConstraint("s_dec IS NULL OR (s_dec BETWEEN -90 AND 90)", name="s_dec_range"),
    # The night's cast to timestamp cannot fail, so it may be LEAKPROOF (migration 0015).
    CheckConstraint("observing_night < DATE '294276-12-31'", name="observation_night_is_a_timestamp"),
)

Index("observation_pos_gist", observation.c.pos, postgresql_using="gist")
Index("observation_s_region_gist", observation.c.s_region, postgresql_using="gist")
# Indexes serve the published views only on bare columns with leakproof operators (row-level
# security evaluates its policy before other conditions; migration 0014); those that serve
# counts include the access rule's columns, so that
# COUNT(*) and GROUP BY through the views are index-only scans (migration 0007).
_RULE_COLUMNS = ["obs_release_date", "grantees"]
# Ordered: ORDER BY t_min (the portal's default sort, with obs_id to break ties) walks it and
# stops at LIMIT (migration 0014).
Index("observation_t_min", observation.c.t_min, observation.c.obs_id,
      postgresql_include=["t_max", *_RULE_COLUMNS])
Index("observation_t_max", observation.c.t_max)
Index("observation_em", observation.c.em_min, observation.c.em_max)
Index("observation_night", observation.c.observing_night)
# The published views show the night as a timestamp; this serves their equality conditions.
Index("observation_night_timestamp", cast(observation.c.observing_night, DateTime(timezone=False)),
      observation.c.instrument)
# The portal's sort by night: its pages walk this index (migration 0014).
Index("observation_night_obs_id", cast(observation.c.observing_night, DateTime(timezone=False)),
      observation.c.obs_id)
Index("observation_instrument", observation.c.instrument_name, observation.c.t_min,
      postgresql_include=["dataproduct_type", "t_max", *_RULE_COLUMNS])
Index("observation_target_name", observation.c.target_name)
Index("observation_target", func.lower(observation.c.target_name))  # direct SQL only
# Prefix search through the views: starts_with() in the "C" collation (migration 0009); the
# collation clause rides in postgresql_ops, so that Alembic reflects and compares a column index.
Index("observation_target_name_prefix", observation.c.target_name,
      postgresql_ops={"target_name": 'COLLATE "C"'}, postgresql_include=["target_name", *_RULE_COLUMNS])
# Case-insensitive publisher DIDs through the views (SIA's ID): equality in the nondeterministic
# ICU collation lick.ci that migration 0011 creates.
Index("observation_did_ci", observation.c.obs_publisher_did, postgresql_ops={"obs_publisher_did": "COLLATE lick.ci"})
# The portal's usual search, a cone with an instrument and a range of nights, tested inside one
# index (btree_gist for the text and the timestamp; migration 0013).
Index("observation_cone_instrument_night", observation.c.pos, observation.c.instrument,
      cast(observation.c.observing_night, DateTime(timezone=False)), postgresql_using="gist")
Index("observation_frame_type", observation.c.frame_type)
Index("observation_release", observation.c.obs_release_date)

program = Table(
    "program",
    metadata,
    Column("program_id", Text, primary_key=True, comment="program or cover-sheet id"),
    Column("title", Text),
    Column("release_date", Date, comment="when its data become public; NULL: night + default period"),
)

program_observer = Table(
    "program_observer",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("program_id", Text, ForeignKey("program.program_id", ondelete="CASCADE"), nullable=False),
    Column("observer", Text, nullable=False, comment="user name of an observer in the program"),
    UniqueConstraint("program_id", "observer", name="program_observer_once"),
)

schedule = Table(
    "schedule",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("telescope", Text, nullable=False),
    Column("night", Date, nullable=False),
    Column("starts_at", DateTime(timezone=True), comment="NULL: the whole night"),
    Column("ends_at", DateTime(timezone=True)),
    Column("program_id", Text, ForeignKey("program.program_id", ondelete="CASCADE"), nullable=False),
    CheckConstraint(_in("telescope", TELESCOPES), name="schedule_telescope_known"),
    CheckConstraint("(starts_at IS NULL) = (ends_at IS NULL) AND (starts_at IS NULL OR starts_at < ends_at)",
                    name="schedule_range_valid"),
)
Index("schedule_night", schedule.c.telescope, schedule.c.night)

access_grant = Table(
    "access_grant",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("observation_id", BigInteger, ForeignKey("observation.id", ondelete="CASCADE"), nullable=False),
    Column("principal", Text, nullable=False,
           comment="who may see the file before its release: 'program:<id>' or 'user:<name>'"),
    Column("reason", Text, nullable=False,
           comment="the access rule that granted it; 'admin: ...' for a grant made by an admin"),
    UniqueConstraint("observation_id", "principal", name="access_grant_once"),
)
Index("access_grant_principal", access_grant.c.principal)

# The secret that signs the caller's principals (archive.principals): one row, readable by the owner
# role only. The padded keys let SQL compute HMAC-SHA256 with the built-in sha256().
principal_key = Table(
    "principal_key",
    metadata,
    Column("id", Boolean, primary_key=True, server_default=text("true")),
    Column("key", LargeBinary, nullable=False, comment="HMAC-SHA256 key of lick.principals"),
    Column("ipad_key", LargeBinary, nullable=False, comment="key XOR 0x36 bytes"),
    Column("opad_key", LargeBinary, nullable=False, comment="key XOR 0x5c bytes"),
    CheckConstraint("id", name="principal_key_one_row"),
    CheckConstraint("octet_length(key) = 64", name="principal_key_length"),
)

ingest_failure = Table(
    "ingest_failure",
    metadata,
    Column("file_path", Text, primary_key=True, comment="relative to the archive root"),
    Column("reason", Text, nullable=False),
    Column("first_failed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("last_failed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("attempts", Integer, nullable=False, server_default=text("1")),
)

NOTIFICATION_EVENTS = ("changed", "deleted")
NOTIFICATION_STATUSES = ("queued", "running", "done", "failed")

ingest_notification = Table(
    "ingest_notification",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("event", Text, nullable=False),
    Column("paths", ARRAY(Text), nullable=False, comment="relative to the archive root"),
    Column("status", Text, nullable=False, server_default=text("'queued'")),
    Column("summary", Text),
    Column("failures", JSONB, comment="[[path, reason], ...] of files that could not be ingested"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("finished_at", DateTime(timezone=True)),
    CheckConstraint(_in("event", NOTIFICATION_EVENTS), name="notification_event_known"),
    CheckConstraint(_in("status", NOTIFICATION_STATUSES), name="notification_status_known"),
)

# What the archive holds, kept by triggers on lick.observation (archive/holdings.py, migration 0010).
holdings = Table(
    "holdings",
    metadata,
    Column("telescope", Text, primary_key=True),
    Column("instrument", Text, primary_key=True),
    Column("year", Integer, primary_key=True, comment="year of the observing night"),
    Column("released_at", DateTime(timezone=True), primary_key=True,
           comment="release moment of the files counted here; -infinity: already public when counted"),
    Column("files", BigInteger, nullable=False),
    Column("bytes", BigInteger, nullable=False),
)

# Rows per counted column's value, release day and grantees (lick.instrument_counts, night_counts,
# product_type_counts, calib_level_counts), kept by triggers on lick.observation, from which ADQL's
# COUNT(*) per value is answered through the access rule (archive/visible_counts.py, 0016, 0017).
count_summaries = tuple(Table(c.summary, metadata, *c.summary_columns(),
                              *(Index(name, column, postgresql_using=method)
                                for name, column, method in c.summary_indexes()))
                        for c in COUNTED)

# The MOC coverage of the public rows (archive.coverage), per ObsCore collection and for the whole
# archive (collection ''), as the refresh task last computed it through ivoa.obscore as an
# anonymous caller; the whole archive's row carries the sky picture. Written by the ingest role.
coverage = Table(
    "coverage",
    metadata,
    Column("collection", Text, primary_key=True, comment="obs_collection; '' for the whole public archive"),
    Column("instrument", Text, comment="instrument_name of the collection's rows"),
    Column("moc_order", SmallInteger, nullable=False),
    Column("moc", Text, nullable=False, comment="MOC 2.0 ASCII, canonical"),
    Column("public_rows", BigInteger, nullable=False),
    Column("t_min", Double), Column("t_max", Double), Column("em_min", Double), Column("em_max", Double),
    Column("sky_png", LargeBinary, comment="the all-sky picture of the MOC (whole archive only)"),
    Column("digest", Text, nullable=False, comment="SHA-256 of what the row serves: the HTTP ETag"),
    Column("refreshed_at", DateTime(timezone=True), nullable=False),
)

# When the coverage must be computed again (one row): ``dirty_since`` is set by the first change
# after a refresh, which alone sends the refresh task (later changes find it set: the debounce).
coverage_refresh = Table(
    "coverage_refresh",
    metadata,
    Column("id", Boolean, primary_key=True, server_default=text("true")),
    Column("dirty_since", DateTime(timezone=True), comment="first change not yet in lick.coverage"),
    Column("refreshed_at", DateTime(timezone=True), comment="start of the last refresh's snapshot"),
    CheckConstraint("id", name="coverage_refresh_one_row"),
)
