"""Who is asking: the principals whose grants a caller's queries may use (archive.visibility).

A user's principals are ``user:<name>``, ``program:<id>`` for every program the user observes
for (memberships come from the schedule import and the admin pages), ``group:<name>`` for each
Django group, and ``role:staff`` for archive staff, who see everything. Anonymous callers and
unknown or inactive users have none. One query finds a user and all of it.
"""
from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import connection

from archive.visibility import STAFF_PRINCIPAL

# The columns of an identity, for queries that join ``auth_user u`` (also the token lookup).
IDENTITY_COLUMNS = """u.id, u.username, u.is_staff, u.is_superuser,
       ARRAY(SELECT m.program_id FROM lick.program_observer m WHERE m.observer = u.username
             ORDER BY m.program_id),
       ARRAY(SELECT g.name FROM auth_user_groups ug JOIN auth_group g ON g.id = ug.group_id
             WHERE ug.user_id = u.id ORDER BY g.name)"""


@dataclass(frozen=True)
class Identity:
    user_id: int
    username: str
    is_staff: bool
    is_superuser: bool
    programs: tuple[str, ...]
    groups: tuple[str, ...]

    @classmethod
    def from_row(cls, row) -> Identity:
        user_id, username, staff, superuser, programs, groups = row
        return cls(user_id, username, staff, superuser, tuple(programs), tuple(groups))

    @property
    def principals(self) -> tuple[str, ...]:
        staff = self.is_staff or self.is_superuser
        return (f"user:{self.username}", *(f"program:{p}" for p in self.programs),
                *(f"group:{g}" for g in self.groups), *((STAFF_PRINCIPAL,) if staff else ()))

    def user(self):
        """The Django user, made from this row without another query."""
        User = get_user_model()
        known = {"id": self.user_id, "username": self.username, "is_staff": self.is_staff,
                 "is_superuser": self.is_superuser, "is_active": True}
        fields = [f.attname for f in User._meta.concrete_fields if f.attname in known]  # model order
        return User.from_db(connection.alias, fields, [known[f] for f in fields])


def identity_of(username: str) -> Identity | None:
    with connection.cursor() as cur:
        cur.execute(f"SELECT {IDENTITY_COLUMNS} FROM auth_user u WHERE u.username = %s AND u.is_active", (username,))
        row = cur.fetchone()
    return None if row is None else Identity.from_row(row)


def principals_of(username: str | None) -> tuple[str, ...]:
    found = identity_of(username) if username else None
    return found.principals if found is not None else ()


def caller_name(request) -> str | None:
    """The logged-in caller's user name (the owner of the jobs and bundles it makes), or None."""
    user = getattr(request, "user", None)
    return user.get_username() if user is not None and user.is_authenticated else None


def principals_for(request) -> tuple[str, ...]:
    """The request's principals, looked up once per request (or already by the authentication)."""
    cached = getattr(request, "_lick_principals", None)
    if cached is None:
        cached = request._lick_principals = principals_of(caller_name(request))
    return cached
