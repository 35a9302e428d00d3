"""Who is asking: the principals whose grants a caller's queries may use (archive.visibility).

A user's principals are ``user:<name>``, ``program:<id>`` for every program the user observes
for (memberships come from the schedule import and the admin pages), ``group:<name>`` for each
Django group, and ``role:staff`` for archive staff, who see everything. Anonymous callers and
unknown or inactive users have none.
"""
from __future__ import annotations

from django.db import connection

from archive.visibility import STAFF_PRINCIPAL

_PRINCIPALS_SQL = """
SELECT u.is_staff OR u.is_superuser,
       ARRAY(SELECT m.program_id FROM lick.program_observer m WHERE m.observer = u.username
             ORDER BY m.program_id),
       ARRAY(SELECT g.name FROM auth_user_groups ug JOIN auth_group g ON g.id = ug.group_id
             WHERE ug.user_id = u.id ORDER BY g.name)
FROM auth_user u WHERE u.username = %s AND u.is_active
"""


def principals_of(username: str | None) -> tuple[str, ...]:
    if not username:
        return ()
    with connection.cursor() as cur:
        cur.execute(_PRINCIPALS_SQL, (username,))
        row = cur.fetchone()
    if row is None:
        return ()
    staff, programs, groups = row
    return (f"user:{username}", *(f"program:{p}" for p in programs), *(f"group:{g}" for g in groups),
            *((STAFF_PRINCIPAL,) if staff else ()))


def principals_for(request) -> tuple[str, ...]:
    """The request's principals, looked up once per request."""
    cached = getattr(request, "_lick_principals", None)
    if cached is None:
        user = getattr(request, "user", None)
        cached = principals_of(user.get_username() if user is not None and user.is_authenticated else None)
        request._lick_principals = cached
    return cached
