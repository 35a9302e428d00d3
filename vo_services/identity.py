"""Who is asking: the principals whose grants a caller's queries may use (archive.visibility)."""
from __future__ import annotations

from sqlalchemy import select

from archive.db import engine
from archive.schema import program_observer


def principals_of(username: str | None) -> tuple[str, ...]:
    """``user:<name>`` and ``program:<id>`` of every program the user observes for; anonymous: none."""
    if not username:
        return ()
    with engine("owner").connect() as conn:
        programs = conn.execute(select(program_observer.c.program_id)
                                .where(program_observer.c.observer == username)).scalars()
        return (f"user:{username}", *(f"program:{p}" for p in sorted(programs)))


def principals_for(request) -> tuple[str, ...]:
    user = getattr(request, "user", None)
    return principals_of(user.username if user is not None and user.is_authenticated else None)
