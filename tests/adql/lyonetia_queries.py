"""A selection of the IVOA's public ADQL test queries, as test data.

Source: GitHub repository ivoa/lyonetia, files src/adql/ivoa/{0_whitespace,1_select,2_from,
3_where,O1_geometrical_functions,O3_string_functions_and_operators,O4_common_table_expression,
O5_set_operators,O6_type_operations,O8_unit_operations,O9_cardinality}.xml (queries by
G. Mantelet, CDS; M. Demleitner and J. Juaristi Campillo, GAVO), copied verbatim with the file
name each comes from. ``valid`` is lyonetia's verdict at the grammar level; the tables they name
are fictional, so only parsing is tested with them.
"""

VALID = [
    # 0_whitespace.xml
    "select ROUND(5)as x from y",
    "select x from y where box( 'fk5', 2, 3, 3, 0 ) = x",
    "select x from y where CENTROID( CIRCLE('fk4', 2, 3, 3) )=x",
    "select x from y where POLYGON( 'fk5' , 2 , 3 , 3 , 0 , 23 , 0 , 45, 11 ) = x",
    "select round(x,2)as a, truncate(x,-2)as b from foo",
    "SELECT ra1, dec, mass FROM\n\t( SELECT * FROM spatial ) as q LEFT OUTER JOIN spatial2\n"
    "\t\tUSING ( ra1, dist ) JOIN misc ON ( dist=mass )",
    "SELECT ra1, dec, mass FROM\n\t( spatial join spatial2 using (ra1) ), misc",
    "select\t\tdistinct top\n\n\n    10 x, y from foo",
    "select log10(x), log(x), rand(), rand(5), \n\t\t\tTRUNCATE(x), TRUNCATE(x,3) from foo",
    "select TAP_UPLOAD.\n\t\tabc\n\t\t.c from TAP_UPLOAD\n\t\t.\n\t\tabc",
    "select top 3 * from x \n\t\tunion (\n\t\tselect top 40 a from y \n\t\t\texcept select * from z\n\t\t)",
    "select * from (\n\t\tselect TOP 30 * from x\n\t\t) as q \n\t\tunion\n\t\tselect TOP 4 * from u",
    "select x from t1 FULL OUTER JOIN t2 USING (\n\t\tx,\n\t\ty\n\t)",
    "select flag \n\t\t|| \n\t\t'ab'as cat from crazy",
    "select all(a+b)X from \n  \t\t\tmost,(anything join else3 ON(a BETWEEN(b+and7)AND 4))",
    "select top 4* from (select * from amanda.nucand)x",
    "select * from bar order   by foo asc, 2desc",
    "SELECT ct FROM crazy JOIN ( \n  SELECT height FROM spatial\n  JOIN spatial2 ON (\n  ra2=dist\n  )\n"
    "    GROUP BY height\n    HAVING (height>avg(dist))) AS q \n\tON ( \n\twot=height\n\t)",
    # 1_select.xml
    'SELECT "_weird_name", "distance"\n      FROM stars',
    "SELECT 42,\n             -2,\n             3.14,\n             10e-5,\n             10E3\n      FROM stars",
    'SELECT long AS ra, des AS "Description"\n      FROM stars',
    "SELECT TOP 0 name, ra, dec\n      FROM stars",
    # 2_from.xml
    "SELECT mytable.* FROM t1 AS mytable",
    "SELECT * FROM t1 NATURAL JOIN t2",
    # lyonetia files this one as invalid; the ADQL 2.1 BNF's <qualified_join> makes the join
    # specification optional (issue #19), so it is valid here (a join on TRUE).
    "SELECT * FROM t1 INNER JOIN t2",
    "SELECT *\n        FROM t1 JOIN (SELECT id, something FROM t1 WHERE something < 42) AS p USING(id)",
    # 3_where.xml
    "SELECT name\n        FROM stars\n        WHERE ra BETWEEN -10 AND 10",
    # O1_geometrical_functions.xml
    "select x from y where Point(NULL, 2, 3)=x",
    "select * FROM t WHERE 1=CONTAINS(CIRCLE('ICRS', 4, 4, 2), POINT('', ra, dec))",
    "select u.ra1 FROM spatial AS mine LEFT OUTER JOIN spatial2 as u ON "
    "(1=CONTAINS(POINT('', mine.ra1, mine.ra2), CIRCLE('', u.ra1, u.dec, 1)))",
    "select coordsys(p), coord1(p), coord2(p) from\t(select point('FK5', ra1, width) as p "
    "from spatial) as q",
    "select POINT('ICRS', 5*width+height*LOG(width),height) from spatial",
    "select TOP 10 * FROM spatial\nWHERE 1=INTERSECTS(CIRCLE('ICRS', 10, 10, 0.5),\n\t\t"
    "POINT('ICRS', ra1, ra2))",
    "select * from foo where 1=CONTAINS(\n        REGION('Union ICRS (Position 1 2 Intersection "
    "(circle  1 2 3 box 1 2 3 4 circle 30 40 2))'),\n        REGION('circle GALACTIC 1 2 3')\n      )",
    # O3_string_functions_and_operators.xml
    "SELECT name\n        FROM stars\n        WHERE name ILIKE 'NgC %'",
    # O4_common_table_expression.xml
    "WITH alpha_subset AS (\n          SELECT *\n          FROM stars\n          WHERE mod(id, 10) = 0\n"
    "        )\n        SELECT ra, dec\n        FROM alpha_subset\n        WHERE ra > 10 AND ra < 20",
    # O5_set_operators.xml
    "  -- take the 10 first\n  ( SELECT TOP 10 id, ra, dec FROM atable ORDER BY id ASC)\nUNION\n"
    "  -- take the 10 last\n  ( SELECT TOP 10 id, ra, dec FROM atable ORDER BY id DESC)",
    "  SELECT id, ra, dec FROM table1\nUNION\n  SELECT id, ra, dec FROM table2\nINTERSECT\n"
    "  SELECT id, ra, dec FROM table3",
    "(\n    SELECT id FROM table1 WHERE id <= 10\nUNION\n    SELECT id FROM table1 WHERE id > 120406\n)\n"
    "INTERSECT\n    SELECT id FROM table1 WHERE (id <= 10 OR id > 120406) AND mod(id, 2) = 0",
    "WITH tenFirst AS ( SELECT TOP 10 id, ra, dec FROM atable ORDER BY id ASC),\n"
    "      tenLast AS ( SELECT TOP 10 id, ra, dec FROM atable ORDER BY id DESC)\n"
    "  SELECT * FROM tenFirst\nUNION\n  SELECT * FROM tenLast",
    # O6_type_operations.xml
    "SELECT CAST(2022   AS SMALLINT),\n               CAST(5      AS INTEGER),\n"
    "               CAST(123456 AS BigInt),\n               CAST(3.14   AS REAL),\n"
    "               CAST(3.14   AS Double Precision)\n        FROM stars",
    "SELECT CAST(name AS CHAR),\n               CAST(name AS VarChar),\n"
    "               CAST(name AS char(30)),\n               CAST(name AS VARCHAR(30))\n        FROM stars",
    "SELECT CAST('12.3 45.6' AS POINT),\n               CAST('12.3 45.6 1.0' AS CIRCLE),\n"
    "               CAST('1.0 0.1 2.0 0.2 3.0 0.3' AS POLYGON)\n        FROM stars",
    # O8_unit_operations.xml
    "SELECT name, IN_UNIT(sqrt(power(pm_ra,2)+power(pm_dec,2)), 'rad/yr')\n        FROM stars",
    # O9_cardinality.xml
    "SELECT name, ra, dec\n        FROM stars\n        OFFSET 100",
]

