"""Resolve every name of a parsed query against the catalogue and infer every expression's type.

The result, an :class:`Analysis`, is what the generator needs beyond the tree: which catalogue
table each table reference means, which column each column reference means, the type of each
expression, how ``*`` expands, and the metadata of the result's columns (carried from the source
column where a select item is a plain column, inferred otherwise). Anything the query names that
the catalogue or the function lists do not know is an :class:`AdqlValidationError`: nothing the
user writes reaches PostgreSQL unless it was recognised here.
"""
from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import NamedTuple

from vo_services.names import unique_names

from . import ast, geometry, units
from .catalog import CatalogColumn, ColumnInfo, TableInfo, TableSource, column_type
from .errors import AdqlValidationError
from .functions import AGGREGATE_RESULTS, FUNCTIONS, PREDICATES
from .reserved import RESERVED_WORDS
from .types import (
    ANY, BIGINT, BOOLEAN, DOUBLE, INTEGER, NULL, VARCHAR, SqlType, common, comparable, wider,
)
from .udf import REGISTRY

INT32 = 2**31 - 1
INT64 = 2**63 - 1


def quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass(eq=False)
class Range:
    """A FROM item as column references see it."""

    label: str  # for messages
    names: frozenset[tuple[str, ...]]  # the qualifiers that name it: (alias,) or (table,), (schema, table)
    sql: str  # how the generator qualifies its columns
    columns: tuple[CatalogColumn, ...]
    table: TableInfo | None = None
    open: bool = False  # its columns are not all known: any name may be one (catalogue-free check)

    def __post_init__(self) -> None:
        self._by_name = {c.name: c for c in reversed(self.columns)}  # the first of a name wins

    def column(self, name: str) -> CatalogColumn | None:
        return self._by_name.get(name)


class Binding(NamedTuple):
    """What a column reference means; ``range`` is None for a USING/NATURAL join column.

    A named tuple, not a frozen dataclass: every FROM item makes one per column of its table
    (for ``*`` and USING), and a frozen dataclass costs several times as much to create.
    """

    range: Range | None
    column: CatalogColumn


@dataclass(eq=False)
class _Scope:
    parent: _Scope | None
    ranges: list[Range] = field(default_factory=list)
    merged: dict[str, CatalogColumn] = field(default_factory=dict)  # join columns of USING/NATURAL


@dataclass
class Analysis:
    """Facts about the nodes of one tree, keyed by node identity."""

    types: dict[int, SqlType] = field(default_factory=dict)
    bindings: dict[int, Binding] = field(default_factory=dict)  # ColumnRef -> column
    ranges: dict[int, Range] = field(default_factory=dict)  # TableRef, DerivedTable -> range
    tables: dict[int, TableInfo] = field(default_factory=dict)  # TableRef -> catalogue table
    output_names: dict[int, str] = field(default_factory=dict)  # SelectItem -> result name
    stars: dict[int, list[tuple[Binding, str]]] = field(default_factory=dict)  # AllColumns
    alias_names: dict[int, str] = field(default_factory=dict)  # ColumnRef naming a result column
    alias_exprs: dict[int, ast.Expr] = field(default_factory=dict)  # ColumnRef standing for one
    shapes: dict[int, geometry.ConstantShape] = field(default_factory=dict)  # REGION, CAST
    unit_factors: dict[int, float] = field(default_factory=dict)  # IN_UNIT
    columns: list[CatalogColumn] = field(default_factory=list)

    def type_of(self, node: ast.Node) -> SqlType:
        return self.types.get(id(node), NULL)


def _error(node: ast.Node | None, message: str) -> AdqlValidationError:
    pos = node.pos if node is not None else None
    return AdqlValidationError(message, pos.line if pos else None, pos.column if pos else None)


def _suggest(name: str, candidates: Iterable[str], *, spell: bool = True) -> str:
    """The near names, each written as the user must type it (``spell``: single identifiers)."""
    close = difflib.get_close_matches(name, list(candidates), n=3)
    if spell:
        close = [_spelled(c) for c in close]
    return f"; did you mean {' or '.join(close)}?" if close else ""


_REGULAR = re.compile(r"[a-z][a-z0-9_]*")


def _spelled(name: str) -> str:
    """``name`` as ADQL text reaches it: bare if a regular identifier folds to it, else delimited.

    ADQL 2.1 §2.1.3: regular identifiers are case-insensitive (folded to lower case here) and
    may not be reserved words; any other name ("size", "_RAJ2000", "RA") needs double quotes.
    """
    if _REGULAR.fullmatch(name) and name.upper() not in RESERVED_WORDS:
        return name
    return '"' + name.replace('"', '""') + '"'


def integer_literal(expr: ast.Expr) -> int | None:
    """The value of an integer literal, negative ones included; None for anything else."""
    if isinstance(expr, ast.NumberLiteral) and expr.is_integer:
        return expr.value
    if isinstance(expr, ast.Unary) and expr.op in "+-":
        value = integer_literal(expr.operand)
        return None if value is None else (-value if expr.op == "-" else value)
    return None


