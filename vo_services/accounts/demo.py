"""Log-ins for the demo archive, so that whoever runs it can try the proprietary side.

The observer who may see the most proprietary demo files gets a password, and an ``admin``
superuser is made for the admin pages; both passwords are derived from the installation's
secret key, so they are stable across runs and differ between installations.
"""
from __future__ import annotations

import hashlib
import hmac

from django.conf import settings
from django.db import connection

from vo_services.accounts.observers import configure_user

_BEST_OBSERVER = """
SELECT m.observer, count(DISTINCT g.observation_id)
FROM lick.program_observer m
JOIN lick.access_grant g ON g.principal = 'program:' || m.program_id
JOIN lick.observation o ON o.id = g.observation_id AND o.obs_release_date > now()
GROUP BY m.observer ORDER BY 2 DESC, 1 LIMIT 1
"""


def demo_password() -> str:
    return hmac.new(settings.SECRET_KEY.encode(), b"lick demo accounts", hashlib.sha256).hexdigest()[:16]


def make_demo_accounts() -> list[str]:
    """Lines that tell the demo's user how to log in."""
    password = demo_password()
    configure_user("admin", password=password, superuser=True)
    lines = [f"admin pages      /admin/  user admin, password {password}"]
    with connection.cursor() as cur:
        cur.execute(_BEST_OBSERVER)
        best = cur.fetchone()
    if best is not None:
        observer, files = best
        configure_user(observer, password=password)
        lines.append(f"observer log-in  /auth/   user {observer}, password {password} "
                     f"(sees {files} proprietary demo files)")
    return lines
