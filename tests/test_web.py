"""The front page, through Django's test client against the real database."""
import re
from datetime import datetime, timedelta, timezone

import pytest

from tests.test_schema import DELETE_MINE, _insert_observation


@pytest.mark.django_db(transaction=True)
def _total(page: str) -> int:
    return int(re.search(r"Total</th><th class=\"num\">(\d+)</th>", page).group(1))


def test_front_page_counts_only_public_files(client, owner_conn):
    before = _total(client.get("/").content.decode())
    _insert_observation(owner_conn, "2020-01/01/nickel/d10", datetime(2020, 1, 1, tzinfo=timezone.utc))
    _insert_observation(owner_conn, "2026-01/01/nickel/d11", datetime.now(timezone.utc) + timedelta(days=9))
    owner_conn.commit()
    try:
        response = client.get("/")
        assert response.status_code == 200
        page = response.content.decode()
        assert "Nickel Direct" in page
        assert _total(page) == before + 1, "one public file of two"
        assert "/tap" in page
    finally:
        with owner_conn.cursor() as cur:
            cur.execute(DELETE_MINE)
        owner_conn.commit()
