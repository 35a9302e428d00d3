"""The front page, through Django's test client against the real database."""
import re
from datetime import datetime, timedelta, timezone

import pytest

from tests.test_schema import DELETE_MINE, _insert_observation


@pytest.mark.django_db(transaction=True)
def _total(page: str) -> int:
    return int(re.search(r"Total</th><th class=\"num\">(\d+)</th>", page).group(1))


def _proprietary(page: str) -> int:
    found = re.search(r'<span id="proprietary-total">([\d,]+)</span>', page)
    return int(found.group(1).replace(",", "")) if found else 0


def test_front_page_counts_only_public_files(client, owner_conn):
    """Counted from the summary the triggers keep (archive/holdings.py), in the rows' transaction."""
    first = client.get("/").content.decode()
    before, hidden_before = _total(first), _proprietary(first)
    _insert_observation(owner_conn, "2020-01/01/nickel/d10", datetime(2020, 1, 1, tzinfo=timezone.utc))
    _insert_observation(owner_conn, "2026-01/01/nickel/d11", datetime.now(timezone.utc) + timedelta(days=9))
    owner_conn.commit()
    try:
        response = client.get("/")
        assert response.status_code == 200
        page = response.content.decode()
        assert "Nickel Direct" in page
        assert _total(page) == before + 1, "one public file of two"
        assert _proprietary(page) == hidden_before + 1, "the other counted as proprietary, nothing more"
        assert "d11" not in page
        assert "/tap" in page
    finally:
        with owner_conn.cursor() as cur:
            cur.execute(DELETE_MINE)
        owner_conn.commit()
