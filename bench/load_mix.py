"""Many clients at once against a real server: the load driver of bench/bench_load.py and
tests/test_load.py (issue #20).

Each client is a thread with its own keep-alive HTTP connection (as pyvo's session or TOPCAT
keep theirs), its own caller (anonymous or a Bearer token) and its own address (sent as
X-Forwarded-For; the server trusts loopback as a proxy, so the per-address limits see many
clients). It draws kinds of work from a weighted mix until the deadline or its request budget,
and records every exchange with what was wrong with it, if anything: the test asserts on the
records, the bench prints their figures.

No mocks and no shortcuts: the answers are parsed as XML (a VOTable with QUERY_STATUS, a UWS job
document), async jobs go through submission, WAIT polling and the result, and the proprietary
marker is looked for in every answer to a caller who may not see it.
"""
from __future__ import annotations

import base64
import http.client
import random
import re
import statistics
import threading
import time
import urllib.parse
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
#: The paths the server's rate limit counts (vo_services.usage_limits.EXPENSIVE), by method.
RATE_COUNTED = {("GET", "/tap/sync"), ("POST", "/tap/sync"), ("GET", "/scs"), ("GET", "/datalink/links"),
                ("POST", "/tap/async"), ("POST", "/datalink/bundles"),
                ("GET", "/search")}  # the portal's results, by vo_services.usage_limits.page_rate_limited
#: The columns of the 100,000-row query: four doubles, so that a BINARY2 row is exactly
#: 1 + 4 x 8 bytes (VOTable 1.4 §5.5: one null-flag byte for up to eight columns, then the cells).
BIG_COLUMNS = 4
BIG_ROW_BYTES = 1 + BIG_COLUMNS * 8
BINARY2 = "votable/b2"
_PHASE = re.compile(rb"<uws:phase>(\w+)</uws:phase>")
_LIMIT = re.compile(rb"LICK_[A-Z_]+")


@dataclass(frozen=True)
class Caller:
    name: str  # "anonymous" or a user name
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Exchange:
    """One HTTP request and its answer, as the client saw it."""

    client: int
    kind: str
    caller: str
    method: str
    path: str
    status: int | None  # None: no answer (connection refused, reset, timed out)
    ms: float
    problem: str | None = None  # what was wrong with the answer; None when it was as expected
    limit: str | None = None  # the LICK_* variable a 429 or 503 named

    @property
    def rate_counted(self) -> bool:
        return (self.method, self.path.split("?", 1)[0].rstrip("/")) in RATE_COUNTED


@dataclass
class Scenario:
    """What the clients ask for. ``secret_marker`` must reach only ``secret_owners``."""

    cones: list[tuple[float, float, float]]  # (RA, Dec, radius) in degrees
    datalink_ids: list[str]
    small_queries: list[str]
    heavy_queries: list[str] = field(default_factory=list)
    async_query: str = "SELECT TOP 5 obs_id, s_ra, s_dec FROM ivoa.obscore"
    secret_marker: bytes | None = None
    secret_owners: frozenset[str] = frozenset()
    secret_cone: tuple[float, float, float] | None = None  # where the secret rows are, asked now and then
    secret_rows: int = 0  # how many of them an owner must see there
    big_query: str | None = None  # a query of 100,000 rows of BIG_COLUMNS doubles, asked as BINARY2
    big_rows: int = 100_000
    downloads: list[Download] = field(default_factory=list)  # files fetched with Range requests
    searches: list[str] = field(default_factory=list)  # the portal's search page: query strings


@dataclass(frozen=True)
class Download:
    """A file of the archive: its download path, its bytes, who may fetch it (None: everyone)."""

    path: str
    body: bytes
    owners: frozenset[str] | None = None