INVALID = [
    # 0_whitespace.xml
    "selectxfromywherePoint(NULL,2,3)=x",
    "select x fromy where Point('fk5', 2, 3)=x",
    "select x from y whereCIRCLE('fk5', 2, 3, 3)=x",
    "select * from a group by d having (d>2",
    # 1_select.xml
    "SELECT FROM stars",
    "SELECT _weird_name FROM stars",
    "SELECT distance FROM stars",
    "SELECT TOP -10 name, ra, dec\n      FROM stars",
    # O4_common_table_expression.xml
    "SELECT *\n        FROM (\n          WITH alpha_subset AS (\n            SELECT *\n"
    "            FROM stars\n            WHERE mod(id, 10) = 0\n          )\n          SELECT ra, dec\n"
    "          FROM alpha_subset\n          WHERE ra > 10 AND ra < 20\n        ) AS db_stars",
    # O5_set_operators.xml
    "    SELECT id FROM table1 WHERE id <= 10\nUNION\n    (\n        WITH tt AS (SELECT id FROM table1 "
    "WHERE id > 120406)\n        SELECT id FROM tt\n    )",
    # O6_type_operations.xml
    "SELECT name, CAST(123 AS NULL)\n        FROM stars",
    "SELECT name, CAST(314 AS FLOAT)\n        FROM stars",
    # O9_cardinality.xml
    "SELECT name, ra, dec\n        FROM stars\n        OFFSET -10",
    "SELECT name, ra, dec\n        FROM stars\n        OFFSET 10.5",
]
