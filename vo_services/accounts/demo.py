"""Log-ins for the demo archive, so that whoever runs it can try the proprietary side.

The observer who may see the most proprietary demo files gets a password, and an ``admin``
superuser is made for the admin pages. Each account has its own random password, generated the
first time and kept in ``var/demo_passwords.env`` (readable by its owner only), so that re-runs
of ``scripts/run.sh`` print the same ones; delete the file for new ones. (They were once one
password for both, derived from the secret key: knowing the observer's meant knowing the admin's.)
"""
from __future__ import annotations

import os
import secrets

from django.db import connection

from archive.config import REPO_ROOT, read_env_file
from vo_services.accounts.observers import configure_user

PASSWORD_FILE = REPO_ROOT / "var" / "demo_passwords.env"
ADMIN = "admin"

_BEST_OBSERVER = """
SELECT m.observer, count(DISTINCT g.observation_id)
FROM lick.program_observer m
JOIN lick.access_grant g ON g.principal = 'program:' || m.program_id
JOIN lick.observation o ON o.id = g.observation_id AND o.obs_release_date > now()
GROUP BY m.observer ORDER BY 2 DESC, 1 LIMIT 1
"""


def demo_password(username: str = ADMIN) -> str:
    """The demo password of ``username``: the one kept in :data:`PASSWORD_FILE`, or a new one
    written there (scripts/check_services.py logs in as the admin with it)."""
    path = PASSWORD_FILE
    kept = read_env_file(path)
    if username in kept:
        return kept[username]
    password = secrets.token_urlsafe(12)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a") as out:
        out.write(f"{username}={password}\n")
    return password


def make_demo_accounts() -> list[str]:
    """Lines that tell the demo's user how to log in."""
    password = demo_password(ADMIN)
    configure_user(ADMIN, password=password, superuser=True)
    lines = [f"admin pages      /admin/  user {ADMIN}, password {password}"]
    with connection.cursor() as cur:
        cur.execute(_BEST_OBSERVER)
        best = cur.fetchone()
    if best is not None:
        observer, files = best
        password = demo_password(observer)
        configure_user(observer, password=password)
        lines.append(f"observer log-in  /auth/   user {observer}, password {password} "
                     f"(sees {files} proprietary demo files)")
    return lines
