"""Translation to PostgreSQL + pgsphere: the SQL, the result metadata and the validation errors."""
from __future__ import annotations

import math

import pytest

from archive.columns import Column
from vo_services.tap.adql import AdqlValidationError, translate
from vo_services.tap.examples import EXAMPLES

CONE = ("SELECT TOP 100 obs_id, DISTANCE(POINT('ICRS', s_ra, s_dec), POINT('ICRS', 150, 20)) AS dist "
        "FROM ivoa.obscore WHERE 1 = CONTAINS(POINT('ICRS', s_ra, s_dec), CIRCLE('ICRS', 150, 20, 0.5)) "
        "ORDER BY dist")
# ivoa.obscore's (s_ra, s_dec) is stored, GiST-indexed, as its hidden pos column.
OBSCORE_POINT = '"ivoa"."obscore"."pos"'
CIRCLE_150_20 = "scircle(spoint(radians(150), radians(20)), radians(0.5))"


@pytest.fixture
def sql(catalog):
    def translated(query: str, **kw) -> str:
        return translate(query, catalog, **kw).sql
    return translated


@pytest.fixture
def error(catalog):
    def message(query: str) -> str:
        with pytest.raises(AdqlValidationError) as info:
            translate(query, catalog)
        return str(info.value)
    return message


# Geometry (ADQL 2.1 §4.2) ----------------------------------------------------------------------

def test_cone_is_a_bare_containment_for_the_index(sql):
    generated = sql(CONE)
    assert f"WHERE ({OBSCORE_POINT} <@ {CIRCLE_150_20})" in generated
    assert f"degrees({OBSCORE_POINT} <-> spoint(radians(150), radians(20)))" in generated
    assert generated.endswith('ORDER BY "dist" ASC LIMIT 100')


@pytest.mark.parametrize("condition, negated", [
    ("CONTAINS(POINT(s_ra, s_dec), CIRCLE(150, 20, 0.5)) = 1", False),
    ("1 = CONTAINS(POINT(s_ra, s_dec), CIRCLE(150, 20, 0.5))", False),
    ("CONTAINS(POINT(s_ra, s_dec), CIRCLE(150, 20, 0.5)) <> 0", False),
    ("CONTAINS(POINT(s_ra, s_dec), CIRCLE(150, 20, 0.5)) = 0", True),
    ("0 = CONTAINS(POINT(s_ra, s_dec), CIRCLE(150, 20, 0.5))", True),
    ("CONTAINS(POINT(s_ra, s_dec), CIRCLE(150, 20, 0.5)) != 1", True),
])
def test_contains_compared_with_1_or_0(sql, condition, negated):
    where = sql(f"SELECT obs_id FROM ivoa.obscore WHERE {condition}").split(" WHERE ")[1]
    expected = f"({OBSCORE_POINT} <@ {CIRCLE_150_20})"
    assert where.startswith(f"(NOT {expected})" if negated else expected)
    assert "CAST" not in where


def test_contains_as_a_value_is_an_integer(sql):
    generated = sql("SELECT CONTAINS(POINT(s_ra, s_dec), CIRCLE(150, 20, 0.5)) AS inside "
                    "FROM ivoa.obscore")
    assert f"CAST(({OBSCORE_POINT} <@ {CIRCLE_150_20}) AS integer) AS \"inside\"" in generated


def test_contains_needs_a_comparison_in_where(error):
    message = error("SELECT obs_id FROM ivoa.obscore WHERE CONTAINS(POINT(s_ra, s_dec), "
                    "CIRCLE(150, 20, 1))")
    assert message.startswith("line 1, column 39: WHERE needs a condition")
    assert "compare it with 1" in message


def test_contains_in_a_point_is_refused(error):
    assert "nothing is contained in a POINT" in error(
        "SELECT obs_id FROM ivoa.obscore WHERE CONTAINS(CIRCLE(1, 2, 3), POINT(s_ra, s_dec)) = 1")


def test_intersects_region_column_with_polygon_literal(sql):
    generated = sql("SELECT obs_id FROM ivoa.obscore WHERE INTERSECTS(s_region, "
                    "POLYGON('ICRS', 10, 10, 11, 10, 11, 11)) = 1")
    assert "(\"ivoa\".\"obscore\".\"s_region\" && spoly '{(" in generated
    assert generated.count("),(") == 2  # three vertices, in radians
    assert repr(math.radians(11)) in generated


@pytest.mark.parametrize("call", [
    "INTERSECTS(POINT(s_ra, s_dec), CIRCLE(150, 20, 0.5))",
    "INTERSECTS(CIRCLE(150, 20, 0.5), POINT(s_ra, s_dec))",  # a point argument means CONTAINS
])
def test_intersects_with_a_point_is_containment(sql, call):
    assert f"({OBSCORE_POINT} <@ {CIRCLE_150_20})" in sql(
        f"SELECT obs_id FROM ivoa.obscore WHERE {call} = 1")


