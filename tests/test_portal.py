"""The portal's frame: every page in the same look, HTML error pages for people, assets served
locally; in a real browser against the real server."""
from __future__ import annotations

import urllib.request

import pytest


@pytest.fixture(scope="module")
def base(live_archive) -> str:
    return live_archive


def test_every_asset_is_local(page, base):
    """No CDN: every request the front page makes goes to the archive itself."""
    seen: list[str] = []
    page.on("request", lambda r: seen.append(r.url))
    page.goto(base + "/", wait_until="networkidle")
    assert seen and all(url.startswith(base) for url in seen), seen


def test_a_missing_portal_page_is_an_html_404(page, base):
    response = page.goto(base + "/observation/no/such/thing")
    assert response.status == 404
    assert page.get_by_role("heading", name="Not found").is_visible()


def test_a_missing_vo_resource_stays_a_votable_error(base):
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(base + "/tap/no-such-resource")
    assert caught.value.code == 404
    assert caught.value.headers["Content-Type"].startswith("application/x-votable+xml")
