"""Log-ins, tokens, challenges, throttling, staff, admin curation and the release moment,
against the real database (and the real server under gunicorn for pyvo and the TOPCAT flow)."""
from __future__ import annotations

import base64
import re
import time
import urllib.parse
import xml.etree.ElementTree as ET

import pytest
import requests
from django.db import connection

from archive.db import engine
from tests import proprietary_world
from tests.proprietary_world import PASSWORDS, RA, DEC

pytestmark = pytest.mark.django_db
VOT = "{http://www.ivoa.net/xml/VOTable/v1.3}"
SECRET_QUERY = "SELECT obs_id, target_name FROM ivoa.obscore WHERE target_name LIKE 'LEAK%'"


def basic(user: str, password: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def targets(response) -> set[str]:
    root = ET.fromstring(response.body)
    names = [f.get("name") for f in root.iter(f"{VOT}FIELD")]
    return {dict(zip(names, [td.text for td in tr]))["target_name"] for tr in root.iter(f"{VOT}TR")}


def sync(client, query: str, **headers):
    """The response, read whole into ``body`` (a streamed query holds its connection until read)."""
    response = client.get("/tap/sync", {"LANG": "ADQL", "QUERY": query, "RESPONSEFORMAT": "votable/td"}, **headers)
    response.body = b"".join(response.streaming_content) if response.streaming else response.content
    return response


# --- challenges and X-VO-Authenticated (IVOA SSO challenges §2–3) -------------------------------

def test_anonymous_capabilities_offer_optional_log_in(client, world):
    for method in (client.get, client.head):
        response = method("/tap/capabilities")
        assert response.status_code == 200
        challenge = response["WWW-Authenticate"]
        assert 'ivoa_bearer standard_id="ivo://ivoa.net/sso#tls-with-password"' in challenge
        assert re.search(r'access_url="[^"]+/auth/login"', challenge)
        assert "ivoa_cookie" in challenge and 'Basic realm="' in challenge
        assert "X-VO-Authenticated" not in response


def test_capabilities_declare_security_methods_per_interface(client, world):
    for url in ("/tap/capabilities", "/scs/capabilities"):
        root = ET.fromstring(client.get(url).content)
        std = [i for i in root.iter("interface") if i.get("role") == "std"][0]
        methods = [m.get("standardID") for m in std.iter("securityMethod")]
        assert methods == [None, "ivo://ivoa.net/sso#BasicAA", "ivo://ivoa.net/sso#cookie"]
        vosi = [i for i in root.iter("interface") if i.get("role") != "std"]
        assert vosi and all(not list(i.iter("securityMethod")) for i in vosi)  # anonymous


def test_basic_auth(client, world):
    ok = sync(client, SECRET_QUERY, **basic("alice", PASSWORDS["alice"]))
    assert ok.status_code == 200 and ok["X-VO-Authenticated"] == "alice"
    assert "WWW-Authenticate" not in ok
    assert {"LEAKSECRET-1", "LEAKSECRET-2", "LEAKSECRET-3", "LEAKPUBLIC"} <= targets(ok)
    again = sync(client, SECRET_QUERY, **basic("alice", PASSWORDS["alice"]))  # remembered, still right
    assert again["X-VO-Authenticated"] == "alice"
    for wrong in (basic("alice", "nope"), basic("nobody", "x"), {"HTTP_AUTHORIZATION": "Basic !!!"},
                  {"HTTP_AUTHORIZATION": "Digest x"}, {"HTTP_AUTHORIZATION": "Bearer lick_nothing"}):
        refused = sync(client, SECRET_QUERY, **wrong)
        assert refused.status_code == 401, wrong
        assert refused["Content-Type"].startswith("application/x-votable+xml")
        assert b'value="ERROR"' in refused.body and b"LEAKSECRET" not in refused.body
        assert "ivoa_bearer" in refused["WWW-Authenticate"]


def test_a_changed_password_is_not_remembered(client, world):
    from django.contrib.auth.models import User

    assert sync(client, SECRET_QUERY, **basic("bob", PASSWORDS["bob"])).status_code == 200
    bob = User.objects.get(username="bob")
    bob.set_password("bob-new-password-1")
    bob.save()
    assert sync(client, SECRET_QUERY, **basic("bob", PASSWORDS["bob"])).status_code == 401
    assert sync(client, SECRET_QUERY, **basic("bob", "bob-new-password-1")).status_code == 200


def test_personal_tokens_are_hashed_listed_and_revocable(client, world):
    made = client.post("/auth/tokens", {"name": "laptop"}, **basic("alice", PASSWORDS["alice"]))
    assert made.status_code == 201
    token = made.json()["token"]
    assert token.startswith("lick_") and len(token) > 40
    with connection.cursor() as cur:  # only a digest is stored
        cur.execute("SELECT count(*) FROM accounts_apitoken WHERE digest = %s OR prefix = %s OR name = %s",
                    (token, token, token))
        assert cur.fetchone()[0] == 0
    listed = client.get("/auth/tokens", HTTP_AUTHORIZATION=f"Bearer {token}").json()["tokens"]
    assert "laptop" in [t["name"] for t in listed] and token not in str(listed)
    used = sync(client, SECRET_QUERY, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert used["X-VO-Authenticated"] == "alice" and "LEAKSECRET-1" in targets(used)
    token_id = made.json()["id"]
    alice = {"HTTP_AUTHORIZATION": f"Bearer {world.tokens['alice']}"}
    assert client.head(f"/auth/tokens/{token_id}", **alice).status_code == 200  # looking never revokes
    assert client.put(f"/auth/tokens/{token_id}", **alice).status_code == 405
    assert sync(client, SECRET_QUERY, HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200
    assert client.delete(f"/auth/tokens/{token_id}", HTTP_AUTHORIZATION=f"Bearer {world.tokens['alice']}"
                         ).status_code == 204
    assert sync(client, SECRET_QUERY, HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401
    assert client.delete(f"/auth/tokens/{token_id}", HTTP_AUTHORIZATION=f"Bearer {world.tokens['bob']}"
                         ).status_code == 404  # not bob's
    assert client.get("/auth/tokens").status_code == 401
    assert client.post("/auth/tokens", {}, HTTP_AUTHORIZATION=f"Bearer {world.tokens['alice']}").status_code == 400
    for bad in ("abc", "0", "-3", "9999"):
        refused = client.post("/auth/tokens", {"name": "x", "expires_days": bad},
                              HTTP_AUTHORIZATION=f"Bearer {world.tokens['alice']}")
        assert refused.status_code == 400 and "expires_days" in refused.json()["error"]
    dated = client.post("/auth/tokens", {"name": "month", "expires_days": "30"},
                        HTTP_AUTHORIZATION=f"Bearer {world.tokens['alice']}")
    assert dated.status_code == 201 and dated.json()["expires"] is not None


def test_ivoa_bearer_login_and_logout(client, world):
    wrong = client.post("/auth/login", {"username": "alice", "password": "nope"})
    assert wrong.status_code == 401 and "X-VO-Bearer" not in wrong
    login = client.post("/auth/login", {"username": "alice", "password": PASSWORDS["alice"]})
    assert login.status_code == 200 and login["X-VO-Authenticated"] == "alice"
    token = login["X-VO-Bearer"]
    assert sync(client, SECRET_QUERY, HTTP_AUTHORIZATION=f"Bearer {token}")["X-VO-Authenticated"] == "alice"
    assert client.post("/auth/logout", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200
    assert sync(client, SECRET_QUERY, HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401


def test_cookie_login(client, world):
    assert client.post("/auth/cookie", {"username": "alice", "password": "x"}).status_code == 401
    login = client.post("/auth/cookie", {"username": "alice", "password": PASSWORDS["alice"]})
    assert login.status_code == 200 and "sessionid" in login.cookies
    page = sync(client, SECRET_QUERY)  # the client sends the cookie
    assert page["X-VO-Authenticated"] == "alice" and "LEAKSECRET-2" in targets(page)
    account = client.get("/auth/")
    assert b"program:LEAKA" in account.content
    client.post("/auth/logout")
    assert "X-VO-Authenticated" not in sync(client, SECRET_QUERY)


def test_login_attempts_are_throttled(client, world):
    from vo_services.accounts.throttle import MAX_PER_USERNAME

    for _ in range(MAX_PER_USERNAME):
        assert client.post("/auth/login", {"username": "bob", "password": "guess"}).status_code == 401
    throttled = client.post("/auth/login", {"username": "bob", "password": PASSWORDS["bob"]})
    assert throttled.status_code == 429 and int(throttled["Retry-After"]) > 0
    assert sync(client, SECRET_QUERY, **basic("bob", "guess")).status_code == 429
    # other users and token holders are not affected
    assert client.post("/auth/login", {"username": "alice", "password": PASSWORDS["alice"]}).status_code == 200
    assert sync(client, SECRET_QUERY, **world.headers("bob")).status_code == 200


@pytest.fixture
def behind_proxy(monkeypatch):
    """The service as deployed behind Apache on the same host: the proxy is 127.0.0.1."""
    from archive.config import get_settings

    monkeypatch.setenv("LICK_TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/8")
    get_settings.cache_clear()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()


@pytest.mark.parametrize("remote, forwarded, client_address", [
    ("127.0.0.1", "198.51.100.7", "198.51.100.7"),                  # Apache appended the client
    ("127.0.0.1", "203.0.113.9, 198.51.100.7", "198.51.100.7"),     # the client's own claim is ignored
    ("127.0.0.1", "198.51.100.7, 10.1.2.3", "198.51.100.7"),        # through two of our proxies
    ("127.0.0.1", "", "127.0.0.1"),                                  # no header: the proxy itself
    ("127.0.0.1", "198.51.100.7, garbage", "127.0.0.1"),            # unreadable: stop at our last hop
    ("192.0.2.44", "198.51.100.7", "192.0.2.44"),                    # not our proxy: header ignored
    ("127.0.0.1", "2001:db8::5", "2001:db8::5"),
])
def test_the_client_address_behind_a_trusted_proxy(behind_proxy, remote, forwarded, client_address):
    from django.test import RequestFactory

    from vo_services.accounts.authentication import client_ip

    request = RequestFactory().get("/tap/sync", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == client_address


def test_without_trusted_proxies_the_header_is_ignored():
    from django.test import RequestFactory

    from vo_services.accounts.authentication import client_ip

    request = RequestFactory().get("/tap/sync", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert client_ip(request) == "127.0.0.1"


def test_behind_a_proxy_one_address_is_throttled_not_everyone(client, world, behind_proxy):
    """Every request reaches gunicorn from the proxy; throttling that address would lock out all."""
    from vo_services.accounts import authentication
    from vo_services.accounts.throttle import MAX_PER_ADDRESS

    authentication._verified.clear()  # a pair verified by an earlier test would skip the throttle

    attacker = {"HTTP_X_FORWARDED_FOR": "198.51.100.66"}
    for i in range(MAX_PER_ADDRESS):
        assert client.post("/auth/login", {"username": f"nobody{i}", "password": "guess"}, **attacker).status_code == 401
    assert client.post("/auth/login", {"username": "alice", "password": PASSWORDS["alice"]}, **attacker).status_code == 429
    astronomer = {"HTTP_X_FORWARDED_FOR": "198.51.100.7"}
    assert client.post("/auth/login", {"username": "alice", "password": PASSWORDS["alice"]}, **astronomer).status_code == 200


def test_staff_see_everything_members_their_programs(client, world):
    assert {"LEAKSECRET-1", "LEAKSECRET-2", "LEAKSECRET-3"} <= targets(sync(client, SECRET_QUERY, **world.headers("carol")))
    assert targets(sync(client, SECRET_QUERY, **world.headers("bob"))) == {"LEAKPUBLIC"}
    assert targets(sync(client, SECRET_QUERY)) == {"LEAKPUBLIC"}


# --- identity from the schedule, admin curation -------------------------------------------------

def test_schedule_observers_become_users(world, tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    from django.contrib.auth.models import User

    schedule = tmp_path / "s.csv"
    schedule.write_text("telescope,night,starts_at,ends_at,program_id,title,observers,release_date\n"
                        "Nickel,2004-04-04,,,AUTHTEST1,Test,newobserver@example.org;alice,\n")
    try:
        out = subprocess.run([str(Path(sys.executable).parent / "lick-admin"), "import-schedule", str(schedule)],
                             capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        assert "newobserver@example.org" in out.stdout and "alice" not in out.stdout.split("observers")[-1]
        made = User.objects.get(username="newobserver@example.org")
        assert not made.has_usable_password() and made.email == "newobserver@example.org"
        from vo_services.identity import principals_of
        assert "program:AUTHTEST1" in principals_of("newobserver@example.org")
    finally:
        User.objects.filter(username="newobserver@example.org").delete()
        with engine("owner").begin() as conn:
            conn.exec_driver_sql("DELETE FROM lick.program WHERE program_id = 'AUTHTEST1'")


@pytest.mark.django_db(transaction=True)  # the query role must see the admin's committed change
def test_admin_changes_are_applied_and_audited(client, world):
    from django.contrib.admin.models import LogEntry
    from django.contrib.auth.models import User

    from vo_services.curation.models import Observation

    admin_user = User.objects.create_superuser("auditor", password="auditor-Pass-1")
    client.force_login(admin_user)
    secret = Observation.objects.get(obs_id=world.secret_ids[0])
    page = client.get(f"/admin/curation/observation/{secret.pk}/change/")
    assert page.status_code == 200
    # an admin releases one file now
    moment = "2000-01-01 00:00:00"
    saved = client.post(f"/admin/curation/observation/{secret.pk}/change/", {
        "release_override_0": moment[:10], "release_override_1": moment[11:],
        "grants-TOTAL_FORMS": "0", "grants-INITIAL_FORMS": "0"})
    assert saved.status_code == 302, saved.content[:2000]
    client.logout()
    assert "LEAKSECRET-1" in targets(sync(client, SECRET_QUERY))  # anonymous, at once
    entry = LogEntry.objects.filter(user=admin_user, object_id=str(secret.pk)).latest("action_time")
    assert "release_override: None -> datetime.datetime(2000, 1, 1" in entry.change_message
    # re-deciding access (a new schedule, say) keeps the admin's release date
    from ingest.pipeline import reapply_access

    reapply_access(obs_ids=[secret.obs_id])
    assert "LEAKSECRET-1" in targets(sync(client, SECRET_QUERY))
    # and clearing the override restores the rules' date
    client.force_login(admin_user)
    client.post(f"/admin/curation/observation/{secret.pk}/change/", {
        "release_override_0": "", "release_override_1": "",
        "grants-TOTAL_FORMS": "0", "grants-INITIAL_FORMS": "0"})
    client.logout()
    with engine("owner").connect() as conn:  # the rules decide again: nobody was scheduled, so the night
        override, release = conn.exec_driver_sql(
            "SELECT release_override, obs_release_date::date FROM lick.observation WHERE id = %s", (secret.pk,)).one()
    assert override is None and str(release) == "2003-03-03"
    with engine("owner").begin() as conn:  # reapply used the test world's (empty) schedule: restore
        conn.exec_driver_sql("UPDATE lick.observation SET obs_release_date = now() + interval '1 year' "
                             "WHERE obs_id = %s", (secret.obs_id,))
        conn.exec_driver_sql("INSERT INTO lick.access_grant (observation_id, principal, reason) VALUES "
                             "(%s, 'program:LEAKA', 'test') ON CONFLICT DO NOTHING", (secret.pk,))


@pytest.mark.django_db(transaction=True)
def test_admin_grant_to_a_user_survives_reingest(client, world):
    from django.contrib.auth.models import User

    from ingest.pipeline import ingest_batch
    from vo_services.curation.models import Observation

    admin_user = User.objects.create_superuser("granter", password="granter-Pass-1")
    client.force_login(admin_user)
    secret = Observation.objects.get(obs_id=world.secret_ids[1])
    added = client.post("/admin/curation/accessgrant/add/", {
        "observation": secret.pk, "principal": "user:bob", "reason": "collaborator"})
    assert added.status_code == 302, added.content[:3000]
    client.logout()
    assert "LEAKSECRET-2" in targets(sync(client, SECRET_QUERY, **world.headers("bob")))
    with engine("owner").connect() as conn:
        reason = conn.exec_driver_sql("SELECT reason FROM lick.access_grant WHERE principal = 'user:bob'").scalar()
    assert reason == "admin: collaborator"
    ingest_batch([world.files[secret.obs_id]], root=world.files[secret.obs_id].parents[3], force=True)
    assert "LEAKSECRET-2" in targets(sync(client, SECRET_QUERY, **world.headers("bob")))
    with engine("owner").begin() as conn:
        conn.exec_driver_sql("DELETE FROM lick.access_grant WHERE principal = 'user:bob'")
        conn.exec_driver_sql("UPDATE lick.observation SET obs_release_date = now() + interval '1 year', "
                             "target_name = 'LEAKSECRET-2', pos = spoint(radians(%s), radians(%s)), "
                             "s_ra = %s, s_dec = %s WHERE id = %s", (RA + 0.001, DEC, RA + 0.001, DEC, secret.pk))
        conn.exec_driver_sql("INSERT INTO lick.access_grant (observation_id, principal, reason) VALUES "
                             "(%s, 'program:LEAKA', 'test') ON CONFLICT DO NOTHING", (secret.pk,))


def test_a_file_becomes_public_the_moment_its_release_date_passes(client, world):
    obs_id = world.secret_ids[2]
    with engine("owner").begin() as conn:
        conn.exec_driver_sql("UPDATE lick.observation SET obs_release_date = now() + interval '2 seconds' "
                             "WHERE obs_id = %s", (obs_id,))
    try:
        assert "LEAKSECRET-3" not in targets(sync(client, SECRET_QUERY))
        assert client.get(f"/datalink/download/{obs_id}").status_code == 401
        time.sleep(2.5)  # no re-ingest, no job: the predicate compares with now()
        assert "LEAKSECRET-3" in targets(sync(client, SECRET_QUERY))
        assert client.get(f"/datalink/download/{obs_id}").status_code == 200
    finally:
        with engine("owner").begin() as conn:
            conn.exec_driver_sql("UPDATE lick.observation SET obs_release_date = now() + interval '1 year' "
                                 "WHERE obs_id = %s", (obs_id,))


# --- real clients against the real server --------------------------------------------------------

def test_pyvo_with_basic_auth(live_archive, world):
    import pyvo
    from pyvo.auth import AuthSession

    session = AuthSession()
    session.credentials.set_password("alice", PASSWORDS["alice"])
    service = pyvo.dal.TAPService(f"{live_archive}/tap", session=session)
    session.update_from_capabilities(service.capabilities)
    found = {str(t) for t in service.search(SECRET_QUERY)["target_name"]}
    assert {"LEAKSECRET-1", "LEAKSECRET-2", "LEAKSECRET-3"} <= found
    anonymous = pyvo.dal.TAPService(f"{live_archive}/tap")
    assert {str(t) for t in anonymous.search(SECRET_QUERY)["target_name"]} == {"LEAKPUBLIC"}


def test_pyvo_with_a_bearer_session(live_archive, world):
    import pyvo

    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {world.tokens['alice']}"
    service = pyvo.dal.TAPService(f"{live_archive}/tap", session=session)
    assert "LEAKSECRET-1" in {str(t) for t in service.search(SECRET_QUERY)["target_name"]}
    job = service.submit_job(SECRET_QUERY)
    job.run().wait(timeout=60)
    assert "LEAKSECRET-2" in {str(t) for t in job.fetch_result()["target_name"]}
    # the job is alice's: bob is refused, the anonymous caller asked to log in
    for headers, status in ((world.http_headers("bob"), 403), ({}, 401)):
        assert requests.get(job.url, headers=headers, timeout=30).status_code == status
        assert requests.get(f"{job.url}/results/result", headers=headers, timeout=30).status_code == status
    cone = pyvo.dal.SCSService(f"{live_archive}/scs", session=session).search((RA, DEC), 0.01)
    assert "LEAKSECRET-1" in {str(t) for t in cone["target_name"]}
    job.delete()


def _parse_challenges(header: str) -> dict[str, dict[str, str]]:
    """The challenges of a WWW-Authenticate value, as TOPCAT's auth package reads them."""
    found = {}
    for match in re.finditer(r'(\w+)((?:\s*,?\s*\w+="[^"]*")*)', header):
        params = dict(re.findall(r'(\w+)="([^"]*)"', match.group(2)))
        found.setdefault(match.group(1), params)
    return found


def test_the_topcat_login_flow(live_archive, world):
    """What TOPCAT does: probe /capabilities, pick ivoa_bearer, POST the form, use X-VO-Bearer."""
    probe = requests.head(f"{live_archive}/tap/capabilities", timeout=30)
    assert probe.status_code == 200 and "X-VO-Authenticated" not in probe.headers
    bearer = _parse_challenges(probe.headers["WWW-Authenticate"])["ivoa_bearer"]
    assert bearer["standard_id"] == "ivo://ivoa.net/sso#tls-with-password"
    login_url = f"{live_archive}{urllib.parse.urlparse(bearer['access_url']).path}"
    login = requests.post(login_url, data={"username": "alice", "password": PASSWORDS["alice"]}, timeout=30)
    assert login.status_code == 200 and login.headers["X-VO-Authenticated"] == "alice"
    token = login.headers["X-VO-Bearer"]
    check = requests.head(f"{live_archive}/tap/capabilities", headers={"Authorization": f"Bearer {token}"},
                          timeout=30)
    assert check.headers["X-VO-Authenticated"] == "alice"
    result = requests.post(f"{live_archive}/tap/sync", data={"LANG": "ADQL", "QUERY": SECRET_QUERY, "FORMAT": "csv"},
                           headers={"Authorization": f"Bearer {token}"}, timeout=60)
    assert b"LEAKSECRET-1" in result.content
    # reactive log-in on a protected file: 401 with the same challenges, then the file
    secret = world.secret_ids[0]
    refused = requests.get(f"{live_archive}/datalink/download/{secret}", timeout=30)
    assert refused.status_code == 401 and "ivoa_bearer" in refused.headers["WWW-Authenticate"]
    assert proprietary_world.MARKER not in refused.content
    fetched = requests.get(f"{live_archive}/datalink/download/{secret}",
                           headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert fetched.status_code == 200 and proprietary_world.MARKER in fetched.content