@pytest.mark.parametrize("comparison, negated", [
    ("DISTANCE(POINT(s_ra, s_dec), POINT(150, 20)) < 0.5", False),
    ("DISTANCE(POINT(s_ra, s_dec), POINT(150, 20)) <= 0.5", False),
    ("0.5 > DISTANCE(POINT(150, 20), POINT(s_ra, s_dec))", False),
    ("DISTANCE(s_ra, s_dec, 150, 20) < 0.5", False),
    ("DISTANCE(150, 20, s_ra, s_dec) < 0.5", False),
    ("DISTANCE(POINT(s_ra, s_dec), POINT(150, 20)) > 0.5", True),
    ("0.5 <= DISTANCE(POINT(s_ra, s_dec), POINT(150, 20))", True),
])
def test_distance_comparisons_become_circles(sql, comparison, negated):
    where = sql(f"SELECT obs_id FROM ivoa.obscore WHERE {comparison}").split(" WHERE ")[1]
    inside = f"({OBSCORE_POINT} <@ {CIRCLE_150_20.replace('0.5', '0.5')})"
    assert where.startswith(f"(NOT {inside})" if negated else inside)


def test_distance_beyond_a_pgsphere_circle_compares_the_distance(sql):
    where = sql("SELECT obs_id FROM ivoa.obscore WHERE DISTANCE(POINT(s_ra, s_dec), "
                "POINT(150, 20)) < 120").split(" WHERE ")[1]
    assert where.startswith(f"(degrees({OBSCORE_POINT} <-> spoint(radians(150), radians(20))) < 120)")


def test_crossmatch_with_column_radius(sql):
    generated = sql("SELECT a.obs_id, b.obs_id FROM ivoa.obscore AS a JOIN ivoa.obscore AS b "
                    "ON DISTANCE(POINT(a.s_ra, a.s_dec), POINT(b.s_ra, b.s_dec)) < b.s_fov / 2")
    # both points are the views' indexed pos column, so the join can use the GiST index
    assert 'ON ("a"."pos" <@ scircle("b"."pos", radians(("b"."s_fov" / 2))))' in generated


def test_point_columns_with_a_stored_point_use_it(sql):
    generated = sql("SELECT l.obs_id FROM lick.observations AS l "
                    "WHERE 1 = CONTAINS(POINT('ICRS', l.s_ra, l.s_dec), CIRCLE(150, 20, 0.5))")
    assert f'WHERE ("l"."pos" <@ {CIRCLE_150_20})' in generated
    generated = sql("SELECT obs_id FROM lick.observations WHERE DISTANCE(s_ra, s_dec, 150, 20) < 0.5")
    assert f'("lick"."observations"."pos" <@ {CIRCLE_150_20})' in generated


def test_point_of_other_columns_is_computed(sql):
    generated = sql("SELECT obs_id FROM lick.observations WHERE DISTANCE(s_dec, s_ra, 150, 20) < 1")
    assert '"pos"' not in generated


def test_polygon_with_column_vertices_uses_the_spoly_aggregate(sql):
    generated = sql("SELECT POLYGON(s_ra, s_dec, s_ra + 1, s_dec, s_ra, s_dec + 1) AS p "
                    "FROM ivoa.obscore")
    assert '(SELECT spoly(v.p ORDER BY v.i) FROM (VALUES (1, "ivoa"."obscore"."pos"), (2, spoint(radians(' in generated
    assert "(3, spoint(radians(\"ivoa\".\"obscore\".\"s_ra\"), radians((\"ivoa\".\"obscore\"" in generated


def test_polygon_of_points(sql):
    constant = sql("SELECT obs_id FROM ivoa.obscore WHERE 1 = CONTAINS(POINT(s_ra, s_dec), "
                   "POLYGON(POINT(10, 10), POINT(11, 10), POINT(11, 11)))")
    assert "spoly '{(" in constant
    mixed = sql("SELECT POLYGON(POINT(s_ra, s_dec), POINT(11, 10), POINT(11, 11)) AS p "
                "FROM ivoa.obscore")
    assert "spoly(v.p ORDER BY v.i)" in mixed


def test_box_is_a_four_vertex_polygon(sql, catalog):
    generated = sql("SELECT obs_id FROM ivoa.obscore WHERE "
                    "CONTAINS(POINT(s_ra, s_dec), BOX('ICRS', 10, 20, 2, 4)) = 1")
    literal = generated.split("spoly '")[1].split("'")[0]
    assert literal.count("(") == 4
    assert f"({math.radians(9)!r},{math.radians(18)!r})" in literal
    assert f"({math.radians(11)!r},{math.radians(22)!r})" in literal
    columns = sql("SELECT BOX(s_ra, s_dec, 1, 1) AS b FROM ivoa.obscore")
    assert "spoly(v.p ORDER BY v.i)" in columns


