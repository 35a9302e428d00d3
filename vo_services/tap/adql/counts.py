"""``COUNT(*)`` per value of a column, answered by the function the catalogue names for it.

A catalogue may declare, for a table, a function that counts the table's rows per value of one
column (:class:`.catalog.CountSource`), exactly as ``count(*)`` over the table would for the same
caller. This module recognises the one query shape it answers, on the validated tree:

    SELECT COUNT(*) [, ...] FROM <table> [AS a] [WHERE <column> = <literal>] [GROUP BY <column>]

where the select list holds only ``COUNT(*)`` (at least once, any aliases) and, with GROUP BY,
the column itself. The literal is a string — passed to the function untyped, so PostgreSQL reads
it as the column's type exactly as it would compared with the column (an invalid one fails
alike) — or, for a column counted as ``integer``, an unsigned integer literal of digits that
fits in an integer (``2``, not ``2.0``, ``2e0``, ``-2`` or ``0x2``, whose comparisons are not the
integer's: they go the normal way). Anything else — DISTINCT, TOP, HAVING, ORDER BY, OFFSET,
WITH, a join or subquery, another condition or comparison, COUNT(column), a literal of another
kind, an expression or alias in GROUP BY — is translated the normal way. The result has the same
columns, names and types (each function returns the column's value as the view types it);
MAXREC's limit is applied alike.
"""
from __future__ import annotations

from collections.abc import Callable

from . import ast
from .catalog import CountSource
from .validator import Analysis, quote_identifier

_ALIAS = quote_identifier("counted")


def counted_sql(query: ast.Query, analysis: Analysis, limit: int | None,
                literal: Callable[[str], str]) -> str | None:
    """The statement answering ``query`` from its table's count function, or None when the
    query is not of the shape above. ``literal`` writes a string constant as the generator does."""
    select = query.body
    if query.with_ or not isinstance(select, ast.Select):
        return None
    if (select.distinct or select.top is not None or select.having is not None or select.order_by
            or select.offset is not None or len(select.from_) != 1
            or not isinstance(select.from_[0], ast.TableRef) or len(select.group_by) > 1):
        return None
    table = analysis.tables.get(id(select.from_[0]))
    if table is None or not table.counts:
        return None
    source_range = analysis.ranges.get(id(select.from_[0]))

    def column_of(expr: ast.Expr) -> str | None:
        binding = analysis.bindings.get(id(expr)) if isinstance(expr, ast.ColumnRef) else None
        if binding is None or binding.range is not source_range:
            return None
        return binding.column.name

    wanted, column = None, None
    if select.where is not None:
        condition = select.where
        if not isinstance(condition, ast.Comparison) or condition.op != "=":
            return None
        for ref, value in ((condition.left, condition.right), (condition.right, condition.left)):
            if column_of(ref) is not None and isinstance(value, (ast.StringLiteral, ast.NumberLiteral)):
                column, wanted = column_of(ref), value
                break
        else:
            return None
    grouped = None
    if select.group_by:
        grouped = column_of(select.group_by[0])
        if grouped is None or (column is not None and grouped != column):
            return None
        column = grouped
    source = _source(table.counts, column)
    if source is None:
        return None
    items = _select_list(select, analysis, grouped, column_of)
    if items is None:
        return None
    argument = _argument(source, wanted, literal)
    if argument is None:
        return None
    function = ".".join(quote_identifier(p) for p in source.sql_parts)
    sql = f"SELECT {items} FROM {function}({argument}) AS {_ALIAS}"
    return sql if limit is None else f"{sql} LIMIT {int(limit)}"


_INTEGER_MAX = 2**31 - 1


def _argument(source: CountSource, wanted: ast.Expr | None, literal: Callable[[str], str]) -> str | None:
    """The function's argument for the literal compared with the column, None if not of a
    shape compared exactly as the column's own type (see above)."""
    if wanted is None:
        return f"CAST(NULL AS {source.argument_type})"
    if isinstance(wanted, ast.StringLiteral):
        return literal(wanted.value)
    if (source.argument_type == "integer" and isinstance(wanted, ast.NumberLiteral)
            and wanted.text.isascii() and wanted.text.isdigit() and int(wanted.text) <= _INTEGER_MAX):
        return str(int(wanted.text))
    return None


def _source(sources: tuple[CountSource, ...], column: str | None) -> CountSource | None:
    """The function counting per ``column``; for a bare COUNT(*) (no column), any: it sums them."""
    return next((s for s in sources if column is None or s.column == column), None)


def _select_list(select: ast.Select, analysis: Analysis, grouped: str | None, column_of) -> str | None:
    out, counts = [], 0
    for item in select.items:
        if not isinstance(item, ast.SelectItem):
            return None
        name = quote_identifier(analysis.output_names[id(item)])
        expr = item.expr
        if isinstance(expr, ast.Aggregate) and expr.name == "COUNT" and expr.arg is None and not expr.distinct:
            counts += 1
            count = f"{_ALIAS}.{quote_identifier('n')}"
            value = count if grouped else f"coalesce(sum({count}), 0)"
            out.append(f"CAST({value} AS BIGINT) AS {name}")
        elif grouped is not None and column_of(expr) == grouped:
            out.append(f"{_ALIAS}.{quote_identifier('value')} AS {name}")
        else:
            return None
    return ", ".join(out) if counts else None
