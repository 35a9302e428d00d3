"""SQL for PostgreSQL 15 with pgsphere 1.2 from a validated tree: one method per node type.

Principles:

* Every identifier is quoted and spelled as the catalogue spells it; every string literal is
  re-escaped; numbers are emitted from their parsed form. No text of the user's query is copied
  into the SQL.
* Every compound expression is parenthesised, so ADQL's precedence survives whatever
  PostgreSQL's is.
* Geometry (ADQL 2.1 §4.2) goes to pgsphere, in radians, with comparisons written so that the
  GiST index on ``spoint`` columns can serve them: ``CONTAINS(a, b) = 1`` and ``1 = CONTAINS``
  become the bare ``a <@ b``, ``DISTANCE(p, q) < r`` becomes ``p <@ scircle(q, radians(r))``
  (a distance computed per row can use no index), and ``POINT(ra, dec)`` over columns that have a
  stored, indexed point becomes that column (see :class:`.catalog.TableInfo`).
"""
from __future__ import annotations

import math

from . import ast, geometry
from .counts import counted_sql
from .functions import PREDICATES
from .udf import REGISTRY
from .validator import Analysis, Binding, integer_literal, number_literal, quote_identifier

_SQL_FUNCTIONS = {
    "ABS": "abs", "CEILING": "ceiling", "DEGREES": "degrees", "EXP": "exp", "FLOOR": "floor",
    "LOG": "ln", "LOG10": "log", "PI": "pi", "POWER": "power", "RADIANS": "radians",
    "SQRT": "sqrt", "ACOS": "acos", "ASIN": "asin", "ATAN": "atan", "ATAN2": "atan2",
    "COS": "cos", "COT": "cot", "SIN": "sin", "TAN": "tan", "LOWER": "lower", "UPPER": "upper",
    "COALESCE": "coalesce",
}
_JOIN_KINDS = {"INNER": "JOIN", "LEFT": "LEFT OUTER JOIN", "RIGHT": "RIGHT OUTER JOIN",
               "FULL": "FULL OUTER JOIN"}
_FLIPPED = {"<": ">", ">": "<", "<=": ">=", ">=": "<="}


def spoly_literal(vertices_deg) -> str:
    """pgsphere's text form of a polygon from (ra, dec) vertices in degrees, in radians at full
    float precision. The generator writes its target's forms itself: the translator imports
    nothing of the archive (whose :mod:`archive.pgsphere` writes the same form for its columns)."""
    return "{" + ",".join(f"({math.radians(ra)!r},{math.radians(dec)!r})" for ra, dec in vertices_deg) + "}"


def quote_literal(value: str) -> str:
    """A PostgreSQL string constant with exactly this value, whatever standard_conforming_strings."""
    escaped = value.replace("'", "''")
    if "\\" in value:
        return "E'" + escaped.replace("\\", "\\\\") + "'"
    return "'" + escaped + "'"


def _like_prefix(expr: ast.Like) -> str | None:
    """The literal prefix of ``column LIKE 'prefix...'``, which every match starts with: the
    pattern's characters before its first wildcard (``%`` or ``_``). None when there is none, or
    the pattern is not a literal, or holds a backslash (PostgreSQL's default LIKE escape), or
    for NOT LIKE and ILIKE."""
    if expr.negated or expr.case_insensitive or not isinstance(expr.operand, ast.ColumnRef):
        return None
    if not isinstance(expr.pattern, ast.StringLiteral) or "\\" in expr.pattern.value:
        return None
    pattern = expr.pattern.value
    cut = min((i for i in (pattern.find("%"), pattern.find("_")) if i >= 0), default=-1)
    return pattern[:cut] if cut > 0 else None


def _number(value: float) -> str:
    return repr(float(value))