@pytest.mark.parametrize("region, expected", [
    ("Circle ICRS 10 20 1", "scircle(spoint(radians(10.0), radians(20.0)), radians(1.0))"),
    ("circle 10 20 1", "scircle(spoint(radians(10.0), radians(20.0)), radians(1.0))"),
    ("Position ICRS 10 20", "spoint(radians(10.0), radians(20.0))"),
    ("Polygon ICRS 10 10 11 10 11 11", "spoly '{("),
    ("Box ICRS GEOCENTER 10 20 2 2", "spoly '{("),
])
def test_region_literals(sql, region, expected):
    assert expected in sql(f"SELECT REGION('{region}') AS r FROM ivoa.obscore")


@pytest.mark.parametrize("region, message", [
    ("Circle GALACTIC 10 20 1", "frame 'GALACTIC' is not supported"),
    ("Union ICRS (Circle 1 2 3 Circle 4 5 6)", "'Union' is not supported"),
    ("Circle ICRS 10 20", "a circle takes 3 numbers"),
    ("Polygon ICRS 1 2 3 4", "3 or more ra dec pairs"),
])
def test_region_errors(error, region, message):
    assert message in error(f"SELECT REGION('{region}') AS r FROM ivoa.obscore")


def test_region_needs_a_literal(error):
    assert "REGION takes a string literal" in error(
        "SELECT REGION(obs_id) AS r FROM ivoa.obscore")


@pytest.mark.parametrize("frame", ["'ICRS'", "'icrs'", "''", "NULL", "' ICRS '"])
def test_accepted_coordinate_systems(sql, frame):
    assert "spoint(radians(1), radians(2))" in sql(f"SELECT POINT({frame}, 1, 2) AS p FROM ivoa.obscore")


@pytest.mark.parametrize("frame", ["GALACTIC", "FK5", "fk4 B1950"])
def test_other_coordinate_systems_are_refused(error, frame):
    message = error(f"SELECT obs_id FROM ivoa.obscore WHERE CONTAINS(POINT('{frame}', s_ra, s_dec), "
                    "CIRCLE(1, 2, 3)) = 1")
    assert f"coordinate system '{frame}' is not supported" in message
    assert "line 1, column 48" in message


def test_geometry_values(sql):
    generated = sql("SELECT AREA(CIRCLE(10, 20, 1)) AS a, COORD1(POINT(s_ra, s_dec)) AS c1, "
                    "COORD2(POINT(s_ra, s_dec)) AS c2, CENTROID(CIRCLE(10, 20, 1)) AS c, "
                    "COORDSYS(POINT(1, 2)) AS cs, CENTROID(BOX(10, 20, 1, 1)) AS bc, "
                    "AREA(s_region) AS region_area FROM ivoa.obscore")
    assert "degrees(degrees(area(scircle(spoint(radians(10), radians(20)), radians(1)))))" in generated
    assert f"degrees(long({OBSCORE_POINT}))" in generated
    assert f"degrees(lat({OBSCORE_POINT}))" in generated
    assert "(@@ scircle(spoint(radians(10), radians(20)), radians(1)))" in generated
    assert "'ICRS' END AS \"cs\"" in generated
    assert 'spoint(radians(10), radians(20)) AS "bc"' in generated


def test_geometry_result_metadata(catalog):
    columns = translate("SELECT POINT(s_ra, s_dec) AS p, CIRCLE(1, 2, 3) AS c, "
                        "POLYGON(1, 2, 3, 4, 5, 6) AS poly, DISTANCE(1, 2, 3, 4) AS d, "
                        "AREA(CIRCLE(1, 2, 3)) AS a FROM ivoa.obscore", catalog).columns
    assert [Column.described(c).votable for c in columns[:3]] == [
        ("double", "2", "point"), ("double", "3", "circle"), ("double", "*", "polygon")]
    assert [c.datatype for c in columns[:3]] == ["POINT", "CIRCLE", "POLYGON"]
    assert (columns[3].unit, columns[4].unit) == ("deg", "deg**2")


def test_centroid_of_a_polygon_is_refused(error):
    assert "cannot compute the centre of a polygon" in error(
        "SELECT CENTROID(s_region) AS c FROM ivoa.obscore")


@pytest.mark.parametrize("query, message", [
    ("SELECT CIRCLE(1, 2) AS c FROM ivoa.obscore", "CIRCLE takes a centre and a radius"),
    ("SELECT CIRCLE(1, 2, 91) AS c FROM ivoa.obscore", "between 0 and 90 degrees, not 91"),
    ("SELECT POLYGON(1, 2, 3, 4, 5) AS p FROM ivoa.obscore", "POLYGON takes vertices"),
    ("SELECT POLYGON(POINT(1, 2), POINT(3, 4), 5, 6) AS p FROM ivoa.obscore", "not a mixture"),
    ("SELECT DISTANCE(1, 2, 3) AS d FROM ivoa.obscore", "two points or four numbers"),
    ("SELECT DISTANCE(s_ra, s_dec) AS d FROM ivoa.obscore", "DISTANCE takes two POINTs"),
    ("SELECT COORD1(CIRCLE(1, 2, 3)) AS c FROM ivoa.obscore", "COORD1 takes a POINT"),
    ("SELECT POINT(obs_id, 1) AS p FROM ivoa.obscore", "POINT needs numbers in degrees"),
    ("SELECT AREA(s_ra) AS a FROM ivoa.obscore", "AREA needs a geometry"),
    ("SELECT POINT(1, 2, 3, 4) AS p FROM ivoa.obscore", "POINT takes 2 to 3 arguments, not 4"),
])
def test_geometry_errors(error, query, message):
    assert message in error(query)