class Connection:
    """One kept-alive HTTP/1.1 connection; reopened when the server closed it while idle."""

    def __init__(self, base: str, timeout: float):
        self.netloc = urllib.parse.urlsplit(base).netloc
        self.timeout = timeout
        self.conn: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, body: bytes | None, headers: dict) -> tuple[int, dict, bytes]:
        for attempt in (1, 2):
            fresh = self.conn is None
            if fresh:
                self.conn = http.client.HTTPConnection(self.netloc, timeout=self.timeout)
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                answer = response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as exc:
                self.close()
                # A kept connection the server closed while idle (its keep-alive timeout) is
                # reopened once, as every HTTP client does; on a fresh connection it is an error.
                if fresh or attempt == 2:
                    raise ConnectionError(f"{type(exc).__name__} on a {'new' if fresh else 'kept'} connection") from exc
                continue
            except Exception:
                self.close()
                raise
            if answer[1].get("connection", "").lower() == "close":
                self.close()
            return answer
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def votable_problem(body: bytes, status_expected: str = "OK") -> str | None:
    """Why ``body`` is not a well-formed VOTable with QUERY_STATUS ``status_expected``; None if it is."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        return f"not well-formed XML: {exc}: {body[:200]!r}"
    if not root.tag.endswith("VOTABLE"):
        return f"root element {root.tag}, not VOTABLE"
    statuses = [e.get("value") for e in root.iter() if e.tag.endswith("INFO") and e.get("name") == "QUERY_STATUS"]
    if status_expected not in statuses:
        return f"QUERY_STATUS {statuses}, expected {status_expected}: {body[:300]!r}"
    return None


class Client:
    """One simulated user: a thread with a connection, a caller and an address."""

    def __init__(self, number: int, base: str, caller: Caller, address: str, scenario: Scenario,
                 mix: dict[str, int], record: Callable[[Exchange], None], seed: int, timeout: float = 120):
        self.number, self.caller, self.scenario, self.record = number, caller, scenario, record
        self.connection = Connection(base, timeout)
        self.headers = {**caller.headers, "X-Forwarded-For": address}
        self.rng = random.Random(seed)
        self.kinds = list(mix)
        self.weights = [mix[k] for k in self.kinds]
        self.requests = 0

    # ---------------------------------------------------------------- one exchange -------------
    def exchange(self, kind: str, method: str, path: str, pairs: list[tuple[str, str]] | None = None,
                 expect: tuple[int, ...] = (200,), check: Callable[[int, dict, bytes], str | None] | None = None,
                 extra: dict[str, str] | None = None) -> tuple[int | None, dict, bytes]:
        body = urllib.parse.urlencode(pairs).encode() if method == "POST" and pairs is not None else None
        if method != "POST" and pairs:
            path = f"{path}?{urllib.parse.urlencode(pairs)}"
        headers = {**self.headers, **(FORM if body is not None else {}), **(extra or {})}
        started = time.perf_counter()
        try:
            status, fields, answer = self.connection.request(method, path, body, headers)
        except (OSError, http.client.HTTPException) as exc:
            self.requests += 1
            self.record(Exchange(self.number, kind, self.caller.name, method, path, None,
                                 (time.perf_counter() - started) * 1000, f"no answer: {exc}"))
            return None, {}, b""
        ms = (time.perf_counter() - started) * 1000
        self.requests += 1
        problem = None
        page = path.startswith("/search")
        if status == 429 and page:
            # the portal's results page says it in words (vo_services.usage_limits.page_rate_limited)
            problem = None if b"Too many queries" in answer else f"429 page without its reason: {answer[:300]!r}"
        elif status == 503 and page:
            # the sync slots are taken (vo_services/sync_slots.py): the portal's plain page, naming them
            problem = (None if b"LICK_SYNC_SLOTS" in answer and "retry-after" in fields
                       else f"503 page without its reason or Retry-After: {answer[:300]!r}")
        elif status in (429, 503):
            # A limit (429: the caller's; 503: the server's sync slots, vo_services/sync_slots.py):
            # a standard error document (DALI §4.2) with Retry-After.
            problem = votable_problem(answer, "ERROR")
            if problem is None and "retry-after" not in fields:
                problem = f"{status} without Retry-After"
        elif status not in expect:
            problem = f"HTTP {status}, expected {expect}: {answer[:300]!r}"
        elif check is not None:
            problem = check(status, fields, answer)
        if problem is None and self.scenario.secret_marker and self.caller.name not in self.scenario.secret_owners \
                and self.scenario.secret_marker in answer:
            problem = f"LEAK: a proprietary row reached {self.caller.name}"
        named = _LIMIT.search(answer) if status in (429, 503) and not (page and status == 429) else None
        limit = "LICK_RATE_LIMIT" if status == 429 and page else named.group().decode() if named else None
        self.record(Exchange(self.number, kind, self.caller.name, method, path, status, ms, problem, limit))
        return status, fields, answer

    # ---------------------------------------------------------------- the kinds of work --------
    def cone(self) -> None:
        ra, dec, radius = self.rng.choice(self.scenario.cones)
        self.exchange("cone", "GET", "/scs", [("RA", f"{ra}"), ("DEC", f"{dec}"), ("SR", f"{radius}")],
                      check=lambda s, f, b: votable_problem(b))

    def tap_small(self) -> None:
        query = self.rng.choice(self.scenario.small_queries)
        self.exchange("tap_small", "POST", "/tap/sync", [("LANG", "ADQL"), ("QUERY", query)],
                      check=lambda s, f, b: votable_problem(b))

    def tap_heavy(self) -> None:
        query = self.rng.choice(self.scenario.heavy_queries)
        # Bounded by the sync time limit: an answer in time, or the standard error saying it was
        # cut; or 503 when the server's sync slots are taken (vo_services/sync_slots.py), after
        # which the client waits as Retry-After asks (at most 5 s), as a polite client does.
        status, fields, _ = self.exchange(
            "tap_heavy", "POST", "/tap/sync", [("LANG", "ADQL"), ("QUERY", query)], expect=(200, 400),
            check=lambda s, f, b: votable_problem(b, "OK" if s == 200 else "ERROR"))
        if status == 503:
            time.sleep(min(5.0, float(fields.get("retry-after", "1"))))

    def tap_100k(self) -> None:
        """100,000 rows as BINARY2 (the default serialization of VOTable output): every row there,
        whole. 503 when the sync slots are taken, after which the client waits as asked."""
        rows = self.scenario.big_rows

        def check(status: int, fields: dict, body: bytes) -> str | None:
            opened = body.find(b'<STREAM encoding="base64">')
            closed = body.find(b"</STREAM>", opened)
            if b"<BINARY2>" not in body or opened < 0 or closed < 0:
                return f"no BINARY2 stream: {body[:300]!r}"
            size = len(base64.b64decode(body[opened + 26:closed]))  # the line breaks are left out
            if size != rows * BIG_ROW_BYTES:
                return f"{size} bytes of BINARY2 rows, not {rows} rows of {BIG_ROW_BYTES}"
            return votable_problem(body[:opened] + body[closed + 9:])

        status, fields, _ = self.exchange(
            "tap_100k", "POST", "/tap/sync", [("LANG", "ADQL"), ("QUERY", self.scenario.big_query),
                                              ("MAXREC", str(rows)), ("RESPONSEFORMAT", BINARY2)], check=check)
        if status == 503:
            time.sleep(min(5.0, float(fields.get("retry-after", "1"))))

    def download(self) -> None:
        """A slice of a file by an HTTP Range request (RFC 9110 §14): 206, Content-Range, exactly
        those bytes; now and then a range past the end: 416 and ``bytes */size`` (§15.5.17).
        A file in its proprietary period: its owners get the slice, anyone else 401 or 403."""
        file = self.rng.choice(self.scenario.downloads)
        size = len(file.body)
        allowed = file.owners is None or self.caller.name in file.owners
        draw = self.rng.random()
        if draw < 0.1:
            wanted, first, last = f"bytes={size + self.rng.randint(0, 1000)}-", None, None
        elif draw < 0.25:
            length = self.rng.randint(1, size)
            wanted, first, last = f"bytes=-{length}", size - length, size - 1
        else:
            first = self.rng.randrange(size)
            last = min(size - 1, first + self.rng.randint(0, 256 * 1024))
            wanted = f"bytes={first}-{last}"

        def check(status: int, fields: dict, body: bytes) -> str | None:
            if not allowed:
                return None
            if first is None:
                return None if fields.get("content-range") == f"bytes */{size}" else \
                    f"416 with Content-Range {fields.get('content-range')!r}"
            if fields.get("content-range") != f"bytes {first}-{last}/{size}":
                return f"Content-Range {fields.get('content-range')!r} for {wanted} of {size} bytes"
            if body != file.body[first:last + 1]:
                return f"{len(body)} bytes that are not bytes {first}-{last} of {file.path}"
            return None

        expect = ((206,) if first is not None else (416,)) if allowed else (401, 403)
        self.exchange("download", "GET", file.path, expect=expect, check=check, extra={"Range": wanted})

    def portal_search(self) -> None:
        """The portal's search page with a few conditions: an HTML page with its results."""
        def check(status: int, fields: dict, body: bytes) -> str | None:
            if not fields.get("content-type", "").startswith("text/html") or b"</html>" not in body:
                return f"not an HTML page: {fields.get('content-type')} {body[:200]!r}"
            return None

        self.exchange("portal_search", "GET", f"/search?{self.rng.choice(self.scenario.searches)}", check=check)

    def datalink(self) -> None:
        did = self.rng.choice(self.scenario.datalink_ids)
        self.exchange("datalink", "GET", "/datalink/links", [("ID", did)], check=lambda s, f, b: votable_problem(b))

    def secret_cone(self) -> None:
        """The cone over the proprietary rows: its owners see every one, anyone else none."""
        ra, dec, radius = self.scenario.secret_cone
        owner = self.caller.name in self.scenario.secret_owners

        def check(status: int, fields: dict, body: bytes) -> str | None:
            problem = votable_problem(body)
            seen = body.count(self.scenario.secret_marker)
            if problem is None and owner and seen < self.scenario.secret_rows:
                problem = f"{self.caller.name} saw {seen} of their {self.scenario.secret_rows} proprietary rows"
            return problem

        self.exchange("secret_cone", "GET", "/scs", [("RA", f"{ra}"), ("DEC", f"{dec}"), ("SR", f"{radius}"),
                                                    ("VERB", "3")], check=check)

    def async_job(self) -> None:
        """Submit with PHASE=RUN, follow the job with WAIT until it ends, fetch its result, delete it."""
        status, fields, body = self.exchange(
            "async_submit", "POST", "/tap/async", [("LANG", "ADQL"), ("QUERY", self.scenario.async_query),
                                                   ("PHASE", "RUN")], expect=(303,))
        if status != 303:
            return  # a 429 (the job limit) was checked by exchange(); the job stays PENDING
        job = urllib.parse.urlsplit(fields["location"]).path
        deadline = time.monotonic() + 90
        phase = b"QUEUED"
        while phase in (b"PENDING", b"QUEUED", b"EXECUTING") and time.monotonic() < deadline:
            status, _, body = self.exchange("async_poll", "GET", job, [("WAIT", "10"), ("PHASE", phase.decode())],
                                            check=lambda s, f, b: None if _PHASE.search(b) else f"no phase: {b[:200]!r}")
            if status != 200:
                return
            phase = _PHASE.search(body).group(1)
        if phase != b"COMPLETED":
            self.record(Exchange(self.number, "async_poll", self.caller.name, "GET", job, 200, 0.0,
                                 f"job ended {phase.decode()} (or not within 90 s)"))
            return
        self.exchange("async_result", "GET", f"{job}/results/result", check=lambda s, f, b: votable_problem(b))
        self.exchange("async_delete", "POST", job, [("ACTION", "DELETE")], expect=(303,))

    # ---------------------------------------------------------------- the loop -----------------
    def run(self, deadline: float, budget: int, start: threading.Barrier) -> None:
        start.wait()
        try:
            while time.monotonic() < deadline and self.requests < budget:
                getattr(self, self.rng.choices(self.kinds, self.weights)[0])()
        finally:
            self.connection.close()


