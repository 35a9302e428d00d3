"""Download bundles against the real database, a real Celery worker and the demo archive's files."""
from __future__ import annotations

import hashlib
import io
import json
import shutil
import tarfile
import time
import xml.etree.ElementTree as ET
import zipfile
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone as djtz

from archive.config import get_settings
from archive.db import engine
from ingest.fitsread import file_md5
from vo_services.datalink import bundle_jobs
from vo_services.datalink.bundles import MANIFEST_NAME, bundle_format, obs_id_of, read_manifest
from vo_services.datalink.models import Bundle, Phase
from vo_services.results.query import run_query

pytestmark = pytest.mark.django_db(transaction=True)
VOT = "{http://www.ivoa.net/xml/VOTable/v1.3}"
FINAL = (Phase.COMPLETED, Phase.ERROR)


@pytest.fixture(autouse=True)
def _remove_bundle_files():
    """The rows go with the test's database flush; their files are removed here."""
    yield
    for bundle_id in Bundle.objects.values_list("id", flat=True):
        bundle_jobs.remove_files(bundle_id)


@pytest.fixture
def public(demo_archive, celery_worker) -> list[str]:
    """obs_ids an anonymous caller may see, in a stable order."""
    rows = run_query("SELECT obs_id FROM lick.observations ORDER BY obs_id")
    assert len(rows) >= 100, "the demo archive should hold at least 100 public files"
    return [r[0] for r in rows]


@pytest.fixture
def hidden(demo_archive) -> list[str]:
    """obs_ids of the demo archive that are still proprietary."""
    with engine("owner").connect() as conn:
        rows = conn.exec_driver_sql("SELECT obs_id FROM lick.observation WHERE obs_release_date > now() "
                                    "ORDER BY obs_id").all()
    assert rows, "the demo archive should hold proprietary files"
    return [r[0] for r in rows]


@pytest.fixture
def recorded_checksums(public):
    """The archive's MD5 column filled for the test's files (with ingest's own function), and
    emptied again afterwards, as the demo rows had it."""
    obs_ids = public[:100]
    root = get_settings().archive_root
    with engine("owner").begin() as conn:
        paths = dict(conn.exec_driver_sql("SELECT obs_id, file_path FROM lick.observation "
                                          "WHERE obs_id = ANY (%s)", (obs_ids,)).all())
        for obs_id, rel_path in paths.items():
            conn.exec_driver_sql("UPDATE lick.observation SET checksum = %s WHERE obs_id = %s",
                                 (file_md5(root / rel_path), obs_id))
    yield {obs_id: (root / rel_path) for obs_id, rel_path in paths.items()}
    _forget_checksums(obs_ids)


def _forget_checksums(obs_ids: list[str]) -> None:
    with engine("owner").begin() as conn:
        conn.exec_driver_sql("UPDATE lick.observation SET checksum = NULL WHERE obs_id = ANY (%s)", (obs_ids,))


def _did(obs_id: str) -> str:
    return f"{get_settings().ivoa_authority}?{obs_id}"


def _path(url: str) -> str:
    return url[url.index("/datalink/"):]


def _submit(client: Client, ids: list[str], **params) -> str:
    """POST a bundle request; the 303's target path."""
    response = client.post("/datalink/bundles", {"ID": ids, **params})
    assert response.status_code == 303, response.content
    return _path(response["Location"])


def _finished(client: Client, status_path: str, timeout: float = 90) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        response = client.get(status_path, HTTP_ACCEPT="application/json")
        assert response.status_code == 200 and response["Content-Type"] == "application/json"
        status = response.json()
        if status["phase"] in FINAL:
            return status
        assert status["files"]["done"] <= status["files"]["total"]
        assert time.monotonic() < deadline, status
        time.sleep(0.2)