def number_literal(expr: ast.Expr) -> float | None:
    """The value of a numeric literal (possibly signed), or None."""
    if isinstance(expr, ast.NumberLiteral):
        return float(expr.value)
    if isinstance(expr, ast.Unary) and expr.op in "+-":
        value = number_literal(expr.operand)
        return None if value is None else (-value if expr.op == "-" else value)
    return None


_HANDLERS: dict[type, Callable] = {}  # node type -> Validator._<NodeType>


class Validator:
    """Analyses one query against one catalogue (create one per query)."""

    def __init__(self, catalog: TableSource | None):
        """With ``catalog`` None, the catalogue-free check: every table named is taken to exist
        with columns of unknown type (ANY), and what ADQL alone forbids is still found."""
        self.catalog = catalog
        self.analysis = Analysis()
        self.common_tables: dict[str, tuple[CatalogColumn, ...]] = {}
        self._no_aggregates: str | None = None  # where an aggregate would be out of place

    def analyze(self, query: ast.Query) -> Analysis:
        for cte in query.with_:  # §4.5: each may use the ones before it
            name = cte.name.normalized
            if name in self.common_tables:
                raise _error(cte.name, f"WITH defines {cte.name} twice")
            self.common_tables[name] = tuple(self._query(cte.query, None))
        columns = self._query(query.body, None)
        if self.catalog is not None:
            self.analysis.columns = list(columns)
        return self.analysis

    # Queries ------------------------------------------------------------------------------------

    def _query(self, body: ast.QueryBody, outer: _Scope | None) -> list[CatalogColumn]:
        """The result columns of ``body``; they end with OPEN_COLUMNS if some are unknown."""
        context, self._no_aggregates = self._no_aggregates, None  # a subquery has its own
        try:
            return self._query_body(body, outer)
        finally:
            self._no_aggregates = context

    def _query_body(self, body: ast.QueryBody, outer: _Scope | None) -> list[CatalogColumn]:
        if isinstance(body, ast.Select):
            return self._select(body, outer)
        left = self._query(body.left, outer)
        right = self._query(body.right, outer)
        if OPEN_COLUMNS in left or OPEN_COLUMNS in right:
            return left  # how many columns each side has is not known without the catalogue
        if len(left) != len(right):  # §4.6.1
            raise _error(body, f"the queries joined by {body.op} must select the same number of "
                               f"columns, not {len(left)} and {len(right)}")
        for number, (a, b) in enumerate(zip(left, right), 1):
            if not comparable(column_type(a), column_type(b)):
                raise _error(body, f"column {number} is {column_type(a)} on the left of {body.op} but "
                                   f"{column_type(b)} on the right")
        names = {c.name: c for c in left}
        for item in body.order_by:  # only result columns, by name or number, can sort a set
            position = integer_literal(item.expr)
            if position is not None:
                self._check_position(item.expr, position, len(left))
            elif (isinstance(item.expr, ast.ColumnRef) and len(item.expr.parts) == 1
                  and item.expr.name.normalized in names):
                self.analysis.alias_names[id(item.expr)] = item.expr.name.normalized
            else:
                raise _error(item, f"the result of {body.op} can only be sorted by the name or "
                                   "number of one of its columns")
        return left

    def _check_position(self, node, position, count, open_=False):
        if position < 1 or (position > count and not open_):
            raise _error(node, f"ORDER BY {position}: the query selects {count} column"
                               f"{'s' if count != 1 else ''}")

    def _select(self, select: ast.Select, outer: _Scope | None) -> list[CatalogColumn]:
        scope = _Scope(parent=outer)
        star_columns: list[Binding] = []
        for item in select.from_:
            star_columns += self._from_item(item, scope)
        self._check_distinct_names(select, scope)
        if select.where is not None:
            self._condition(select.where, scope, "WHERE")
        columns = self._select_list(select, scope, star_columns)
        aliases = {self.analysis.output_names[id(item)]: item.expr for item in select.items
                   if isinstance(item, ast.SelectItem)}
        for expr in select.group_by:
            self._grouping(expr, scope, aliases)
        if select.having is not None:
            self._condition(select.having, scope, "HAVING")
        for item in select.order_by:
            self._ordering(item.expr, scope, columns, aliases)
        return columns

    def _check_distinct_names(self, select: ast.Select, scope: _Scope) -> None:
        seen: list[Range] = []
        for r in scope.ranges:
            clash = next((other for other in seen if other.names & r.names), None)
            if clash is not None:
                raise _error(select, f"{r.label} and {clash.label} have the same name in FROM; "
                                     "give one of them an alias")
            seen.append(r)

    def _select_list(self, select: ast.Select, scope: _Scope, star_columns: list[Binding]
                     ) -> list[CatalogColumn]:
        """The result columns, each under a name of its own (TAP 1.1 §3.2)."""
        entries: list[tuple[ast.Node, Binding | None, CatalogColumn]] = []
        open_ = False
        for number, item in enumerate(select.items, 1):
            if isinstance(item, ast.AllColumns):
                bindings, star_open = self._star(item, scope, star_columns)
                entries += [(item, b, b.column) for b in bindings]
                open_ = open_ or star_open
                continue
            value_type = self._expr(item.expr, scope)
            if value_type == BOOLEAN:
                raise _error(item.expr, "a condition cannot be selected; select a value (CASE "
                                        "WHEN ... THEN 1 ELSE 0 END turns a condition into one)")
            name = item.alias.normalized if item.alias else _default_name(item.expr, number)
            entries.append((item, None, self._item_column(item.expr, name, value_type)))
        names = unique_names([column.name for _, _, column in entries])
        for (item, binding, _), name in zip(entries, names):
            if binding is None:
                self.analysis.output_names[id(item)] = name
            else:
                self.analysis.stars.setdefault(id(item), []).append((binding, name))
        columns = [_renamed(column, name) for (_, _, column), name in zip(entries, names)]
        return columns + [OPEN_COLUMNS] if open_ else columns

    def _ordering(self, expr, scope, columns, aliases):
        """ORDER BY a column number, a result column's name, or an expression (§2.2.5)."""
        position = integer_literal(expr)
        if isinstance(expr, ast.NumberLiteral) and position is not None:
            self._check_position(expr, position, len(columns), OPEN_COLUMNS in columns)
            return
        result = next((c for c in columns if isinstance(expr, ast.ColumnRef)
                       and len(expr.parts) == 1 and c.name == expr.name.normalized), None)
        if result is not None:
            self.analysis.alias_names[id(expr)] = result.name
            self.analysis.types[id(expr)] = column_type(result)
            return
        self._expr(expr, scope, aliases)

    def _grouping(self, expr, scope, aliases):
        """GROUP BY an expression or, as PostgreSQL allows, a result column's name."""
        if (isinstance(expr, ast.ColumnRef) and len(expr.parts) == 1
                and expr.name.normalized in aliases and self._lookup(expr, scope) is None):
            self.analysis.alias_names[id(expr)] = expr.name.normalized
            self.analysis.types[id(expr)] = self._expr(aliases[expr.name.normalized], scope)
            return
        self._no_aggregates = "in GROUP BY"  # §2.2.4: groups are formed before aggregating
        try:
            self._expr(expr, scope)
        finally:
            self._no_aggregates = None

    def _item_column(self, expr: ast.Expr, name: str, value_type: SqlType) -> CatalogColumn:
        """Metadata of a result column: the source column's for a plain column (TAP 1.1 §3.2)."""
        binding = self.analysis.bindings.get(id(expr))
        if binding is not None:
            return _renamed(binding.column, name)
        if value_type.is_any:
            return ColumnInfo(name, ANY.name)
        unit = None
        if isinstance(expr, ast.FunctionCall) and expr.name == "IN_UNIT":
            unit = expr.args[1].value
        elif isinstance(expr, ast.FunctionCall) and expr.name in ("DISTANCE", "COORD1", "COORD2"):
            unit = "deg"
        elif isinstance(expr, ast.FunctionCall) and expr.name == "AREA":
            unit = "deg**2"
        return ColumnInfo(name, value_type.name if not value_type.is_null else "VARCHAR",
                          arraysize=value_type.arraysize, unit=unit)

    def _star(self, item: ast.AllColumns, scope: _Scope, star_columns: list[Binding]
              ) -> tuple[list[Binding], bool]:
        """The known columns ``item`` expands to, and whether it expands to unknown ones too."""
        if not item.qualifier:
            return star_columns, any(r.open for r in scope.ranges)
        qualifier = tuple(p.normalized for p in item.qualifier)
        for r in scope.ranges:
            if qualifier in r.names:
                return [Binding(r, c) for c in r.columns], r.open
        raise _error(item, f"{ast.dotted(item.qualifier)}.* names no table of FROM"
                           + _suggest(qualifier[-1], (n[-1] for r in scope.ranges for n in r.names)))

    # FROM -----------------------------------------------------------------------------------------

    def _from_item(self, item: ast.FromItem, scope: _Scope) -> list[Binding]:
        """Add the ranges of ``item`` to ``scope``; return what ``*`` expands to, in order."""
        if isinstance(item, ast.Join):
            return self._join(item, scope)
        if isinstance(item, ast.DerivedTable):
            columns = self._query(item.query, scope.parent)
            alias = item.alias.normalized
            known, open_ = _known(columns)
            r = Range(f"subquery {item.alias}", frozenset({(alias,)}), quote_identifier(alias),
                      known, open=open_)
        else:
            r = self._table_range(item)
        self.analysis.ranges[id(item)] = r
        scope.ranges.append(r)
        return [Binding(r, c) for c in r.columns]

    def _table_range(self, ref: ast.TableRef) -> Range:
        parts = tuple(p.normalized for p in ref.parts)
        alias = ref.alias.normalized if ref.alias else None
        if len(parts) == 1 and parts[0] in self.common_tables:
            name = alias or parts[0]
            columns, open_ = _known(self.common_tables[parts[0]])
            return Range(f"table {name}", frozenset({(name,)}), quote_identifier(name), columns,
                         open=open_)
        if self.catalog is None:  # the catalogue-free check: any table, any column
            names = (frozenset({(alias,)}) if alias
                     else frozenset(parts[i:] for i in range(len(parts))))
            return Range(f"table {alias or ast.dotted(ref.parts)}", names, "", (), open=True)
        if len(parts) == 3:
            raise _error(ref, f"{ast.dotted(ref.parts)}: this service has no catalogs; "
                              "write schema.table")
        table = self.catalog.table(parts[0] if len(parts) == 2 else None, parts[-1])
        if table is None:
            known = ([t.qualified_name for t in self.catalog]
                     if isinstance(self.catalog, Iterable) else [])  # for "did you mean"
            raise _error(ref, f"unknown table {ast.dotted(ref.parts)}"
                              + _suggest(".".join(parts), known, spell=False))
        self.analysis.tables[id(ref)] = table
        if alias:
            names, sql = frozenset({(alias,)}), quote_identifier(alias)
        else:
            names = frozenset({(table.name,), (table.schema, table.name)})
            sql = ".".join(quote_identifier(p) for p in table.sql_parts)
        return Range(f"table {alias or table.qualified_name}", names, sql, table.columns, table)

    def _join(self, join: ast.Join, scope: _Scope) -> list[Binding]:
        first = len(scope.ranges)
        left = self._from_item(join.left, scope)
        middle = len(scope.ranges)
        right = self._from_item(join.right, scope)
        left_names = {b.column.name for b in left}
        right_names = {b.column.name for b in right}
        left_open = any(r.open for r in scope.ranges[first:middle])
        right_open = any(r.open for r in scope.ranges[middle:])
        if join.natural:
            shared = [b.column.name for b in left if b.column.name in right_names]
        else:
            shared = []
            for ident in join.using:
                name = ident.normalized
                for side, names, open_ in (("left", left_names, left_open),
                                           ("right", right_names, right_open)):
                    if name not in names and not open_:
                        raise _error(ident, f"USING ({ident}): the {side} side of the join has "
                                            f"no column {ident}")
                shared.append(name)
        for name in shared:
            scope.merged[name] = next((b.column for b in left if b.column.name == name),
                                      ColumnInfo(name, ANY.name))
        if join.condition is not None:
            on_scope = _Scope(scope.parent, scope.ranges[first:], dict(scope.merged))
            self._condition(join.condition, on_scope, "ON")
        merged = [Binding(None, scope.merged[name]) for name in shared
                  if name in left_names and name in right_names]
        return (merged + [b for b in left if b.column.name not in shared]
                + [b for b in right if b.column.name not in shared])

    # Names --------------------------------------------------------------------------------------

    def _lookup(self, ref: ast.ColumnRef, scope: _Scope | None) -> Binding | None:
        """The column ``ref`` names in the nearest scope that knows it (None if none does)."""
        parts = ref.parts
        qualifier = tuple(p.normalized for p in parts[:-1]) if len(parts) > 1 else ()
        name = parts[-1].normalized
        while scope is not None:
            if not qualifier:
                if name in scope.merged:
                    return Binding(None, scope.merged[name])
                found = []
                for r in scope.ranges:
                    column = r.column(name)
                    if column is not None:
                        found.append((r, column))
                if len(found) > 1:
                    raise _error(ref, f"column {ref.name} is ambiguous: it is in "
                                      + " and ".join(r.label for r, _ in found)
                                      + "; qualify it")
                if found:
                    return Binding(*found[0])
                unknown = next((r for r in scope.ranges if r.open), None)
                if unknown is not None:  # the catalogue-free check: it may be any column
                    return Binding(unknown, ColumnInfo(name, ANY.name))
            else:
                matches = [r for r in scope.ranges if qualifier in r.names]
                if matches:
                    column = matches[0].column(name)
                    if column is None and matches[0].open:
                        column = ColumnInfo(name, ANY.name)
                    if column is None:
                        raise _error(ref.name, f"{matches[0].label} has no column {ref.name}"
                                               + _suggest(name, (c.name for c in matches[0].columns)))
                    return Binding(matches[0], column)
            scope = scope.parent
        return None

    def _column(self, ref: ast.ColumnRef, scope: _Scope) -> SqlType:
        binding = self._lookup(ref, scope)
        if binding is None:
            if ref.qualifier:
                raise _error(ref, f"{ast.dotted(ref.qualifier)} in {ast.dotted(ref.parts)} names "
                                  "no table of FROM")
            known = {c.name for s in _chain(scope) for r in s.ranges for c in r.columns}
            raise _error(ref, f"unknown column {ref.name}" + _suggest(ref.name.normalized, known))
        self.analysis.bindings[id(ref)] = binding
        return column_type(binding.column)

    # Expressions --------------------------------------------------------------------------------

    def _condition(self, expr: ast.Expr, scope: _Scope, clause: str) -> None:
        """WHERE, ON and HAVING take a <search_condition> (ADQL 2.1 §2.2.3-4): a predicate, not a
        value; WHERE and ON are evaluated row by row, before any aggregate."""
        if clause != "HAVING":
            self._no_aggregates = f"in {clause}"
        try:
            value_type = self._expr(expr, scope)
        finally:
            self._no_aggregates = None
        if value_type == BOOLEAN:  # NULL is a value, not a predicate
            return
        hint = ""
        if isinstance(expr, (ast.FunctionCall, ast.UdfCall)) and (
                expr.name in PREDICATES or getattr(REGISTRY.get(expr.name), "condition", None)):
            hint = f": compare it with 1, as in {expr.name}(...) = 1"
        raise _error(expr, f"{clause} needs a condition (a comparison or another predicate), but "
                           f"this is {_describe(value_type)}{hint}")

    def _expr(self, expr: ast.Expr, scope: _Scope, aliases: dict | None = None) -> SqlType:
        if aliases and isinstance(expr, ast.ColumnRef) and len(expr.parts) == 1:
            if self._lookup(expr, scope) is None and expr.name.normalized in aliases:
                self.analysis.alias_exprs[id(expr)] = aliases[expr.name.normalized]
                value_type = self.analysis.type_of(aliases[expr.name.normalized])
                self.analysis.types[id(expr)] = value_type
                return value_type
        handler = _HANDLERS.get(type(expr))
        if handler is None:  # one method per node type, found by name once
            handler = _HANDLERS[type(expr)] = getattr(Validator, "_" + type(expr).__name__)
        value_type = handler(self, expr, scope, aliases)
        self.analysis.types[id(expr)] = value_type
        return value_type

    def _operand(self, expr, scope, aliases, kind: str, what: str) -> SqlType:
        value_type = self._expr(expr, scope, aliases)
        accepts, wanted = _KINDS[kind]
        if not (accepts(value_type) or value_type.is_open):
            raise _error(expr, f"{what} needs {wanted}, not {_describe(value_type)}")
        return value_type

    def _ColumnRef(self, expr, scope, aliases):
        return self._column(expr, scope)

    def _StringLiteral(self, expr, scope, aliases):
        if "\0" in expr.value:
            raise _error(expr, "a string cannot contain a NUL character")
        return VARCHAR

    def _NumberLiteral(self, expr, scope, aliases):
        if expr.is_integer:
            return INTEGER if expr.value <= INT32 else BIGINT if expr.value <= INT64 else DOUBLE
        return DOUBLE

    def _HexLiteral(self, expr, scope, aliases):
        if expr.value > INT64:
            raise _error(expr, f"{expr.text} does not fit a BIGINT")
        return BIGINT

    def _NullLiteral(self, expr, scope, aliases):
        return NULL

    def _Unary(self, expr, scope, aliases):
        kind = "integer" if expr.op == "~" else "numeric"
        value_type = self._operand(expr.operand, scope, aliases, kind, f"unary {expr.op}")
        return INTEGER if value_type.is_null else value_type

    def _Binary(self, expr, scope, aliases):
        if expr.op == "||":
            for side in (expr.left, expr.right):
                value_type = self._operand(side, scope, aliases, "value", "||")
                if value_type.is_geometry:
                    raise _error(side, "|| joins strings, not geometries")
            return VARCHAR
        kind = "integer" if expr.op in "&|^" else "numeric"
        left = self._operand(expr.left, scope, aliases, kind, f"operator {expr.op}")
        right = self._operand(expr.right, scope, aliases, kind, f"operator {expr.op}")
        known = [t for t in (left, right) if not t.is_null]
        return wider(*known) if len(known) == 2 else (known[0] if known else INTEGER)

    def _Comparison(self, expr, scope, aliases):
        left = self._operand(expr.left, scope, aliases, "value", expr.op)
        right = self._operand(expr.right, scope, aliases, "value", expr.op)
        if not comparable(left, right):
            raise _error(expr, f"cannot compare {_describe(left)} with {_describe(right)}")
        return BOOLEAN

    def _BoolOp(self, expr, scope, aliases):
        for operand in expr.operands:
            self._condition_operand(operand, scope, aliases, expr.op)
        return BOOLEAN

    def _Not(self, expr, scope, aliases):
        self._condition_operand(expr.operand, scope, aliases, "NOT")
        return BOOLEAN

    def _condition_operand(self, expr, scope, aliases, what):
        value_type = self._expr(expr, scope, aliases)
        if value_type != BOOLEAN:
            raise _error(expr, f"{what} needs conditions, but this is {_describe(value_type)}")

    def _Between(self, expr, scope, aliases):
        types = [self._operand(e, scope, aliases, "value", "BETWEEN")
                 for e in (expr.operand, expr.low, expr.high)]
        for bound, bound_type in zip((expr.low, expr.high), types[1:]):
            if not comparable(types[0], bound_type):
                raise _error(bound, f"cannot compare {_describe(types[0])} with "
                                    f"{_describe(bound_type)}")
        return BOOLEAN

    def _InList(self, expr, scope, aliases):
        value_type = self._operand(expr.operand, scope, aliases, "value", "IN")
        for item in expr.items:
            item_type = self._operand(item, scope, aliases, "value", "IN")
            if not comparable(value_type, item_type):
                raise _error(item, f"cannot compare {_describe(value_type)} with "
                                   f"{_describe(item_type)}")
            if value_type.is_open:  # the first known type the list shows: the others match it
                value_type = item_type
        return BOOLEAN

    def _InQuery(self, expr, scope, aliases):
        value_type = self._operand(expr.operand, scope, aliases, "value", "IN")
        column = self._single_column(expr.query, scope, "IN (SELECT ...)")
        if not comparable(value_type, column_type(column)):
            raise _error(expr, f"cannot compare {_describe(value_type)} with "
                               f"{_describe(column_type(column))}")
        return BOOLEAN

    def _single_column(self, query, scope, what) -> CatalogColumn:
        columns = self._query(query, scope)
        if OPEN_COLUMNS in columns:
            return columns[0] if len(columns) == 2 else ColumnInfo("?", ANY.name)
        if len(columns) != 1:
            raise _error(query, f"the subquery of {what} must select one column, not "
                                f"{len(columns)}")
        return columns[0]

    def _Like(self, expr, scope, aliases):
        keyword = "ILIKE" if expr.case_insensitive else "LIKE"
        self._operand(expr.operand, scope, aliases, "string", keyword)
        self._operand(expr.pattern, scope, aliases, "string", keyword)
        return BOOLEAN

    def _IsNull(self, expr, scope, aliases):
        self._operand(expr.operand, scope, aliases, "value", "IS NULL")
        return BOOLEAN

    def _Exists(self, expr, scope, aliases):
        self._query(expr.query, scope)
        return BOOLEAN

    def _ScalarQuery(self, expr, scope, aliases):
        return column_type(self._single_column(expr.query, scope, "a scalar subquery"))

    def _Aggregate(self, expr, scope, aliases):
        self._enter_aggregate(expr, expr.name)
        try:
            if expr.arg is None:
                return BIGINT
            kind = "numeric" if expr.name in ("AVG", "SUM") else "value"
            return AGGREGATE_RESULTS[expr.name](
                self._operand(expr.arg, scope, aliases, kind, expr.name))
        finally:
            self._no_aggregates = None

    def _enter_aggregate(self, expr, name: str) -> None:
        """ADQL 2.1 §2.2.4 (SQL-92 §6.5): no aggregate in WHERE, ON, GROUP BY or another one."""
        if self._no_aggregates is not None:
            raise _error(expr, f"the aggregate function {name} cannot be used "
                               f"{self._no_aggregates}")
        self._no_aggregates = f"inside another aggregate function ({name})"

    def _Cast(self, expr, scope, aliases):
        source = self._operand(expr.operand, scope, aliases, "value", "CAST")
        target = SqlType(expr.target.name, expr.target.length)
        if target.is_geometry:  # §4.7: a DALI string to a geometry
            if not isinstance(expr.operand, ast.StringLiteral):
                raise _error(expr, f"CAST to {target.name} needs a string literal such as "
                                   "'10.5 -20.25'")
            self.analysis.shapes[id(expr)] = self._shape(
                expr, lambda: geometry.parse_dali(expr.operand.value, target.name))
            return target
        allowed = (source.is_open or source.is_numeric or source.is_string
                   or (source.name == "TIMESTAMP" and (target.is_string or target.name == "TIMESTAMP")))
        if not allowed or (target.name == "TIMESTAMP" and source.is_numeric):
            raise _error(expr, f"cannot CAST {_describe(source)} to {target}")
        return target

    def _Case(self, expr, scope, aliases):
        if expr.operand is not None:
            operand = self._operand(expr.operand, scope, aliases, "value", "CASE")
            for when, _ in expr.whens:
                if not comparable(operand, self._operand(when, scope, aliases, "value", "WHEN")):
                    raise _error(when, "WHEN values must be comparable with the CASE value")
        else:
            for when, _ in expr.whens:
                self._condition_operand(when, scope, aliases, "WHEN")
        results = [self._operand(r, scope, aliases, "value", "THEN") for _, r in expr.whens]
        if expr.default is not None:
            results.append(self._operand(expr.default, scope, aliases, "value", "ELSE"))
        result = common(results)
        if result is None:
            raise _error(expr, "the results of CASE must all have one type, not "
                               + ", ".join(sorted({str(t) for t in results})))
        return result

    def _UdfCall(self, expr, scope, aliases):
        function = REGISTRY.get(expr.name)
        if function is None:
            raise _error(expr, f"unknown function {expr.name}; the functions you can use are "
                               "ADQL's and " + ", ".join(sorted(REGISTRY)))
        if len(expr.args) != function.arity:
            raise _error(expr, f"{expr.name} takes {function.arity} arguments, not "
                               f"{len(expr.args)}: {function.form}")
        if function.aggregate:
            self._enter_aggregate(expr, expr.name)
        try:
            for arg in expr.args:
                self._operand(arg, scope, aliases, "value", expr.name)
        finally:
            if function.aggregate:
                self._no_aggregates = None
        return function.returns

    def _FunctionCall(self, expr, scope, aliases):
        signature = FUNCTIONS[expr.name]
        count = len(expr.args)
        if count < signature.min_args or (signature.max_args is not None
                                          and count > signature.max_args):
            raise _error(expr, f"{expr.name} takes {signature.arity_text()}, not {count}")
        types = [self._operand(a, scope, aliases, signature.argument_kind, expr.name)
                 for a in expr.args]
        check = getattr(self, "_check_" + expr.name.lower(), None)
        if check is not None:
            return check(expr, types) or signature.result(types)
        return signature.result(types)

    # Per-function checks; each may return a more precise result type.

    def _check_round(self, expr, types):
        if len(expr.args) == 2 and integer_literal(expr.args[1]) is None:
            raise _error(expr.args[1], f"the number of decimals of {expr.name} must be an "
                                       "integer literal")

    _check_truncate = _check_round

    def _check_rand(self, expr, types):
        if expr.args and integer_literal(expr.args[0]) is None:
            raise _error(expr.args[0], "the seed of RAND must be an integer literal")

    def _check_coalesce(self, expr, types):
        if common(types) is None:  # §4.8: arguments of one type
            raise _error(expr, "the arguments of COALESCE must all have one type, not "
                               + ", ".join(sorted({str(t) for t in types})))

    def _shape(self, node, parse):
        try:
            return parse()
        except geometry.GeometryError as exc:
            raise _error(node, str(exc)) from None

    def _constructor(self, expr, types):
        frame, args = geometry.split_coordsys(expr)
        self._shape(expr, lambda: geometry.check_coordsys(frame))
        if self.catalog is not None:
            self._shape(expr, lambda: geometry.check_frame(frame))
        shape = self._shape(expr, lambda: geometry.shape_of(expr, self.analysis.type_of))
        for arg in args:
            arg_type = self.analysis.type_of(arg)
            if not (arg_type.is_numeric or arg_type.is_open or arg_type.name == "POINT"):
                raise _error(arg, f"{expr.name} needs numbers in degrees, not "
                                  f"{_describe(arg_type)}")
        if isinstance(shape, geometry.CircleShape):
            radius = number_literal(shape.radius)
            if radius is not None and not 0 <= radius <= geometry.MAX_CIRCLE_RADIUS:
                raise _error(shape.radius, f"a circle's radius must be between 0 and "
                                           f"{geometry.MAX_CIRCLE_RADIUS:g} degrees, not {radius:g}")

    _check_point = _check_circle = _check_box = _check_polygon = _constructor

    def _check_region(self, expr, types):
        if not isinstance(expr.args[0], ast.StringLiteral):
            raise _error(expr, "REGION takes a string literal, such as 'Circle ICRS 10 20 1'")
        if self.catalog is None:  # which STC-S shapes can run is this service's limit, not ADQL's
            return None
        shape = self._shape(expr, lambda: geometry.parse_stcs(expr.args[0].value))
        self.analysis.shapes[id(expr)] = shape
        return SqlType(shape.kind)

    def _check_distance(self, expr, types):
        if len(expr.args) == 3:
            raise _error(expr, "DISTANCE takes two points or four numbers, not 3 arguments")
        wanted = "POINT" if len(expr.args) == 2 else None
        for arg, arg_type in zip(expr.args, types):
            ok = arg_type.name == "POINT" if wanted else (arg_type.is_numeric)
            if not (ok or arg_type.is_open):
                raise _error(arg, "DISTANCE takes two POINTs or ra1, dec1, ra2, dec2, not "
                                  f"{_describe(arg_type)}")

    def _check_contains(self, expr, types):
        # pgsphere has no "contained in a point"; ADQL allows it (and it is rarely true).
        if types[1].name == "POINT" and self.catalog is not None:
            raise _error(expr.args[1], "nothing is contained in a POINT; the second argument of "
                                       "CONTAINS must be a CIRCLE, POLYGON, BOX or REGION")

    def _check_coord1(self, expr, types):
        if types[0].name not in ("POINT", "NULL", "ANY"):
            raise _error(expr.args[0], f"{expr.name} takes a POINT, not {_describe(types[0])}")

    _check_coord2 = _check_coord1

    def _check_centroid(self, expr, types):
        arg = expr.args[0]
        centred = self.catalog is None or types[0].name in ("POINT", "CIRCLE", "NULL") or (
            isinstance(arg, ast.FunctionCall) and arg.name == "BOX")
        if not centred:
            raise _error(expr, "CENTROID is supported for circles, boxes and points only: "
                               "pgsphere 1.2 cannot compute the centre of a polygon")

    def _check_in_unit(self, expr, types):
        value, target = expr.args
        if not (types[0].is_numeric or types[0].is_open):
            raise _error(value, f"IN_UNIT converts numbers, not {_describe(types[0])}")
        if not isinstance(target, ast.StringLiteral):
            raise _error(target, "the unit of IN_UNIT must be a string literal, such as 'arcsec'")
        if self.catalog is None:  # the value's unit comes from the catalogue; the target's not
            try:
                units.parse(target.value)
            except units.UnitError as exc:
                raise _error(target, f"IN_UNIT: {exc}") from None
            return
        try:
            self.analysis.unit_factors[id(expr)] = units.factor(
                self._unit_of(value), units.parse(target.value))
        except units.UnitError as exc:
            raise _error(expr, f"IN_UNIT: {exc}") from None

    def _unit_of(self, expr: ast.Expr):
        """The unit of a numeric expression, from its columns' units (§4.9)."""
        if isinstance(expr, ast.ColumnRef):
            column = self.analysis.bindings[id(expr)].column
            if not column.unit:
                raise units.UnitError(f"column {column.name} has no unit")
            return units.parse(column.unit)
        if isinstance(expr, ast.Unary):
            return self._unit_of(expr.operand)
        if isinstance(expr, ast.Binary) and expr.op in "+-":
            left, right = self._unit_of(expr.left), self._unit_of(expr.right)
            units.factor(right, left)  # raises unless the two are commensurable
            return left
        if isinstance(expr, ast.Binary) and expr.op in "*/":
            left, right = (self._unit_of(side) if number_literal(side) is None else None
                           for side in (expr.left, expr.right))
            if left is None and right is None:
                raise units.UnitError("a product of numbers has no unit")
            left = left if left is not None else right / right
            right = right if right is not None else left / left
            return left * right if expr.op == "*" else left / right
        if isinstance(expr, ast.Aggregate) and expr.name in ("AVG", "MIN", "MAX", "SUM"):
            return self._unit_of(expr.arg)
        if isinstance(expr, ast.FunctionCall):
            if expr.name in ("ABS", "CEILING", "FLOOR", "ROUND", "TRUNCATE"):
                return self._unit_of(expr.args[0])
            if expr.name == "SQRT":
                return self._unit_of(expr.args[0]) ** 0.5
            if expr.name == "POWER" and number_literal(expr.args[1]) is not None:
                return self._unit_of(expr.args[0]) ** number_literal(expr.args[1])
            if expr.name in ("DISTANCE", "COORD1", "COORD2"):
                return units.parse("deg")
            if expr.name == "IN_UNIT":
                return units.parse(expr.args[1].value)
        raise units.UnitError("the unit of this expression is not known; convert a column "
                              "(or an expression of columns) that has a unit")


