"""Observers named in the schedule become users of the archive.

A program's proprietary data are seen by the users whose names are its observers
(``lick.program_observer``). Importing a schedule makes a user for each new observer, with no
usable password: an admin (or the site's own account sync) sets one, or the user is given
tokens. Existing users are left as they are.
"""
from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth import get_user_model


def ensure_users(names: Iterable[str]) -> list[str]:
    """Create the users that do not exist yet; returns their names."""
    User = get_user_model()
    wanted = {n.strip() for n in names if n and n.strip()}
    existing = set(User.objects.filter(username__in=wanted).values_list("username", flat=True))
    created = sorted(wanted - existing)
    for name in created:
        user = User(username=name, email=name if "@" in name else "")
        user.set_unusable_password()
        user.save()
    return created


def configure_user(username: str, *, password: str | None = None, staff: bool = False,
                   superuser: bool = False, programs: Iterable[str] = (),
                   token_name: str | None = None) -> tuple[str, str | None]:
    """Create or update a user (the ``lick-admin user`` command); returns a report and a new token."""
    from archive.errors import AdminError
    from vo_services.accounts import tokens
    from vo_services.curation.models import Membership, Program

    User = get_user_model()
    user, created = User.objects.get_or_create(username=username)
    if created and password is None:
        user.set_unusable_password()
    if password is not None:
        if not password:
            raise AdminError("the password on stdin is empty")
        user.set_password(password)
    user.is_staff = user.is_staff or staff
    user.is_superuser = user.is_superuser or superuser
    user.save()
    for program_id in programs:
        program = Program.objects.filter(program_id=program_id).first()
        if program is None:
            raise AdminError(f"no program {program_id}; import the schedule that names it first")
        Membership.objects.get_or_create(program=program, observer=username)
    token = tokens.issue(user, token_name)[1] if token_name else None
    roles = ", ".join(r for r, on in (("staff", user.is_staff), ("superuser", user.is_superuser)) if on)
    return (f"{'created' if created else 'updated'} user {username}"
            + (f" ({roles})" if roles else "") + (", password set" if password else "")), token
