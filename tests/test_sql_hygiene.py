"""No SQL is built as a string from outside text, anywhere in the tree (issue #13).

Every ``.py`` file of the services, ingest, watcher, benchmarks and scripts is parsed with
:mod:`ast`; a call that sends SQL (``execute``, ``executemany``, ``copy_expert``, ``copy``,
``exec_driver_sql``, SQLAlchemy's ``text``) fails this test when its SQL argument is an f-string,
a ``%`` or ``.format`` of anything but constants, or a concatenation with a non-constant, either
in the call itself or in a local variable assigned so in the same function. Outside values go as
parameters; outside names through psycopg's ``sql.Identifier`` composition (which this test lets
through: ``sql.SQL(...).format(...)`` is a call of a ``Composed``, not a string ``.format``).

The few deliberate exceptions are listed in :data:`ALLOWED`, each with why it is safe.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TREES = ("archive", "ingest", "vo_services", "watcher", "bench", "scripts")
SQL_METHODS = {"execute", "executemany", "copy_expert", "copy", "exec_driver_sql", "mogrify"}
NOT_SQL_RECEIVERS = {"shutil", "os", "copy"}  # shutil.copy(...) and friends take paths

# (file, enclosing function) -> why its string-built SQL is safe. Keep this short.
ALLOWED: dict[tuple[str, str], str] = {
    # -- module constants composed at import time or in the call; no request text reaches them
    ("vo_services/results/query.py", "query_session"):
        "READ_ONLY and SESSION_SETTINGS are module constants; the values go as parameters.",
    ("vo_services/identity.py", "identity_of"):
        "IDENTITY_COLUMNS is a module constant; the user name goes as a parameter",
    ("archive/benchrows.py", "_copy_chunk"):
        "COLUMNS is the module's constant column list of lick.observation",
    # -- identifiers and text from archive/published.py, the code's own catalogue
    ("archive/publish.py", "_insert"):
        "table and column names come from archive/published.py (constants of the code); "
        "the values go as bound parameters",
    ("archive/publish.py", "publish"):
        "the comment is fingerprint(), a SHA-256 of archive/published.py's description: hex digits only",
    ("bench/bench_auth.py", "plan"):
        "EXPLAIN of the benchmark's own constant ADQL query, translated (names quoted) by the translator",
    # -- migrations: names of the code's own tables and triggers, and the operator's role names
    ("archive/migrations/versions/0001_archive_schema.py", "upgrade"):
        "role names from the operator's configuration (archive.config), run by the operator's "
        "`lick-admin migrate`, never from a request",
    ("archive/migrations/versions/0010_holdings.py", "upgrade"):
        "the query role's name from the settings, quoted",
    ("archive/visible_counts.py", "install"):
        "a count function's name and type, constants of archive/visible_counts.py's declarations, "
        "and the query role's name from the settings, quoted; run by the operator's migrations",
    ("archive/migrations/versions/0002_ingest_bookkeeping.py", "upgrade"):
        "role names from the operator's configuration (archive.config), run by the operator",
    ("archive/migrations/versions/0004_admin_curation.py", "upgrade"):
        "table and column names from the migration's own constant list",
    ("archive/migrations/versions/0004_admin_curation.py", "downgrade"):
        "table and column names from the migration's own constant list",
    ("archive/migrations/versions/0012_coverage.py", "upgrade"):
        "the ingest role's name from the operator's configuration (archive.config), quoted, run by the operator",
    ("archive/migrations/versions/0006_signed_principals.py", "upgrade"):
        "the operator's query and ingest role names, from settings, as quoted identifiers",
    ("archive/migrations/versions/0007_filter_indexes.py", "upgrade"):
        "index names and column lists from the migration's own constant tables",
    ("archive/migrations/versions/0007_filter_indexes.py", "downgrade"):
        "index names and column lists from the migration's own constant tables",
    ("bench/bench_aggregates.py", "plans"):
        "EXPLAIN of the benchmark's own constant ADQL queries, translated (names quoted) by the translator",
    ("archive/migrations/versions/0014_row_security.py", "downgrade"):
        "the operator's query role name, from settings, as a quoted identifier",
    ("archive/migrations/versions/0005_grantees.py", "downgrade"):
        "trigger names from the migration's own constant list",
}


@dataclass(frozen=True)
class Hit:
    path: str
    function: str
    line: int
    source: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line} in {self.function}(): {self.source}"


def _constant(node: ast.AST) -> bool:
    """A literal (or a tuple/list of literals): nothing from outside can be in it."""
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, (ast.Tuple, ast.List)):
        return all(_constant(e) for e in node.elts)
    return False


def _string_built(node: ast.AST) -> bool:
    """SQL text built from something that is not a literal."""
    if isinstance(node, ast.JoinedStr):
        return any(isinstance(v, ast.FormattedValue) for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        return _string_built(node.left) or not _constant(node.right)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return any(_string_built(side) or not _constant(side) for side in (node.left, node.right))
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format"
            and isinstance(node.func.value, (ast.Constant, ast.JoinedStr, ast.BinOp))):
        return not all(_constant(a) for a in [*node.args, *(k.value for k in node.keywords)])
    return False


def _sql_argument(call: ast.Call) -> ast.AST | None:
    """The SQL argument of a call that sends SQL, or None for any other call."""
    func = call.func
    if isinstance(func, ast.Attribute) and func.attr in SQL_METHODS:
        if isinstance(func.value, ast.Name) and func.value.id in NOT_SQL_RECEIVERS:
            return None
    elif isinstance(func, ast.Name) and func.id == "text":
        pass  # sqlalchemy.text, imported by name
    elif isinstance(func, ast.Attribute) and func.attr == "text" and isinstance(func.value, ast.Name) \
            and func.value.id in ("sa", "sqlalchemy"):
        pass
    else:
        return None
    if call.args:
        return call.args[0]
    for keyword in call.keywords:
        if keyword.arg in ("sql", "statement", "query", "text"):
            return keyword.value
    return None


class _Scanner(ast.NodeVisitor):
    def __init__(self, path: str, source: str):
        self.path = path
        self.source = source
        self.scopes: list[tuple[str, ast.AST]] = []
        self.hits: list[Hit] = []

    def _function(self, node) -> None:
        self.scopes.append((node.name, node))
        self.generic_visit(node)
        self.scopes.pop()

    visit_FunctionDef = visit_AsyncFunctionDef = _function

    def _assigned_string_built(self, name: str) -> bool:
        """A local variable of the enclosing function (or module) assigned built SQL text."""
        scope = self.scopes[-1][1] if self.scopes else None
        if scope is None:
            return False
        for node in ast.walk(scope):
            if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
                if _string_built(node.value):
                    return True
            if isinstance(node, (ast.AugAssign, ast.AnnAssign)) and isinstance(node.target, ast.Name) \
                    and node.target.id == name and node.value is not None:
                if isinstance(node, ast.AugAssign) and not _constant(node.value):
                    return True
                if _string_built(node.value):
                    return True
        return False

    def visit_Call(self, node: ast.Call) -> None:
        argument = _sql_argument(node)
        if argument is not None and (
                _string_built(argument)
                or (isinstance(argument, ast.Name) and self._assigned_string_built(argument.id))):
            function = self.scopes[-1][0] if self.scopes else "<module>"
            text = ast.get_source_segment(self.source, node) or ""
            self.hits.append(Hit(self.path, function, node.lineno, " ".join(text.split())[:160]))
        self.generic_visit(node)


def scan(path: Path) -> list[Hit]:
    source = path.read_text()
    scanner = _Scanner(path.relative_to(ROOT).as_posix(), source)
    scanner.visit(ast.parse(source, filename=str(path)))
    return scanner.hits


def all_hits() -> list[Hit]:
    return [hit for tree in TREES for path in sorted((ROOT / tree).rglob("*.py")) for hit in scan(path)]


def test_no_sql_is_built_from_strings_outside_the_allow_list():
    hits = [h for h in all_hits() if (h.path, h.function) not in ALLOWED]
    assert not hits, "SQL built as a string (use parameters or psycopg sql composition):\n" + \
        "\n".join(map(str, hits))


def test_every_allow_list_entry_is_still_needed():
    """An entry whose code was fixed or moved goes: the list says what is deliberate today."""
    used = {(h.path, h.function) for h in all_hits()}
    assert not set(ALLOWED) - used, sorted(set(ALLOWED) - used)


def test_the_scanner_finds_each_kind_of_string_built_sql(tmp_path):
    """The checks above could fail: each unsafe form is found, each safe one is not."""
    sample = tmp_path / "sample.py"
    sample.write_text(
        "def unsafe(cur, conn, name, op):\n"
        "    cur.execute(f\"SELECT * FROM t WHERE a = '{name}'\")\n"
        "    cur.execute(\"SELECT * FROM t WHERE a = '%s'\" % name)\n"
        "    cur.execute(\"SELECT * FROM {}\".format(name))\n"
        "    cur.execute(\"SELECT * FROM \" + name)\n"
        "    statement = f\"DROP TABLE {name}\"\n"
        "    cur.execute(statement)\n"
        "    conn.exec_driver_sql(f'COPY {name} FROM STDIN')\n"
        "    cur.copy_expert('COPY ' + name + ' FROM STDIN', None)\n"
        "    op.execute(text(f'GRANT SELECT ON t TO {name}'))\n"
        "def safe(cur, name):\n"
        "    cur.execute('SELECT * FROM t WHERE a = %s', (name,))\n"
        "    cur.execute(sql.SQL('SELECT * FROM {}').format(sql.Identifier(name)))\n"
        "    cur.execute('SELECT ' + 'constant')\n"
        "    shutil.copy(f'{name}.txt', 'b')\n")
    hits = scan_text(sample)
    assert [h.line for h in hits] == [2, 3, 4, 5, 7, 8, 9, 10], hits


def scan_text(path: Path) -> list[Hit]:
    source = path.read_text()
    scanner = _Scanner(path.name, source)
    scanner.visit(ast.parse(source))
    return scanner.hits
