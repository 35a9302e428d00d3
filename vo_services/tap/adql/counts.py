"""``COUNT(*)`` per value of a column, answered by the function the catalogue names for it.

A catalogue may declare, for a table, a function that counts the table's rows per value of one
column (:class:`.catalog.CountSource`), exactly as ``count(*)`` over the table would for the same
caller. This module recognises the one query shape it answers, on the validated tree:

    SELECT COUNT(*) [, ...] FROM <table> [AS a] [WHERE <column> = '<literal>'] [GROUP BY <column>]

where the select list holds only ``COUNT(*)`` (at least once, any aliases) and, with GROUP BY,
the column itself. Anything else — DISTINCT, TOP, HAVING, ORDER BY, OFFSET, WITH, a join or
subquery, another condition or comparison, COUNT(column), a literal of another type, an
expression or alias in GROUP BY — is translated the normal way. The result has the same
columns, names and types; MAXREC's limit is applied alike.
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
            if column_of(ref) is not None and isinstance(value, ast.StringLiteral):
                column, wanted = column_of(ref), value.value
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
    function = ".".join(quote_identifier(p) for p in source.sql_parts)
    argument = "CAST(NULL AS text)" if wanted is None else literal(wanted)
    sql = f"SELECT {items} FROM {function}({argument}) AS {_ALIAS}"
    return sql if limit is None else f"{sql} LIMIT {int(limit)}"


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