def test_cast_of_dali_strings_to_geometries(sql):
    generated = sql("SELECT CAST('12.5 45.25' AS POINT) AS p, CAST('1 2 3' AS CIRCLE) AS c, "
                    "CAST('1 2 3 4 5 6' AS POLYGON) AS g FROM ivoa.obscore")
    assert "spoint(radians(12.5), radians(45.25)) AS \"p\"" in generated
    assert "scircle(spoint(radians(1.0), radians(2.0)), radians(3.0)) AS \"c\"" in generated
    assert "spoly '{(" in generated


# Rows: TOP, OFFSET and MAXREC (TAP 1.1 §2.7.4) -----------------------------------------------

@pytest.mark.parametrize("top, maxrec, row_limit, by_top", [
    (None, None, None, False),
    (10, None, 10, True),
    (None, 100, 101, False),
    (10, 100, 10, True),
    (100, 100, 100, True),
    (1000, 100, 101, False),
    (None, 0, 1, False),
])
def test_row_limit(catalog, top, maxrec, row_limit, by_top):
    query = f"SELECT {'TOP %d ' % top if top is not None else ''}obs_id FROM ivoa.obscore"
    result = translate(query, catalog, maxrec=maxrec)
    assert (result.row_limit, result.limited_by_top) == (row_limit, by_top)
    assert result.sql.endswith(f" LIMIT {row_limit}" if row_limit is not None else "\"obscore\"")


def test_offset_after_order_then_limit(sql):
    assert sql("SELECT TOP 5 obs_id FROM ivoa.obscore ORDER BY t_min DESC OFFSET 20", maxrec=10).endswith(
        'ORDER BY "ivoa"."obscore"."t_min" DESC LIMIT 5 OFFSET 20')


def test_maxrec_limits_a_set_operation_as_a_whole(sql):
    generated = sql("SELECT obs_id FROM ivoa.obscore UNION SELECT obs_id FROM lick.observations "
                    "ORDER BY obs_id", maxrec=50)
    assert generated.startswith("(SELECT ")
    assert generated.endswith(') ORDER BY "obs_id" ASC LIMIT 51')


def test_inner_top_is_kept(sql):
    generated = sql("SELECT * FROM (SELECT TOP 3 obs_id FROM ivoa.obscore ORDER BY obs_id) AS q",
                    maxrec=10)
    assert 'ORDER BY "obs_id" ASC LIMIT 3) AS "q" LIMIT 11' in generated


# Functions ---------------------------------------------------------------------------------------

def test_math_functions(sql):
    generated = sql("SELECT LOG(t_min) AS a, LOG10(t_min) AS b, TRUNCATE(t_min) AS c, "
                    "ROUND(s_ra, 2) AS d, TRUNCATE(s_ra, -1) AS e, MOD(s_ra, 3) AS f, "
                    "MOD(s_xel1, 3) AS g, RAND() AS h, PI() AS i, POWER(s_ra, 2) AS j, "
                    "ATAN2(s_dec, s_ra) AS k, CEILING(s_ra) AS l, ABS(s_xel1) AS m "
                    "FROM ivoa.obscore")
    assert 'ln("ivoa"."obscore"."t_min") AS double precision) AS "a"' in generated
    assert 'log("ivoa"."obscore"."t_min")' in generated
    assert 'trunc("ivoa"."obscore"."t_min")' in generated
    assert ('CAST(round(CAST("ivoa"."obscore"."s_ra" AS numeric), 2) AS double precision) AS "d"'
            in generated)
    assert 'CAST(trunc(CAST("ivoa"."obscore"."s_ra" AS numeric), -1) AS double precision)' in generated
    assert ('CAST(mod(CAST("ivoa"."obscore"."s_ra" AS numeric), CAST(3 AS numeric)) AS double '
            'precision) AS "f"') in generated
    assert 'CAST(mod("ivoa"."obscore"."s_xel1", 3) AS bigint) AS "g"' in generated
    assert "random()" in generated and "pi()" in generated and "atan2(" in generated


def test_string_functions_and_ilike(sql):
    generated = sql("SELECT LOWER(target_name) AS l, UPPER(target_name) AS u FROM ivoa.obscore "
                    "WHERE target_name ILIKE 'ngc%' AND target_name NOT LIKE '%x' "
                    "AND obs_id || '-' || target_name = 'a'")
    assert 'lower("ivoa"."obscore"."target_name") AS "l"' in generated
    assert "ILIKE 'ngc%'" in generated and "NOT LIKE '%x'" in generated
    assert "(((\"ivoa\".\"obscore\".\"obs_id\" || '-') || \"ivoa\".\"obscore\".\"target_name\") = 'a')" in generated


