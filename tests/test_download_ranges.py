"""Single-range downloads by the real server (RFC 9110 §14, §13.1.5 If-Range): every answer's bytes
are compared with the file on disk; what the RFC calls invalid is ignored (the whole file), what
it calls unsatisfiable is 416 with ``Content-Range: bytes */size``."""
from __future__ import annotations

import urllib.parse

import pytest
import requests

QUERY = "SELECT TOP 20 obs_id FROM ivoa.obscore ORDER BY obs_id"


@pytest.fixture(scope="module")
def file(live_archive):
    """(URL, the whole file as the server sends it, its ETag and Last-Modified) of a public file."""
    answer = requests.get(f"{live_archive}/tap/sync", timeout=30,
                          params={"LANG": "ADQL", "RESPONSEFORMAT": "csv", "QUERY": QUERY})
    for obs_id in answer.text.splitlines()[1:]:  # the first public one
        url = f"{live_archive}/datalink/download/{urllib.parse.quote(obs_id)}"
        whole = requests.get(url, timeout=30)
        if whole.status_code == 200:
            assert len(whole.content) > 2880, obs_id
            return url, whole.content, whole.headers["ETag"], whole.headers["Last-Modified"]
    pytest.fail(f"no public file among {answer.text[:500]}")


def _get(url: str, **headers: str) -> requests.Response:
    return requests.get(url, headers=headers, timeout=30)


@pytest.mark.parametrize("wanted, first, last", [
    ("bytes=0-0", 0, 0), ("bytes=100-2979", 100, 2979), ("bytes=2880-", 2880, None), ("bytes=-80", -80, None),
    ("Bytes=10-19", 10, 19),  # §14.1: the unit is case-insensitive
    ("bytes=5-99999999999", 5, None),  # a last-pos past the end means the end (§14.1.2)
])
def test_a_range_is_206_with_exactly_those_bytes(file, wanted, first, last):
    url, body, _, _ = file
    size = len(body)
    start = first % size
    end = size - 1 if last is None else last
    part = _get(url, Range=wanted)
    assert part.status_code == 206, (wanted, part.status_code)
    assert part.headers["Content-Range"] == f"bytes {start}-{end}/{size}"
    assert int(part.headers["Content-Length"]) == end - start + 1
    assert part.content == body[start:end + 1]


@pytest.mark.parametrize("wanted", ["bytes=9-3", "bytes=0-1,4-5", "items=0-9", "bytes=x-", "bytes=-"])
def test_an_invalid_or_multiple_range_is_ignored(file, wanted):
    """§14.2: a server may ignore such a Range; the client then gets the whole file, 200."""
    url, body, _, _ = file
    whole = _get(url, Range=wanted)
    assert whole.status_code == 200 and whole.content == body and "Content-Range" not in whole.headers


@pytest.mark.parametrize("wanted", ["bytes={size}-", "bytes={size}-{more}", "bytes=-0"])
def test_an_unsatisfiable_range_is_416(file, wanted):
    url, body, _, _ = file
    size = len(body)
    refused = _get(url, Range=wanted.format(size=size, more=size + 10))
    assert refused.status_code == 416 and refused.headers["Content-Range"] == f"bytes */{size}"
    assert not refused.content


def test_if_range_applies_the_range_only_to_the_same_file(file):
    """§13.1.5: the same strong ETag or exactly the Last-Modified date: the range; anything else
    (another tag, a weak one, another date): the whole file."""
    url, body, etag, modified = file
    for validator in (etag, modified):
        part = _get(url, Range="bytes=0-9", **{"If-Range": validator})
        assert part.status_code == 206 and part.content == body[:10], validator
    for validator in ('"another"', f"W/{etag}", "Thu, 01 Jan 1998 00:00:00 GMT", "not a date"):
        whole = _get(url, Range="bytes=0-9", **{"If-Range": validator})
        assert whole.status_code == 200 and whole.content == body, validator
