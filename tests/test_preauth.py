"""Pre-authorised URLs (vo_services/accounts/preauth.py) against the real gunicorn.

alice, who observes for the program owning the proprietary files of tests/proprietary_world.py,
asks ``POST /auth/preauth`` for URLs of one of her frames and of one exact query's VOTable. Fetched
with no credential at all (as a SAMP hub does), they serve her bytes and rows. Everything else an
outsider might try with them is refused: the same grant on another file, another query text,
another MAXREC or one more parameter, a character changed, a grant made for bob out of hers, one
signed under another key, an expired one, a POST, the account API; and once alice is deactivated
her grants die. The grant only says who asks: when she leaves the program the database's rule
hides the rows from the very same URL.
"""
from __future__ import annotations

import time
import urllib.parse

import pytest
import requests

from archive.db import engine
from tests.proprietary_world import MARKER

pytestmark = pytest.mark.django_db(transaction=True)  # the server must see the users

QUERY = "SELECT obs_id, target_name FROM ivoa.obscore WHERE target_name LIKE 'LEAKSECRET%' ORDER BY obs_id"
VOTABLE_ERROR = b'<INFO name="QUERY_STATUS" value="ERROR"'


@pytest.fixture(scope="module")
def base(live_archive) -> str:
    return live_archive


def _preauthorise(base: str, world, who: str, url: str) -> dict:
    answer = requests.post(f"{base}/auth/preauth", data={"url": url}, headers=world.http_headers(who), timeout=30)
    assert answer.status_code == 200, answer.text
    assert answer.headers["Cache-Control"] == "no-store"
    return answer.json()


def _sync(query: str = QUERY, maxrec: int = 10) -> str:
    """A sync query's URL, its answer in CSV (readable here; the default, BINARY2, is base64)."""
    return "/tap/sync?" + urllib.parse.urlencode({"REQUEST": "doQuery", "LANG": "ADQL", "MAXREC": maxrec,
                                                   "RESPONSEFORMAT": "csv", "QUERY": query})


def _grant_of(url: str) -> str:
    return urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["preauth"][0]


def _with_params(url: str, **changed: str) -> str:
    parts = urllib.parse.urlsplit(url)
    params = dict(urllib.parse.parse_qsl(parts.query, keep_blank_values=True)) | changed
    return parts._replace(query=urllib.parse.urlencode(params)).geturl()


def _refused_tap(answer: requests.Response) -> None:
    assert answer.status_code == 403, answer.text
    assert answer.headers["Content-Type"].startswith("application/x-votable+xml")
    assert VOTABLE_ERROR in answer.content and MARKER not in answer.content


def _refused_download(answer: requests.Response) -> None:
    assert answer.status_code == 403, answer.status_code
    assert MARKER not in answer.content and b"SIMPLE  =" not in answer.content


def test_a_frame_url_serves_the_owners_bytes_without_credentials_and_nothing_else(base, world):
    secret, other = world.secret_ids[0], world.secret_ids[1]
    assert requests.get(f"{base}/datalink/download/{secret}", timeout=30).status_code == 401  # today's refusal
    made = _preauthorise(base, world, "alice", f"{base}/datalink/download/{secret}")
    assert 0 < made["expires"] - time.time() <= 300 + 5  # LICK_SAMP_URL_LIFETIME's default
    url = made["url"]
    fetched = requests.get(url, timeout=30)  # no cookie, no header: what a SAMP hub does
    assert fetched.status_code == 200 and fetched.headers["X-VO-Authenticated"] == "alice"
    assert fetched.content == world.files[secret].read_bytes() and MARKER in fetched.content
    assert requests.head(url, timeout=30).status_code == 200
    assert requests.get(url, headers={"Range": "bytes=0-79"}, timeout=30).content.startswith(b"SIMPLE  =")

    grant = _grant_of(url)
    # the same grant on another of her files, or with one more parameter
    _refused_download(requests.get(f"{base}/datalink/download/{other}?preauth={grant}", timeout=30))
    _refused_download(requests.get(_with_params(url, RESPONSEFORMAT="fits"), timeout=30))
    # one character of the MAC, of the expiry, of the user changed
    version, expires, user, mac = grant.split(".")
    for altered in (f"{version}.{expires}.{user}.{mac[:-1]}{'0' if mac[-1] != '0' else '1'}",
                    f"{version}.{int(expires) + 1}.{user}.{mac}",
                    f"{version}.{expires}.{_b64('bob')}.{mac}",
                    f"v2.{expires}.{user}.{mac}", "garbage", ""):
        _refused_download(requests.get(f"{base}/datalink/download/{secret}?preauth={altered}", timeout=30))
    # two grants, or a write with one
    _refused_download(requests.get(f"{url}&preauth={grant}", timeout=30))
    assert requests.post(url, timeout=30).status_code == 403


