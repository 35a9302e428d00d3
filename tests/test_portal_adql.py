"""The ADQL page (/query) in a real browser against the real server, database and Celery worker:
examples one click away, sync results through the TAP path as the caller, errors marked where
they are, async jobs (phase, download, abort), bad input answered beside the field."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.browser import log_in, screenshot
from tests.proprietary_world import PASSWORDS
from vo_services.tap.examples import EXAMPLES

LEAKS = "SELECT obs_id, target_name FROM ivoa.obscore WHERE target_name LIKE 'LEAK%' ORDER BY target_name"
pytestmark = pytest.mark.django_db(transaction=True)  # the world's users, and the jobs table

# Long enough to be caught running: a cross join of the demo rows four times over.
SLOW = ("SELECT COUNT(*) AS n FROM ivoa.obscore AS a, ivoa.obscore AS b, ivoa.obscore AS c, "
        "ivoa.obscore AS d")


@pytest.fixture(scope="module")
def base(live_archive) -> str:
    return live_archive


def run(page, query: str, maxrec: str | None = None, button: str = "Run") -> None:
    page.get_by_label("ADQL query").fill(query)
    if maxrec is not None:
        page.get_by_label("MAXREC (most rows)").fill(maxrec)
    page.get_by_role("button", name=button, exact=True).click()
    page.wait_for_load_state()


def result_column(page, index: int) -> list[str]:
    return page.locator(f"table.result tbody tr td:nth-child({index})").all_inner_texts()


def test_an_example_goes_into_the_box_in_one_click_and_runs(page, base):
    holdings = next(e for e in EXAMPLES if e.id == "holdings")
    page.goto(base + "/query")
    assert page.get_by_role("link", name="ADQL", exact=True).get_attribute("aria-current") == "page"
    page.get_by_role("link", name=holdings.name).click()
    assert page.get_by_label("ADQL query").input_value() == holdings.query
    assert page.url == base + "/query"  # filled by the page's script, not a reload
    page.get_by_role("button", name="Run", exact=True).click()
    page.locator("table.result").wait_for()
    headers = page.locator("table.result thead th").all_inner_texts()
    assert [h.split()[0] for h in headers] == ["instrument_name", "dataproduct_type", "n_files",
                                               "first_mjd", "last_mjd"]
    counts = [int(n) for n in result_column(page, 3)]
    assert counts and all(n > 0 for n in counts)
    assert re.match(rf"{len(counts)} rows?\.", page.locator("#result-summary").inner_text())
    samp = page.locator("[data-samp-table]").get_attribute("data-samp-table")
    assert samp.startswith(base + "/tap/sync?") and "GROUP+BY" in samp
    screenshot(page, "adql")


def test_an_example_link_fills_the_box_without_javascript(browser, base):
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(base + "/query")
        page.get_by_role("link", name=EXAMPLES[0].name).click()
        assert page.get_by_label("ADQL query").input_value() == EXAMPLES[0].query
        page.get_by_role("button", name="Run", exact=True).click()
        page.locator("table.result").wait_for()
    finally:
        context.close()


def test_results_hold_only_the_rows_the_caller_may_see(page, base, world):
    page.goto(base + "/query")
    run(page, LEAKS)
    assert result_column(page, 2) == ["LEAKPUBLIC"]  # anonymous: the public row only

    log_in(page, base, "alice", PASSWORDS["alice"])
    page.goto(base + "/query")
    run(page, LEAKS)
    assert result_column(page, 2) == ["LEAKPUBLIC", "LEAKSECRET-1", "LEAKSECRET-2", "LEAKSECRET-3"]


def test_another_observer_does_not_see_alices_rows(page, base, world):
    log_in(page, base, "bob", PASSWORDS["bob"])
    page.goto(base + "/query")
    run(page, LEAKS)
    assert result_column(page, 2) == ["LEAKPUBLIC"]


def test_maxrec_cuts_the_table_and_says_so(page, base):
    page.goto(base + "/query")
    run(page, "SELECT TOP 10 obs_id FROM ivoa.obscore", maxrec="3")
    assert len(result_column(page, 1)) == 3
    assert "more rows exist than MAXREC (3)" in page.locator("#result-summary").inner_text()


def test_cells_are_text_not_markup(page, base):
    page.goto(base + "/query")
    run(page, "SELECT TOP 1 '<b id=\"injected\">bold</b>' AS html FROM ivoa.obscore")
    assert result_column(page, 1) == ['<b id="injected">bold</b>']
    assert page.locator("#injected").count() == 0


def test_an_unknown_column_is_marked_where_it_is(page, base):
    page.goto(base + "/query")
    run(page, "SELECT nosuchcolumn FROM ivoa.obscore")
    mark = page.locator("mark#error-mark")
    assert (mark.get_attribute("data-line"), mark.get_attribute("data-column")) == ("1", "8")
    assert mark.inner_text() == "nosuchcolumn"
    assert page.locator("#query-error").inner_text() == "line 1, column 8: unknown column nosuchcolumn"
    box = page.get_by_label("ADQL query")
    assert box.get_attribute("aria-invalid") == "true"
    assert box.input_value() == "SELECT nosuchcolumn FROM ivoa.obscore"  # kept, to be corrected
    # the page's script puts the cursor where the problem is
    assert box.evaluate("b => b.selectionStart") == len("SELECT ")


def test_a_syntax_error_on_line_two_is_marked_there(page, base):
    page.goto(base + "/query")
    run(page, "SELECT obs_id, target_name\nFROM ivoa.obscore WHERE WHERE s_ra > 1")
    mark = page.locator("mark#error-mark")
    assert (mark.get_attribute("data-line"), mark.get_attribute("data-column")) == ("2", "25")
    assert mark.inner_text() == "WHERE"
    line = page.locator("pre.query-marked .line[data-line='2']").inner_text()
    assert line.endswith("FROM ivoa.obscore WHERE WHERE s_ra > 1")
    assert page.locator("#query-error").inner_text().startswith("line 2, column 25: expected")


def test_a_query_the_database_refuses_is_a_message_not_a_500(page, base):
    page.goto(base + "/query")
    run(page, "SELECT TOP 1 CAST('not a number' AS INTEGER) AS n FROM ivoa.obscore")
    assert page.locator("#query-error").inner_text()  # PostgreSQL's message, beside the box
    assert page.locator("mark#error-mark").count() == 0


@pytest.mark.parametrize("maxrec, message", [
    ("lots", "MAXREC must be a whole number of rows"),
    ("-5", "MAXREC must be between 0 and 1,000 rows"),
    ("5000", "MAXREC must be between 0 and 1,000 rows"),
])
def test_a_bad_maxrec_is_answered_beside_the_field(page, base, maxrec, message):
    page.goto(base + "/query")
    run(page, "SELECT TOP 1 obs_id FROM ivoa.obscore", maxrec=maxrec)
    field = page.get_by_label("MAXREC (most rows)")
    assert field.get_attribute("aria-invalid") == "true"
    assert field.input_value() == maxrec
    assert page.locator("#maxrec-error").inner_text().startswith(message)
    assert page.locator("table.result").count() == 0


def test_async_job_runs_downloads_and_another_is_aborted(page, base, world, tmp_path: Path):
    log_in(page, base, "alice", PASSWORDS["alice"])
    page.goto(base + "/query")
    run(page, LEAKS, maxrec="50", button="Run as async job")
    assert "/query/jobs/" in page.url
    page.locator("#phase", has_text="COMPLETED").wait_for(timeout=60_000)  # the page reloads itself
    with page.expect_download() as caught:
        page.get_by_role("link", name="Download the result").click()
    saved = tmp_path / "result.vot"
    caught.value.save_as(saved)
    votable = saved.read_text()
    assert "<VOTABLE" in votable
    finished_job = page.url.rsplit("/", 1)[1]

    page.goto(base + "/query")
    run(page, SLOW, button="Run as async job")
    slow_job = page.url.rsplit("/", 1)[1]
    page.get_by_role("button", name="Abort").click()
    page.locator("#phase", has_text="ABORTED").wait_for()

    page.goto(base + "/query")
    phases = {page.locator(f"tr[data-job='{j}'] td.phase").inner_text() for j in (finished_job, slow_job)}
    assert phases == {"COMPLETED", "ABORTED"}
    assert page.locator(f"tr[data-job='{finished_job}']").get_by_role("link", name="Download").is_visible()


def test_the_votable_result_holds_alices_rows(page, base, world, tmp_path: Path):
    """The job ran as its owner: the downloaded result holds her proprietary rows."""
    from astropy.io.votable import parse_single_table

    log_in(page, base, "alice", PASSWORDS["alice"])
    page.goto(base + "/query")
    run(page, LEAKS, button="Run as async job")
    page.locator("#phase", has_text="COMPLETED").wait_for(timeout=60_000)
    with page.expect_download() as caught:
        page.get_by_role("link", name="Download the result").click()
    caught.value.save_as(tmp_path / "r.vot")
    names = [str(n) for n in parse_single_table(str(tmp_path / "r.vot")).array["target_name"]]
    assert names == ["LEAKPUBLIC", "LEAKSECRET-1", "LEAKSECRET-2", "LEAKSECRET-3"]


def test_someone_elses_job_can_be_neither_seen_nor_aborted(browser, page, base, world):
    log_in(page, base, "alice", PASSWORDS["alice"])
    page.goto(base + "/query")
    run(page, SLOW, button="Run as async job")
    alices = page.url

    other = browser.new_context()
    try:
        bob = other.new_page()
        log_in(bob, base, "bob", PASSWORDS["bob"])
        assert bob.goto(alices).status == 403
        bob.goto(base + "/query")
        token = bob.locator("input[name=csrfmiddlewaretoken]").first.get_attribute("value")
        refused = bob.request.post(alices + "/abort", form={"csrfmiddlewaretoken": token})
        assert refused.status == 403
        assert "belongs to another user" in refused.text()
        anonymous = browser.new_context()
        try:
            assert anonymous.new_page().goto(alices).status == 403
        finally:
            anonymous.close()
    finally:
        other.close()
    page.reload()
    assert page.locator("#phase").inner_text() in ("QUEUED", "EXECUTING")  # bob's abort did nothing
    page.get_by_role("button", name="Abort").click()
    page.locator("#phase", has_text="ABORTED").wait_for()


def test_an_anonymous_job_is_shown_at_its_own_address(page, base):
    page.goto(base + "/query")
    run(page, "SELECT TOP 2 obs_id FROM ivoa.obscore", button="Run as async job")
    assert re.search(r"/query/jobs/[0-9a-f]{24}$", page.url)
    page.locator("#phase", has_text="COMPLETED").wait_for(timeout=60_000)
    assert page.get_by_text("anyone with this page's address can see the job").is_visible()
    assert page.locator("#jobs").count() == 0  # no job list without logging in


def test_an_async_submission_with_an_error_is_marked_and_makes_no_job(page, base, world):
    from vo_services.tap.models import Job

    log_in(page, base, "bob", PASSWORDS["bob"])
    before = Job.objects.filter(owner="bob").count()
    page.goto(base + "/query")
    run(page, "SELECT nosuchcolumn FROM ivoa.obscore", button="Run as async job")
    assert page.locator("mark#error-mark").get_attribute("data-column") == "8"
    assert Job.objects.filter(owner="bob").count() == before


@pytest.mark.parametrize("query, line, column, marked", [
    ("SELECT nosuchcolumn FROM ivoa.obscore", 1, 8, "nosuchcolumn"),
    ("SELECT obs_id FROM", 1, 19, " "),  # the query ends too early: the blank after it is marked
    ("SELECT 'abc", 1, 8, "'abc"),
    ("SELECT a\n  FROM ivoa.obscore AS o, ", 2, 26, " "),
])
def test_the_mark_covers_the_token_the_message_names(query, line, column, marked):
    from vo_services.portal.adql_page import QueryError

    lines = QueryError("x", line, column).marked_lines(query)
    assert [m.number for m in lines] == list(range(1, query.count("\n") + 2))
    hit = [m for m in lines if m.column is not None]
    assert [(m.number, m.column, m.marked) for m in hit] == [(line, column, marked)]
    text = query.split("\n")[line - 1]
    assert hit[0].before + hit[0].marked + hit[0].after in (text, text + " ")  # nothing lost


def test_the_page_links_under_the_public_path(tmp_path):
    """Behind Apache at https://<host>/vo/ (tests/test_behind_proxy.py): every link and form of
    the page carries the prefix."""
    import requests

    from conftest import gunicorn

    with gunicorn(tmp_path / "gunicorn.log", workers=1, LICK_PUBLIC_URL="https://archive.example.org/vo",
                  LICK_TRUSTED_PROXIES="127.0.0.1") as proxied:
        headers = {"Host": "archive.example.org", "X-Forwarded-Proto": "https"}
        page = requests.get(proxied + "/query", headers=headers, timeout=30).text
        tonight = requests.get(proxied + "/tonight", headers=headers, timeout=30).text
    assert 'action="/vo/query"' in page and 'href="/vo/query?example=cone"' in page
    assert 'href="/vo/query"' in page and 'href="/vo/tonight"' in page  # the navigation
    assert 'href="/vo/tap/examples"' in page and "/vo/static/portal/query.js" in page
    assert 'href="/vo/auth/?next=' in tonight


def test_a_job_over_the_users_limit_waits_and_runs_when_asked(page, base, world):
    """Too many jobs in flight (LICK_ASYNC_JOBS_PER_USER): the new one waits PENDING, and runs
    from its page once one of the others has ended."""
    from vo_services.tap import jobs
    from vo_services.tap.models import Job, Phase
    from vo_services.tap.admission import JOBS_PER_USER

    busy = [jobs.create("bob", [("QUERY", "SELECT 1 AS one FROM ivoa.obscore")]) for _ in range(JOBS_PER_USER)]
    Job.objects.filter(id__in=[j.id for j in busy]).update(phase=Phase.QUEUED)  # as if queued
    log_in(page, base, "bob", PASSWORDS["bob"])
    page.goto(base + "/query")
    run(page, "SELECT TOP 1 obs_id FROM ivoa.obscore", button="Run as async job")
    assert page.locator("#phase").inner_text() == "PENDING"
    page.get_by_role("button", name="Run it now").click()
    assert "may have at most" in page.locator(".notice").inner_text()  # still too many
    assert page.locator("#phase").inner_text() == "PENDING"
    Job.objects.filter(id__in=[j.id for j in busy]).delete()
    page.get_by_role("button", name="Run it now").click()
    page.locator("#phase", has_text="COMPLETED").wait_for(timeout=60_000)


def test_an_unknown_job_is_the_portals_404(page, base):
    response = page.goto(base + "/query/jobs/000000000000000000000000")
    assert response.status == 404
    assert page.get_by_role("heading", name="Not found").is_visible()
