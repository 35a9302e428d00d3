"""SAMP from the portal (static/portal/samp.js): a click in a real browser reaches a real hub.

The hub is astropy's, with the Web Profile on its standard port (SAMP 1.3 §5.2 fixes 21012, so
the test skips when something else holds it) and a dialog that approves the page's registration,
as astropy's own Web Profile tests do; a Python client subscribed to the message types receives
what the page sends. The hub is stopped whatever happens.

Logged in, the page first gets a pre-authorised copy of the URL (POST /auth/preauth,
vo_services/accounts/preauth.py): the client, fetching it with no credential, gets the owner's
proprietary frame and rows, and an altered copy gets nothing (tests/test_preauth.py tries the rest).
"""
from __future__ import annotations

import socket
import threading
import time
import io
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator

import pytest

from archive.config import get_settings
from tests.browser import log_in
from tests.proprietary_world import MARKER, PASSWORDS, RA, DEC

WEB_PORT = 21012


def _port_is_free(port: int) -> bool:
    with socket.socket() as s:
        # as the hub's own server binds (allow_reuse_address): a previous hub's closed
        # connections in TIME_WAIT do not hold the port
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


class AlwaysApprove:
    """The hub's Web Profile dialog, answering yes to every page that registers (what a person
    does in TOPCAT's pop-up); polled in a thread of the test."""

    def __init__(self) -> None:
        from pyvo.samp import WebProfileDialog

        self._dialog = type("Approving", (WebProfileDialog,), {"show_dialog": lambda d, *a: d.consent()})()
        self.polling = True

    def __getattr__(self, name):  # queue_request / queue_result, set by the hub, live on the dialog
        return getattr(self._dialog, name)

    def __setattr__(self, name, value):
        if name in ("queue_request", "queue_result"):
            setattr(self._dialog, name, value)
        else:
            object.__setattr__(self, name, value)

    def poll(self) -> None:
        while self.polling:
            self._dialog.handle_queue()
            time.sleep(0.1)

    def stop(self) -> None:
        self.polling = False


@pytest.fixture
def hub(tmp_path) -> Iterator[object]:
    from pyvo.samp import SAMPHubServer

    if not _port_is_free(WEB_PORT):
        pytest.skip(f"port {WEB_PORT} (the SAMP Web Profile's) is taken: another hub runs here")
    dialog = AlwaysApprove()
    server = SAMPHubServer(web_profile=True, web_profile_dialog=dialog, lockfile=str(tmp_path / "samp"),
                           addr="127.0.0.1", pool_size=2)
    server.start()
    approver = threading.Thread(target=dialog.poll, daemon=True)
    approver.start()
    try:
        yield server
    finally:
        dialog.stop()
        server.stop()
        approver.join(timeout=5)


class Receiver:
    def __init__(self) -> None:
        self.messages: list[tuple[str, dict]] = []

    def receive(self, private_key, sender_id, msg_id, mtype, params, extra) -> None:
        """A notification's handler (the client counts a handler's arguments: six, with msg_id)."""
        self.messages.append((mtype, params))

    def wait(self, mtype: str, seconds: float = 15) -> dict:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for got, params in self.messages:
                if got == mtype:
                    return params
            time.sleep(0.1)
        raise AssertionError(f"no {mtype} message reached the client; got {self.messages}")


@pytest.fixture
def listener(hub) -> Iterator[Receiver]:
    from pyvo.samp import SAMPIntegratedClient

    client = SAMPIntegratedClient(name="test listener", addr="127.0.0.1")
    client.connect(hub=hub)
    receiver = Receiver()
    def handler(private_key, sender_id, msg_id, mtype, params, extra):
        receiver.receive(private_key, sender_id, msg_id, mtype, params, extra)

    client.bind_receive_notification("table.load.votable", handler)
    client.bind_receive_notification("image.load.fits", handler)
    try:
        yield receiver
    finally:
        client.disconnect()


@pytest.fixture(scope="module")
def base(live_archive) -> str:
    return live_archive


