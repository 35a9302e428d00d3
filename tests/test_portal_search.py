"""The portal's search, observation page and basket: form logic through Django's test client, and
what a person does in a real browser (headless Chromium) against the real gunicorn, database and
Celery worker. The proprietary world (tests/proprietary_world.py): alice observes for LEAKA, whose
three files are proprietary; one public file sits at the same place."""
from __future__ import annotations

import csv
import html
import io
import re
import urllib.parse
import zipfile

import pytest

from archive.config import get_settings
from tests.browser import log_in, screenshot
from tests.proprietary_world import DEC, MARKER, PASSWORDS, RA

pytestmark = pytest.mark.django_db(transaction=True)  # the live server must see the users

CONE = {"coords": f"{RA} {DEC}", "radius": "30"}


def _ids(response) -> list[str]:
    """The obs_ids of the result rows, in table order."""
    return re.findall(r'<input type="checkbox" name="id" value="([^"]+)"', response.content.decode())


def _adql(response) -> str:
    return html.unescape(re.search(r'<pre id="adql">(.*?)</pre>', response.content.decode(), re.S).group(1))


def _tap_ids(client, adql: str, headers: dict) -> list[str]:
    response = client.post("/tap/sync", {"REQUEST": "doQuery", "LANG": "ADQL", "QUERY": adql, "FORMAT": "csv",
                                         "MAXREC": "100000"}, **headers)
    assert response.status_code == 200, response.content[:500]
    text = b"".join(response.streaming_content).decode() if response.streaming else response.content.decode()
    return [row["obs_id"] for row in csv.DictReader(io.StringIO(text))]


def _search(client, who=None, world=None, **params):
    return client.get("/search", {"run": "1", **params}, **(world.headers(who) if world else {}))


# --- who sees what ---------------------------------------------------------------------------------

def test_anonymous_search_shows_only_public_rows(client, world):
    response = _search(client, **CONE)
    assert response.status_code == 200
    ids = _ids(response)
    assert world.public_id in ids
    assert not set(world.secret_ids) & set(ids)
    assert b"LEAKSECRET" not in response.content


def test_an_observer_sees_their_proprietary_rows_with_a_lock(client, world):
    response = _search(client, "alice", world, **CONE)
    ids = _ids(response)
    assert set(world.secret_ids) <= set(ids) and world.public_id in ids
    page = response.content.decode()
    assert page.count('aria-label="proprietary"') >= len(world.secret_ids)
    assert _ids(_search(client, "bob", world, **CONE)) == _ids(_search(client, **CONE))


def test_public_and_proprietary_filters(client, world):
    assert set(_ids(_search(client, "alice", world, access="proprietary", **CONE))) >= set(world.secret_ids)
    public = _ids(_search(client, "alice", world, access="public", **CONE))
    assert world.public_id in public and not set(world.secret_ids) & set(public)


def test_my_programs_only(client, world):
    from django.contrib.auth.models import User

    mine = _search(client, "alice", world, mine="1", **CONE)
    assert mine.status_code == 200  # alice's rows carry no program column in this world: nothing, no error
    client.force_login(User.objects.get(username="bob"))
    assert "mine" not in _search(client, mine="1").context["form"].errors
    client.logout()
    anonymous = _search(client, mine="1")
    assert anonymous.status_code == 400 and "Log in" in anonymous.context["form"].errors["mine"]


# --- target names ------------------------------------------------------------------------------------

@pytest.mark.parametrize("typed", ["LEAKPUBLIC", "leakpublic", "  Leak Public ", "LEAK PUBLIC"])
def test_target_names_match_case_and_space_insensitively(client, world, typed):
    response = _search(client, target=typed)
    assert response.status_code == 200, response.context["form"].errors
    assert _ids(response) == [world.public_id]
    assert "target_name IN ('LEAKPUBLIC')" in _adql(response)


def test_a_hidden_target_name_is_unknown_to_others(client, world):
    anonymous = _search(client, target="leaksecret-1")
    assert anonymous.status_code == 400
    assert "No observation you may see" in anonymous.context["form"].errors["target"]
    assert _ids(_search(client, "alice", world, target="leaksecret-1")) == [world.secret_ids[0]]