class Generator:
    """Writes the SQL of one analysed query."""

    def __init__(self, analysis: Analysis):
        self.analysis = analysis

    def query(self, query: ast.Query, limit: int | None) -> str:
        """The statement; ``limit`` replaces the outermost TOP (the caller's MAXREC logic).
        A count the catalogue answers apart is read from its function (:mod:`.counts`)."""
        counted = counted_sql(query, self.analysis, limit, quote_literal)
        if counted is not None:
            return counted
        sql = self._body(query.body, limit)
        if query.with_:
            tables = ", ".join(f"{quote_identifier(cte.name.normalized)} AS ({self._body(cte.query)})"
                               for cte in query.with_)
            sql = f"WITH {tables} {sql}"
        return sql

    def sql(self, node: ast.Node) -> str:
        return getattr(self, "_" + type(node).__name__)(node)

    # Queries ------------------------------------------------------------------------------------

    def _body(self, body: ast.QueryBody, limit: int | None = ...) -> str:
        if limit is ...:
            limit = body.top if isinstance(body, ast.Select) else None
        if isinstance(body, ast.Select):
            sql = self._select(body)
        else:  # §4.6: operands in parentheses, so each keeps its own TOP and ORDER BY
            all_ = " ALL" if body.all else ""
            sql = f"({self._body(body.left)}) {body.op}{all_} ({self._body(body.right)})"
        if body.order_by:
            sql += " ORDER BY " + ", ".join(self._order_item(item) for item in body.order_by)
        if limit is not None:  # §4.10: OFFSET applies before TOP, as in PostgreSQL
            sql += f" LIMIT {int(limit)}"
        if body.offset is not None:
            sql += f" OFFSET {int(body.offset)}"
        return sql

    def _select(self, select: ast.Select) -> str:
        parts = ["SELECT DISTINCT" if select.distinct else "SELECT",
                 ", ".join(self._select_item(item) for item in select.items),
                 "FROM " + ", ".join(self.sql(item) for item in select.from_)]
        if select.where is not None:
            parts.append("WHERE " + self.sql(select.where))
        if select.group_by:
            parts.append("GROUP BY " + ", ".join(self.sql(e) for e in select.group_by))
        if select.having is not None:
            parts.append("HAVING " + self.sql(select.having))
        return " ".join(parts)

    def _select_item(self, item) -> str:
        if isinstance(item, ast.AllColumns):
            return ", ".join(self._aliased(self._column(b), b.column.name, name)
                             for b, name in self.analysis.stars.get(id(item), ()))
        name = self.analysis.output_names[id(item)]
        binding = self.analysis.bindings.get(id(item.expr))
        if binding is not None:
            return self._aliased(self._column(binding), binding.column.name, name)
        sql = self.sql(item.expr)
        value_type = self.analysis.type_of(item.expr)
        pg_type = "text" if value_type.is_null else value_type.pg
        if (value_type.is_numeric or value_type.is_null) and not sql.endswith(f" AS {pg_type})"):
            # PostgreSQL computes numeric for decimal literals and avg(); make the value the
            # type the result metadata announces.
            sql = f"CAST({sql} AS {pg_type})"
        return f"{sql} AS {quote_identifier(name)}"

    @staticmethod
    def _aliased(sql: str, column: str, name: str) -> str:
        return sql if column == name else f"{sql} AS {quote_identifier(name)}"

    def _order_item(self, item: ast.OrderItem) -> str:
        sql = self.sql(item.expr)
        return sql + (" DESC" if item.descending else " ASC")

    def _TableRef(self, ref: ast.TableRef) -> str:
        table = self.analysis.tables.get(id(ref))
        if table is not None:
            sql = ".".join(quote_identifier(p) for p in table.sql_parts)
        else:  # a common table of WITH
            sql = quote_identifier(ref.parts[0].normalized)
        return sql + (f" AS {quote_identifier(ref.alias.normalized)}" if ref.alias else "")

    def _DerivedTable(self, table: ast.DerivedTable) -> str:
        return f"({self._body(table.query)}) AS {quote_identifier(table.alias.normalized)}"

    def _Join(self, join: ast.Join) -> str:
        right = self.sql(join.right)
        if isinstance(join.right, ast.Join):
            right = f"({right})"
        sql = (f"{self.sql(join.left)} {'NATURAL ' if join.natural else ''}"
               f"{_JOIN_KINDS[join.kind]} {right}")
        if join.condition is not None:
            sql += " ON " + self.sql(join.condition)
        elif join.using:
            sql += " USING (" + ", ".join(quote_identifier(i.normalized) for i in join.using) + ")"
        elif not join.natural:
            # ADQL 2.1 <qualified_join> without a join specification: no condition, so every
            # pair of rows matches; PostgreSQL needs one for INNER and OUTER joins.
            sql += " ON TRUE"
        return sql

    # Values ---------------------------------------------------------------------------------------

    def _column(self, binding: Binding) -> str:
        name = quote_identifier(binding.column.name)
        # A USING/NATURAL column stays unqualified: in an outer join it is the merged value.
        return name if binding.range is None else f"{binding.range.sql}.{name}"

    def _ColumnRef(self, ref: ast.ColumnRef) -> str:
        if id(ref) in self.analysis.alias_names:
            return quote_identifier(self.analysis.alias_names[id(ref)])
        if id(ref) in self.analysis.alias_exprs:
            return self.sql(self.analysis.alias_exprs[id(ref)])
        return self._column(self.analysis.bindings[id(ref)])

    def _StringLiteral(self, literal: ast.StringLiteral) -> str:
        return quote_literal(literal.value)

    def _NumberLiteral(self, literal: ast.NumberLiteral) -> str:
        return str(literal.value) if literal.is_integer else _number(literal.value)

    def _HexLiteral(self, literal: ast.HexLiteral) -> str:
        return str(literal.value)

    def _NullLiteral(self, literal: ast.NullLiteral) -> str:
        return "NULL"

    def _Unary(self, expr: ast.Unary) -> str:
        return f"({expr.op}{self.sql(expr.operand)})"

    def _Binary(self, expr: ast.Binary) -> str:
        op = "#" if expr.op == "^" else expr.op  # PostgreSQL's bitwise XOR
        return f"({self.sql(expr.left)} {op} {self.sql(expr.right)})"

    def _Comparison(self, expr: ast.Comparison) -> str:
        return (self._predicate_comparison(expr) or self._distance_comparison(expr)
                or f"({self.sql(expr.left)} {expr.op} {self.sql(expr.right)})")

    def _BoolOp(self, expr: ast.BoolOp) -> str:
        return "(" + f" {expr.op} ".join(self.sql(e) for e in expr.operands) + ")"

    def _Not(self, expr: ast.Not) -> str:
        return f"(NOT {self.sql(expr.operand)})"

    def _Between(self, expr: ast.Between) -> str:
        return (f"({self.sql(expr.operand)} {'NOT ' if expr.negated else ''}BETWEEN "
                f"{self.sql(expr.low)} AND {self.sql(expr.high)})")

    def _InList(self, expr: ast.InList) -> str:
        return (f"({self.sql(expr.operand)} {'NOT ' if expr.negated else ''}IN ("
                + ", ".join(self.sql(i) for i in expr.items) + "))")

    def _InQuery(self, expr: ast.InQuery) -> str:
        return (f"({self.sql(expr.operand)} {'NOT ' if expr.negated else ''}IN "
                f"({self._body(expr.query)}))")

    def _Like(self, expr: ast.Like) -> str:
        prefix = _like_prefix(expr)
        if prefix is not None:
            # The access rule is row-level security (migration 0014): LIKE is not leakproof, so
            # it is evaluated after the rule, row by row. starts_with() is leakproof, and
            # PostgreSQL answers it from a btree on (column COLLATE "C")
            # (archive/migrations/versions/0009_target_name_prefix.py).
            starts = f"starts_with({self.sql(expr.operand)}, {quote_literal(prefix)})"
            if expr.pattern.value == prefix + "%":
                return starts
            return f"({self.sql(expr.operand)} LIKE {self.sql(expr.pattern)} AND {starts})"
        keyword = "ILIKE" if expr.case_insensitive else "LIKE"
        return (f"({self.sql(expr.operand)} {'NOT ' if expr.negated else ''}{keyword} "
                f"{self.sql(expr.pattern)})")

    def _IsNull(self, expr: ast.IsNull) -> str:
        return f"({self.sql(expr.operand)} IS {'NOT ' if expr.negated else ''}NULL)"

    def _Exists(self, expr: ast.Exists) -> str:
        return f"(EXISTS ({self._body(expr.query)}))"

    def _ScalarQuery(self, expr: ast.ScalarQuery) -> str:
        return f"({self._body(expr.query)})"

    def _Aggregate(self, expr: ast.Aggregate) -> str:
        if expr.arg is None:
            return "count(*)"
        return f"{expr.name.lower()}({'DISTINCT ' if expr.distinct else ''}{self.sql(expr.arg)})"

    def _Cast(self, expr: ast.Cast) -> str:
        if id(expr) in self.analysis.shapes:
            return self._constant_shape(self.analysis.shapes[id(expr)])
        return f"CAST({self.sql(expr.operand)} AS {self.analysis.type_of(expr).pg})"

    def _Case(self, expr: ast.Case) -> str:
        sql = "CASE" + (f" {self.sql(expr.operand)}" if expr.operand is not None else "")
        for when, then in expr.whens:
            sql += f" WHEN {self.sql(when)} THEN {self.sql(then)}"
        if expr.default is not None:
            sql += f" ELSE {self.sql(expr.default)}"
        return sql + " END"

    def _UdfCall(self, call: ast.UdfCall) -> str:
        return REGISTRY[call.name].translate(*(self.sql(a) for a in call.args))

    def _FunctionCall(self, call: ast.FunctionCall) -> str:
        method = getattr(self, "_fn_" + call.name.lower(), None)
        if method is not None:
            return method(call)
        return f"{_SQL_FUNCTIONS[call.name]}(" + ", ".join(self.sql(a) for a in call.args) + ")"

    # ADQL functions that are not just renamed (§2.3, §4.2, §4.9)

    def _fn_round(self, call: ast.FunctionCall, name: str = "round") -> str:
        if len(call.args) == 1:
            return f"{name}({self.sql(call.args[0])})"
        # PostgreSQL has round(numeric, int) but no round(double precision, int).
        return (f"CAST({name}(CAST({self.sql(call.args[0])} AS numeric), "
                f"{integer_literal(call.args[1])}) AS double precision)")

    def _fn_truncate(self, call: ast.FunctionCall) -> str:
        return self._fn_round(call, "trunc")

    def _fn_mod(self, call: ast.FunctionCall) -> str:
        a, b = (self.sql(x) for x in call.args)
        if self.analysis.type_of(call).is_integer:
            return f"mod({a}, {b})"
        return f"CAST(mod(CAST({a} AS numeric), CAST({b} AS numeric)) AS double precision)"

    def _fn_rand(self, call: ast.FunctionCall) -> str:
        return "random()"  # PostgreSQL seeds per session (setseed), not per call: seed unused

    def _fn_in_unit(self, call: ast.FunctionCall) -> str:
        return f"({self.sql(call.args[0])} * {_number(self.analysis.unit_factors[id(call)])})"

    # Geometry

    def _fn_point(self, call: ast.FunctionCall) -> str:
        return self._position(self._shape(call))

    def _fn_circle(self, call: ast.FunctionCall) -> str:
        shape = self._shape(call)
        return f"scircle({self._position(shape.center)}, radians({self.sql(shape.radius)}))"

    def _fn_polygon(self, call: ast.FunctionCall) -> str:
        shape = self._shape(call)
        constant = [self._constant_position(v) for v in shape.vertices]
        if None not in constant:
            return f"spoly {quote_literal(spoly_literal(constant))}"
        return self._polygon_of([self._position(v) for v in shape.vertices])

    def _fn_box(self, call: ast.FunctionCall) -> str:
        shape = self._shape(call)
        center = self._constant_position(shape.center)
        size = number_literal(shape.width), number_literal(shape.height)
        if center is not None and None not in size:
            return f"spoly {quote_literal(spoly_literal(geometry.box_corners(*center, *size)))}"
        lon, lat = self._coordinates(shape.center)
        width, height = self.sql(shape.width), self.sql(shape.height)
        return self._polygon_of([
            f"spoint(radians({lon} {dx} 0.5 * {width}), radians({lat} {dy} 0.5 * {height}))"
            for dx, dy in (("-", "-"), ("+", "-"), ("+", "+"), ("-", "+"))])

    def _fn_region(self, call: ast.FunctionCall) -> str:
        return self._constant_shape(self.analysis.shapes[id(call)])

    def _fn_contains(self, call: ast.FunctionCall) -> str:
        return f"CAST({self._condition(call)} AS integer)"

    _fn_intersects = _fn_contains

    def _fn_distance(self, call: ast.FunctionCall) -> str:
        p, q = self._distance_points(call)
        return f"degrees({p} <-> {q})"

    def _fn_area(self, call: ast.FunctionCall) -> str:
        shape = self.sql(call.args[0])
        if self.analysis.type_of(call.args[0]).name == "POINT":
            shape = f"scircle({shape}, 0)"  # pgsphere has no area of a point; NULL stays NULL
        return f"degrees(degrees(area({shape})))"  # steradians to square degrees

    def _fn_coord1(self, call: ast.FunctionCall) -> str:
        return f"degrees(long({self.sql(call.args[0])}))"  # pgsphere's long() is in [0, 2pi)

    def _fn_coord2(self, call: ast.FunctionCall) -> str:
        return f"degrees(lat({self.sql(call.args[0])}))"

    def _fn_centroid(self, call: ast.FunctionCall) -> str:
        arg = call.args[0]
        if isinstance(arg, ast.FunctionCall) and arg.name == "BOX":
            return self._position(self._shape(arg).center)
        if self.analysis.type_of(arg).name == "CIRCLE":
            return f"(@@ {self.sql(arg)})"
        return self.sql(arg)

    def _fn_coordsys(self, call: ast.FunctionCall) -> str:
        return f"CASE WHEN {self.sql(call.args[0])} IS NULL THEN NULL ELSE 'ICRS' END"

    def _shape(self, call: ast.FunctionCall) -> geometry.Shape:
        return geometry.shape_of(call, self.analysis.type_of)

    def _position(self, position: geometry.Position) -> str:
        if isinstance(position, geometry.PointShape):
            position = geometry.Coords(position.lon, position.lat)
        if isinstance(position, geometry.Coords):
            return self._point(position.lon, position.lat)
        return self.sql(position)

    def _point(self, lon: ast.Expr, lat: ast.Expr) -> str:
        """spoint of two coordinates, or the stored point column that holds the same position."""
        bindings = [self.analysis.bindings.get(id(c)) for c in (lon, lat)]
        if None not in bindings and bindings[0].range is not None and (
                bindings[0].range is bindings[1].range and bindings[0].range.table is not None):
            stored = bindings[0].range.table.point_columns.get(
                (bindings[0].column.name, bindings[1].column.name))
            if stored is not None:
                return f"{bindings[0].range.sql}.{quote_identifier(stored)}"
        return f"spoint(radians({self.sql(lon)}), radians({self.sql(lat)}))"

    def _coordinates(self, position: geometry.Position) -> tuple[str, str]:
        """SQL of the longitude and latitude of a position, in degrees."""
        if isinstance(position, geometry.Coords):
            return self.sql(position.lon), self.sql(position.lat)
        point = self.sql(position)
        return f"degrees(long({point}))", f"degrees(lat({point}))"

    def _constant_position(self, position: geometry.Position) -> tuple[float, float] | None:
        if isinstance(position, ast.FunctionCall) and position.name == "POINT":
            position = self._shape(position)
        if isinstance(position, (geometry.Coords, geometry.PointShape)):
            lon, lat = number_literal(position.lon), number_literal(position.lat)
            if lon is not None and lat is not None:
                return lon, lat
        return None

    @staticmethod
    def _polygon_of(points: list[str]) -> str:
        """An spoly from spoint expressions: pgsphere 1.2's spoly aggregate, in vertex order."""
        values = ", ".join(f"({i}, {p})" for i, p in enumerate(points, 1))
        return f"(SELECT spoly(v.p ORDER BY v.i) FROM (VALUES {values}) AS v(i, p))"

    def _constant_shape(self, shape: geometry.ConstantShape) -> str:
        n = [_number(x) for x in shape.numbers]
        if shape.kind == "POINT":
            return f"spoint(radians({n[0]}), radians({n[1]}))"
        if shape.kind == "CIRCLE":
            return f"scircle(spoint(radians({n[0]}), radians({n[1]})), radians({n[2]}))"
        return f"spoly {quote_literal(spoly_literal(shape.vertices))}"

    # Conditions from predicates (§4.2.6-7)

    def _condition(self, call: ast.FunctionCall | ast.UdfCall) -> str:
        """The boolean condition a predicate function's 1 stands for."""
        if isinstance(call, ast.UdfCall):
            return "(" + REGISTRY[call.name].condition(*(self.sql(a) for a in call.args)) + ")"
        a, b = call.args
        a_type, b_type = (self.analysis.type_of(x).name for x in call.args)
        if call.name == "INTERSECTS" and b_type == "POINT":  # a point intersects what contains it
            a, b, a_type, b_type = b, a, b_type, a_type
        if call.name == "INTERSECTS" and a_type != "POINT":
            return f"({self.sql(a)} && {self.sql(b)})"
        if b_type == "POINT":
            return f"({self.sql(a)} = {self.sql(b)})"
        return f"({self.sql(a)} <@ {self.sql(b)})"

    def _predicate_comparison(self, expr: ast.Comparison) -> str | None:
        """``CONTAINS(a, b) = 1``, ``0 = INTERSECTS(a, b)``, ... as a bare (negated) condition."""
        if expr.op not in ("=", "<>"):
            return None
        for call, value in ((expr.left, expr.right), (expr.right, expr.left)):
            is_predicate = (isinstance(call, ast.FunctionCall) and call.name in PREDICATES) or (
                isinstance(call, ast.UdfCall) and REGISTRY[call.name].condition is not None)
            if is_predicate and integer_literal(value) in (0, 1):
                condition = self._condition(call)
                positive = (expr.op == "=") == (integer_literal(value) == 1)
                return condition if positive else f"(NOT {condition})"
        return None

    def _distance_comparison(self, expr: ast.Comparison) -> str | None:
        """``DISTANCE(p, q) < r`` (or ``r > DISTANCE``...) as containment in a circle."""
        op, distance, radius = expr.op, expr.left, expr.right
        if isinstance(radius, ast.FunctionCall) and radius.name == "DISTANCE":
            op, distance, radius = _FLIPPED.get(op), radius, distance
        if op not in _FLIPPED or not (isinstance(distance, ast.FunctionCall)
                                      and distance.name == "DISTANCE"):
            return None
        constant = number_literal(radius)
        if not self.analysis.type_of(radius).is_numeric or (
                constant is not None and not 0 <= constant <= geometry.MAX_CIRCLE_RADIUS):
            return None  # no circle that large in pgsphere: compare the distance itself
        p, q = self._distance_points(distance)
        inside = f"({p} <@ scircle({q}, radians({self.sql(radius)})))"
        return inside if op in ("<", "<=") else f"(NOT {inside})"

    def _distance_points(self, call: ast.FunctionCall) -> tuple[str, str]:
        """The two points of DISTANCE, the one from a table first (for the index)."""
        if len(call.args) == 4:
            first, second = (geometry.Coords(*call.args[:2]), geometry.Coords(*call.args[2:]))
            first_expr, second_expr = call.args[:2], call.args[2:]
        else:
            first, second = call.args
            first_expr, second_expr = (first,), (second,)
        if not _has_columns(first_expr) and _has_columns(second_expr):
            first, second = second, first
        return self._position(first), self._position(second)


def _has_columns(exprs) -> bool:
    return any(isinstance(node, ast.ColumnRef) for e in exprs for node, _ in ast.walk(e))