def test_a_query_url_serves_the_owners_rows_and_only_that_query(base, world):
    url = _preauthorise(base, world, "alice", _sync())["url"]
    anonymous = requests.get(f"{base}{_sync()}", timeout=30)
    assert anonymous.status_code == 200 and MARKER not in anonymous.content
    fetched = requests.get(url, timeout=30)
    assert fetched.status_code == 200 and fetched.headers["X-VO-Authenticated"] == "alice"
    assert fetched.content.count(MARKER) == len(world.secret_ids)

    grant = _grant_of(url)
    everything = "SELECT obs_id, target_name FROM ivoa.obscore"
    _refused_tap(requests.get(_with_params(url, QUERY=everything), timeout=30))
    _refused_tap(requests.get(_with_params(url, QUERY=QUERY + " "), timeout=30))
    _refused_tap(requests.get(_with_params(url, MAXREC="11"), timeout=30))
    _refused_tap(requests.get(_with_params(url, RESPONSEFORMAT="votable"), timeout=30))
    _refused_tap(requests.get(f"{base}{_sync(everything)}&preauth={grant}", timeout=30))
    # the grant of a file on a query, and the query's grant on a file
    frame = _grant_of(_preauthorise(base, world, "alice", f"/datalink/download/{world.secret_ids[0]}")["url"])
    _refused_tap(requests.get(f"{base}{_sync()}&preauth={frame}", timeout=30))
    _refused_download(requests.get(f"{base}/datalink/download/{world.secret_ids[0]}?preauth={grant}", timeout=30))
    # the parameters in another order, or spelled with %20: the same resource
    parts = urllib.parse.urlsplit(url)
    shuffled = "&".join(reversed(parts.query.split("&")))
    assert requests.get(parts._replace(query=shuffled).geturl(), timeout=30).content.count(MARKER) == 3


def test_an_expired_or_forged_grant_gets_nothing(base, world):
    """Grants made here, under the server's own key (var/lick.env's), or another one."""
    from django.test import override_settings

    from vo_services.accounts import preauth

    def made(path: str, **kwargs) -> str:  # this process's public URL is not the test server's
        return base + urllib.parse.urlsplit(preauth.grant(path, "alice", **kwargs).url)._replace(
            scheme="", netloc="").geturl()

    path = f"/datalink/download/{world.secret_ids[0]}"
    _refused_download(requests.get(made(path, now=time.time() - 301), timeout=30))
    _refused_tap(requests.get(made(_sync(), now=time.time() - 301), timeout=30))
    assert requests.get(made(path), timeout=30).status_code == 200  # the same, in time
    with override_settings(SECRET_KEY="not the server's key " * 3):
        forged = made(path)
    _refused_download(requests.get(forged, timeout=30))


def test_a_grant_opens_no_session_token_or_other_grant(base, world):
    url = _preauthorise(base, world, "alice", f"/datalink/download/{world.secret_ids[0]}")["url"]
    grant = _grant_of(url)
    for path in ("/auth/tokens", "/auth/", "/tap/async", "/datalink/links", "/search"):
        answer = requests.get(f"{base}{path}?preauth={grant}", timeout=30)
        assert answer.status_code == 403 and "X-VO-Authenticated" not in answer.headers
    made = requests.post(f"{base}/auth/preauth?preauth={grant}", data={"url": url}, timeout=30)
    assert made.status_code == 403 and "url" not in made.text
    assert requests.post(f"{base}/auth/tokens?preauth={grant}", data={"name": "x"}, timeout=30).status_code == 403
    assert "sessionid" not in requests.get(url, timeout=30).cookies
    # minting needs a log-in, and only grantable reads of this archive are signed
    assert requests.post(f"{base}/auth/preauth", data={"url": url}, timeout=30).status_code == 401
    for other in ("/auth/tokens", "/tap/async", "/datalink/links?ID=x", "/admin/", "https://example.org/x"):
        answer = requests.post(f"{base}/auth/preauth", data={"url": other}, headers=world.http_headers("alice"),
                               timeout=30)
        assert answer.status_code == 400, other