def test_suggestions_are_the_callers_names(client, world):
    anonymous = client.get("/search/targets", {"q": "leak"}).json()["names"]
    assert anonymous == ["LEAKPUBLIC"]
    alice = client.get("/search/targets", {"q": "leak s"}, **world.headers("alice")).json()["names"]
    assert alice == ["LEAKSECRET-1", "LEAKSECRET-2", "LEAKSECRET-3"]
    assert client.get("/search/targets", {"q": "l"}).json()["names"] == []
    assert client.get("/search/targets", {"q": "x\x07"}).json()["names"] == []


# --- bad input: the message beside the field -------------------------------------------------------

@pytest.mark.parametrize("params, field, words", [
    ({"coords": "somewhere nice"}, "coords", "is not a position"),
    ({"coords": "12 100"}, "coords", "is not a position"),
    ({"coords": "150 20", "radius": "9999"}, "radius", "between 0 and 1800"),
    ({"coords": "150 20", "radius": "-1"}, "radius", "between 0 and 1800"),
    ({"coords": "150 20", "radius": "0"}, "radius", "more than 0"),
    ({"coords": "150 20", "radius": "nan"}, "radius", "between"),
    ({"start": "2020-03-01", "end": "2020-01-01"}, "end", "before the first night"),
    ({"night": "2020-02-30"}, "night", "is not a date"),
    ({"exp_min": "ten"}, "exp_min", "must be a number"),
    ({"exp_max": "1e400"}, "exp_max", "between"),
    ({"exp_min": "100", "exp_max": "10"}, "exp_max", "shorter than the shortest"),
    ({"target": "no such star anywhere"}, "target", "No observation you may see"),
    ({"telescope": "Keck"}, "telescope", "not one of the choices"),
    ({"frame": "selfie"}, "frame", "frame types from the list"),
    ({"program": "a\x07b"}, "program", "control"),
    ({"program": "x" * 300}, "program", "at most 200"),
])
def test_bad_input_is_explained_beside_its_field(client, world, params, field, words):
    response = _search(client, **params)
    assert response.status_code == 400
    page = response.content.decode()
    message = re.search(rf'<p id="e-{field}" class="error" role="alert">([^<]*)</p>', page)
    assert message and words in html.unescape(message.group(1)), page[:3000]
    if field != "frame":
        control = re.search(rf'<(?:input|select) id="f-{field}"[^>]*>', page).group(0)
        assert 'aria-invalid="true"' in control and f"e-{field}" in control
    assert "Traceback" not in page and 'id="results"' not in page


def test_an_empty_result_says_so(client, world):
    response = _search(client, coords="10 80", radius="1")
    assert response.status_code == 200
    assert b'id="no-results"' in response.content


def test_the_empty_form_runs_no_search(client, world):
    response = client.get("/search")
    assert response.status_code == 200 and not response.context["searched"]


# --- the ADQL: escaped, and exactly what ran ------------------------------------------------------------

@pytest.mark.parametrize("field, attack", [
    ("program", "x' OR 'a'='a"),
    ("program", "x'); DROP TABLE lick.observation; --"),
    ("program", "x' OR 1=1 --"),
    ("program", "ñ’' /* */ OR ''='"),
    ("target", "LEAKSECRET-1' OR '1'='1"),
    ("target", "%"),
    ("target", "_"),
    ("target", "\\"),
    ("coords", "1 2'); --"),
    ("instrument", "Kast Red' OR 'x'='x"),
])
def test_attacks_stay_literals(client, world, field, attack):
    response = _search(client, **{field: attack})
    assert response.status_code in (200, 400)
    assert b"LEAKSECRET" not in response.content or field == "target"
    assert not set(world.secret_ids) & set(_ids(response))
    if response.status_code == 200:
        assert _ids(response) == []  # no such program: the quote did not widen the search
        assert attack.replace("'", "''") in _adql(response)


def test_the_adql_shown_is_what_ran(client, world):
    for who in (None, "alice"):
        response = _search(client, who, world, frame=["science", "bias"], sort="object", dir="asc")
        shown = _ids(response)
        assert shown
        assert _tap_ids(client, _adql(response), world.headers(who))[:len(shown)] == shown
        exported = re.search(r'href="(/tap/sync\?[^"]*FORMAT=csv[^"]*)"', response.content.decode()).group(1)
        query = urllib.parse.parse_qs(urllib.parse.urlparse(html.unescape(exported)).query)["QUERY"][0]
        assert _tap_ids(client, query, world.headers(who))[:len(shown)] == shown


