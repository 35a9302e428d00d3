"""Fixtures of the tests below this folder (the session-wide ones are in the root conftest.py)."""
from __future__ import annotations

import pytest

from tests import proprietary_world


@pytest.fixture(scope="module")
def proprietary(demo_archive, archive_root, django_db_blocker) -> proprietary_world.World:
    """Proprietary files of a program and three users (tests/proprietary_world.py), per module."""
    with django_db_blocker.unblock():
        built = proprietary_world.build(archive_root)
    yield built
    with django_db_blocker.unblock():
        proprietary_world.tear_down(archive_root)


@pytest.fixture
def world(proprietary) -> proprietary_world.World:
    """The same, with its users back after a transactional test's flush of Django's tables."""
    proprietary_world.ensure_users(proprietary)
    return proprietary


from tests.browser import browser, page  # noqa: E402,F401  (fixtures of the portal's browser tests)
