"""Check that a running archive answers on every service: ``scripts/run.sh --check`` calls this.

Usage: check_services.py BASE_URL. Prints one line per check; exits 1 if any failed.
"""
from __future__ import annotations

import json
import shutil
import sys
import time
import urllib.parse
import urllib.request

from archive.config import get_settings


def fetch(url: str, token: str | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def watcher_round_trip(settings) -> bool:
    """A file copied into the tree shows up in the database through watcher, API and worker."""
    root = settings.archive_root
    source = next(root.glob("*/*/*/*.fits"))
    target = source.with_name("check_" + source.name)
    shutil.copyfile(source, target)
    rel_dir = target.parent.relative_to(root).as_posix()
    rel = target.relative_to(root).as_posix()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            status, body = fetch(f"{settings.ingest_url}/files?dir={urllib.parse.quote(rel_dir)}",
                                 settings.ingest_token)
            if status == 200 and rel in {f["path"] for f in json.loads(body)["files"]}:
                return True
            time.sleep(0.5)
        return False
    finally:
        target.unlink(missing_ok=True)


def log_in(base: str) -> bool:
    """The demo's admin logs in as TOPCAT does (ivoa_bearer) and the token is accepted."""
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vo_services.settings")
    django.setup()
    from vo_services.accounts.demo import demo_password

    form = urllib.parse.urlencode({"username": "admin", "password": demo_password()}).encode()
    try:
        with urllib.request.urlopen(urllib.request.Request(f"{base}/auth/login", data=form), timeout=30) as r:
            token = r.headers["X-VO-Bearer"]
    except urllib.error.HTTPError:
        return False
    request = urllib.request.Request(f"{base}/tap/capabilities", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.headers.get("X-VO-Authenticated") == "admin"


def main(base: str) -> int:
    settings = get_settings()
    checks = [
        ("web page", "/", b"Lick Searchable Archive"),
        ("TAP availability", "/tap/availability", b"<available>true</available>"),
        ("TAP capabilities", "/tap/capabilities", b"ivo://ivoa.net/std/TAP"),
        ("TAP tables", "/tap/tables", b"ivoa.obscore"),
        ("TAP query", "/tap/sync?LANG=ADQL&QUERY=" + urllib.parse.quote(
            "SELECT TOP 5 obs_id, target_name FROM ivoa.obscore"), b'value="OK"'),
        ("cone search", "/scs?RA=150&DEC=20&SR=1", b"<TABLE>"),
        ("SIA 2.0 query", "/sia/query?POS=" + urllib.parse.quote("CIRCLE 150 20 1"), b"<TABLE>"),
        ("DataLink", "/datalink/links?ID=ivo://nowhere?x", b"NotFoundFault"),
        ("registry (OAI-PMH)", "/oai?verb=Identify", b"<oai:repositoryName>"),
    ]
    failed = 0
    for name, path, expected in checks:
        status, body = fetch(base + path)
        ok = status == 200 and expected in body
        failed += not ok
        print(f"  check {name:<18} {'ok' if ok else f'FAILED (HTTP {status}) ' + body[:300].decode(errors='replace')}")
    ok = log_in(base)
    failed += not ok
    print(f"  check {'log-in (ivoa_bearer)':<18} {'ok' if ok else 'FAILED: the demo admin could not log in'}")
    ok = watcher_round_trip(settings)
    failed += not ok
    print(f"  check {'watcher to database':<18} {'ok' if ok else 'FAILED: a new file was not ingested within 60 s'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
