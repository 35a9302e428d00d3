"""No password, token or session id in any log.

Every kind of log-in the archive knows (Basic, personal Bearer tokens, the ivoa_bearer log-in,
the cookie log-in, the admin pages, pre-authorised URLs), failed ones too, credentials where
they do not belong (the query string, a Referer, a malformed request line), background work (an
async job run by the Celery worker) and the internal ingest API with its token, all against the real gunicorn servers
and worker; then every secret used, the database passwords and Django's key included, is looked
for in every log.
"""
from __future__ import annotations

import base64
import re
import secrets
import socket
import time
import urllib.parse

import pytest
import requests

from archive.config import get_settings
from conftest import gunicorn
from tests.proprietary_world import PASSWORDS

pytestmark = pytest.mark.django_db(transaction=True)  # the server must see the admin user
QUERY = "SELECT TOP 1 obs_id FROM ivoa.obscore"


@pytest.fixture(scope="module")
def ingest_api(archive_db, tmp_path_factory):
    """The internal ingest API under its own gunicorn, as run.sh and the systemd unit serve it."""
    log = tmp_path_factory.mktemp("ingest-api") / "gunicorn.log"
    with gunicorn(log, workers=1, LICK_URLCONF="ingest.urls") as base:
        yield base, log


@pytest.fixture
def admin_password(world):
    from django.contrib.auth.models import User

    password = "admin-" + secrets.token_hex(8)
    User.objects.create_superuser("logs-admin", password=password)
    yield password
    User.objects.filter(username="logs-admin").delete()


def _wait_for(url: str, done, **kwargs) -> None:
    deadline = time.monotonic() + 60
    while not done(requests.get(url, timeout=30, **kwargs)):
        assert time.monotonic() < deadline, f"{url} did not finish"
        time.sleep(0.3)


def _raw_request(base: str, request_line: str) -> None:
    """Send one request line as it is (a malformed one, which no HTTP library would send)."""
    host, port = urllib.parse.urlsplit(base).netloc.split(":")
    with socket.create_connection((host, int(port)), timeout=30) as s:
        s.sendall(f"{request_line}\r\nHost: {host}\r\n\r\n".encode())
        s.recv(65536)