# What an operand must be: a test of its type, and the words for the error message.
_KINDS = {
    "numeric": (lambda t: t.is_numeric, "a number"),
    "integer": (lambda t: t.is_integer, "an integer"),
    "string": (lambda t: t.is_string, "a string"),
    "geometry": (lambda t: t.is_geometry, "a geometry"),
    "value": (lambda t: t != BOOLEAN, "a value, not a condition"),
    "any": (lambda t: True, ""),
}


# The last "column" of a result whose columns are not all known (a * over a table the
# catalogue-free check knows nothing of): how many there are, and their names, are unknown.
OPEN_COLUMNS = ColumnInfo("*", "ANY")


def _known(columns: Iterable[CatalogColumn]) -> tuple[tuple[CatalogColumn, ...], bool]:
    """The known columns of a result, and whether it has unknown ones too."""
    columns = tuple(columns)
    if columns and columns[-1] is OPEN_COLUMNS:
        return columns[:-1], True
    return columns, False


def _chain(scope: _Scope | None):
    while scope is not None:
        yield scope
        scope = scope.parent


def _describe(value_type: SqlType) -> str:
    if value_type == BOOLEAN:
        return "a condition"
    if value_type.is_any:
        return "a value"
    return f"a value of type {value_type}"


def _default_name(expr: ast.Expr, number: int) -> str:
    """The name of an unnamed result column (TAP 1.1 §3.2: unique, ideally an ADQL name)."""
    if isinstance(expr, ast.ColumnRef):
        return expr.name.normalized
    if isinstance(expr, (ast.FunctionCall, ast.UdfCall, ast.Aggregate)):
        return expr.name.lower()
    return f"col{number}"


def _renamed(column: CatalogColumn, name: str) -> CatalogColumn:
    return column if column.name == name else replace(column, name=name)
