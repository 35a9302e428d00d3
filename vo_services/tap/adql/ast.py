"""The typed tree of an ADQL query: small frozen dataclasses, one per construct.

Nodes compare by value (so tests can compare trees) and carry the position of their first token
for error messages; the position takes no part in comparisons. The tree says what the user
wrote, nothing more: names are not resolved and types are not known until the validator runs.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from functools import lru_cache
from typing import Union


@dataclass(frozen=True)
class Position:
    line: int
    column: int


@dataclass(frozen=True)
class Node:
    pos: Position | None = field(default=None, compare=False, repr=False, kw_only=True)

    def children(self) -> Iterator[Node]:
        """The nodes directly below this one, in source order."""
        for name in _field_names(type(self)):
            value = getattr(self, name)
            if isinstance(value, Node):
                yield value
            elif isinstance(value, tuple):
                for item in value:
                    if isinstance(item, Node):
                        yield item
                    elif isinstance(item, tuple):  # CASE's (condition, result) pairs
                        yield from (x for x in item if isinstance(x, Node))


@lru_cache(maxsize=None)
def _field_names(cls) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls) if f.name != "pos")


def walk(node: Node) -> Iterator[tuple[Node, int]]:
    """Every node below ``node`` (itself included) with its depth; iterative, for deep trees."""
    stack = [(node, 1)]
    while stack:
        current, depth = stack.pop()
        yield current, depth
        stack.extend((child, depth + 1) for child in current.children())


def depth(node: Node) -> int:
    """The depth of the tree below ``node`` (itself counted): :func:`walk`'s deepest level,
    computed without a generator or per-field lookups, as the parser checks it on every query."""
    deepest = 0
    stack = [(node, 1)]
    pop, push = stack.pop, stack.append
    while stack:
        current, level = pop()
        if level > deepest:
            deepest = level
        level += 1
        for value in current.__dict__.values():
            if isinstance(value, Node):
                push((value, level))
            elif type(value) is tuple:
                for item in value:
                    if isinstance(item, Node):
                        push((item, level))
                    elif type(item) is tuple:  # CASE's (condition, result) pairs
                        for part in item:
                            if isinstance(part, Node):
                                push((part, level))
    return deepest


# Names ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Identifier(Node):
    """A regular (case-insensitive) or delimited (case-sensitive, §2.1.5-6) name."""

    name: str
    delimited: bool = False

    @property
    def normalized(self) -> str:
        """The name as PostgreSQL and the catalogue spell it: regular names fold to lower case."""
        return self.name if self.delimited else self.name.lower()

    def __str__(self) -> str:
        return '"' + self.name.replace('"', '""') + '"' if self.delimited else self.name


def dotted(parts: tuple[Identifier, ...]) -> str:
    return ".".join(str(p) for p in parts)


# Expressions ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class ColumnRef(Node):
    parts: tuple[Identifier, ...]  # [[[catalog.]schema.]table.]column

    @property
    def name(self) -> Identifier:
        return self.parts[-1]

    @property
    def qualifier(self) -> tuple[Identifier, ...]:
        return self.parts[:-1]


@dataclass(frozen=True)
class StringLiteral(Node):
    value: str


@dataclass(frozen=True)
class NumberLiteral(Node):
    text: str  # as written, e.g. "42", "1.5E-3", ".5"

    @property
    def is_integer(self) -> bool:
        return self.text.isdigit()

    @property
    def value(self) -> int | float:
        return int(self.text) if self.is_integer else float(self.text)


@dataclass(frozen=True)
class HexLiteral(Node):
    text: str  # "0x2F"

    @property
    def value(self) -> int:
        return int(self.text, 16)


@dataclass(frozen=True)
class NullLiteral(Node):
    pass


@dataclass(frozen=True)
class Unary(Node):
    op: str  # "-", "+", "~"
    operand: Expr


@dataclass(frozen=True)
class Binary(Node):
    op: str  # "+", "-", "*", "/", "||", "&", "|", "^"
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Comparison(Node):
    op: str  # "=", "<>", "<", ">", "<=", ">=" ("!=" is read as "<>")
    left: Expr
    right: Expr


@dataclass(frozen=True)
class BoolOp(Node):
    """AND or OR over two or more conditions (flattened, so long chains stay shallow)."""

    op: str
    operands: tuple[Expr, ...]


@dataclass(frozen=True)
class Not(Node):
    operand: Expr


@dataclass(frozen=True)
class Between(Node):
    operand: Expr
    low: Expr
    high: Expr
    negated: bool = False


@dataclass(frozen=True)
class InList(Node):
    operand: Expr
    items: tuple[Expr, ...]
    negated: bool = False


@dataclass(frozen=True)
class InQuery(Node):
    operand: Expr
    query: QueryBody
    negated: bool = False


@dataclass(frozen=True)
class Like(Node):
    operand: Expr
    pattern: Expr
    negated: bool = False
    case_insensitive: bool = False  # ILIKE, §4.4


@dataclass(frozen=True)
class IsNull(Node):
    operand: Expr
    negated: bool = False


@dataclass(frozen=True)
class Exists(Node):
    query: QueryBody


@dataclass(frozen=True)
class ScalarQuery(Node):
    query: QueryBody


@dataclass(frozen=True)
class FunctionCall(Node):
    """A function of ADQL itself (math, geometry, string, COALESCE, IN_UNIT); name upper case."""

    name: str
    args: tuple[Expr, ...]


@dataclass(frozen=True)
class UdfCall(Node):
    """A user-defined function (§4.3), ``prefix_name(...)``; name lower case."""

    name: str
    args: tuple[Expr, ...]


@dataclass(frozen=True)
class Aggregate(Node):
    name: str  # COUNT AVG MIN MAX SUM
    arg: Expr | None  # None for COUNT(*)
    distinct: bool = False


@dataclass(frozen=True)
class TypeName(Node):
    name: str  # SMALLINT INTEGER BIGINT REAL DOUBLE CHAR VARCHAR TIMESTAMP POINT CIRCLE POLYGON
    length: int | None = None


@dataclass(frozen=True)
class Cast(Node):
    operand: Expr
    target: TypeName


@dataclass(frozen=True)
class Case(Node):
    """CASE (an extension): ``operand`` is set for the simple form ``CASE x WHEN 1 THEN ...``."""

    operand: Expr | None
    whens: tuple[tuple[Expr, Expr], ...]
    default: Expr | None = None


Expr = Union[
    ColumnRef, StringLiteral, NumberLiteral, HexLiteral, NullLiteral, Unary, Binary, Comparison,
    BoolOp, Not, Between, InList, InQuery, Like, IsNull, Exists, ScalarQuery, FunctionCall,
    UdfCall, Aggregate, Cast, Case,
]


# Queries --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SelectItem(Node):
    expr: Expr
    alias: Identifier | None = None


@dataclass(frozen=True)
class AllColumns(Node):
    """``*`` (no qualifier) or ``t.*``."""

    qualifier: tuple[Identifier, ...] = ()


@dataclass(frozen=True)
class OrderItem(Node):
    expr: Expr  # an integer literal here means a select-list position
    descending: bool = False


@dataclass(frozen=True)
class TableRef(Node):
    parts: tuple[Identifier, ...]  # [[catalog.]schema.]table
    alias: Identifier | None = None


@dataclass(frozen=True)
class DerivedTable(Node):
    query: QueryBody
    alias: Identifier


@dataclass(frozen=True)
class Join(Node):
    left: FromItem
    right: FromItem
    kind: str = "INNER"  # INNER LEFT RIGHT FULL
    natural: bool = False
    condition: Expr | None = None
    using: tuple[Identifier, ...] = ()


FromItem = Union[TableRef, DerivedTable, Join]


@dataclass(frozen=True)
class Select(Node):
    items: tuple[SelectItem | AllColumns, ...]
    from_: tuple[FromItem, ...]
    distinct: bool = False
    top: int | None = None
    where: Expr | None = None
    group_by: tuple[Expr, ...] = ()
    having: Expr | None = None
    order_by: tuple[OrderItem, ...] = ()
    offset: int | None = None


@dataclass(frozen=True)
class SetOperation(Node):
    """UNION, EXCEPT or INTERSECT (§4.6); the columns are those of the left operand."""

    op: str
    left: QueryBody
    right: QueryBody
    all: bool = False
    order_by: tuple[OrderItem, ...] = ()
    offset: int | None = None


QueryBody = Union[Select, SetOperation]


@dataclass(frozen=True)
class CommonTable(Node):
    name: Identifier
    query: QueryBody


@dataclass(frozen=True)
class Query(Node):
    """A whole ADQL statement: the common tables of WITH (§4.5), then the query."""

    body: QueryBody
    with_: tuple[CommonTable, ...] = ()
