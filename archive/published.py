"""What users may query: the published tables and the metadata of every published column.

This is the single description from which :mod:`archive.publish` creates the views over
``lick.observation`` and fills TAP_SCHEMA, and from which VOSI tables and VOTable FIELDs are
generated. A view's column names the SQL expression over ``lick.observation o`` it selects; every
column carries its ADQL type and its IVOA metadata.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from archive.columns import Column
from archive.standards import DATALINK_MIME
from archive.visible_counts import CALIB_LEVELS, INSTRUMENTS, NIGHTS, PRODUCT_TYPES, CountedColumn


@dataclass(frozen=True, kw_only=True)
class PublishedColumn(Column):
    """A published column: a :class:`~archive.columns.Column` with the SQL that fills it and
    its TAP_SCHEMA flags (TAP 1.1 §4.3)."""

    expr: str | None  # SQL over lick.observation o, for view columns; None for real tables
    description: str
    principal: bool = False
    indexed: bool = False
    std: bool = False
    # In the view for the query translator (the indexed position behind POINT(s_ra, s_dec)),
    # but not described to users: not in TAP_SCHEMA, VOSI or SELECT *.
    hidden: bool = False

    __hash__ = Column.__hash__  # the cached one: dataclass would make a new one for the subclass


@dataclass(frozen=True)
class PublishedTable:
    schema: str
    name: str
    description: str
    columns: tuple[PublishedColumn, ...]
    utype: str | None = None
    is_view: bool = True  # a view over lick.observation, filtered by the access rule
    # (ra column, dec column) -> the GiST-indexed spoint column holding the same position, which
    # the ADQL translator uses for POINT(ra, dec) so that cones use the index.
    point_columns: tuple[tuple[tuple[str, str], str], ...] = ()
    # column -> the counted column whose SQL function counts the rows the caller may see per value
    # of that column, exactly as count(*) through the view would (archive/visible_counts.py; the
    # view's column must be the base column cast as the declaration's published_type); the ADQL
    # translator answers COUNT(*) [WHERE column = literal] [GROUP BY column] with it.
    counted_by: tuple[tuple[str, CountedColumn], ...] = ()

    @property
    def qualified_name(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def public_columns(self) -> tuple[PublishedColumn, ...]:
        """The columns users see described (TAP_SCHEMA, VOSI, SELECT *)."""
        return tuple(c for c in self.columns if not c.hidden)

    def view_sql(self) -> str:
        """CREATE VIEW statement: the columns over ``lick.observation o``, read with the caller's
        rights (``security_invoker``), so that the table's row-level security, the access rule of
        :mod:`archive.visibility`, filters them. The view has no filter of its own: PostgreSQL
        flattens it into the query, which may then walk an ordered index, stop at LIMIT, and count
        in parallel. The policy still runs before any non-leakproof condition of the query, so a
        failing expression can never reveal a hidden row's value.
        """
        select_list = ",\n    ".join(f"{c.expr} AS {c.name}" for c in self.columns)
        return (
            f"CREATE VIEW {self.qualified_name} WITH (security_invoker) AS\n"
            f"SELECT\n    {select_list}\nFROM lick.observation o"
        )

    @property
    def base_columns(self) -> tuple[str, ...]:
        """The columns of lick.observation the view reads: what the caller must be granted."""
        return tuple(sorted({m for c in self.columns if c.expr
                             for m in re.findall(r"\bo\.(\w+)", c.expr)}))


def _obscore(name, expr, datatype, ucd, utype, description, unit=None, **kw) -> PublishedColumn:
    return PublishedColumn(name=name, expr=expr, datatype=datatype, description=description,
                           unit=unit, ucd=ucd, utype=f"obscore:{utype}", std=True, **kw)


# ObsCore 1.1, Appendix C: names, types, units, UCDs and utypes.
OBSCORE = PublishedTable(
    schema="ivoa",
    name="obscore",
    description="ObsCore 1.1 view of every Lick observation the caller may see",
    utype="ivo://ivoa.net/std/obscore#table-1.1",
    point_columns=((("s_ra", "s_dec"), "pos"),),
    counted_by=(("instrument_name", INSTRUMENTS), ("dataproduct_type", PRODUCT_TYPES),
                ("calib_level", CALIB_LEVELS)),
    columns=(
        _obscore("dataproduct_type", "o.dataproduct_type", "VARCHAR", "meta.code.class",
                 "ObsDataset.dataProductType", "Data product type: image or spectrum",
                 principal=True),
        _obscore("calib_level", "o.calib_level::integer", "INTEGER", "meta.code;obs.calib",
                 "ObsDataset.calibLevel", "Calibration level: 1, raw instrumental data",
                 principal=True),
        _obscore("obs_collection", "'Lick/' || o.instrument", "VARCHAR", "meta.id",
                 "DataID.collection", "Collection: Lick/<instrument>", principal=True),
        _obscore("obs_id", "o.obs_id", "VARCHAR", "meta.id", "DataID.observationID",
                 "Observation identifier: night, instrument directory and file name",
                 principal=True, indexed=True),
        _obscore("obs_publisher_did", "o.obs_publisher_did", "VARCHAR", "meta.ref.ivoid",
                 "Curation.publisherDID", "IVOA dataset identifier", principal=True, indexed=True),
        # DataLink 1.1 §3.3 / ObsCore: access_url leads to the links of the observation.
        _obscore("access_url",
                 "lick.public_url() || '/datalink/links?ID=' || lick.url_quote(o.obs_publisher_did)",
                 "CLOB", "meta.ref.url", "Access.reference",
                 "DataLink links of the observation: the file, its preview, header and calibrations",
                 principal=True),
        _obscore("access_format", f"'{DATALINK_MIME}'::text", "VARCHAR",
                 "meta.code.mime", "Access.format", "MIME type of what access_url returns",
                 principal=True),
        _obscore("access_estsize", "(o.file_size + 1023) / 1024", "BIGINT", "phys.size;meta.file",
                 "Access.size", "Estimated size of the file", unit="kbyte", principal=True),
        _obscore("target_name", "o.target_name", "VARCHAR", "meta.id;src", "Target.name",
                 "Target name as the observer entered it", principal=True, indexed=True),
        _obscore("s_ra", "o.s_ra", "DOUBLE", "pos.eq.ra",
                 "Char.SpatialAxis.Coverage.Location.Coord.Position2D.Value2.C1",
                 "ICRS right ascension of the pointing", unit="deg", principal=True),
        _obscore("s_dec", "o.s_dec", "DOUBLE", "pos.eq.dec",
                 "Char.SpatialAxis.Coverage.Location.Coord.Position2D.Value2.C2",
                 "ICRS declination of the pointing", unit="deg", principal=True),
        _obscore("s_fov", "o.s_fov", "DOUBLE", "phys.angSize;instr.fov",
                 "Char.SpatialAxis.Coverage.Bounds.Extent.diameter",
                 "Diameter of the field of view", unit="deg", principal=True),
        _obscore("s_region", "o.s_region", "REGION", "pos.outline;obs.field",
                 "Char.SpatialAxis.Coverage.Support.Area", "Footprint on the sky", indexed=True),
        _obscore("s_resolution", "NULL::double precision", "DOUBLE", "pos.angResolution",
                 "Char.SpatialAxis.Resolution.Refval.value",
                 "Spatial resolution (seeing limited; not recorded)", unit="arcsec"),
        _obscore("s_xel1", "o.s_xel1", "BIGINT", "meta.number", "Char.SpatialAxis.numBins1",
                 "Number of pixels along the first axis"),
        _obscore("s_xel2", "o.s_xel2", "BIGINT", "meta.number", "Char.SpatialAxis.numBins2",
                 "Number of pixels along the second axis"),
        _obscore("t_min", "o.t_min", "DOUBLE", "time.start;obs.exposure",
                 "Char.TimeAxis.Coverage.Bounds.Limits.StartTime",
                 "Start of the exposure (UTC)", unit="d", principal=True, indexed=True),
        _obscore("t_max", "o.t_max", "DOUBLE", "time.end;obs.exposure",
                 "Char.TimeAxis.Coverage.Bounds.Limits.StopTime",
                 "End of the exposure (UTC)", unit="d", principal=True),
        _obscore("t_exptime", "o.t_exptime", "DOUBLE", "time.duration;obs.exposure",
                 "Char.TimeAxis.Coverage.Support.Extent", "Exposure time", unit="s",
                 principal=True),
        _obscore("t_resolution", "o.t_exptime", "DOUBLE", "time.resolution",
                 "Char.TimeAxis.Resolution.Refval.value",
                 "Time resolution: the exposure time of a single frame", unit="s"),
        _obscore("t_xel", "1::bigint", "BIGINT", "meta.number", "Char.TimeAxis.numBins",
                 "Number of time samples: one exposure"),
        _obscore("em_min", "o.em_min", "DOUBLE", "em.wl;stat.min",
                 "Char.SpectralAxis.Coverage.Bounds.Limits.LoLimit",
                 "Shortest vacuum wavelength covered", unit="m", principal=True),
        _obscore("em_max", "o.em_max", "DOUBLE", "em.wl;stat.max",
                 "Char.SpectralAxis.Coverage.Bounds.Limits.HiLimit",
                 "Longest vacuum wavelength covered", unit="m", principal=True),
        _obscore("em_res_power", "NULL::double precision", "DOUBLE", "spect.resolution",
                 "Char.SpectralAxis.Resolution.ResolPower.refVal",
                 "Spectral resolving power (not recorded)"),
        _obscore("em_xel", "o.em_xel", "BIGINT", "meta.number", "Char.SpectralAxis.numBins",
                 "Number of spectral pixels"),
        _obscore("o_ucd", "'phot.count'::text", "VARCHAR", "meta.ucd", "Char.ObservableAxis.ucd",
                 "UCD of the observable: raw detector counts"),
        _obscore("pol_states", "NULL::text", "VARCHAR", "meta.code;phys.polarization",
                 "Char.PolarizationAxis.stateList", "Polarization states: not observed"),
        _obscore("pol_xel", "NULL::bigint", "BIGINT", "meta.number",
                 "Char.PolarizationAxis.numBins", "Number of polarization samples"),
        _obscore("facility_name", "o.facility_name", "VARCHAR", "meta.id;instr.tel",
                 "Provenance.ObsConfig.Facility.name", "Telescope", principal=True),
        _obscore("instrument_name", "o.instrument_name", "VARCHAR", "meta.id;instr",
                 "Provenance.ObsConfig.Instrument.name", "Instrument", principal=True,
                 indexed=True),
        _obscore("obs_release_date", "o.obs_release_date", "TIMESTAMP", "time.release",
                 "Curation.releaseDate", "When the data became or become public", indexed=True),
        PublishedColumn(name="pos", expr="o.pos", datatype="POINT",
                        description="(s_ra, s_dec) as an indexed point", hidden=True,
                        indexed=True),
    ),
)


def _lick(name, expr, datatype, description, **kw) -> PublishedColumn:
    return PublishedColumn(name=name, expr=expr, datatype=datatype, description=description, **kw)


# Every Lick quantity except the file's location on disk.
OBSERVATIONS = PublishedTable(
    schema="lick",
    name="observations",
    description="One row per Lick FITS file the caller may see, with instrument set-up and header",
    point_columns=((("s_ra", "s_dec"), "pos"),),
    counted_by=(("observing_night", NIGHTS),),
    columns=(
        _lick("obs_id", "o.obs_id", "VARCHAR", "Observation identifier (as in ivoa.obscore)",
              ucd="meta.id;meta.main", principal=True, indexed=True),
        _lick("obs_publisher_did", "o.obs_publisher_did", "VARCHAR", "IVOA dataset identifier",
              ucd="meta.ref.ivoid", principal=True, indexed=True),
        _lick("telescope", "o.telescope", "VARCHAR", "Telescope: Shane, Nickel or APF",
              ucd="meta.id;instr.tel", principal=True),
        _lick("instrument", "o.instrument", "VARCHAR", "Instrument (and arm) that took the frame",
              ucd="meta.id;instr", principal=True, indexed=True),
        _lick("dataproduct_type", "o.dataproduct_type", "VARCHAR", "image or spectrum",
              ucd="meta.code.class"),
        _lick("frame_type", "o.frame_type", "VARCHAR",
              "science, bias, dark, flat, arc, focus or unknown", ucd="meta.code.class",
              principal=True, indexed=True),
        _lick("observing_night", "o.observing_night::timestamp", "TIMESTAMP",
              "Local date at the start of the night (noon to noon, UTC-8)", ucd="time.epoch;obs", principal=True, indexed=True),
        _lick("date_obs", "o.date_obs::timestamp", "TIMESTAMP", "Start of the exposure, UTC",
              ucd="time.start;obs.exposure", principal=True),
        _lick("t_min", "o.t_min", "DOUBLE", "Start of the exposure, MJD (UTC)", unit="d",
              ucd="time.start;obs.exposure", indexed=True),
        _lick("exptime", "o.t_exptime", "DOUBLE", "Exposure time", unit="s",
              ucd="time.duration;obs.exposure", principal=True),
        _lick("target_name", "o.target_name", "VARCHAR", "OBJECT (APF: TOBJECT) as entered",
              ucd="meta.id;src", principal=True, indexed=True),
        _lick("s_ra", "o.s_ra", "DOUBLE", "ICRS right ascension", unit="deg", ucd="pos.eq.ra;meta.main",
              principal=True),
        _lick("s_dec", "o.s_dec", "DOUBLE", "ICRS declination", unit="deg", ucd="pos.eq.dec;meta.main",
              principal=True),
        _lick("pos", "o.pos", "POINT", "Position as an ADQL point", unit="deg", ucd="pos.eq", indexed=True),
        _lick("airmass", "o.airmass", "DOUBLE", "Airmass", ucd="obs.airMass"),
        _lick("filters", "o.filters", "VARCHAR", "Filters in the beam", ucd="instr.filter"),
        _lick("grating", "o.grating", "VARCHAR", "Grating", ucd="instr.setup"),
        _lick("grism", "o.grism", "VARCHAR", "Grism", ucd="instr.setup"),
        _lick("slit", "o.slit", "VARCHAR", "Slit", ucd="instr.setup"),
        _lick("dichroic", "o.dichroic", "VARCHAR", "Dichroic (beam splitter)", ucd="instr.setup"),
        _lick("decker", "o.decker", "VARCHAR", "Decker", ucd="instr.setup"),
        _lick("aperture", "o.aperture", "VARCHAR", "Aperture", ucd="instr.setup"),
        _lick("observer", "o.observer", "VARCHAR", "OBSERVER card as written", ucd="meta.id.PI"),
        _lick("program", "o.program", "VARCHAR", "Program the frame belongs to",
              ucd="meta.id;obs.proposal"),
        _lick("cover_id", "o.cover_id", "VARCHAR", "Cover-sheet id", ucd="meta.id;obs.proposal"),
        _lick("file_size", "o.file_size", "BIGINT", "File size", unit="byte", ucd="phys.size;meta.file"),
        _lick("ingest_flags", "o.ingest_flags", "INTEGER", "Problems found and repaired at ingest (bits)",
              ucd="meta.code.qual"),
        _lick("obs_release_date", "o.obs_release_date", "TIMESTAMP", "When the data become public",
              ucd="time.release", principal=True, indexed=True),
        _lick("header", "o.header", "CLOB", "The full primary FITS header, one card a line",
              ucd="meta.fits"),
    ),
)

def _tap(name, datatype, description, **kw) -> PublishedColumn:
    return PublishedColumn(name=name, expr=None, datatype=datatype, description=description,
                           std=True, principal=True, **kw)


# TAP 1.1 §4: TAP_SCHEMA describes itself, with the TAP 1.1 columns.
TAP_SCHEMA_TABLES = (
    PublishedTable("tap_schema", "schemas", "Schemas in this service", is_view=False, columns=(
        _tap("schema_name", "VARCHAR", "schema name, possibly qualified"),
        _tap("utype", "VARCHAR", "lists the utypes of schemas in the tableset"),
        _tap("description", "VARCHAR", "describes schemas in the tableset"),
        _tap("schema_index", "INTEGER", "recommended sort order when listing schemas"),
    )),
    PublishedTable("tap_schema", "tables", "Tables in this service", is_view=False, columns=(
        _tap("schema_name", "VARCHAR", "the schema name from TAP_SCHEMA.schemas"),
        _tap("table_name", "VARCHAR", "table name as it should be used in queries"),
        _tap("table_type", "VARCHAR", "one of: table, view"),
        _tap("utype", "VARCHAR", "lists the utype of tables in the tableset"),
        _tap("description", "VARCHAR", "describes tables in the tableset"),
        _tap("table_index", "INTEGER", "recommended sort order when listing tables"),
    )),
    PublishedTable("tap_schema", "columns", "Columns of the tables in this service", is_view=False, columns=(
        _tap("table_name", "VARCHAR", "table name from TAP_SCHEMA.tables"),
        _tap("column_name", "VARCHAR", "column name"),
        _tap("datatype", "VARCHAR", "an XType or a TAPType"),
        _tap("arraysize", "VARCHAR", "the array size, as in VOTable"),
        _tap("xtype", "VARCHAR", "a DALI or custom extended type annotation"),
        _tap('"size"', "INTEGER", "deprecated: use arraysize"),
        _tap("description", "VARCHAR", "describes the columns in the tableset"),
        _tap("utype", "VARCHAR", "lists the utypes of columns in the tableset"),
        _tap("unit", "VARCHAR", "unit in VO standard format"),
        _tap("ucd", "VARCHAR", "UCD of column if any"),
        _tap("indexed", "INTEGER", "an indexed column; 1 means true, 0 means false"),
        _tap("principal", "INTEGER", "a principal column; 1 means true, 0 means false"),
        _tap("std", "INTEGER", "a standard column; 1 means true, 0 means false"),
        _tap("column_index", "INTEGER", "recommended sort order when listing columns"),
    )),
    PublishedTable("tap_schema", "keys", "Foreign keys between tables in this service", is_view=False, columns=(
        _tap("key_id", "VARCHAR", "unique key identifier"),
        _tap("from_table", "VARCHAR", "fully qualified table name"),
        _tap("target_table", "VARCHAR", "fully qualified table name"),
        _tap("description", "VARCHAR", "description of this key"),
        _tap("utype", "VARCHAR", "utype of this key"),
    )),
    PublishedTable("tap_schema", "key_columns", "Columns of the foreign keys", is_view=False, columns=(
        _tap("key_id", "VARCHAR", "key identifier from TAP_SCHEMA.keys"),
        _tap("from_column", "VARCHAR", "key column name in the from_table"),
        _tap("target_column", "VARCHAR", "key column name in the target_table"),
    )),
)

SCHEMA_DESCRIPTIONS = {
    "ivoa": "IVOA standard data models: ObsCore 1.1",
    "lick": "Lick Observatory observations with their instrument set-up",
    "tap_schema": "Metadata of the tables of this service (TAP 1.1 §4)",
}

@dataclass(frozen=True)
class PublishedKey:
    """A foreign key between published tables, for TAP_SCHEMA.keys (TOPCAT offers the joins)."""

    key_id: str
    from_table: str
    target_table: str
    columns: tuple[tuple[str, str], ...]
    description: str


PUBLISHED_KEYS = (
    PublishedKey("observations_obscore", "lick.observations", "ivoa.obscore",
                 (("obs_publisher_did", "obs_publisher_did"),),
                 "Each Lick observation is one ObsCore row"),
    # TAP 1.1 §4.4: TAP_SCHEMA's own keys.
    PublishedKey("tables_schema", "tap_schema.tables", "tap_schema.schemas",
                 (("schema_name", "schema_name"),), "The schema of each table"),
    PublishedKey("columns_table", "tap_schema.columns", "tap_schema.tables",
                 (("table_name", "table_name"),), "The table of each column"),
    PublishedKey("keys_from", "tap_schema.keys", "tap_schema.tables",
                 (("from_table", "table_name"),), "The table a key starts from"),
    PublishedKey("keys_target", "tap_schema.keys", "tap_schema.tables",
                 (("target_table", "table_name"),), "The table a key points to"),
    PublishedKey("key_columns_key", "tap_schema.key_columns", "tap_schema.keys",
                 (("key_id", "key_id"),), "The key of each key column"),
)

PUBLISHED_VIEWS: tuple[PublishedTable, ...] = (OBSCORE, OBSERVATIONS)
PUBLISHED_TABLES: tuple[PublishedTable, ...] = PUBLISHED_VIEWS + TAP_SCHEMA_TABLES
