"""Finding a user's file on disk: visible through the published views, then located as owner.

The query role can never read file paths; so the access rule is asked first (through the
published view, under the caller's identity), and only for a visible observation is its path
looked up, with the owner's connection.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from archive.config import get_settings
from archive.db import engine
from archive.schema import observation
from vo_services.results.query import run_query


@dataclass(frozen=True)
class ArchiveFile:
    obs_id: str
    rel_path: str
    path: Path
    size: int
    mtime: datetime
    checksum: str | None
    header: str
    dataproduct_type: str

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def etag(self) -> str:
        return f'"{self.checksum or f"{self.size:x}-{int(self.mtime.timestamp()):x}"}"'


def visible(obs_ids: list[str], principals) -> set[str]:
    rows = run_query("SELECT obs_id FROM lick.observations WHERE obs_id = ANY (%s)", (obs_ids,), principals)
    return {r[0] for r in rows}


def locate(obs_ids: list[str], principals) -> dict[str, ArchiveFile]:
    """The files of the observations among ``obs_ids`` the caller may see."""
    allowed = visible(obs_ids, principals)
    if not allowed:
        return {}
    root = get_settings().archive_root
    o = observation.c
    with engine("owner").connect() as conn:
        rows = conn.execute(select(o.obs_id, o.file_path, o.file_size, o.file_mtime, o.checksum, o.header,
                                   o.dataproduct_type)
                            .where(o.obs_id.in_(sorted(allowed))))
        return {r.obs_id: ArchiveFile(r.obs_id, r.file_path, root / r.file_path, r.file_size, r.file_mtime,
                                      r.checksum, r.header, r.dataproduct_type) for r in rows}


def locate_one(obs_id: str, principals) -> ArchiveFile | None:
    return locate([obs_id], principals).get(obs_id)


def exists(obs_id: str) -> bool:
    """Whether the archive holds ``obs_id`` at all, visible or not: to answer a caller without the
    right with 401/403 instead of 404, which lets clients log in on demand (IVOA SSO challenges)."""
    with engine("owner").connect() as conn:
        return conn.execute(select(observation.c.id).where(observation.c.obs_id == obs_id)).first() is not None