def test_the_send_button_reaches_a_subscribed_client_through_the_hub(page, base, listener):
    page.goto(base + "/")
    button = page.locator("button[data-samp-table]")
    assert button.inner_text() == "Send the public files to TOPCAT/Aladin"
    button.click()
    params = listener.wait("table.load.votable")
    assert params["url"] == button.get_attribute("data-samp-table")
    page.get_by_role("status").get_by_text("sent to 1 application").wait_for()
    # the hub fetches the URL itself, as anyone: a VOTable of public rows
    with urllib.request.urlopen(params["url"]) as answer:
        body = answer.read()
    assert b"<VOTABLE" in body and b"LEAKSECRET" not in body


def test_an_image_goes_out_as_image_load_fits(page, base, listener):
    page.goto(base + "/")
    url = f"{get_settings().public_url}/datalink/download/some/file"
    page.evaluate("url => window.LickSamp.send('image.load.fits', url, 'a frame')", url)
    params = listener.wait("image.load.fits")
    assert params["url"] == url and params["name"] == "a frame"


def test_without_a_hub_the_page_says_so(page, base):
    if not _port_is_free(WEB_PORT):
        pytest.skip(f"port {WEB_PORT} is taken")
    page.goto(base + "/")
    page.locator("button[data-samp-table]").click()
    page.get_by_text("no SAMP hub found").wait_for()


def _fetched_anonymously(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as answer:  # no cookie, no header: as the hub
        return answer.read()


def _refused(url: str) -> int:
    try:
        urllib.request.urlopen(url, timeout=30)
    except urllib.error.HTTPError as exc:
        assert MARKER not in exc.read()
        return exc.code
    raise AssertionError(f"{url} was served")


def _altered(url: str) -> str:
    return url[:-1] + ("0" if url[-1] != "0" else "1")


def _target_names(votable: bytes) -> list[str]:
    from astropy.io.votable import parse_single_table

    return [str(name) for name in parse_single_table(io.BytesIO(votable)).array["target_name"]]


@pytest.mark.django_db(transaction=True)  # the server must see the users
def test_a_logged_in_owner_sends_her_proprietary_frame(page, base, listener, world):
    secret = world.secret_ids[0]
    log_in(page, base, "alice", PASSWORDS["alice"])
    page.goto(f"{base}/observation/{secret}")
    button = page.get_by_role("button", name="Send to Aladin/ds9")
    button.click()
    params = listener.wait("image.load.fits")
    page.get_by_role("status").get_by_text("sent to 1 application").wait_for()
    url = params["url"]
    assert urllib.parse.urlsplit(url).path == f"/datalink/download/{secret}" and "preauth=" in url
    assert params["name"] == secret
    assert _fetched_anonymously(url) == world.files[secret].read_bytes()
    assert _refused(_altered(url)) == 403
    grant = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["preauth"][0]
    assert _refused(f"{base}/datalink/download/{world.secret_ids[1]}?preauth={grant}") == 403


@pytest.mark.django_db(transaction=True)
def test_a_logged_in_owner_sends_her_search_result_and_query_result(page, base, listener, world):
    log_in(page, base, "alice", PASSWORDS["alice"])
    page.goto(f"{base}/search?" + urllib.parse.urlencode({"coords": f"{RA} {DEC}", "radius": "1", "run": "1"}))
    page.locator("button[data-samp-table]").click()
    params = listener.wait("table.load.votable")
    assert "preauth=" in params["url"] and "preauth" not in params["table-id"]  # the grant goes to the hub only
    names = _target_names(_fetched_anonymously(params["url"]))
    assert sum(name.startswith("LEAKSECRET") for name in names) == len(world.secret_ids)
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(params["url"]).query)["QUERY"][0]
    assert _refused(_altered(params["url"])) == 403
    other = params["url"].replace(urllib.parse.quote_plus(query), urllib.parse.quote_plus(query + " OR 1=1"))
    assert other != params["url"] and _refused(other) == 403

    listener.messages.clear()
    adql = "SELECT obs_id, target_name FROM ivoa.obscore WHERE target_name LIKE 'LEAKSECRET%'"
    page.goto(f"{base}/query?" + urllib.parse.urlencode({"query": adql, "maxrec": "10", "run": "1"}))
    page.locator("button[data-samp-table]").click()
    params = listener.wait("table.load.votable")
    assert sorted(_target_names(_fetched_anonymously(params["url"]))) == [f"LEAKSECRET-{i}" for i in (1, 2, 3)]
    # anonymous, the same query (the button's plain URL) gets none of it
    assert _target_names(_fetched_anonymously(params["table-id"])) == []
