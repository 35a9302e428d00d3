"""What the ADQL page does, without Django's request: read its form, run a query, submit a job.

No second query path: a sync run is a TAP request (:class:`~vo_services.tap.execution.TapRequest`,
the same parameters and checks as /tap/sync) translated by the one translator and run by the one
result engine as the caller (:func:`vo_services.tap.execution.stream`); only its encoder writes
HTML rows (:mod:`vo_services.portal.result_table`). An async run is a real TAP job
(:mod:`vo_services.tap.jobs`), the same as a POST to /tap/async, which the workers run as its
owner.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from urllib.parse import urlencode

from archive.config import get_settings
from vo_services import limits
from vo_services.dali import DaliParams
from vo_services.results.query import DatabaseUnavailable, QueryFailed
from vo_services.tap.adql import AdqlError
from vo_services.tap.examples import EXAMPLES, Example
from vo_services.tap.execution import TapRequest, TapUsageError, prepare, stream
from vo_services.portal.result_table import HtmlTable

#: Rows the page shows at most (the rest is for /tap/sync or an async job).
PAGE_ROWS = 1_000
DEFAULT_MAXREC = 100
#: Seconds a query run from the page may take; longer ones belong in an async job.
PAGE_TIMEOUT_S = min(30.0, float(limits.SYNC_EXECUTION_S.default))

PERMALINK_CHARS = 1_500

_TOKEN = re.compile(r"[A-Za-z0-9_.]+|'[^'\n]*'?|\"[^\"\n]*\"?")


def example(example_id: str | None) -> Example | None:
    """One of the /tap/examples queries (the very list that page is made from)."""
    return next((e for e in EXAMPLES if e.id == example_id), None)


@dataclass
class QueryForm:
    """The page's form: the query text and MAXREC as typed, and a message per field in error."""

    query: str = ""
    maxrec_text: str = str(DEFAULT_MAXREC)
    maxrec: int = DEFAULT_MAXREC
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def read(cls, data, *, largest: int) -> QueryForm:
        """From the submitted fields (``query``, ``maxrec``). MAXREC must be a whole number from
        0 to ``largest`` (DALI 1.1 §3.4.4: 0 asks for the columns only)."""
        form = cls(query=(data.get("query") or "").replace("\r\n", "\n"),
                   maxrec_text=(data.get("maxrec") or "").strip() or str(DEFAULT_MAXREC))
        try:
            form.maxrec = int(form.maxrec_text)
        except ValueError:
            form.errors["maxrec"] = f"MAXREC must be a whole number of rows, such as {DEFAULT_MAXREC}"
        else:
            if not 0 <= form.maxrec <= largest:
                form.errors["maxrec"] = f"MAXREC must be between 0 and {largest:,} rows"
        if not form.query.strip():
            form.errors["query"] = "type a query, or pick an example"
        return form

    def tap_request(self) -> TapRequest:
        """The TAP request this form makes, read exactly as /tap/sync reads its parameters."""
        return TapRequest.from_params(DaliParams(
            [("LANG", "ADQL"), ("QUERY", self.query), ("MAXREC", str(self.maxrec))]))


@dataclass(frozen=True)
class MarkedLine:
    """One line of the query as the page shows it, the part in error (if any) cut out."""

    number: int
    before: str
    marked: str = ""
    after: str = ""
    column: int | None = None  # 1-based, where ``marked`` begins


@dataclass(frozen=True)
class QueryError:
    """A query the service would not run, or that failed: the message and, when the translator
    knows it, the line and column (1-based) where the problem is."""

    message: str
    line: int | None = None
    column: int | None = None

    @classmethod
    def of(cls, exc: AdqlError) -> QueryError:
        return cls(exc.message, exc.line, exc.column)

    @property
    def text(self) -> str:
        return self.message if self.line is None else f"line {self.line}, column {self.column}: {self.message}"

    def marked_lines(self, query: str) -> list[MarkedLine]:
        """The query's lines, the token at (line, column) marked; past a line's end, a blank
        is marked (a query that ends too early)."""
        lines = query.split("\n")
        shown = []
        for number, text in enumerate(lines, start=1):
            if number != self.line or self.column is None:
                shown.append(MarkedLine(number, text))
                continue
            start = min(max(self.column - 1, 0), len(text))
            token = _TOKEN.match(text, start)
            end = token.end() if token else min(start + 1, len(text))
            shown.append(MarkedLine(number, text[:start], text[start:end] or " ", text[end:], start + 1))
        return shown


@dataclass
class SyncResult:
    table_html: str = ""
    rows: int = 0
    overflow: bool = False
    error: QueryError | None = None


def run_sync(form: QueryForm, principals: tuple[str, ...]) -> SyncResult:
    """Run the form's query as /tap/sync would, as ``principals``, into an HTML table."""
    table = HtmlTable()
    try:
        request = replace(form.tap_request(), output=table.output_format())
        prepared = prepare(request)
    except AdqlError as exc:
        return SyncResult(error=QueryError.of(exc))
    except TapUsageError as exc:
        return SyncResult(error=QueryError(str(exc)))
    result = stream(prepared, principals, PAGE_TIMEOUT_S)
    try:
        result.start()
        body = b"".join(result)
    except DatabaseUnavailable as exc:
        return SyncResult(error=QueryError(str(exc)))
    except QueryFailed as exc:
        message = str(exc)
        if "longer than the time allowed" in message:
            message += f" (the page allows {PAGE_TIMEOUT_S:g} s; run it as an async job instead)"
        return SyncResult(error=QueryError(message))
    finally:
        result.close()
    return SyncResult(body.decode(), table.rows, table.overflow)


def check(form: QueryForm) -> QueryError | None:
    """The translator's verdict on the form's query, before it becomes a job (TAP 1.1 §2.7
    lets a job's query wait until it runs; the page tells its user at once)."""
    try:
        prepare(form.tap_request())
    except AdqlError as exc:
        return QueryError.of(exc)
    except TapUsageError as exc:
        return QueryError(str(exc))
    return None


def submit_job(form: QueryForm, owner: str | None, address: str | None):
    """A TAP async job for the form's query, owned by ``owner``, and run unless its owner (or
    anonymous address) has too many jobs in flight: then it stays PENDING (its owner may run it
    later, as UWS allows) and the second value says why."""
    from vo_services.tap import jobs
    from vo_services.tap.admission import too_many_jobs

    job = jobs.create(owner, [("LANG", "ADQL"), ("QUERY", form.query), ("MAXREC", str(form.maxrec))],
                      address)
    refused = too_many_jobs(owner, address)
    if refused is None:
        jobs.run(job)
    return job, refused


def sync_url(form: QueryForm) -> str:
    """The /tap/sync URL of the form's query (a VOTable), for SAMP and for scripts."""
    params = {"REQUEST": "doQuery", "LANG": "ADQL", "MAXREC": form.maxrec, "QUERY": form.query}
    return f"{get_settings().public_url}/tap/sync?{urlencode(params)}"


def permalink(form: QueryForm) -> str | None:
    """The page's own link that runs the form's query again (None for a query too long to fit
    comfortably in a URL: servers refuse request lines beyond about 4 kB)."""
    if not form.query.strip() or len(form.query) > PERMALINK_CHARS or form.errors:
        return None
    return "?" + urlencode({"query": form.query, "maxrec": form.maxrec, "run": 1})


def job_urls(job) -> dict[str, str]:
    """Where the job lives in the TAP service (UWS 1.1 §2.2): its document and its result."""
    base = f"{get_settings().public_url}/tap/async/{job.id}"
    return {"uws": base, "result": f"{base}/results/result"}