@pytest.mark.parametrize("sort, direction", [("time", "desc"), ("object", "asc"), ("exposure", "desc"),
                                              ("release", "asc"), ("night", "asc")])
def test_keyset_pages_walk_the_whole_result_both_ways(client, world, sort, direction):
    first = _search(client, sort=sort, dir=direction)
    exported = re.search(r'<pre id="export-adql">(.*?)</pre>', first.content.decode(), re.S).group(1)
    everything = _tap_ids(client, html.unescape(exported), {})
    pages, response = [], first
    while True:
        assert "OFFSET" not in _adql(response)
        pages.append(_ids(response))
        following = re.search(r'<a rel="next" href="\?([^"]+)"', response.content.decode())
        if not following:
            break
        response = client.get("/search?" + html.unescape(following.group(1)))
    assert len(pages) > 2, "the demo holds several pages"
    assert [i for page in pages for i in page] == everything
    for expected in reversed(pages[:-1]):
        back = re.search(r'<a rel="prev" href="\?([^"]+)"', response.content.decode())
        response = client.get("/search?" + html.unescape(back.group(1)))
        assert _ids(response) == expected
    assert 'rel="prev"' not in response.content.decode()


def test_a_damaged_page_link_starts_again(client, world):
    for damaged in ("nonsense", '["x"]', '[{"a":1},"id"]', '[1e999,"x"]'):
        response = _search(client, sort="time", after=damaged)
        assert response.status_code == 200 and b"page link was damaged" in response.content


# --- the observation page -------------------------------------------------------------------------

def test_observation_page_hidden_and_missing_are_the_same_404(client, world):
    hidden = client.get(f"/observation/{world.secret_ids[0]}")
    missing = client.get(f"/observation/{world.secret_ids[0]}x")
    assert hidden.status_code == missing.status_code == 404
    assert (hidden.content.decode().replace(world.secret_ids[0], "ID")
            == missing.content.decode().replace(world.secret_ids[0] + "x", "ID"))
    assert client.get("/observation/it's'; --").status_code == 404


