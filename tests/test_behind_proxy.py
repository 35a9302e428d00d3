"""The archive as deployed: gunicorn behind Apache, which serves it at https://<host>/vo/ and
forwards plain HTTP with the prefix stripped (docs/deployment.md). Requests here carry what
Apache adds: the public Host, X-Forwarded-Proto and X-Forwarded-For."""
from __future__ import annotations

import re

import pytest
import requests

from conftest import gunicorn
from tests.proprietary_world import PASSWORDS

pytestmark = pytest.mark.django_db(transaction=True)  # the server must see the users
HOST = "archive.example.org"
ORIGIN = f"https://{HOST}"
AS_APACHE_FORWARDS = {"Host": HOST, "X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.7"}


@pytest.fixture(scope="module")
def proxied(tmp_path_factory):
    log = tmp_path_factory.mktemp("proxied") / "gunicorn.log"
    with gunicorn(log, workers=1, LICK_PUBLIC_URL=f"{ORIGIN}/vo", LICK_TRUSTED_PROXIES="127.0.0.1") as base:
        yield base


@pytest.fixture
def admin_password(world) -> str:
    from django.contrib.auth.models import User

    User.objects.create_user("dora", password="dora-Runs-The-Archive-7", is_staff=True, is_superuser=True)
    return "dora-Runs-The-Archive-7"


def _get(base: str, path: str, **headers) -> requests.Response:
    return requests.get(base + path, headers={**AS_APACHE_FORWARDS, **headers}, allow_redirects=False, timeout=30)


def _post(base: str, path: str, data: dict, **headers) -> requests.Response:
    return requests.post(base + path, data=data, headers={**AS_APACHE_FORWARDS, **headers},
                         allow_redirects=False, timeout=30)


def _cookie(response: requests.Response, name: str) -> str:
    # The cookies are Secure (the public URL is https), so requests would not send them back to
    # plain-HTTP gunicorn on its own: Apache would.
    return re.search(rf"{name}=([^;]+)", response.headers["Set-Cookie"]).group(1)


def test_pages_link_under_the_public_path(proxied, world):
    assert 'href="/vo/auth/"' in _get(proxied, "/").text
    login = _get(proxied, "/admin/login/")
    assert login.status_code == 200
    assert 'action="/vo/admin/login/' in login.text and "/vo/static/admin/css/" in login.text
    stylesheet = re.search(r'href="/vo(/static/admin/css/[^"]+\.css)"', login.text).group(1)
    assert _get(proxied, stylesheet).status_code == 200  # Apache strips /vo; whitenoise serves it


@pytest.mark.parametrize("proxy", ["on this host", "on another host"])
def test_admin_log_in_through_the_proxy(proxied, admin_password, proxy):
    """The browser posts from https. gunicorn believes X-Forwarded-Proto only from this host; from
    a proxy elsewhere Django sees http, and the CSRF origin check must still accept the form."""
    scheme = {} if proxy == "on this host" else {"X-Forwarded-Proto": "http"}
    form = _get(proxied, "/admin/login/", **scheme)
    csrf = _cookie(form, "csrftoken")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
    credentials = {"csrfmiddlewaretoken": token, "username": "dora", "password": admin_password}
    logged_in = _post(proxied, "/admin/login/?next=/vo/admin/", {**credentials, "next": "/vo/admin/"},
                      Origin=ORIGIN, Referer=f"{ORIGIN}/vo/admin/login/", Cookie=f"csrftoken={csrf}", **scheme)
    assert logged_in.status_code == 302 and logged_in.headers["Location"] == "/vo/admin/"
    session = _cookie(logged_in, "sessionid")
    assert "Site administration" in _get(proxied, "/admin/", Cookie=f"sessionid={session}", **scheme).text
    forged = _post(proxied, "/admin/login/", credentials, Origin="https://elsewhere.example.com",
                   Cookie=f"csrftoken={csrf}", **scheme)
    assert forged.status_code == 403


def test_cookie_log_in_returns_to_the_account_page(proxied, world):
    account = _get(proxied, "/auth/")
    assert 'name="next" value="/vo/auth/"' in account.text
    logged_in = _post(proxied, "/auth/cookie", {"username": "alice", "password": PASSWORDS["alice"],
                                                "next": "/vo/auth/"})
    assert logged_in.status_code == 303 and logged_in.headers["Location"] == "/vo/auth/"
    assert logged_in.headers["X-VO-Authenticated"] == "alice"


def test_vo_documents_name_the_public_urls(proxied, world):
    capabilities = _get(proxied, "/tap/capabilities").text
    assert f"<accessURL use=\"base\">{ORIGIN}/vo/tap</accessURL>" in capabilities
    assert f'access_url="{ORIGIN}/vo/auth/login"' in _get(proxied, "/tap/capabilities").headers["WWW-Authenticate"]