@pytest.mark.parametrize("target, pg", [
    ("SMALLINT", "smallint"), ("INTEGER", "integer"), ("BIGINT", "bigint"), ("REAL", "real"),
    ("DOUBLE PRECISION", "double precision"), ("CHAR(10)", "char(10)"), ("VARCHAR", "text"),
    ("VARCHAR(30)", "varchar(30)"),
])
def test_cast(sql, target, pg):
    assert f'CAST("ivoa"."obscore"."s_xel1" AS {pg})' in sql(
        f"SELECT CAST(s_xel1 AS {target}) AS c FROM ivoa.obscore")


def test_cast_to_timestamp_and_timestamp_comparison(sql, catalog):
    generated = sql("SELECT obs_id FROM lick.observations WHERE date_obs > "
                    "CAST('2021-01-14T11:25:00' AS TIMESTAMP) AND observing_night = '2019-05-02'")
    assert "CAST('2021-01-14T11:25:00' AS timestamp)" in generated
    result = translate("SELECT date_obs FROM lick.observations", catalog)
    assert result.columns[0].datatype == "TIMESTAMP"
    assert Column.described(result.columns[0]).votable == ("char", "*", "timestamp")


def test_cast_errors(error):
    assert "cannot CAST a value of type DOUBLE to TIMESTAMP" in error(
        "SELECT CAST(s_ra AS TIMESTAMP) AS t FROM ivoa.obscore")
    assert "CAST to POINT needs a string literal" in error(
        "SELECT CAST(obs_id AS POINT) AS p FROM ivoa.obscore")


def test_coalesce(sql, error):
    assert 'coalesce("ivoa"."obscore"."s_fov", 0)' in sql(
        "SELECT COALESCE(s_fov, 0) AS f FROM ivoa.obscore")
    assert "must all have one type" in error("SELECT COALESCE(s_fov, 'x') AS f FROM ivoa.obscore")


def test_in_unit(catalog):
    result = translate("SELECT IN_UNIT(t_exptime, 'h') AS hours, IN_UNIT(s_fov, 'arcsec') AS fov, "
                       "IN_UNIT(t_max - t_min, 's') AS duration FROM ivoa.obscore", catalog)
    assert f'("ivoa"."obscore"."t_exptime" * {1 / 3600!r})' in result.sql
    assert '("ivoa"."obscore"."s_fov" * 3600.0)' in result.sql
    assert "* 86400.0)" in result.sql
    assert [c.unit for c in result.columns] == ["h", "arcsec", "s"]


@pytest.mark.parametrize("query, message", [
    ("SELECT IN_UNIT(t_exptime, 'furlong') AS x FROM ivoa.obscore", "'furlong' is not a VOUnit"),
    ("SELECT IN_UNIT(t_exptime, 'm') AS x FROM ivoa.obscore", "a value in s cannot be converted to m"),
    ("SELECT IN_UNIT(s_xel1, 'm') AS x FROM ivoa.obscore", "column s_xel1 has no unit"),
    ("SELECT IN_UNIT(5, 'm') AS x FROM ivoa.obscore", "the unit of this expression is not known"),
    ("SELECT IN_UNIT(t_exptime, obs_id) AS x FROM ivoa.obscore", "must be a string literal"),
])
def test_in_unit_errors(error, query, message):
    assert message in error(query)


def test_function_arity_errors(error):
    assert error("SELECT ABS(s_ra, 1) AS a FROM ivoa.obscore") == (
        "line 1, column 8: ABS takes 1 argument, not 2")
    assert "ROUND takes 1 to 2 arguments" in error("SELECT ROUND() AS a FROM ivoa.obscore")
    assert "must be an integer literal" in error("SELECT ROUND(s_ra, s_dec) AS a FROM ivoa.obscore")


# User-defined functions (§4.3) --------------------------------------------------------------------

def test_predicate_udf_in_where_is_a_bare_condition(sql):
    generated = sql("SELECT obs_id FROM ivoa.obscore WHERE ivo_nocasematch(target_name, 'ngc%') = 1")
    assert generated.endswith("WHERE (\"ivoa\".\"obscore\".\"target_name\" ILIKE 'ngc%')")
    negated = sql("SELECT obs_id FROM ivoa.obscore WHERE 0 = ivo_hasword(target_name, 'feige')")
    assert ("(NOT (to_tsvector('simple', \"ivoa\".\"obscore\".\"target_name\") @@ "
            "phraseto_tsquery('simple', 'feige')))") in negated


def test_udfs_as_values(sql, catalog):
    generated = sql("SELECT ivo_nocasematch(target_name, 'x') AS m, "
                    "lick_mjd_to_timestamp(t_min) AS t FROM ivoa.obscore")
    assert "CAST((\"ivoa\".\"obscore\".\"target_name\" ILIKE 'x') AS integer)" in generated
    assert "(TIMESTAMP '1858-11-17 00:00:00' + \"ivoa\".\"obscore\".\"t_min\" * INTERVAL '1 day')" in generated
    result = translate("SELECT instrument_name, ivo_string_agg(obs_id, ',') AS ids FROM ivoa.obscore "
                       "GROUP BY instrument_name", catalog)
    assert "string_agg(CAST(\"ivoa\".\"obscore\".\"obs_id\" AS text), ',')" in result.sql
    assert result.columns[1].datatype == "VARCHAR"