def test_observation_page_shows_everything(client, world):
    response = client.get(f"/observation/{world.secret_ids[0]}", **world.headers("alice"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "LEAKSECRET-1" in page and "SIMPLE" in page and f"datalink/preview/{world.secret_ids[0]}" in page
    assert f"datalink/download/{world.secret_ids[0]}" in page and 'aria-label="proprietary"' in page
    assert "<td>2003-03-03</td>" in page and "midnight" not in page, "dates print as dates"


def test_observation_page_lists_calibrations(client, world):
    from vo_services.portal import basket

    science = _science_with_calibrations()
    page = client.get(f"/observation/{science}").content.decode()
    for calibration in basket.calibrations([science], ()):
        assert f'href="/observation/{calibration}"' in page


def _science_with_calibrations() -> str:
    from vo_services.portal import basket
    from vo_services.portal.runner import run_adql

    rows = run_adql("SELECT TOP 400 obs_id FROM lick.observations WHERE frame_type = 'science' "
                    "ORDER BY obs_id", (), 400).rows
    for row in rows:
        if basket.calibrations([row["obs_id"]], ()):
            return row["obs_id"]
    pytest.fail("the demo has no public science frame with calibrations")


# --- the basket ------------------------------------------------------------------------------------

def test_basket_takes_only_what_the_caller_may_see(client, world):
    client.post("/basket/add", {"id": [world.public_id, *world.secret_ids, "no/such/file"]})
    page = client.get("/basket")
    assert page.context["ids"] == [world.public_id]
    client.post("/basket/remove", {"id": [world.public_id]})
    assert client.get("/basket").context["ids"] == []


def test_basket_all_results_of_a_search_and_its_cap(client, world, monkeypatch):
    query = urllib.parse.urlencode({"run": "1", "frame": "science"})
    client.post("/basket/add", {"all": "1", "q": query})
    everything = _tap_ids(client, "SELECT obs_id FROM lick.observations WHERE frame_type = 'science'", {})
    assert sorted(client.get("/basket").context["ids"]) == sorted(everything)
    client.post("/basket/clear")
    try:
        monkeypatch.setenv("LICK_BUNDLE_MAX_FILES", "5")
        get_settings.cache_clear()
        client.post("/basket/add", {"all": "1", "q": query})
        page = client.get("/basket")
        assert len(page.context["ids"]) == 5
        assert "at most 5 files" in page.content.decode()
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()


def test_add_calibrations(client, world):
    from vo_services.portal import basket

    science = _science_with_calibrations()
    client.post("/basket/add", {"id": [science]})
    client.post("/basket/calibrations")
    assert client.get("/basket").context["ids"] == [science, *basket.calibrations([science], ())]


def test_a_bundle_over_the_limits_is_explained_beside_the_button(client, world, monkeypatch):
    client.post("/basket/add", {"all": "1", "q": "run=1&frame=science"})
    try:
        monkeypatch.setenv("LICK_BUNDLE_MAX_BYTES", "1000")
        get_settings.cache_clear()
        response = client.post("/basket/download", {"format": "zip"})
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    assert response.status_code == 400
    assert re.search(r'<p class="error" id="e-bundle" role="alert">[^<]*at most 1,000 bytes', response.content.decode())


def test_someone_elses_bundle_page_is_a_404(client, world):
    client.post("/basket/add", {"id": [world.public_id]})
    made = client.post("/basket/download", {"format": "zip"})
    assert made.status_code == 302 and "/basket/bundle/" in made["Location"]
    from django.test import Client

    assert Client().get(made["Location"]).status_code == 404


# --- in a real browser ------------------------------------------------------------------------------

@pytest.fixture
def base(live_archive) -> str:
    return live_archive


def _search_in_browser(page, base: str, **fields) -> None:
    page.goto(f"{base}/search")
    for label, value in fields.items():
        page.get_by_label(label, exact=True).fill(value)
    page.get_by_role("button", name="Search", exact=True).click()
    page.wait_for_load_state()


def _row_ids(page) -> list[str]:
    return page.locator("#results input[name=id]").evaluate_all("boxes => boxes.map(b => b.value)")


def test_browser_anonymous_search_and_observation(page, base, world):
    _search_in_browser(page, base, **{"Position (RA Dec)": f"{RA} {DEC}", "Radius (arcmin)": "30"})
    assert _row_ids(page) == [world.public_id]
    assert "LEAKSECRET" not in page.content()
    page.get_by_role("link", name="Header").first.click()
    dialog = page.locator("#header-dialog")
    dialog.wait_for(state="visible")
    page.get_by_text("SIMPLE", exact=False).first.wait_for()
    page.keyboard.press("Escape")
    page.get_by_role("link", name="LEAKPUBLIC").click()
    page.get_by_role("heading", name=re.compile("LEAKPUBLIC")).wait_for()
    screenshot(page, "observation")
    hidden = page.goto(f"{base}/observation/{world.secret_ids[0]}")
    assert hidden.status == 404


def test_browser_observer_sees_and_downloads_their_file(page, base, world):
    log_in(page, base, "alice", PASSWORDS["alice"])
    _search_in_browser(page, base, **{"Position (RA Dec)": "21h26m00s -45d00m00s", "Radius (arcmin)": "30"})
    assert set(world.secret_ids) <= set(_row_ids(page))
    assert page.get_by_role("img", name="proprietary").count() >= 3
    screenshot(page, "search-results")
    row = page.locator("tr", has=page.locator(f'input[value="{world.secret_ids[0]}"]'))
    with page.expect_download() as caught:
        row.get_by_role("link", name="FITS").click()
    assert MARKER in open(caught.value.path(), "rb").read()


def test_browser_basket_bundle_zip(page, base, world):
    log_in(page, base, "alice", PASSWORDS["alice"])
    _search_in_browser(page, base, **{"Position (RA Dec)": f"{RA} {DEC}", "Radius (arcmin)": "30"})
    chosen = world.secret_ids[:2] + [world.public_id]
    for obs_id in chosen:
        page.get_by_label(f"select {obs_id}").check()
    page.get_by_role("button", name="Add selected to basket").click()
    page.get_by_text("Added 3 files").wait_for()
    page.get_by_role("button", name="Download the basket").click()
    page.locator("#bundle-download").wait_for(timeout=60_000)
    with page.expect_download() as caught:
        page.locator("#bundle-download").click()
    with zipfile.ZipFile(caught.value.path()) as bundle:
        names = bundle.namelist()
        manifest = next(n for n in names if n.endswith("manifest.tsv"))
        listed = bundle.read(manifest).decode()
    for obs_id in chosen:
        assert any(n.endswith(obs_id.rsplit("/", 1)[1] + ".fits") for n in names), names
        assert obs_id in listed


def test_browser_back_button_restores_results(page, base, world):
    page.goto(f"{base}/search?run=1&sort=time&dir=desc")
    first = _row_ids(page)
    page.get_by_role("link", name="Next page →").click()
    page.wait_for_load_state()
    second = _row_ids(page)
    assert second and second != first
    page.go_back()
    assert _row_ids(page) == first
    page.locator("#results a[href^='/observation/']").first.click()
    page.wait_for_load_state()
    page.go_back()
    assert _row_ids(page) == first


def test_browser_bad_input_beside_each_field(page, base, world):
    page.goto(f"{base}/search")
    page.get_by_label("Position (RA Dec)", exact=True).fill("twelve o'clock high")
    page.get_by_label("Radius (arcmin)", exact=True).fill("9999")
    page.get_by_label("First night", exact=True).fill("2020-03-01")
    page.get_by_label("Last night", exact=True).fill("2020-01-01")
    page.get_by_label("Exposure from (s)", exact=True).fill("lots")
    page.get_by_role("button", name="Search", exact=True).click()
    page.wait_for_load_state()
    for field, label in (("coords", "Position (RA Dec)"), ("radius", "Radius (arcmin)"),
                         ("end", "Last night"), ("exp_min", "Exposure from (s)")):
        control = page.get_by_label(label, exact=True)
        assert control.get_attribute("aria-invalid") == "true"
        assert f"e-{field}" in control.get_attribute("aria-describedby")
        assert page.locator(f"#e-{field}").is_visible()
    assert page.get_by_label("Position (RA Dec)", exact=True).input_value() == "twelve o'clock high"


def test_browser_target_suggestions_and_phone_size(page, base, world):
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto(f"{base}/search")
    page.get_by_label("Target name", exact=True).press_sequentially("leakp", delay=30)
    page.wait_for_function("document.querySelectorAll('#target-names option').length > 0")
    assert page.locator("#target-names option").first.get_attribute("value") == "LEAKPUBLIC"
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375 + 1, "the form fits a phone's width"
    page.get_by_label("Target name", exact=True).fill("LEAKPUBLIC")  # as choosing the suggestion does
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.locator("#results").wait_for()
    assert _row_ids(page) == [world.public_id]


# --- ADQL literals (no database) --------------------------------------------------------------------

def test_adql_literals():
    from vo_services.portal import adql_text

    assert adql_text.string("O'Brien -- /* x */") == "'O''Brien -- /* x */'"
    assert adql_text.string("ñgc’") == "'ñgc’'"
    for bad in ("a\x00b", "a\nb", "a\x1bb", "\ud800"):
        with pytest.raises(adql_text.UnsafeText):
            adql_text.string(bad)
    assert adql_text.number(1e-7) == "0.0000001" and adql_text.number(-3.5) == "-3.5"
    for bad in (float("inf"), float("nan")):
        with pytest.raises(ValueError):
            adql_text.number(bad)


def test_page_keys_are_bounded_and_reach_the_nulls():
    """A page after a key is a range an index can scan from; where NULLs follow (ascending on a
    column that may be NULL, or descending from the NULLs on), they come as a second part."""
    from vo_services.portal.search import Criteria, PageKey
    from vo_services.tap.adql import translate
    from vo_services.tap.catalog import catalog

    cases = {("object", False, "NGC 1"): True, ("object", True, "NGC 1"): False,
             ("object", True, None): True, ("object", False, None): False,
             ("night", False, "2020-01-01T00:00:00"): False, ("time", True, 58000.25): False}
    for (sort, descending, value), union in cases.items():
        if sort == "night":
            from datetime import datetime
            value = datetime.fromisoformat(value)
        adql = Criteria(sort=sort, descending=descending, page=PageKey(value, "it's")).adql()
        assert ("UNION ALL" in adql) == union, adql
        assert "'it''s'" in adql
        if value is not None:
            assert (" <= " if descending else " >= ") in adql
        translate(adql, catalog(), maxrec=200)  # valid ADQL