def run_load(base: str, callers: list[tuple[Caller, str]], scenario: Scenario, mix: dict[str, int],
             seconds: float, budget: int, seed: int = 20,
             mixes: dict[int, dict[str, int]] | None = None, budgets: dict[int, int] | None = None
             ) -> tuple[list[Exchange], float]:
    """Run one client per (caller, address) for ``seconds`` or ``budget`` requests each; the
    exchanges and the elapsed wall time. ``mixes`` and ``budgets`` give some clients (by number)
    a mix or a budget of their own."""
    exchanges: list[Exchange] = []
    lock = threading.Lock()

    def record(exchange: Exchange) -> None:
        with lock:
            exchanges.append(exchange)

    start = threading.Barrier(len(callers) + 1)
    clients = [Client(n, base, caller, address, scenario, (mixes or {}).get(n, mix), record, seed * 1000 + n)
               for n, (caller, address) in enumerate(callers)]
    began = time.monotonic()
    deadline = began + seconds
    threads = [threading.Thread(target=c.run, args=(deadline, (budgets or {}).get(c.number, budget), start),
                                name=f"client-{c.number}") for c in clients]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.monotonic()
    for thread in threads:
        thread.join(timeout=seconds + 240)
    return exchanges, time.monotonic() - began


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def summary(exchanges: list[Exchange], elapsed: float, kinds: list[str] | None = None) -> list[str]:
    """Lines of figures: requests/s in all, and count, errors, p50/p95/p99 ms per kind."""
    lines = [f"{len(exchanges)} requests in {elapsed:.1f} s: {len(exchanges) / elapsed:.1f} requests/s; "
             f"errors {sum(1 for e in exchanges if e.problem)}; "
             f"429 {sum(1 for e in exchanges if e.status == 429)}; "
             f"503 {sum(1 for e in exchanges if e.status == 503)}"]
    lines.append(f"  {'kind':<14}{'n':>6}{'err':>5}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}")
    for kind in kinds or sorted({e.kind for e in exchanges}):
        mine = [e for e in exchanges if e.kind == kind]
        ms = [e.ms for e in mine if e.status not in (None, 429, 503)]
        lines.append(f"  {kind:<14}{len(mine):>6}{sum(1 for e in mine if e.problem):>5}"
                     f"{percentile(ms, 50):>9.1f}{percentile(ms, 95):>9.1f}{percentile(ms, 99):>9.1f}")
    return lines


