"""The catalogue built from archive.published: what queries may name."""
from __future__ import annotations

from archive.published import PUBLISHED_TABLES


def test_every_published_table_and_tap_schema(catalog):
    assert {t.qualified_name for t in catalog} == {t.qualified_name for t in PUBLISHED_TABLES}
    for name in ("schemas", "tables", "columns", "keys", "key_columns"):
        assert catalog.table("tap_schema", name) is not None
    columns = catalog.table("tap_schema", "columns")
    assert [c.name for c in columns.columns] == [
        "table_name", "column_name", "datatype", "arraysize", "xtype", "size", "description",
        "utype", "unit", "ucd", "indexed", "principal", "std", "column_index"]


def test_lookup_by_normalised_names(catalog):
    assert catalog.table("ivoa", "obscore").qualified_name == "ivoa.obscore"
    assert catalog.table("ivoa", "ObsCore") is None  # names arrive folded: "ObsCore" was quoted
    assert catalog.table(None, "observations").schema == "lick"
    assert catalog.table(None, "nonesuch") is None


def test_column_metadata_as_published(catalog):
    published = {(t.schema, t.name, c.name.strip('"')): c for t in PUBLISHED_TABLES for c in t.columns}
    for table in catalog:
        for column in table.columns:
            source = published[(table.schema, table.name, column.name)]
            assert (column.datatype, column.unit, column.ucd, column.utype) == (
                source.datatype, source.unit, source.ucd, source.utype)
            assert column.votable == source.votable  # the published column itself


def test_stored_points(catalog):
    assert catalog.table("lick", "observations").point_columns == {("s_ra", "s_dec"): "pos"}


def test_language_features_declare_what_translates(catalog):
    from vo_services.tap.adql import language_features, translate

    features = language_features()
    geometry = [form for form, _ in features["ivo://ivoa.net/std/TAPRegExt#features-adqlgeo"]]
    assert len(geometry) == 13
    udfs = features["ivo://ivoa.net/std/TAPRegExt#features-udf"]
    assert ("ivo_nocasematch(value TEXT, pattern TEXT) -> INTEGER" in [form for form, _ in udfs])
    assert {t.rsplit("-", 1)[-1] for t in features if "features-adql-" in t} >= {
        "string", "sets", "type", "conditional", "unit", "offset", "table"}
    assert not any("bitwise" in t for t in features)
    translate("WITH q AS (SELECT obs_id FROM ivoa.obscore) SELECT LOWER(obs_id) FROM q "
              "WHERE obs_id ILIKE 'a%' UNION SELECT UPPER(obs_id) FROM ivoa.obscore "
              "EXCEPT SELECT CAST(COALESCE(obs_id, 'x') AS VARCHAR) FROM ivoa.obscore "
              "INTERSECT SELECT obs_id FROM ivoa.obscore OFFSET 1", catalog)