def _error(response, status: int) -> str:
    """The message of a DALI error document (DALI 1.1 §4.2), after checking its status."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/x-votable+xml")
    info = ET.fromstring(response.content).find(f"{VOT}RESOURCE/{VOT}INFO")
    assert info.get("name") == "QUERY_STATUS" and info.get("value") == "ERROR"
    return info.text


def _members(data: bytes, fmt: str) -> dict[str, bytes]:
    if fmt == "zip":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            assert archive.testzip() is None  # every CRC checks
            return {name: archive.read(name) for name in archive.namelist()}
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        return {m.name: archive.extractfile(m).read() for m in archive.getmembers()}


@pytest.mark.parametrize("fmt", ["zip", "tar.gz"])
def test_a_100_file_bundle_downloads_and_its_checksums_verify(client, recorded_checksums, fmt):
    obs_ids = list(recorded_checksums)
    # DataLink's two kinds of ID: publisher DIDs for half, plain obs_ids for the other half
    ids = [_did(o) if i % 2 else o for i, o in enumerate(obs_ids)]
    status_path = _submit(client, ids, FORMAT=fmt)
    status = _finished(client, status_path)
    assert status["phase"] == "COMPLETED", status["error"]
    total = sum(p.stat().st_size for p in recorded_checksums.values())
    assert status["files"] == {"done": 100, "total": 100}
    assert status["bytes"] == {"done": total, "total": total}
    assert status["refused"] == [] and status["error"] is None
    response = client.get(_path(status["result"]["url"]))
    assert response.status_code == 200
    assert response["Content-Type"] == bundle_format(fmt).mime
    assert f'lick-bundle-{status["id"]}.{fmt}' in response["Content-Disposition"]
    data = b"".join(response.streaming_content)
    assert len(data) == status["result"]["size"]

    members = _members(data, fmt)
    top = f"lick-bundle-{status['id']}"
    manifest = read_manifest(members.pop(f"{top}/{MANIFEST_NAME}"))
    assert [row.obs_id for row in manifest] == obs_ids, "the order asked for"
    assert len(members) == 100
    with engine("owner").connect() as conn:
        recorded = dict(conn.exec_driver_sql("SELECT obs_id, checksum FROM lick.observation "
                                             "WHERE obs_id = ANY (%s)", (obs_ids,)).all())
    for row in manifest:
        content = members[f"{top}/{row.name}"]
        assert content == recorded_checksums[row.obs_id].read_bytes()
        assert row.size == len(content)
        assert row.md5 == hashlib.md5(content).hexdigest() == recorded[row.obs_id]
        assert row.sha256 == hashlib.sha256(content).hexdigest()


def test_ids_the_caller_may_not_see_are_refused_and_listed(client, public, hidden):
    unknown = ["2099-01/01/nowhere/x1", "ivo://elsewhere.org/archive?2023-01/01/shane/b1"]
    asked = public[:3] + [_did(hidden[0]), hidden[1]] + unknown
    status_path = _submit(client, asked, FORMAT="application/x-tar+gzip")
    status = _finished(client, status_path)
    assert status["phase"] == "COMPLETED" and status["format"] == "tar.gz"
    assert status["files"]["total"] == 3
    assert status["refused"] == [_did(hidden[0]), hidden[1], *unknown], "as given, in order"
    xml = client.get(status_path, HTTP_ACCEPT="application/xml")
    assert xml.status_code == 200 and xml["Content-Type"].startswith("application/xml")
    document = ET.fromstring(xml.content)
    assert [e.text for e in document.find("refused")] == status["refused"]
    assert document.findtext("files/total") == "3"
    assert ET.fromstring(client.get(status_path + "?RESPONSEFORMAT=xml").content).tag == "bundle"

    names = _members(b"".join(client.get(_path(status["result"]["url"])).streaming_content), "tar.gz")
    assert not any(h in name for name in names for h in hidden[:2]), "no hidden file in the bundle"
    message = _error(client.post("/datalink/bundles", {"ID": hidden[:2]}), 404)
    assert message.startswith("NotFoundFault") and "none of the 2 IDs" in message


def test_an_observer_bundles_their_proprietary_files_and_only_they_read_it(public):
    with engine("owner").connect() as conn:
        row = conn.exec_driver_sql(
            "SELECT o.obs_id, m.observer FROM lick.observation o "
            "JOIN lick.access_grant g ON g.observation_id = o.id "
            "JOIN lick.program_observer m ON g.principal = 'program:' || m.program_id "
            "WHERE o.obs_release_date > now() ORDER BY o.obs_id LIMIT 1").first()
    assert row is not None, "the demo schedule should name observers of proprietary programs"
    secret, observer = row
    owner, stranger, anonymous = Client(), Client(), Client()
    owner.force_login(User.objects.create_user(observer))
    stranger.force_login(User.objects.create_user("not-an-observer"))

    status_path = _submit(owner, [secret, public[0]])
    status = _finished(owner, status_path)
    assert status["phase"] == "COMPLETED" and status["refused"] == [] and status["owner"] == observer
    result_path = _path(status["result"]["url"])
    assert owner.get(result_path).status_code == 200
    for path in (status_path, result_path):
        _error(stranger.get(path), 403)
        challenge = anonymous.get(path)
        _error(challenge, 401)
        assert challenge.has_header("WWW-Authenticate"), "a 401 says how to log in (RFC 9110 §11.6.1)"
    refused = _finished(stranger, _submit(stranger, [secret, public[0]]))
    assert refused["refused"] == [secret] and refused["files"]["total"] == 1


def test_limits_give_a_clear_standard_error(client, public, monkeypatch):
    def configure(**env):
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()

    try:
        configure(LICK_BUNDLE_MAX_FILES="5")
        message = _error(client.post("/datalink/bundles", {"ID": public[:6]}), 400)
        assert message.startswith("UsageFault") and "at most 5 files" in message and "6" in message
        configure(LICK_BUNDLE_MAX_FILES="100", LICK_BUNDLE_MAX_BYTES="1000")
        message = _error(client.post("/datalink/bundles", {"ID": public[:2]}), 400)
        assert message.startswith("UsageFault") and "at most 1,000 bytes" in message
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    assert not Bundle.objects.exists(), "a refused request makes no job"


def test_bad_requests_get_votable_errors(client, public):
    message = _error(client.post("/datalink/bundles", {"ID": public[:1], "FORMAT": "rar"}), 400)
    assert message.startswith("UsageFault") and "'rar'" in message and "tar.gz" in message
    assert "UsageFault" in _error(client.post("/datalink/bundles", {}), 400)
    _error(client.get("/datalink/bundles"), 405)
    _error(client.get("/datalink/bundles/nosuchbundle"), 404)
    _error(client.get("/datalink/bundles/nosuchbundle/result"), 404)
    _error(client.post("/datalink/bundles", {"JOB": "nosuchjob"}), 404)


def test_a_file_missing_midway_fails_the_bundle_and_leaves_no_file(client, public):
    obs_ids = public[10:30]
    with engine("owner").connect() as conn:
        rel_path = conn.exec_driver_sql("SELECT file_path FROM lick.observation WHERE obs_id = %s",
                                        (obs_ids[-1],)).scalar_one()
    path = get_settings().archive_root / rel_path
    aside = path.with_name(path.name + ".aside")
    shutil.move(path, aside)  # the database still lists it: the build finds it gone
    try:
        status = _finished(client, _submit(client, obs_ids))
    finally:
        shutil.move(aside, path)
    assert status["phase"] == "ERROR" and status["result"] is None
    assert rel_path in status["error"] and "cannot be read" in status["error"]
    assert status["files"]["done"] < 20
    assert list(get_settings().bundle_dir.glob(f"*{status['id']}*")) == [], "no partial file"
    assert status["error"] in _error(client.get(f"/datalink/bundles/{status['id']}/result"), 404)


def test_a_file_that_changed_since_ingest_fails_the_bundle(client, public):
    obs_ids = public[30:35]
    with engine("owner").begin() as conn:
        conn.exec_driver_sql("UPDATE lick.observation SET checksum = %s WHERE obs_id = %s",
                             ("0" * 32, obs_ids[2]))
    try:
        status = _finished(client, _submit(client, obs_ids, FORMAT="zip"))
    finally:
        _forget_checksums(obs_ids)
    assert status["phase"] == "ERROR" and "not the file the archive recorded" in status["error"]
    assert list(get_settings().bundle_dir.glob(f"*{status['id']}*")) == []


def test_expiry_deletes_the_file_and_the_result_answers_410(client, public):
    from vo_services.datalink.tasks import tidy_bundles

    status = _finished(client, _submit(client, public[:2]))
    assert status["phase"] == "COMPLETED"
    expires = djtz.now() + timedelta(seconds=get_settings().bundle_lifetime_s)
    assert abs((Bundle.objects.get(id=status["id"]).expires - expires).total_seconds()) < 120
    result_file = bundle_jobs.result_path(Bundle.objects.get(id=status["id"]))
    assert result_file.exists()
    Bundle.objects.filter(id=status["id"]).update(expires=djtz.now() - timedelta(seconds=1))
    assert tidy_bundles()["expired"] == 1  # what Celery beat runs every minute
    assert not result_file.exists()
    assert "expired" in _error(client.get(_path(status["result"]["url"])), 410)
    assert json.loads(client.get(f"/datalink/bundles/{status['id']}").content)["phase"] == "ARCHIVED"


def test_a_build_whose_worker_died_ends_in_error(public):
    bundle = Bundle.objects.create(format="zip", obs_ids=public[:1], files_total=1, bytes_total=1,
                                   phase=Phase.EXECUTING, heartbeat=djtz.now() - timedelta(minutes=5))
    assert bundle_jobs.fail_stuck(60) == 1
    bundle.refresh_from_db()
    assert bundle.phase == Phase.ERROR and bundle.error_summary.startswith("TransientFault")


def test_a_bundle_of_a_tap_jobs_result(client, public):
    from vo_services.tap.models import Job

    query = "SELECT TOP 7 obs_publisher_did, target_name FROM ivoa.obscore ORDER BY obs_id"
    created = client.post("/tap/async", {"LANG": "ADQL", "QUERY": query, "PHASE": "RUN"})
    job_url = created["Location"]
    job_id = job_url.rsplit("/", 1)[1]
    deadline = time.monotonic() + 60
    while (phase := Job.objects.get(id=job_id).phase) not in ("COMPLETED", "ERROR"):
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert phase == "COMPLETED"
    status = _finished(client, _submit(client, [], JOB=job_url, FORMAT="tar.gz"))
    assert status["phase"] == "COMPLETED" and status["files"]["total"] == 7
    members = _members(b"".join(client.get(_path(status["result"]["url"])).streaming_content), "tar.gz")
    manifest = read_manifest(members[f"lick-bundle-{status['id']}/{MANIFEST_NAME}"])
    assert [row.obs_id for row in manifest] == public[:7], "the job's rows, in the job's order"

    pending = client.post("/tap/async", {"LANG": "ADQL", "QUERY": query})["Location"]
    assert "PENDING" in _error(client.post("/datalink/bundles", {"JOB": pending}), 400)


def test_ids_and_formats_are_read_as_datalink_reads_them():
    authority = get_settings().ivoa_authority
    assert obs_id_of(f"{authority}?2023-01/02/shane/b101", authority) == "2023-01/02/shane/b101"
    assert obs_id_of("2023-01/02/shane/b101", authority) == "2023-01/02/shane/b101"
    assert obs_id_of("ivo://elsewhere.org/x?2023-01/02/shane/b101", authority) is None
    assert bundle_format(None).name == "zip"
    assert bundle_format("application/gzip").name == bundle_format("TAR.GZ").name == "tar.gz"
    assert bundle_format("application/zip; charset=binary").name == "zip"
