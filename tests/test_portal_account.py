"""The account pages in a real browser: log in and out (a wrong password answered beside the
form), "my jobs" (phase, result, abort) and "my bundles" (phase, progress, result), each showing
only the caller's own, all in the portal's one look."""
from __future__ import annotations

import time

import pytest
import requests

from tests.browser import log_in, screenshot
from tests.proprietary_world import PASSWORDS


@pytest.fixture(scope="module")
def base(live_archive) -> str:
    return live_archive


def _as(world, who: str) -> requests.Session:
    session = requests.Session()
    session.headers.update(world.http_headers(who))
    return session


def _job(session: requests.Session, base: str, query: str, run: bool) -> str:
    form = {"LANG": "ADQL", "QUERY": query, "RESPONSEFORMAT": "csv"} | ({"PHASE": "RUN"} if run else {})
    made = session.post(f"{base}/tap/async", data=form, allow_redirects=False)
    assert made.status_code == 303, made.text
    return made.headers["Location"].rstrip("/").rsplit("/", 1)[1]


def _until(check, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "gave up waiting"
        time.sleep(0.2)


def test_log_in_and_out_from_any_page(page, base, proprietary):
    page.goto(base + "/my/jobs")
    assert page.url.startswith(base + "/auth/") and "next=%2Fmy%2Fjobs" in page.url
    assert page.get_by_role("navigation", name="Main").is_visible()  # the portal's look
    page.get_by_label("User name").fill("alice")
    page.get_by_label("Password").fill("not her password")
    page.get_by_role("button", name="Log in").click()
    error = page.locator("#login-error")
    assert error.is_visible() and page.get_by_label("Password").get_attribute("aria-invalid") == "true"
    screenshot(page, "login")
    page.get_by_label("Password").fill(PASSWORDS["alice"])
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="My query jobs").wait_for()
    assert page.url == base + "/my/jobs"
    page.get_by_role("link", name="alice").click()
    page.get_by_text("program:LEAKA").wait_for()
    screenshot(page, "account")
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(base + "/")
    assert page.get_by_role("link", name="Log in").is_visible()
    assert page.goto(base + "/my/bundles").url.startswith(base + "/auth/")


def test_my_jobs_shows_phase_and_result_and_aborts(page, base, proprietary):
    alice, bob = _as(proprietary, "alice"), _as(proprietary, "bob")
    done = _job(alice, base, "SELECT TOP 3 obs_id, target_name FROM ivoa.obscore WHERE target_name LIKE 'LEAK%'", True)
    waiting = _job(alice, base, "SELECT TOP 1 obs_id FROM ivoa.obscore", False)
    others = _job(bob, base, "SELECT TOP 1 obs_id FROM ivoa.obscore", False)
    _until(lambda: alice.get(f"{base}/tap/async/{done}/phase").text.strip() == "COMPLETED")
    log_in(page, base, "alice", PASSWORDS["alice"])
    page.goto(base + "/my/jobs")
    finished = page.locator(f"#job-{done}")
    assert "COMPLETED" in finished.inner_text()
    result = page.request.get(base + finished.get_by_role("link", name="Download").get_attribute("href"))
    assert result.ok and b"LEAKSECRET" in result.body()  # her proprietary rows, with her session
    assert page.locator(f"#job-{others}").count() == 0, "bob's job is not hers"
    assert "PENDING" in page.locator(f"#job-{waiting}").inner_text()
    screenshot(page, "my-jobs")
    page.get_by_role("button", name=f"Abort job {waiting}").click()
    page.get_by_role("status").get_by_text(f"Job {waiting} aborted.").wait_for()
    assert "ABORTED" in page.locator(f"#job-{waiting}").inner_text()
    assert alice.get(f"{base}/tap/async/{waiting}/phase").text.strip() == "ABORTED"
    assert bob.get(f"{base}/tap/async/{others}/phase").text.strip() == "PENDING"


def test_my_bundles_show_progress_until_the_result(page, base, proprietary):
    alice = _as(proprietary, "alice")
    made = alice.post(f"{base}/datalink/bundles", data={"ID": [proprietary.public_id, *proprietary.secret_ids]},
                      allow_redirects=False)
    assert made.status_code == 303, made.text
    bundle = made.headers["Location"].rstrip("/").rsplit("/", 1)[1]
    log_in(page, base, "alice", PASSWORDS["alice"])
    page.goto(base + "/my/bundles")
    row = page.locator(f"#bundle-{bundle}")
    assert row.locator("progress").get_attribute("max") == "4"
    page.wait_for_function(  # the page refreshes itself while the bundle is made
        f"() => (document.querySelector('#bundle-{bundle}') || {{}}).innerText?.includes('COMPLETED')",
        timeout=60_000)
    assert "4 of 4 files" in row.inner_text()
    zipped = page.request.get(base + row.get_by_role("link", name="Download").get_attribute("href"))
    assert zipped.ok and zipped.body()[:2] == b"PK"
    screenshot(page, "my-bundles")