def test_udf_errors(error):
    assert "ivo_hasword takes 2 arguments, not 1" in error(
        "SELECT ivo_hasword(obs_id) AS h FROM ivoa.obscore")
    message = error("SELECT gavo_match('a', obs_id) AS m FROM ivoa.obscore")
    assert message.startswith("line 1, column 8: unknown function gavo_match")


def test_udf_declarations_are_tapregext_forms():
    from vo_services.tap.adql import USER_FUNCTIONS

    forms = {f.form for f in USER_FUNCTIONS.values()}
    assert "ivo_hasword(haystack TEXT, needle TEXT) -> INTEGER" in forms
    assert all(f.description for f in USER_FUNCTIONS.values())


# Names, metadata and the catalogue ---------------------------------------------------------------

def test_select_star_expands_in_catalogue_order_with_metadata(catalog):
    result = translate("SELECT * FROM ivoa.ObsCore", catalog)
    published = catalog.table("ivoa", "obscore").columns
    assert [c.name for c in result.columns] == [c.name for c in published]
    s_ra = next(c for c in result.columns if c.name == "s_ra")
    assert (s_ra.datatype, s_ra.unit, s_ra.ucd, s_ra.utype) == (
        "DOUBLE", "deg", "pos.eq.ra",
        "obscore:Char.SpatialAxis.Coverage.Location.Coord.Position2D.Value2.C1")
    region = next(c for c in result.columns if c.name == "s_region")
    assert Column.described(region).votable == ("char", "*", "adql:region") and region.datatype == "REGION"
    assert '"ivoa"."obscore"."access_url"' in result.sql and "*" not in result.sql


def test_qualified_star_and_using_join(catalog):
    result = translate("SELECT * FROM ivoa.obscore AS o JOIN lick.observations AS l "
                       "USING (obs_publisher_did)", catalog)
    names = [c.name for c in result.columns]
    assert names[0] == "obs_publisher_did" and names.count("obs_publisher_did") == 1
    assert "obs_id_2" in names  # both tables have obs_id: the second gets a unique name
    assert result.sql.startswith('SELECT "obs_publisher_did", "o"."dataproduct_type"')
    assert '"l"."obs_id" AS "obs_id_2"' in result.sql
    star = translate("SELECT l.* FROM ivoa.obscore AS o JOIN lick.observations AS l "
                     "ON o.obs_id = l.obs_id", catalog)
    assert [c.name for c in star.columns] == [c.name for c in catalog.table("lick", "observations").columns]


def test_aliases_and_generated_names(catalog):
    result = translate("SELECT obs_id AS id, t_max - t_min, COUNT(*), MAX(t_min), 1, 2 "
                       "FROM ivoa.obscore GROUP BY obs_id", catalog)
    assert [c.name for c in result.columns] == ["id", "col2", "count", "max", "col5", "col6"]
    assert [c.datatype for c in result.columns] == [
        "VARCHAR", "DOUBLE", "BIGINT", "DOUBLE", "INTEGER", "INTEGER"]
    assert [Column.described(c).votable[0] for c in result.columns] == ["char", "double", "long", "double", "int", "int"]
    assert result.columns[0].ucd == "meta.id"  # carried from the column, under its alias
    assert result.columns[3].ucd is None  # an aggregate is not the column


def test_computed_values_are_cast_to_their_announced_type(sql):
    generated = sql("SELECT 1.5 AS a, AVG(t_min) AS b, SUM(s_xel1) AS c FROM ivoa.obscore")
    assert "CAST(1.5 AS double precision) AS \"a\"" in generated
    assert "CAST(avg(\"ivoa\".\"obscore\".\"t_min\") AS double precision) AS \"b\"" in generated
    assert "CAST(sum(\"ivoa\".\"obscore\".\"s_xel1\") AS bigint) AS \"c\"" in generated


def test_table_names_case_insensitive_delimited_case_sensitive(sql, error):
    assert 'FROM "ivoa"."obscore"' in sql("SELECT OBS_ID FROM IVOA.OBSCORE")
    assert error('SELECT obs_id FROM ivoa."ObsCore"').startswith(
        'line 1, column 20: unknown table ivoa."ObsCore"')
    assert 'FROM "ivoa"."obscore"' in sql('SELECT "obs_id" FROM "ivoa"."obscore"')
    assert "unknown column \"OBS_ID\"" in error('SELECT "OBS_ID" FROM ivoa.obscore')


def test_unqualified_unique_table_name(sql):
    assert 'FROM "ivoa"."obscore"' in sql("SELECT s_ra FROM obscore")