def test_no_password_token_or_session_id_reaches_any_log(live_archive, live_archive_log, celery_worker,
                                                        ingest_api, world, admin_password):
    base = live_archive
    wrong = "wrong-" + PASSWORDS["alice"]
    forged = world.tokens["bob"][:-2] + "xx"
    used = [PASSWORDS["alice"], PASSWORDS["bob"], wrong, admin_password, "wrong-" + admin_password,
            world.tokens["alice"], world.tokens["bob"], forged]
    sync = {"LANG": "ADQL", "QUERY": QUERY}

    # HTTP Basic, right and wrong; personal tokens, right and forged
    for password in (PASSWORDS["alice"], wrong):
        requests.get(f"{base}/tap/sync", params=sync, auth=("alice", password), timeout=30)
    requests.get(f"{base}/tap/sync", params={**sync, "QUERY": "SELEC broken"}, headers=world.http_headers("bob"),
                 timeout=30)
    requests.get(f"{base}/datalink/download/{world.secret_ids[0]}", headers={"Authorization": f"Bearer {forged}"},
                 timeout=30)
    made = requests.post(f"{base}/auth/tokens", data={"name": "logs"}, auth=("alice", PASSWORDS["alice"]), timeout=30)
    assert made.status_code == 201
    used.append(made.json()["token"])

    # the ivoa_bearer log-in (IVOA SSO, as TOPCAT does it), right and wrong, and its token in use
    assert requests.post(f"{base}/auth/login", data={"username": "alice", "password": wrong},
                         timeout=30).status_code == 401
    login = requests.post(f"{base}/auth/login", data={"username": "alice", "password": PASSWORDS["alice"]}, timeout=30)
    bearer = login.headers["X-VO-Bearer"]
    used.append(bearer)
    as_alice = {"Authorization": f"Bearer {bearer}"}
    job = requests.post(f"{base}/tap/async", data={**sync, "PHASE": "RUN"}, headers=as_alice, timeout=30,
                        allow_redirects=False)
    assert job.status_code == 303
    _wait_for(f"{job.headers['Location']}/phase", lambda r: r.text in ("COMPLETED", "ERROR"), headers=as_alice)

    # a pre-authorised URL (what the portal sends by SAMP), used, and altered
    granted = requests.post(f"{base}/auth/preauth", data={"url": f"/datalink/download/{world.secret_ids[0]}"},
                            headers=as_alice, timeout=30).json()["url"]
    grant = urllib.parse.parse_qs(urllib.parse.urlsplit(granted).query)["preauth"][0]
    used.append(grant.rsplit(".", 1)[1])  # its MAC
    assert requests.get(granted, timeout=30).status_code == 200
    assert requests.get(granted[:-1] + ("0" if granted[-1] != "0" else "1"), timeout=30).status_code == 403

    # the cookie log-in, and its session in use
    with requests.Session() as browser:
        assert browser.post(f"{base}/auth/cookie", data={"username": "bob", "password": PASSWORDS["bob"]},
                            timeout=30).status_code == 200
        used.append(browser.cookies["sessionid"])
        assert browser.get(f"{base}/auth/", timeout=30).status_code == 200
        browser.get(f"{base}/tap/sync", params=sync, timeout=30)

    # the admin pages' log-in (a form with Django's CSRF token), wrong then right
    with requests.Session() as browser:
        page = browser.get(f"{base}/admin/login/", timeout=30)
        form_token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        used += [form_token, browser.cookies["csrftoken"]]
        for password in ("wrong-" + admin_password, admin_password):
            browser.post(f"{base}/admin/login/?next=/admin/", timeout=30, headers={"Referer": f"{base}/admin/login/"},
                         data={"csrfmiddlewaretoken": form_token, "username": "logs-admin", "password": password})
        assert "sessionid" in browser.cookies, "the admin log-in failed: the test would prove less"
        used.append(browser.cookies["sessionid"])
        assert browser.get(f"{base}/admin/", timeout=30).status_code == 200

    # credentials where nothing takes them: the query string, a Referer, a malformed request line
    requests.get(f"{base}/tap/sync", params={**sync, "access_token": world.tokens["alice"]}, timeout=30)
    requests.get(f"{base}/auth/login", params={"username": "alice", "password": PASSWORDS["alice"]}, timeout=30)
    requests.get(f"{base}/tap/capabilities", headers={"Referer": f"https://example.org/?token={bearer}"}, timeout=30)
    _raw_request(base, f"GET /tap/sync?password={PASSWORDS['bob']}")  # no version: gunicorn logs the line

    # the internal ingest API: its token, and a wrong one; the notification runs on the worker
    api, api_log = ingest_api
    token = get_settings().ingest_token
    used += [token, "x" + token[1:]]
    assert requests.get(f"{api}/dirs", headers={"Authorization": f"Bearer x{token[1:]}"}, timeout=30).status_code == 401
    posted = requests.post(f"{api}/notifications", json={"event": "changed", "paths": ["1999-09/09/shane/none.fits"]},
                           headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert posted.status_code == 202
    _wait_for(f"{api}/notifications/{posted.json()['id']}", lambda r: r.json()["status"] in ("done", "failed"),
              headers={"Authorization": f"Bearer {token}"})

    settings = get_settings()
    used += [settings.owner_password, settings.ingest_password, settings.query_password, settings.secret_key,
             urllib.parse.urlsplit(settings.redis_url).password]
    used += [base64.b64encode(f"{user}:{password}".encode()).decode()  # Basic credentials as sent
             for user, password in (("alice", PASSWORDS["alice"]), ("alice", wrong))]
    time.sleep(0.5)  # the last lines reach the files
    logs = {"VO gunicorn": live_archive_log.read_text(), "Celery worker": celery_worker.log.read_text(),
            "ingest API gunicorn": api_log.read_text()}
    # the logs saw it all (or the test would prove nothing)
    assert "/admin/login/" in logs["VO gunicorn"] and "/auth/cookie" in logs["VO gunicorn"]
    assert "process_notification" in logs["Celery worker"] and "run_job" in logs["Celery worker"]
    assert "/notifications" in logs["ingest API gunicorn"]
    for secret in filter(None, used):
        for name, text in logs.items():
            assert secret not in text, f"a secret ({secret[:4]}…) is in the {name}'s log"
