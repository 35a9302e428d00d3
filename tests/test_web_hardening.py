"""The account and web layer under attack (issue 13): admin password guessing, tokens and Basic
into /admin, a race past the log-in throttle, cross-site requests riding on a browser's
credentials, foreign Host headers and post-log-in redirects, the secret key, demo passwords."""
from __future__ import annotations

import base64
import os
import subprocess
import sys
import threading
import uuid

import pytest
import requests

from archive.config import REPO_ROOT, get_settings
from tests.proprietary_world import PASSWORDS

pytestmark = pytest.mark.django_db
EVIL = "https://evil.example"
QUERY = {"LANG": "ADQL", "QUERY": "SELECT TOP 1 obs_id FROM ivoa.obscore"}


def basic(user: str, password: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def public_origin() -> str:
    from vo_services.accounts.origin import public_origin

    return public_origin()


@pytest.fixture
def fresh_throttle():
    """No failed log-in of an earlier test counts here, nor ours in later tests (they all come
    from 127.0.0.1), and no verified password is remembered."""
    from vo_services.accounts import authentication
    from vo_services.accounts.models import LoginFailure

    LoginFailure.objects.all().delete()
    authentication._verified.clear()
    yield
    LoginFailure.objects.all().delete()
    authentication._verified.clear()


@pytest.fixture
def dora(world):
    """A superuser with a password and a personal token."""
    from django.contrib.auth.models import User

    from vo_services.accounts import tokens

    user = User.objects.create_superuser("dora", password="dora-Runs-The-Archive-7")
    user.token = tokens.issue(user, "scripts")[1]
    user.plain_password = "dora-Runs-The-Archive-7"
    return user


# --- 1. the admin: throttled, session only, and a throttle that cannot be raced ----------------

def test_admin_login_is_throttled(client, dora, fresh_throttle):
    from vo_services.accounts.throttle import MAX_PER_USERNAME

    for _ in range(MAX_PER_USERNAME):
        guess = client.post("/admin/login/", {"username": "dora", "password": "guess"})
        assert guess.status_code == 200 and "_auth_user_id" not in client.session  # form shown again
    right = client.post("/admin/login/", {"username": "dora", "password": dora.plain_password})
    assert right.status_code == 429 and int(right["Retry-After"]) > 0
    assert right["Content-Type"].startswith("application/json")
    assert "_auth_user_id" not in client.session
    # the failures at the admin count for the other log-ins of the same name too
    assert client.post("/auth/login", {"username": "dora", "password": dora.plain_password}).status_code == 429


def test_the_admin_log_in_still_works_and_forgives_nothing_it_should_not(client, dora, fresh_throttle):
    from vo_services.accounts.models import LoginFailure

    client.post("/admin/login/", {"username": "dora", "password": "guess"})
    ok = client.post("/admin/login/", {"username": "dora", "password": dora.plain_password, "next": "/admin/"})
    assert ok.status_code == 302 and ok["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    assert LoginFailure.objects.filter(username="dora").count() == 1  # the right one is no failure


@pytest.mark.parametrize("credential", ["bearer", "basic"])
def test_tokens_and_basic_do_not_open_the_admin(client, dora, fresh_throttle, credential):
    from django.contrib.auth.models import User

    header = ({"HTTP_AUTHORIZATION": f"Bearer {dora.token}"} if credential == "bearer"
              else basic("dora", dora.plain_password))
    index = client.get("/admin/", **header)
    assert index.status_code == 302 and index["Location"].startswith("/admin/login/")
    added = client.post("/admin/auth/user/add/", {"username": "mallory", "password1": "Mallory-Pass-123",
                                                  "password2": "Mallory-Pass-123"}, **header)
    assert added.status_code == 302 and added["Location"].startswith("/admin/login/")
    assert not User.objects.filter(username="mallory").exists()
    # the same credential still works where it is meant to
    assert client.get("/tap/capabilities", **header)["X-VO-Authenticated"] == "dora"


@pytest.mark.django_db(transaction=True)  # the live server must see the failures we clean up
def test_concurrent_guesses_never_exceed_the_limit(live_archive, fresh_throttle):
    """Three gunicorn workers of four threads, and three times the limit's guesses at once: each
    is checked against the count before any is recorded, unless check-and-count is one step."""
    from vo_services.accounts.throttle import MAX_PER_USERNAME

    name = f"racer-{uuid.uuid4().hex[:8]}"  # no such user: the hasher runs anyway
    guesses = 3 * MAX_PER_USERNAME
    start = threading.Barrier(guesses)
    answers: list[int] = []

    def guess(i: int) -> None:
        start.wait()
        answers.append(requests.post(f"{live_archive}/auth/login", data={"username": name, "password": f"g{i}"},
                                     timeout=120).status_code)

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(guesses)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(set(answers)) == [401, 429], answers
    assert answers.count(401) <= MAX_PER_USERNAME, f"{answers.count(401)} passwords checked"


# --- 2. cross-site requests with a browser's own credentials ----------------------------------

def _job_posted(client, **headers):
    return client.post("/tap/async", QUERY, **headers)


def test_a_foreign_page_cannot_make_a_job_with_cached_basic_credentials(client, world, fresh_throttle):
    alice = basic("alice", PASSWORDS["alice"])
    refused = _job_posted(client, HTTP_ORIGIN=EVIL, **alice)
    assert refused.status_code == 403
    assert refused["Content-Type"].startswith("application/x-votable+xml") and b'value="ERROR"' in refused.content
    assert _job_posted(client, HTTP_REFERER=f"{EVIL}/page.html", **alice).status_code == 403
    assert _job_posted(client, HTTP_ORIGIN="null", **alice).status_code == 403
    # VO clients send no Origin; the archive's own pages send its own
    assert _job_posted(client, **alice).status_code == 303
    assert _job_posted(client, HTTP_ORIGIN=public_origin(), **alice).status_code == 303
    assert _job_posted(client, HTTP_REFERER=f"{get_settings().public_url}/auth/", **alice).status_code == 303
    # a Bearer token is sent only by code that holds it; anonymous callers have nothing to abuse
    assert _job_posted(client, HTTP_ORIGIN=EVIL, **world.headers("alice")).status_code == 303
    assert _job_posted(client, HTTP_ORIGIN=EVIL).status_code == 303


def test_a_foreign_page_cannot_change_jobs_tokens_or_bundles_with_the_session(client, world, fresh_throttle):
    assert client.post("/auth/cookie", {"username": "alice", "password": PASSWORDS["alice"]}).status_code == 200
    job = _job_posted(client)["Location"].split("/tap/async/")[-1]
    for method, path, data in [("post", f"/tap/async/{job}/phase", {"PHASE": "ABORT"}),
                               ("post", f"/tap/async/{job}/parameters", {"MAXREC": "5"}),
                               ("delete", f"/tap/async/{job}", ""),
                               ("post", "/tap/async", QUERY),
                               ("post", "/datalink/bundles", {"ID": world.secret_ids[:1]})]:
        answer = getattr(client, method)(path, data, HTTP_ORIGIN=EVIL)
        assert answer.status_code == 403, (method, path)
        assert answer["Content-Type"].startswith("application/x-votable+xml")
    assert client.get(f"/tap/async/{job}/phase").content.strip() == b"PENDING"
    tokens = client.post("/auth/tokens", {"name": "planted"}, HTTP_ORIGIN=EVIL)
    assert tokens.status_code == 403 and tokens["Content-Type"].startswith("application/json")
    assert client.delete(f"/tap/async/{job}").status_code == 303  # from no page at all: fine


def test_a_foreign_page_cannot_log_the_browser_in(client, world, fresh_throttle):
    """Login CSRF: the attacker's own credentials, posted from their page, would make the victim's
    later work (uploads, jobs) the attacker's to read."""
    planted = client.post("/auth/cookie", {"username": "bob", "password": PASSWORDS["bob"]}, HTTP_ORIGIN=EVIL)
    assert planted.status_code == 403 and "sessionid" not in planted.cookies
    ok = client.post("/auth/cookie", {"username": "bob", "password": PASSWORDS["bob"]}, HTTP_ORIGIN=public_origin())
    assert ok.status_code == 200 and "sessionid" in ok.cookies


# --- 3. settings: Host, redirects, the secret key -----------------------------------------------

def test_a_foreign_host_header_is_refused_with_an_error_document(client, world):
    answer = client.get("/tap/availability", HTTP_HOST="evil.example")
    assert answer.status_code == 400 and answer["Content-Type"].startswith("application/x-votable+xml")
    login = client.post("/auth/cookie", {"username": "alice", "password": PASSWORDS["alice"],
                                         "next": f"{EVIL}/"}, HTTP_HOST="evil.example")
    assert login.status_code == 400 and "sessionid" not in login.cookies


@pytest.mark.parametrize("path", ["/auth/cookie", "/auth/login"])
def test_post_login_redirects_stay_on_the_public_host(client, world, fresh_throttle, path):
    form = {"username": "alice", "password": PASSWORDS["alice"]}
    for foreign in (f"{EVIL}/", "//evil.example/", "https://localhost/x"):
        answer = client.post(path, {**form, "next": foreign}, HTTP_HOST="localhost")
        assert answer.status_code == 200 and "Location" not in answer, foreign
    ours = client.post(path, {**form, "next": f"{get_settings().public_url}/tap"})
    assert ours.status_code == 303 and ours["Location"] == f"{get_settings().public_url}/tap"
    assert client.post(path, {**form, "next": "/auth/"})["Location"] == "/auth/"


def test_the_admin_login_redirects_only_to_this_host(client, dora, fresh_throttle):
    answer = client.post("/admin/login/", {"username": "dora", "password": dora.plain_password,
                                           "next": f"{EVIL}/"})
    assert answer.status_code == 302 and not answer["Location"].startswith(EVIL)


def _start_django(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "import django; django.setup()"], cwd=REPO_ROOT,
                          env={**os.environ, "DJANGO_SETTINGS_MODULE": "vo_services.settings", **env},
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("key", ["", "insecure-development-key-change-me"])
def test_the_service_refuses_to_start_without_its_own_secret_key(tmp_path, key):
    env_file = tmp_path / "lick.env"
    env_file.write_text("# no secret key here\n")
    started = _start_django({"LICK_ENV_FILE": str(env_file), "LICK_SECRET_KEY": key})
    assert started.returncode != 0
    assert "ImproperlyConfigured" in started.stderr and "LICK_SECRET_KEY" in started.stderr
    assert _start_django({"LICK_ENV_FILE": str(env_file), "LICK_SECRET_KEY": "k" * 40}).returncode == 0


# --- 4. demo accounts ---------------------------------------------------------------------------

def test_demo_accounts_get_distinct_kept_passwords(demo_archive, tmp_path, monkeypatch):
    from django.contrib.auth import authenticate

    from vo_services.accounts import demo

    monkeypatch.setattr(demo, "PASSWORD_FILE", tmp_path / "demo_passwords.env")
    lines = demo.make_demo_accounts()
    passwords = [line.split("password ")[1].split()[0] for line in lines]
    assert len(lines) == 2 and len(set(passwords)) == 2, lines
    assert (tmp_path / "demo_passwords.env").stat().st_mode & 0o077 == 0
    assert demo.make_demo_accounts() == lines  # kept: re-runs print the same ones
    observer = lines[1].split("user ")[1].split(",")[0]
    assert authenticate(username="admin", password=passwords[0]) is not None
    assert authenticate(username=observer, password=passwords[1]) is not None
    assert authenticate(username=observer, password=passwords[0]) is None
