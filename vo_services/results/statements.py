"""Prepared statements on the result connections: planned once per connection, not per query.

Planning a query on the published views costs about 0.3 ms (the access rule makes them large),
more than running a cone search on the GiST index: most of a small query's time in the database.
Two kinds of statement skip it:

- :class:`Prepared`: a fixed statement with numeric parameters (``$1, $2, ...``), such as the
  cone search of each VERB level. After five executions PostgreSQL keeps a generic plan when it
  costs no more than the custom ones (the cone's does: the GiST index scan).
- A query text that a connection has run :data:`PREPARE_THRESHOLD` times is prepared as it is,
  as psycopg 3 does on its own (``prepare_threshold``): clients repeat queries verbatim (TOPCAT's
  metadata queries, scripts, polling). With no parameters, its plan is the one the text always
  gets. Only the :data:`RECENT_TEXTS` most recently run texts are remembered, and prepared.

The access rule is unchanged: ``lick.current_principals()`` and ``now()`` are evaluated when the
statement runs, never when it is planned, so one plan serves every caller. Prepared statements
outlive transactions (ROLLBACK keeps them), so a connection remembers what it has prepared
(:class:`Statements`); after a failed message (which it cannot tell how far ran) or an upload, the
session is reset with DISCARD ALL (:meth:`vo_services.results.query.ResultCursor.close`), which drops them
all, and the registry forgets them (:meth:`Statements.discarded`).
"""
from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass

PREPARE_THRESHOLD = 5
RECENT_TEXTS = 64


def number_literal(value: int | float) -> bytes:
    """A number as psycopg2 binds it (the same on every connection)."""
    from psycopg2.extensions import adapt

    return adapt(value).getquoted()


@dataclass(frozen=True)
class Prepared:
    """A statement with numeric parameters ``$1, $2, ...`` of the given SQL types."""

    name: str
    sql: str
    types: tuple[str, ...] = ()

    def __call__(self, *args: int | float) -> PreparedCall:
        if len(args) != len(self.types) or not all(isinstance(a, (int, float)) for a in args):
            raise TypeError(f"{self.name} takes {len(self.types)} numbers")
        return PreparedCall(self, args)


@dataclass(frozen=True)
class PreparedCall:
    statement: Prepared
    args: tuple[int | float, ...] = ()

    @property
    def prepare_sql(self) -> bytes:
        types = f"({', '.join(self.statement.types)})" if self.statement.types else ""
        return f"PREPARE {self.statement.name}{types} AS {self.statement.sql}".encode()

    @property
    def execute_sql(self) -> bytes:
        name = self.statement.name.encode()
        if not self.args:
            return b"EXECUTE " + name
        return b"EXECUTE %s(%s)" % (name, b", ".join(number_literal(a) for a in self.args))


class Statements:
    """The statements prepared on one connection, and the query texts it has run lately."""

    def __init__(self) -> None:
        self._prepared: set[str] = set()
        self._recent: OrderedDict[str, int] = OrderedDict()  # text's name → runs; oldest first
        self._pending: str | None = None
        self._deallocate: list[str] = []

    def statements(self, sql: bytes | PreparedCall, repeatable: bool) -> list[bytes]:
        """The statements that run ``sql`` on this connection: PREPARE first when it lacks it.

        A query text is prepared once it has run :data:`PREPARE_THRESHOLD` times, if
        ``repeatable`` (a whole result with no temporary tables: EXECUTE cannot feed a cursor).
        """
        if isinstance(sql, bytes):
            repeated = repeatable and self._repeated(sql)
            evicted = self._evicted()
            if not repeated:
                return evicted + [sql]
            sql = PreparedCall(Prepared(_text_name(sql), sql.decode()))
        else:
            evicted = self._evicted()
        name = sql.statement.name
        if name in self._prepared:
            return evicted + [sql.execute_sql]
        self._pending = name
        return evicted + [sql.prepare_sql, sql.execute_sql]

    def _evicted(self) -> list[bytes]:
        statements = [b"DEALLOCATE " + name.encode() for name in self._deallocate]
        self._deallocate = []
        return statements

    def _repeated(self, sql: bytes) -> bool:
        name = _text_name(sql)
        runs = self._recent.pop(name, 0) + 1
        self._recent[name] = runs
        if len(self._recent) > RECENT_TEXTS:
            oldest, _ = self._recent.popitem(last=False)
            if oldest in self._prepared:
                self._prepared.discard(oldest)
                self._deallocate.append(oldest)
        return runs >= PREPARE_THRESHOLD

    def succeeded(self) -> None:
        if self._pending is not None:
            self._prepared.add(self._pending)
            self._pending = None

    def discarded(self) -> None:
        """The session was reset (DISCARD ALL, after a failed message or an upload): nothing is
        prepared on it any more, whatever a failed message did or did not run."""
        self._prepared.clear()
        self._recent.clear()
        self._pending = None
        self._deallocate = []


def _text_name(sql: bytes) -> str:
    return "lick_q_" + hashlib.blake2b(sql, digest_size=8).hexdigest()
