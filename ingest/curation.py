"""What a curator's change means for access: the one entry point of the admin pages into ingest.

The staff change what the access rules read (a program's release date, an observation's
release date of their own); the rules then decide again for the observations concerned, in the
ingest role's transaction, as they do at ingest. Grants a curator makes carry
:data:`ADMIN_REASON` at the start of their reason: the rules never replace those.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import Enum

from archive.coverage.refresh import request_refresh
from archive.db import engine
from ingest.pipeline import redecide
from ingest.store import ADMIN_REASON, set_release_override

__all__ = ["ADMIN_REASON", "KEEP", "Keep", "curator_changed"]


class Keep(Enum):
    """The type of :data:`KEEP`."""

    KEEP = "keep"


#: ``release_override=KEEP``: leave the observations' own release dates as they are.
KEEP = Keep.KEEP


def curator_changed(obs_ids: Iterable[str], *, release_override: datetime | None | Keep = KEEP) -> int:
    """Decide access again for ``obs_ids`` after a curator's change, first setting (a datetime)
    or clearing (``None``) their admin release date if asked; one transaction. Returns how many
    observations were decided."""
    ids = sorted({i for i in obs_ids if i})
    if not ids:
        return 0
    with engine("ingest").begin() as conn:
        if release_override is not KEEP:
            set_release_override(conn, ids, release_override)
        decided = redecide(conn, obs_ids=ids)
    request_refresh()  # a release date may have moved: the public coverage with it
    return decided