def test_tap_schema(catalog):
    result = translate('SELECT table_name, column_name, "size", indexed FROM TAP_SCHEMA.columns '
                       "WHERE table_name = 'ivoa.obscore'", catalog)
    assert 'FROM "tap_schema"."columns"' in result.sql and '"tap_schema"."columns"."size"' in result.sql
    assert [c.datatype for c in result.columns] == ["VARCHAR", "VARCHAR", "INTEGER", "INTEGER"]
    for table in ("schemas", "tables", "columns", "keys", "key_columns"):
        translate(f"SELECT * FROM tap_schema.{table}", catalog)


@pytest.mark.parametrize("query, message", [
    ("SELECT obs_idd FROM ivoa.obscore", "line 1, column 8: unknown column obs_idd; did you mean obs_id?"),
    ("SELECT obs_id FROM ivoa.obscorr", "unknown table ivoa.obscorr; did you mean ivoa.obscore?"),
    ('SELECT siz FROM TAP_SCHEMA.columns', 'unknown column siz; did you mean "size"?'),
    ("SELECT obs_id FROM ivoa.obscore AS a, lick.observations AS b",
     "column obs_id is ambiguous: it is in table a and table b; qualify it"),
    ("SELECT x.obs_id FROM ivoa.obscore AS a", "x in x.obs_id names no table of FROM"),
    ("SELECT a.filters FROM ivoa.obscore AS a", "table a has no column filters"),
    ("SELECT ivoa.obscore.s_ra FROM ivoa.obscore AS o", "names no table of FROM"),
    ("SELECT obs_id FROM ivoa.obscore, ivoa.obscore", "have the same name in FROM"),
    ("SELECT obs_id FROM cat.ivoa.obscore", "this service has no catalogs"),
    ("SELECT obs_id FROM ivoa.obscore WHERE s_ra = 'x'", "cannot compare a value of type DOUBLE with "
                                                         "a value of type VARCHAR"),
    ("SELECT obs_id FROM ivoa.obscore WHERE s_ra LIKE 'x'", "LIKE needs a string"),
    ("SELECT obs_id FROM ivoa.obscore WHERE s_ra", "WHERE needs a condition"),
    ("SELECT (obs_id = 'a') FROM ivoa.obscore", "a condition cannot be selected"),
    ("SELECT obs_id FROM ivoa.obscore WHERE obs_id + 1 > 2", "operator + needs a number"),
    ("SELECT obs_id FROM ivoa.obscore ORDER BY 3", "ORDER BY 3: the query selects 1 column"),
    ("SELECT obs_id FROM ivoa.obscore UNION SELECT obs_id, s_ra FROM ivoa.obscore",
     "must select the same number of columns, not 1 and 2"),
    ("SELECT obs_id FROM ivoa.obscore UNION SELECT obs_id FROM ivoa.obscore ORDER BY t_min",
     "can only be sorted by the name or number of one of its columns"),
    ("SELECT obs_id FROM ivoa.obscore WHERE obs_id IN (SELECT obs_id, s_ra FROM ivoa.obscore)",
     "must select one column, not 2"),
    ("SELECT * FROM ivoa.obscore AS a JOIN ivoa.obscore AS b USING (filters)",
     "the left side of the join has no column filters"),
    ("WITH q AS (SELECT 1 AS x FROM ivoa.obscore), q AS (SELECT 2 AS y FROM ivoa.obscore) "
     "SELECT * FROM q", "WITH defines q twice"),
    ("SELECT obs_id FROM ivoa.obscore WHERE 0xFFFFFFFFFFFFFFFFF = 1", "does not fit a BIGINT"),
])
def test_validation_errors(error, query, message):
    assert message in error(query)


def test_order_by_alias_position_and_expression(sql):
    generated = sql("SELECT obs_id AS id, t_max - t_min AS span FROM ivoa.obscore "
                    "ORDER BY span * 2 DESC, 1, id")
    assert generated.endswith('ORDER BY (("ivoa"."obscore"."t_max" - "ivoa"."obscore"."t_min") * 2) '
                              'DESC, 1 ASC, "id" ASC')


def test_group_by_alias_and_having(sql):
    generated = sql("SELECT instrument_name AS inst, COUNT(*) AS n FROM ivoa.obscore "
                    "GROUP BY inst HAVING COUNT(*) > 1")
    assert 'GROUP BY "inst" HAVING (count(*) > 1)' in generated


def test_with_derived_tables_and_correlated_subqueries(sql, catalog):
    result = translate(
        "WITH recent AS (SELECT obs_id, t_min FROM ivoa.obscore WHERE t_min > 59000) "
        "SELECT r.obs_id, q.n FROM recent AS r, "
        "(SELECT COUNT(*) AS n FROM lick.observations) AS q "
        "WHERE EXISTS (SELECT 1 FROM lick.observations AS l WHERE l.obs_id = r.obs_id) "
        "AND r.t_min > (SELECT AVG(t_min) FROM ivoa.obscore)", catalog)
    assert result.sql.startswith('WITH "recent" AS (SELECT "ivoa"."obscore"."obs_id", ')
    assert '(EXISTS (SELECT CAST(1 AS integer) AS "col1" FROM "lick"."observations" AS "l" WHERE ' \
           '("l"."obs_id" = "r"."obs_id")))' in result.sql
    assert [c.name for c in result.columns] == ["obs_id", "n"]
    assert result.columns[0].ucd == "meta.id"  # metadata carried through the common table