def test_a_deactivated_user_or_one_who_lost_the_program_gets_nothing(base, world):
    from django.contrib.auth.models import User

    frame = _preauthorise(base, world, "alice", f"/datalink/download/{world.secret_ids[0]}")["url"]
    query = _preauthorise(base, world, "alice", _sync())["url"]
    with engine("owner").begin() as conn:
        conn.exec_driver_sql("DELETE FROM lick.program_observer WHERE program_id = 'LEAKA' AND observer = 'alice'")
    try:
        time.sleep(0.1)
        # the grant still says "alice"; the database's rule no longer shows her the program's data
        lost = requests.get(frame, timeout=30)
        assert lost.status_code == 403 and MARKER not in lost.content
        rows = requests.get(query, timeout=30)
        assert rows.status_code == 200 and MARKER not in rows.content
    finally:
        with engine("owner").begin() as conn:
            conn.exec_driver_sql("INSERT INTO lick.program_observer (program_id, observer) VALUES ('LEAKA', 'alice') "
                                 "ON CONFLICT DO NOTHING")
    assert requests.get(frame, timeout=30).status_code == 200
    User.objects.filter(username="alice").update(is_active=False)
    try:
        _refused_download(requests.get(frame, timeout=30))
        _refused_tap(requests.get(query, timeout=30))
    finally:
        User.objects.filter(username="alice").update(is_active=True)


def test_a_password_change_cancels_the_grants_made_before(base, world):
    """As a password change ends sessions: a URL handed to a hub before it opens nothing after."""
    from django.contrib.auth.models import User

    from tests.proprietary_world import PASSWORDS

    before = [_preauthorise(base, world, "alice", f"/datalink/download/{world.secret_ids[0]}")["url"],
              _preauthorise(base, world, "alice", _sync())["url"]]
    assert [requests.get(url, timeout=30).status_code for url in before] == [200, 200]
    alice = User.objects.get(username="alice")
    alice.set_password(PASSWORDS["alice"] + " changed")
    alice.save()
    try:
        _refused_download(requests.get(before[0], timeout=30))
        _refused_tap(requests.get(before[1], timeout=30))
        after = _preauthorise(base, world, "alice", f"/datalink/download/{world.secret_ids[0]}")["url"]
        assert requests.get(after, timeout=30).status_code == 200  # one made since works
    finally:
        alice.set_password(PASSWORDS["alice"])
        alice.save()


def _b64(text: str) -> str:
    from vo_services.accounts.preauth import _b64 as encode

    return encode(text)


def test_an_async_result_url_serves_the_owners_result(base, world):
    as_alice = world.http_headers("alice")
    job = requests.post(f"{base}/tap/async", headers=as_alice, timeout=30, allow_redirects=False,
                        data={"LANG": "ADQL", "QUERY": QUERY, "RESPONSEFORMAT": "csv", "PHASE": "RUN"})
    assert job.status_code == 303
    location = job.headers["Location"]
    deadline = time.monotonic() + 90
    while (phase := requests.get(f"{location}/phase", headers=as_alice, timeout=30).text) != "COMPLETED":
        assert phase not in ("ERROR", "ABORTED") and time.monotonic() < deadline, phase
        time.sleep(0.3)
    result = f"{location}/results/result"
    assert requests.get(result, timeout=30).status_code in (401, 403)  # her job is hers alone
    url = _preauthorise(base, world, "alice", result)["url"]
    fetched = requests.get(url, timeout=30)
    assert fetched.status_code == 200 and fetched.content.count(MARKER) == len(world.secret_ids)
    # bob's grant is bob's: her job is not his
    bobs = _preauthorise(base, world, "bob", result)["url"]
    assert requests.get(bobs, timeout=30).status_code == 403


def test_a_session_needs_its_csrf_token_and_the_sites_origin_to_get_a_url(base, world):
    from tests.proprietary_world import PASSWORDS

    url = f"/datalink/download/{world.secret_ids[0]}"
    with requests.Session() as browser:
        assert browser.post(f"{base}/auth/cookie", data={"username": "alice", "password": PASSWORDS["alice"]},
                            timeout=30).status_code == 200
        page = browser.get(f"{base}/search", timeout=30).text  # a portal page, as alice
        csrf = page.split('<meta name="lick-csrf" content="', 1)[1].split('"', 1)[0]
        assert browser.post(f"{base}/auth/preauth", data={"url": url}, timeout=30,
                            headers={"Origin": base}).status_code == 403  # no CSRF token
        assert browser.post(f"{base}/auth/preauth", data={"url": url}, timeout=30,
                            headers={"Origin": "https://evil.example", "X-CSRFToken": csrf}).status_code == 403
        made = browser.post(f"{base}/auth/preauth", data={"url": url}, timeout=30,
                            headers={"Origin": base, "X-CSRFToken": csrf})
        assert made.status_code == 200
    assert MARKER in requests.get(made.json()["url"], timeout=30).content