class Sampler(threading.Thread):
    """Samples, every ``interval`` s while the load runs, what must stay bounded: the server's
    PostgreSQL connections (by application_name) and active async jobs per owner."""

    def __init__(self, dsn: str, application_name: str, interval: float = 0.25):
        super().__init__(daemon=True, name="sampler")
        self.dsn, self.application_name, self.interval = dsn, application_name, interval
        self.stopped = threading.Event()
        self.peak_connections = 0
        self.peak_jobs_per_owner: dict[str, int] = {}

    def run(self) -> None:
        import psycopg2

        conn = psycopg2.connect(self.dsn, application_name="lick-load-sampler")  # not counted itself
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                while not self.stopped.wait(self.interval):
                    cur.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
                                (self.application_name,))
                    self.peak_connections = max(self.peak_connections, cur.fetchone()[0])
                    cur.execute("SELECT coalesce(owner, host(origin)), count(*) FROM tap_job "
                                "WHERE phase IN ('QUEUED', 'EXECUTING') GROUP BY 1")
                    for owner, count in cur.fetchall():
                        self.peak_jobs_per_owner[owner] = max(self.peak_jobs_per_owner.get(owner, 0), count)
        finally:
            conn.close()

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=10)


def process_tree(pid: int) -> list[int]:
    """``pid`` and all its descendants (gunicorn's master and workers; Celery's and its pool's)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:
            for task in Path(f"/proc/{current}/task").iterdir():
                todo += [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            continue  # gone meanwhile
    return found


def peak_rss_mb(pids: list[int]) -> dict[int, tuple[str, float]]:
    """Each process's name (its command line, short) and its peak resident set (VmHWM) in MB."""
    peaks = {}
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text().splitlines()
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        hwm = next((int(line.split()[1]) for line in status if line.startswith("VmHWM:")), 0)
        peaks[pid] = (" ".join(Path(word).name if n == 0 else word for n, word in enumerate(command.split()[:4])),
                      hwm / 1024)
    return peaks


def rss_lines(peaks: dict[int, tuple[str, float]]) -> list[str]:
    return [f"  peak RSS {mb:7.1f} MB  pid {pid:<7} {name}" for pid, (name, mb) in sorted(peaks.items())]


def connections_now(dsn: str, application_name: str) -> dict[str, int]:
    """The server's PostgreSQL connections by state (active, idle, idle in transaction)."""
    import psycopg2

    with psycopg2.connect(dsn, application_name="lick-load-sampler") as conn, conn.cursor() as cur:
        cur.execute("SELECT coalesce(state, '?'), count(*) FROM pg_stat_activity WHERE application_name = %s "
                    "GROUP BY 1", (application_name,))
        states = dict(cur.fetchall())
    conn.close()
    return states