def test_set_operations(sql):
    generated = sql("SELECT obs_id FROM ivoa.obscore EXCEPT ALL SELECT obs_id FROM lick.observations "
                    "INTERSECT SELECT obs_id FROM lick.observations")
    assert generated.startswith('(SELECT "ivoa"."obscore"."obs_id" FROM "ivoa"."obscore") EXCEPT ALL '
                                '((SELECT "lick"."observations"."obs_id"')
    assert ") INTERSECT (" in generated


def test_joins(sql):
    generated = sql("SELECT o.obs_id FROM ivoa.obscore AS o LEFT OUTER JOIN lick.observations AS l "
                    "ON o.obs_id = l.obs_id RIGHT JOIN lick.observations AS m USING (obs_id) "
                    "FULL JOIN ivoa.obscore AS p ON p.obs_id = m.obs_id NATURAL JOIN ivoa.obscore AS n")
    assert ('LEFT OUTER JOIN "lick"."observations" AS "l" ON ("o"."obs_id" = "l"."obs_id") '
            'RIGHT OUTER JOIN "lick"."observations" AS "m" USING ("obs_id") FULL OUTER JOIN') in generated
    assert 'NATURAL JOIN "ivoa"."obscore" AS "n"' in generated


def test_predicates(sql):
    generated = sql("SELECT obs_id FROM ivoa.obscore WHERE s_ra BETWEEN 1 AND 2 AND s_dec NOT BETWEEN "
                    "-1 AND 1 AND calib_level IN (1, 2) AND obs_id NOT IN (SELECT obs_id FROM "
                    "lick.observations) AND s_fov IS NULL AND target_name IS NOT NULL AND NOT "
                    "(s_ra > 3 OR s_ra < -3.5)")
    assert '("ivoa"."obscore"."s_ra" BETWEEN 1 AND 2)' in generated
    assert '("ivoa"."obscore"."s_dec" NOT BETWEEN (-1) AND 1)' in generated
    assert '("ivoa"."obscore"."calib_level" IN (1, 2))' in generated
    assert 'NOT IN (SELECT "lick"."observations"."obs_id" FROM "lick"."observations")' in generated
    assert "(NOT ((\"ivoa\".\"obscore\".\"s_ra\" > 3) OR (\"ivoa\".\"obscore\".\"s_ra\" < (-3.5))))" in generated


def test_case_hex_and_bitwise_extensions(sql):
    generated = sql("SELECT CASE WHEN s_xel1 & 0x10 <> 0 THEN 'big' ELSE 'small' END AS size_class, "
                    "CASE calib_level WHEN 1 THEN 'raw' END AS lvl, s_xel1 ^ 3 AS x FROM ivoa.obscore")
    assert "CASE WHEN ((\"ivoa\".\"obscore\".\"s_xel1\" & 16) <> 0) THEN 'big' ELSE 'small' END" in generated
    assert "CASE \"ivoa\".\"obscore\".\"calib_level\" WHEN 1 THEN 'raw' END" in generated
    assert '("ivoa"."obscore"."s_xel1" # 3)' in generated  # PostgreSQL's XOR


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.id)
def test_service_examples_translate(catalog, example):
    translate(example.query, catalog, maxrec=1000)


# LIKE with a literal prefix (the published views answer starts_with() from an index) ------------

@pytest.mark.parametrize("pattern, where", [
    ("NGC%", "starts_with(\"ivoa\".\"obscore\".\"target_name\", 'NGC')"),
    ("O''Brien%", "starts_with(\"ivoa\".\"obscore\".\"target_name\", 'O''Brien')"),
    ("NGC%1", "(\"ivoa\".\"obscore\".\"target_name\" LIKE 'NGC%1' AND "
              "starts_with(\"ivoa\".\"obscore\".\"target_name\", 'NGC'))"),
    ("N_C%", "(\"ivoa\".\"obscore\".\"target_name\" LIKE 'N_C%' AND "
             "starts_with(\"ivoa\".\"obscore\".\"target_name\", 'N'))"),
])
def test_like_with_a_literal_prefix_is_a_starts_with(sql, pattern, where):
    generated = sql(f"SELECT obs_id FROM ivoa.obscore WHERE target_name LIKE '{pattern}'")
    assert generated.split(" WHERE ")[1] == where


@pytest.mark.parametrize("condition", [
    "target_name LIKE 'NGC'", "target_name LIKE '%NGC'", "target_name LIKE '_GC%'",
    "target_name NOT LIKE 'NGC%'", "target_name ILIKE 'NGC%'", "target_name LIKE 'NGC\\%'",
    "LOWER(target_name) LIKE 'ngc%'", "target_name LIKE instrument_name",
])
def test_other_likes_are_unchanged(sql, condition):
    assert "starts_with" not in sql(f"SELECT obs_id FROM ivoa.obscore WHERE {condition}")
